"""Bronze's schemas and table names: the contract's section 4 as module constants."""

from __future__ import annotations

from pyspark.sql import types as T

from pinlake.settings import TOPICS

# What Spark's Kafka source yields with includeHeaders=true (the input of `to_bronze`).
KAFKA_SOURCE_SCHEMA = T.StructType([
    T.StructField("key", T.BinaryType()),
    T.StructField("value", T.BinaryType()),
    T.StructField("topic", T.StringType()),
    T.StructField("partition", T.IntegerType()),
    T.StructField("offset", T.LongType()),
    T.StructField("timestamp", T.TimestampType()),
    T.StructField("timestampType", T.IntegerType()),
    T.StructField("headers", T.ArrayType(T.StructType([
        T.StructField("key", T.StringType()),
        T.StructField("value", T.BinaryType()),
    ]))),
])

# bronze.pin_events, bronze.geo_events, bronze.user_events (contract section 4), in order.
BRONZE_SCHEMA = T.StructType([
    T.StructField("event_id", T.StringType()),
    T.StructField("received_at", T.TimestampType()),
    T.StructField("key", T.StringType()),
    T.StructField("value", T.StringType()),
    T.StructField("topic", T.StringType()),
    T.StructField("partition", T.IntegerType()),
    T.StructField("offset", T.LongType()),
    T.StructField("kafka_timestamp", T.TimestampType()),
    T.StructField("ingested_at", T.TimestampType()),
    T.StructField("ingest_date", T.DateType()),
])

# bronze.raw_bytes: the exact bytes of every message whose key or value is not valid UTF-8.
# Its bronze row holds the text with U+FFFD in place of each invalid sequence (see BRONZE.md).
RAW_BYTES_SCHEMA = T.StructType([
    T.StructField("topic", T.StringType()),
    T.StructField("partition", T.IntegerType()),
    T.StructField("offset", T.LongType()),
    T.StructField("key", T.BinaryType()),
    T.StructField("value", T.BinaryType()),
    T.StructField("kafka_timestamp", T.TimestampType()),
    T.StructField("ingested_at", T.TimestampType()),
    T.StructField("ingest_date", T.DateType()),
])

PARTITION_COLUMN = "ingest_date"
EVENT_ID_HEADER = "event_id"
RECEIVED_AT_HEADER = "received_at"

# Kafka topic -> bronze table, one per event kind.
TOPIC_TABLES = {topic: f"bronze.{kind}_events" for kind, topic in TOPICS.items()}
RAW_BYTES_TABLE = "bronze.raw_bytes"
