"""Bronze's tables (CONTRACT.md section 4): their specs, and the Kafka source's schema."""

from __future__ import annotations

from pyspark.sql import types as T

from lakehouse.spec import Table
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
# The bronze tables' delta.checkpointInterval: Spark's commits never checkpoint them, the
# stream's writer has `deltalake` do it off the commit path (lakehouse/bronze/writer.py).
NEVER = 2**31 - 1
# Append-only (the contract's bronze), and checkpoints off the commit path.
PROPERTIES = {"delta.appendOnly": "true", "delta.checkpointInterval": str(NEVER)}
KEYS = ("topic", "partition", "offset")


def _events(kind: str) -> Table:
    return Table(name=f"bronze.{kind}_events", schema=BRONZE_SCHEMA, keys=KEYS, partition_by=(PARTITION_COLUMN,),
                 properties=PROPERTIES, description=f"Every Kafka record of the {kind} topic, as it came.")


# Kafka topic -> its bronze table, one per event kind.
EVENT_TABLES = {topic: _events(kind) for kind, topic in TOPICS.items()}
TOPIC_TABLES = {topic: spec.name for topic, spec in EVENT_TABLES.items()}
RAW_BYTES = Table(name="bronze.raw_bytes", schema=RAW_BYTES_SCHEMA, keys=KEYS, properties=PROPERTIES,
                  description="The exact bytes of every record whose key or value is not UTF-8.")
