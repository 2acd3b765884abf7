"""All table I/O: paths from one setting, and the Delta read/write helpers every layer uses."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession

from pinlake.settings import get_settings

LAYERS = ("bronze", "silver", "gold", "quality")
# The contract's tables (CONTRACT.md sections 4-7), by layer.
BRONZE_TABLES = ("bronze.pin_events", "bronze.geo_events", "bronze.user_events")
SILVER_TABLES = ("silver.pins", "silver.geo", "silver.users", "silver.quarantine")
GOLD_TABLES = (
    "gold.category_by_country",
    "gold.category_by_year",
    "gold.top_user_by_country",
    "gold.category_by_age_group",
    "gold.median_followers_by_age_group",
    "gold.users_joined_by_year",
    "gold.median_followers_by_join_year",
    "gold.median_followers_by_age_group_and_join_year",
)
QUALITY_TABLES = ("quality.results",)

T = TypeVar("T")


def table_path(name: str, root: str | None = None) -> str:
    """`silver.pins` -> `<lakehouse>/silver/pins`."""
    layer, _, table = name.partition(".")
    if layer not in LAYERS or not table or "." in table or "/" in table:
        raise ValueError(f"not a lakehouse table name: {name!r} (expected <layer>.<table>)")
    return f"{(root or get_settings().lakehouse).rstrip('/')}/{layer}/{table}"


def read(spark: SparkSession, name: str, root: str | None = None) -> DataFrame:
    """The current snapshot of a Delta table."""
    return spark.read.format("delta").load(table_path(name, root))


def exists(spark: SparkSession, name: str, root: str | None = None) -> bool:
    """True when the table has a Delta log."""
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, table_path(name, root))


def overwrite(df: DataFrame, name: str, root: str | None = None, partition_by: list[str] | None = None,
              user_metadata: str | None = None) -> None:
    """Replace a table's content in one Delta commit (readers see the old or the new);
    `user_metadata` is stored in the commit (Delta's userMetadata)."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(table_path(name, root))


def append(df: DataFrame, name: str, root: str | None = None, partition_by: list[str] | None = None) -> None:
    """Append rows to a table in one Delta commit."""
    writer = df.write.format("delta").mode("append")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(table_path(name, root))


def append_rows(rows, name: str, root: str | None = None) -> None:
    """Append a few rows (an Arrow table) in one Delta commit, without Spark.

    Written by the `deltalake` package, in milliseconds, where a Spark write of a handful of
    rows costs one to two seconds.
    """
    from deltalake import write_deltalake

    write_deltalake(table_path(name, root), rows, mode="append")


# --- MERGE helpers (silver): versions, pinned reads, idempotent upserts and inserts ---------


def version(name: str, root: str | None = None) -> int | None:
    """The table's latest Delta version, or None when it does not exist yet.

    Read from the Delta log by the `deltalake` package: milliseconds, where a Spark history
    query took about a second per table.
    """
    from deltalake import DeltaTable

    path = table_path(name, root)
    return DeltaTable(path).version() if DeltaTable.is_deltatable(path) else None


def read_version(spark: SparkSession, name: str, version_: int, root: str | None = None) -> DataFrame:
    """The table as of one Delta version (a consistent snapshot while others append)."""
    return spark.read.format("delta").option("versionAsOf", version_).load(table_path(name, root))


def ensure(spark: SparkSession, name: str, schema, root: str | None = None) -> None:
    """Create an empty table with `schema` unless it exists already.

    A process killed while it created the table leaves a `_delta_log` folder with no commit in
    it (only a temporary file), which is no table, but on which Delta's create fails: such a
    folder is removed first.
    """
    import shutil
    from pathlib import Path

    from delta.tables import DeltaTable

    path = table_path(name, root)
    log = Path(path) / "_delta_log"
    if "://" not in path and log.is_dir() and not any(log.glob("[0-9]*.json")) \
            and not any(log.glob("[0-9]*.checkpoint*.parquet")):
        shutil.rmtree(log)
    DeltaTable.createIfNotExists(spark).location(path).addColumns(schema).execute()


def read_or_empty(spark: SparkSession, name: str, schema, root: str | None = None) -> DataFrame:
    """The current snapshot, or an empty frame with `schema` when the table does not exist yet."""
    if exists(spark, name, root):
        return read(spark, name, root)
    return spark.createDataFrame([], schema)


def newer_than(order: list[str], source: str = "s", target: str = "t") -> str:
    """SQL: the source row sorts after the target row on `order` (lexicographically)."""
    first, *rest = order
    later = f"{source}.{first} > {target}.{first}"
    if not rest:
        return later
    return f"({later} OR ({source}.{first} = {target}.{first} AND {newer_than(rest, source, target)}))"


def merge_latest(spark: SparkSession, updates: DataFrame, name: str, keys: list[str], order: list[str],
                 schema, root: str | None = None, files: int = 1) -> None:
    """Upsert one row per key; a matched row is replaced only by a newer one (by `order`).

    Re-running with the same `updates` changes nothing, and a late, older version never
    overwrites a newer one: both are the MERGE condition. Into an empty table the rows are
    appended instead, in `files` files range-partitioned on `order` (oldest first): later
    MERGEs, whose updates are mostly of recent entities, then rewrite only the newest files.
    """
    from delta.tables import DeltaTable

    ensure(spark, name, schema, root)
    table = DeltaTable.forPath(spark, table_path(name, root))
    if table.detail().select("numFiles").first()[0] == 0:
        append(updates.repartitionByRange(max(1, files), *order), name, root)
        return
    on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    (
        table.alias("t")
        .merge(updates.alias("s"), on)
        .whenMatchedUpdateAll(condition=newer_than(order))
        .whenNotMatchedInsertAll()
        .execute()
    )


def insert_new(spark: SparkSession, rows: DataFrame, name: str, keys: list[str], schema,
               root: str | None = None) -> None:
    """Insert the rows whose key is not in the table yet (an idempotent append)."""
    from delta.tables import DeltaTable

    ensure(spark, name, schema, root)
    on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    (
        DeltaTable.forPath(spark, table_path(name, root)).alias("t")
        .merge(rows.alias("s"), on)
        .whenNotMatchedInsertAll()
        .execute()
    )


def side_by_side(calls: list[Callable[[], T]], name: str) -> list[T]:
    """Run operations on different tables at once; their results in order.

    A read or commit of a small batch is mostly fixed cost on the driver (log replay, planning,
    the commit), which Spark overlaps well across threads. Every call runs to its end; then the
    first failure, if any, is raised.
    """
    if len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix=name) as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]
