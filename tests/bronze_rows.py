"""Bronze-shaped rows for silver and gold tests (CONTRACT.md section 4 columns)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from pyspark.sql import DataFrame, SparkSession

BRONZE_SCHEMA = (
    "event_id string, received_at timestamp, key string, value string, topic string, "
    "partition int, offset bigint, kafka_timestamp timestamp, ingested_at timestamp, ingest_date date"
)
TOPIC = {"pin": "pinterest.pin", "geo": "pinterest.geo", "user": "pinterest.user"}
T0 = datetime(2024, 5, 1, 12, 0, 0)


def text(value) -> str | None:
    """The Kafka message text: a dict or list as JSON, a string as it is."""
    return value if value is None or isinstance(value, str) else json.dumps(value)


def event(kind: str, value, offset: int, partition: int = 0, seconds: int | None = None) -> tuple:
    """One bronze row; kafka_timestamp is T0 + `seconds` (default: the offset)."""
    at = T0 + timedelta(seconds=offset if seconds is None else seconds)
    return (f"{kind}-{partition}-{offset}", at, None, text(value), TOPIC[kind], partition, offset, at,
            at, at.astimezone(timezone.utc).date())


def bronze(spark: SparkSession, kind: str, values: list, partition: int = 0, first_offset: int = 0) -> DataFrame:
    """Bronze rows of one topic: one per value, consecutive offsets in one partition."""
    rows = [event(kind, v, first_offset + i, partition) for i, v in enumerate(values)]
    return spark.createDataFrame(rows, BRONZE_SCHEMA)


def bronze_rows(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    """Bronze rows from `event(...)` tuples."""
    return spark.createDataFrame(rows, BRONZE_SCHEMA)
