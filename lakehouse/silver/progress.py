"""Which bronze rows silver has processed: committed offset ranges in `silver.progress`.

Bronze holds, per Kafka partition, every offset exactly once and commits them in order (one
Delta commit per streaming micro-batch, each a contiguous offset range per partition). So
"the rows silver has not processed yet" are, per partition, the offsets above the highest one
committed here. A run reads bronze at one pinned Delta version, publishes silver, and commits
its ranges here last, in one MERGE keyed by (topic, partition, first offset): a run that dies
before that commit is simply redone, and every silver write is idempotent.

Each range also records how many of its rows were accepted and quarantined. `pinlake audit`
reads only the offsets from here (what is processed, what is pending) and proves the rest from
the silver tables themselves (`lakehouse.audit.bronze_to_silver`).
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse import tables
from lakehouse.silver import common as c
from lakehouse.spec import Table

PROGRESS_SCHEMA = T.StructType([
    T.StructField("source_topic", T.StringType()),
    T.StructField("source_partition", T.IntegerType()),
    T.StructField("first_offset", T.LongType()),
    T.StructField("last_offset", T.LongType()),
    T.StructField("rows", T.LongType()),
    T.StructField("accepted", T.LongType()),
    T.StructField("quarantined", T.LongType()),
    T.StructField("bronze_version", T.LongType()),
    T.StructField("run_id", T.StringType()),
    T.StructField("committed_at", T.TimestampType()),
])
PROGRESS = Table(
    name="silver.progress", schema=PROGRESS_SCHEMA, keys=("source_topic", "source_partition", "first_offset"),
    description="The bronze offset ranges each silver run processed, with rows accepted and quarantined.",
)


def watermarks(spark: SparkSession, topic: str, root: str | None = None) -> dict[int, int]:
    """The highest committed offset of each partition of `topic`."""
    done = tables.read_or_empty(spark, PROGRESS, root)
    rows = (
        done.where(F.col("source_topic") == topic)
        .groupBy("source_partition").agg(F.max("last_offset").alias("last_offset"))
        .collect()
    )
    return {row.source_partition: row.last_offset for row in rows}


def bronze_versions(root: str | None = None) -> dict[str, int]:
    """Per topic, the highest bronze version a run processed, read by `deltalake` (no Spark).

    A run reads bronze pinned at one version and commits every row it found unprocessed there,
    so every row of that bronze version, and of the versions before it, is processed.
    """
    done = tables.arrow(PROGRESS.name, root, columns=["source_topic", "bronze_version"])
    if done is None:
        return {}
    highest = done.group_by("source_topic").aggregate([("bronze_version", "max")])
    return dict(zip(highest["source_topic"].to_pylist(), highest["bronze_version_max"].to_pylist()))


def run_versions(run_id: str, root: str | None = None) -> dict[str, int]:
    """Per topic, the bronze version one run read (from the rows it committed); {} for none."""
    import pyarrow.compute as pc

    done = tables.dataset(PROGRESS.name, root)
    if done is None:
        return {}
    rows = done.to_table(columns=["source_topic", "bronze_version"], filter=pc.field("run_id") == run_id)
    return dict(zip(rows["source_topic"].to_pylist(), rows["bronze_version"].to_pylist()))


def unprocessed(bronze: DataFrame, marks: dict[int, int]) -> DataFrame:
    """Bronze rows above each partition's watermark.

    Written as one range predicate per partition so that Delta can skip every file whose
    offset statistics lie below the watermark (Kafka numbers partitions 0..n-1).
    """
    if not marks:
        return bronze
    top = max(marks)
    partition, offset = F.col("partition"), F.col("offset")
    wanted = partition > top
    for p in range(top + 1):
        wanted = wanted | ((partition == p) & (offset > marks.get(p, -1)))
    return bronze.where(wanted)


def ranges(cleaned: DataFrame) -> DataFrame:
    """Per partition of a cleaned batch: its offset range, rows, accepted and quarantined."""
    is_accepted = c.accepted(cleaned).cast("long")
    return cleaned.groupBy("source_partition").agg(
        F.min("source_offset").alias("first_offset"),
        F.max("source_offset").alias("last_offset"),
        F.count(F.lit(1)).alias("rows"),
        F.sum(is_accepted).alias("accepted"),
        F.sum(1 - is_accepted).alias("quarantined"),
    )


def progress_rows(spark: SparkSession, topic: str, batch_ranges: list, bronze_version: int,
                  run_id: str, committed_at: datetime) -> DataFrame:
    """silver.progress rows for one topic's collected `ranges`."""
    rows = [
        (topic, r.source_partition, r.first_offset, r.last_offset, r.rows, r.accepted, r.quarantined,
         bronze_version, run_id, committed_at)
        for r in batch_ranges
    ]
    return spark.createDataFrame(rows, PROGRESS_SCHEMA)


def commit(spark: SparkSession, rows: DataFrame, root: str | None = None) -> None:
    """Record processed ranges (idempotent: a range already recorded is left as it is)."""
    tables.insert_new(spark, rows, PROGRESS, root)
