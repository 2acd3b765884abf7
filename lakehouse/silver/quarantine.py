"""silver.quarantine: every rejected bronze row with all its reason codes (CONTRACT.md section 5)."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.silver import common as c
from lakehouse.silver.reasons import Reason
from lakehouse.spec import Table
from pinlake.settings import TOPICS

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


def build_quarantine(cleaned: DataFrame, quarantined_at: datetime) -> DataFrame:
    """The rejected rows of a cleaned frame (any table's `clean_*` output), as quarantine rows."""
    return (
        cleaned.where(~c.accepted(cleaned))
        .withColumn("quarantined_at", F.lit(quarantined_at).cast("timestamp"))
        .select(*COLUMNS)
    )


def expect_quarantine() -> list:
    """silver.quarantine: a known topic, and reasons that are a non-empty, sorted array of known codes."""
    from quality import expect as x

    codes = ", ".join(x.sql_text(code) for code in Reason)
    bad = f"reasons IS NULL OR size(reasons) = 0 OR reasons <> array_sort(reasons) OR NOT forall(reasons, r -> r IN ({codes}))"
    return [x.in_set("source_topic", TOPICS.values()),
            x.no_rows("reasons known and sorted", bad, "reasons is a non-empty, sorted array of the contract's codes"),
            x.not_null("quarantined_at")]


# One bronze row is one Kafka record: its coordinates identify a quarantine row.
QUARANTINE = Table(
    name="silver.quarantine", schema=QUARANTINE_SCHEMA, keys=("source_topic", "source_partition", "source_offset"),
    description="Every rejected bronze row, with all its reasons.", expectations=expect_quarantine,
)
