"""silver.quarantine: every rejected bronze row with all its reason codes (CONTRACT.md section 5)."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.silver import common as c

TABLE = "silver.quarantine"
# One bronze row is one Kafka record: its coordinates identify a quarantine row.
KEYS = ["source_topic", "source_partition", "source_offset"]

QUARANTINE_SCHEMA = T.StructType([
    T.StructField("source_topic", T.StringType()),
    T.StructField("source_partition", T.IntegerType()),
    T.StructField("source_offset", T.LongType()),
    T.StructField("event_id", T.StringType()),
    T.StructField("received_at", T.TimestampType()),
    T.StructField("raw", T.StringType()),
    T.StructField("reasons", T.ArrayType(T.StringType())),
    T.StructField("quarantined_at", T.TimestampType()),
])
COLUMNS = QUARANTINE_SCHEMA.fieldNames()


def build_quarantine(checked: DataFrame, quarantined_at: datetime) -> DataFrame:
    """The rejected rows of a checked frame (any table's `check_*` output), as quarantine rows."""
    return (
        checked.where(~c.accepted(checked))
        .withColumn("quarantined_at", F.lit(quarantined_at).cast("timestamp"))
        .select(*COLUMNS)
    )
