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


def key_of(kind: str, record: dict) -> str | None:
    """The Kafka message key of the contract: unique_id for pins, ind (as text) otherwise."""
    value = record.get("unique_id") if kind == "pin" else record.get("ind")
    return None if value is None else str(value)


def from_events(events: list[dict], start: datetime, first_offsets: dict | None = None,
                partitions: int = 3) -> dict[str, list[tuple]]:
    """Bronze rows per kind for emulator events `{"type", "record"}`, as Kafka would number them.

    The partition is the key's CRC32 modulo `partitions` (all versions of one entity in one
    partition); offsets continue from `first_offsets[(kind, partition)]`; one second between events.
    """
    import zlib

    offsets = dict(first_offsets or {})
    rows: dict[str, list[tuple]] = {kind: [] for kind in TOPIC}
    for i, item in enumerate(events):
        kind, record = item["type"], item["record"]
        key = key_of(kind, record)
        partition = zlib.crc32((key or "").encode()) % partitions
        offset = offsets.get((kind, partition), 0)
        offsets[(kind, partition)] = offset + 1
        at = start + timedelta(seconds=i)
        rows[kind].append((f"{kind}-{partition}-{offset}", at, key, text(record), TOPIC[kind], partition,
                           offset, at, at, at.date()))
    return rows


def next_offsets(rows: dict[str, list[tuple]], before: dict | None = None) -> dict:
    """The offset each (kind, partition) continues from after `rows`."""
    offsets = dict(before or {})
    for kind, kind_rows in rows.items():
        for row in kind_rows:
            offsets[(kind, row[5])] = max(offsets.get((kind, row[5]), 0), row[6] + 1)
    return offsets


def append_bronze(spark: SparkSession, root: str, rows: dict[str, list[tuple]]) -> None:
    """Append rows per kind (`pin`, `geo`, `user`) to the bronze tables, as the stream does."""
    from lakehouse import tables
    from lakehouse.bronze.schema import EVENT_TABLES

    for kind, kind_rows in rows.items():
        if kind_rows:
            spec = EVENT_TABLES[TOPIC[kind]]
            tables.ensure(spark, spec, root)
            tables.append(spark.createDataFrame(kind_rows, BRONZE_SCHEMA), spec.name, root)
