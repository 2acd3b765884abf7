"""All table I/O: paths from one setting, and the Delta read/write helpers every layer uses."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from pinlake.settings import get_settings

LAYERS = ("bronze", "silver", "gold", "quality")


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


def overwrite(df: DataFrame, name: str, root: str | None = None, partition_by: list[str] | None = None) -> None:
    """Replace a table's content in one Delta commit (readers see the old or the new)."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(table_path(name, root))


def append(df: DataFrame, name: str, root: str | None = None, partition_by: list[str] | None = None) -> None:
    """Append rows to a table in one Delta commit."""
    writer = df.write.format("delta").mode("append")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(table_path(name, root))
