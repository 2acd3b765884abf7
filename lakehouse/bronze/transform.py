"""Pure transforms from Kafka source rows to bronze rows: no reads, no writes."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.bronze.schema import EVENT_ID_HEADER, PARTITION_COLUMN, RECEIVED_AT_HEADER

_MICROS_PER_DAY = 86_400 * 1_000_000


def _text(binary: Column) -> Column:
    """Bytes as text: valid UTF-8 unchanged, each invalid sequence as U+FFFD.

    A plain CAST keeps invalid bytes inside the string, which Arrow and DuckDB then refuse
    to read; the exact bytes of such messages go to bronze.raw_bytes instead.
    """
    return F.make_valid_utf8(binary.cast("string"))


def _header(name: str) -> Column:
    """The value of a Kafka header as bytes; the last one wins (Kafka's `lastHeader`).

    A position in the reversed keys rather than a lambda filter: Spark interprets higher-order
    functions row by row, these built-ins are generated code (bronze's writes, a fifth faster).
    """
    keys, values = F.reverse(F.col("headers.key")), F.reverse(F.col("headers.value"))
    at = F.array_position(keys, name)  # 1-based; 0 when absent, null when there are no headers
    return F.when(at > 0, F.element_at(values, at.cast("int")))


def _rfc3339(text: Column) -> Column:
    """An RFC 3339 date-time as a timestamp; null when it is not one (never an error)."""
    # RFC 3339 allows a lower-case `t` and `z`, which Spark's cast does not.
    return F.try_to_timestamp(F.upper(F.trim(text)))


def utc_date(ts: Column) -> Column:
    """The UTC calendar date of a timestamp, whatever the session time zone."""
    return F.date_from_unix_date(F.floor(F.unix_micros(ts) / F.lit(_MICROS_PER_DAY)).cast("int"))


def undecodable() -> Column:
    """True for a message whose key or value is not valid UTF-8."""
    key_ok = F.col("key").isNull() | F.is_valid_utf8(F.col("key").cast("string"))
    value_ok = F.col("value").isNull() | F.is_valid_utf8(F.col("value").cast("string"))
    return ~(key_ok & value_ok)


def to_bronze(df: DataFrame, ingested_at: Column | None = None, all_utf8: bool = False) -> DataFrame:
    """Kafka source rows -> the contract's bronze columns (the value is never parsed).

    `all_utf8`: the caller knows that every key and value is valid UTF-8 (it counted the
    `undecodable()` rows: none), so they are cast without a repair pass, to the same text.
    """
    ingested_at = F.current_timestamp() if ingested_at is None else ingested_at
    text = (lambda binary: binary.cast("string")) if all_utf8 else _text
    return df.select(
        _text(_header(EVENT_ID_HEADER)).alias("event_id"),
        _rfc3339(_text(_header(RECEIVED_AT_HEADER))).alias("received_at"),
        text(F.col("key")).alias("key"),
        text(F.col("value")).alias("value"),
        F.col("topic").cast("string").alias("topic"),
        F.col("partition").cast("int").alias("partition"),
        F.col("offset").cast("bigint").alias("offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        ingested_at.cast("timestamp").alias("ingested_at"),
        utc_date(F.col("timestamp")).alias(PARTITION_COLUMN),
    )


def to_raw_bytes(df: DataFrame, ingested_at: Column | None = None) -> DataFrame:
    """The exact key and value bytes of the messages that are not valid UTF-8."""
    ingested_at = F.current_timestamp() if ingested_at is None else ingested_at
    return df.where(undecodable()).select(
        F.col("topic").cast("string").alias("topic"),
        F.col("partition").cast("int").alias("partition"),
        F.col("offset").cast("bigint").alias("offset"),
        F.col("key"),
        F.col("value"),
        F.col("timestamp").alias("kafka_timestamp"),
        ingested_at.cast("timestamp").alias("ingested_at"),
        utc_date(F.col("timestamp")).alias(PARTITION_COLUMN),
    )
