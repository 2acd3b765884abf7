"""All Delta I/O: table paths from one setting, and every read, write, merge and log operation.

Spark reads and writes the tables in the jobs; the `deltalake` package reads their logs where
starting Spark would cost more than the work (versions, history, small appends, checkpoints)
and hands Arrow data to DuckDB. No other module opens a Delta table itself, so where the tables
live (a path or an object store) is decided here alone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lakehouse.spec import LAYERS, Table
from pinlake.settings import get_settings, is_s3

if TYPE_CHECKING:  # Spark is imported only by the modules that run it
    import deltalake
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

T = TypeVar("T")


def table_path(name: str, root: str | None = None) -> str:
    """`silver.pins` -> `<lakehouse>/silver/pins`."""
    layer, _, table = name.partition(".")
    if layer not in LAYERS or not table or "." in table or "/" in table:
        raise ValueError(f"not a lakehouse table name: {name!r} (expected <layer>.<table>)")
    return f"{(root or get_settings().lakehouse).rstrip('/')}/{layer}/{table}"


# --- Spark: reads -------------------------------------------------------------------------


def read(spark: SparkSession, name: str, root: str | None = None, version: int | None = None) -> DataFrame:
    """The table's current snapshot, or the one of `version` (consistent while others write)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(table_path(name, root))


def read_or_empty(spark: SparkSession, spec: Table, root: str | None = None, version: int | None = None
                  ) -> DataFrame:
    """`read`, or an empty frame of the spec's schema when the table does not exist yet."""
    if version is not None or exists(spec.name, root):
        return read(spark, spec.name, root, version)
    return spark.createDataFrame([], spec.schema)


# --- Spark: writes --------------------------------------------------------------------------


def ensure(spark: SparkSession, spec: Table, root: str | None = None) -> None:
    """Create the table of `spec` (schema, partitioning, properties) unless it exists; an
    existing one gets the properties it lacks (one metadata commit).

    A process killed while it created the table leaves a `_delta_log` folder with no commit in
    it (only a temporary file), which is no table, but on which Delta's create fails: such a
    folder is removed first.
    """
    from delta.tables import DeltaTable

    path = table_path(spec.name, root)
    if exists(spec.name, root):
        missing = {k: v for k, v in spec.properties.items() if properties(spec.name, root).get(k) != v}
        if missing:
            spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ("
                      + ", ".join(f"'{k}' = '{v}'" for k, v in missing.items()) + ")")
        return
    log = Path(path) / "_delta_log"
    if "://" not in path and log.is_dir() and not any(log.glob("[0-9]*.json")) \
            and not any(log.glob("[0-9]*.checkpoint*.parquet")):
        shutil.rmtree(log)
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(spec.schema)
    if spec.partition_by:
        builder = builder.partitionedBy(*spec.partition_by)
    for key, value in spec.properties.items():
        builder = builder.property(key, value)
    builder.execute()


def overwrite(df: DataFrame, name: str, root: str | None = None, user_metadata: str | None = None) -> None:
    """Replace a table's content in one Delta commit (readers see the old or the new);
    `user_metadata` is stored in the commit (Delta's userMetadata)."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    writer.save(table_path(name, root))


def replace(df: DataFrame, spec: Table, root: str | None = None) -> None:
    """Replace the rows of an existing table in one Delta commit, keeping its schema,
    partitioning and properties (readers see the old rows or the new)."""
    df.select(*spec.columns).write.format("delta").mode("overwrite").save(table_path(spec.name, root))


def append(df: DataFrame, name: str, root: str | None = None, user_metadata: str | None = None) -> None:
    """Append rows to a table in one Delta commit, `user_metadata` stored in it."""
    writer = df.write.format("delta").mode("append")
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    writer.save(table_path(name, root))


def newer_than(order: list[str], source: str = "s", target: str = "t") -> str:
    """SQL: the source row sorts after the target row on `order` (lexicographically)."""
    first, *rest = order
    later = f"{source}.{first} > {target}.{first}"
    if not rest:
        return later
    return f"({later} OR ({source}.{first} = {target}.{first} AND {newer_than(rest, source, target)}))"


def merge_latest(spark: SparkSession, updates: DataFrame, spec: Table, order: list[str],
                 root: str | None = None, files: int = 1) -> None:
    """Upsert one row per key of `spec`; a matched row is replaced only by a newer one (by `order`).

    Re-running with the same `updates` changes nothing, and a late, older version never
    overwrites a newer one: both are the MERGE condition. Into an empty table the rows are
    appended instead, in `files` files range-partitioned on `order` (oldest first): later
    MERGEs, whose updates are mostly of recent entities, then rewrite only the newest files.
    """
    from delta.tables import DeltaTable

    ensure(spark, spec, root)
    if not delta_log(spec.name, root).file_uris():
        append(updates.repartitionByRange(max(1, files), *order), spec.name, root)
        return
    (
        DeltaTable.forPath(spark, table_path(spec.name, root)).alias("t")
        .merge(updates.alias("s"), _on(spec))
        .whenMatchedUpdateAll(condition=newer_than(order))
        .whenNotMatchedInsertAll()
        .execute()
    )


def insert_new(spark: SparkSession, rows: DataFrame, spec: Table, root: str | None = None) -> None:
    """Insert the rows whose key (of `spec`) is not in the table yet (an idempotent append)."""
    from delta.tables import DeltaTable

    ensure(spark, spec, root)
    (
        DeltaTable.forPath(spark, table_path(spec.name, root)).alias("t")
        .merge(rows.alias("s"), _on(spec))
        .whenNotMatchedInsertAll()
        .execute()
    )


def _on(spec: Table) -> str:
    return " AND ".join(f"t.{k} = s.{k}" for k in spec.keys)


def optimize(spark: SparkSession, name: str, root: str | None = None) -> dict:
    """Compact the table's small files (bin-packing; data unchanged); Delta's metrics of it."""
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(spark, table_path(name, root))
    return table.optimize().executeCompaction().collect()[0]["metrics"].asDict()


def vacuum(spark: SparkSession, name: str, root: str | None, retention_hours: int) -> None:
    """Delete the files no version of the last `retention_hours` needs."""
    from delta.tables import DeltaTable

    DeltaTable.forPath(spark, table_path(name, root)).vacuum(float(retention_hours))


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


# --- The Delta log without Spark (deltalake) ---------------------------------------------------


def storage_options(path: str) -> dict[str, str] | None:
    """`deltalake`'s options for a table at `path`: the object store's settings for s3:// paths."""
    from pinlake import objectstore

    return objectstore.storage_options(get_settings()) if is_s3(path) else None


@contextmanager
def _explained(path: str) -> Iterator[None]:
    """Turn `deltalake`'s error from an object store into ObjectStoreError naming the setting at
    fault (an unreachable endpoint, refused credentials, a missing bucket), where one is."""
    try:
        yield
    except OSError:
        if is_s3(path):
            from pinlake import objectstore

            objectstore.check(get_settings())  # raises naming the setting; passes: the error is the table's
        raise


def delta_log(name: str, root: str | None = None, version: int | None = None) -> deltalake.DeltaTable:
    """The table's log at its latest version, or at `version`; TableNotFoundError when it has none."""
    from deltalake import DeltaTable

    path = table_path(name, root)
    with _explained(path):
        return DeltaTable(path, version=version, storage_options=storage_options(path))


def exists(name: str, root: str | None = None) -> bool:
    """True when the table has a Delta log with at least one commit."""
    from deltalake import DeltaTable

    path = table_path(name, root)
    with _explained(path):
        return DeltaTable.is_deltatable(path, storage_options=storage_options(path))


def version(name: str, root: str | None = None) -> int | None:
    """The table's latest version, or None when it does not exist yet (milliseconds: no Spark)."""
    return delta_log(name, root).version() if exists(name, root) else None


def rows(names: list[str], root: str | None = None) -> int | None:
    """How many rows the tables hold, from the file statistics in their Delta logs (no Spark); a
    table that does not exist holds none; None when a file has no row count in the log."""
    import pyarrow as pa
    import pyarrow.compute as pc

    total = 0
    for name in names:
        if not exists(name, root):
            continue
        counts = pa.table(delta_log(name, root).get_add_actions(flatten=True))["num_records"]
        if counts.null_count:
            return None
        total += pc.sum(counts).as_py() or 0
    return total


def arrow(name: str, root: str | None = None, columns: list[str] | None = None) -> pa.Table | None:
    """The current snapshot as an Arrow table (`columns` only), or None when the table does not exist."""
    return delta_log(name, root).to_pyarrow_table(columns=columns) if exists(name, root) else None


def history(name: str, root: str | None = None, limit: int | None = None) -> list[dict]:
    """The table's commits, newest first (`limit` of them); [] when it does not exist."""
    return delta_log(name, root).history(limit) if exists(name, root) else []


def properties(name: str, root: str | None = None) -> dict[str, str]:
    """The table's properties (its metadata's configuration)."""
    return dict(delta_log(name, root).metadata().configuration)


def append_rows(rows: pa.Table, name: str, root: str | None = None) -> None:
    """Append a few rows (an Arrow table) in one Delta commit, without Spark.

    Written by the `deltalake` package, in milliseconds, where a Spark write of a handful of
    rows costs one to two seconds.
    """
    from deltalake import write_deltalake

    path = table_path(name, root)
    with _explained(path):
        write_deltalake(path, rows, mode="append", storage_options=storage_options(path))


def last_checkpoint(name: str, root: str | None = None) -> int:
    """The version of the table's last checkpoint (its `_last_checkpoint` file), -1 for none."""
    from pinlake import objectstore

    text = objectstore.read_text(f"{table_path(name, root)}/_delta_log/_last_checkpoint", get_settings())
    try:
        return int(json.loads(text)["version"]) if text is not None else -1
    except (ValueError, KeyError):
        return -1


def checkpoint(name: str, root: str | None = None) -> int:
    """Write a checkpoint of the table's latest version (milliseconds, no Spark); that version.

    Spark's local file system keeps a checksum beside each file it wrote: `deltalake` replaces
    `_last_checkpoint` without its `._last_checkpoint.crc`, and Spark would then refuse the file
    for a bad checksum, three times a second apart, before it searched the folder instead.
    """
    log = delta_log(name, root)
    if not is_s3(table_path(name, root)):  # object stores get no checksum files
        (Path(table_path(name, root)) / "_delta_log" / "._last_checkpoint.crc").unlink(missing_ok=True)
    log.create_checkpoint()
    return log.version()


def clean_log(name: str, root: str | None = None) -> None:
    """Delete the log files older than the table's log retention (`delta.logRetentionDuration`,
    30 days) that its latest checkpoint makes unnecessary."""
    delta_log(name, root).cleanup_metadata()


def has_commit(name: str, root: str | None, version: int) -> bool:
    """True when commit `version` of the table exists: one `stat` on a local disk (Delta creates
    each commit file atomically, once), a look at the log elsewhere."""
    path = table_path(name, root)
    if "://" in path:
        return exists(name, root) and delta_log(name, root).version() >= version
    return (Path(path) / "_delta_log" / f"{version:020d}.json").exists()


def dataset(name: str, root: str | None = None):
    """The current snapshot as a lazy Arrow dataset (scanned as a query reads it), or None."""
    return delta_log(name, root).to_pyarrow_dataset() if exists(name, root) else None
