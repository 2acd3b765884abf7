"""Shared helpers of the bronze integration tests: a fresh broker, producing, running the job."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from pyspark.sql import DataFrame, SparkSession

from lakehouse import tables
from lakehouse.bronze.schema import TOPIC_TABLES
from pinlake.settings import Settings
from tests.conftest import make_settings, processes_of

PINLAKE = [sys.executable, "-m", "pinlake.cli"]


@contextmanager
def fresh_stack(data_root: Path, **overrides):
    """A broker of its own (empty topics) and a data root; nothing left running afterwards."""
    from pinlake.kafka import KAFKA
    from pinlake.supervisor import Supervisor

    settings = make_settings(data_root, **overrides)
    supervisor = Supervisor(settings, [KAFKA])
    supervisor.start(KAFKA)
    try:
        yield settings
    finally:
        supervisor.down()
    assert not processes_of(settings.data_root), "a process outlived its test"


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a child process needs to see these settings."""
    return {**os.environ, **settings.child_env(), **extra}


def run_bronze(settings: Settings, *args: str, timeout: float = 900, **extra: str) -> subprocess.CompletedProcess:
    """`pinlake bronze ...` in a child process, as a user runs it."""
    return subprocess.run([*PINLAKE, "bronze", *args], env=env_of(settings, **extra),
                          capture_output=True, text=True, timeout=timeout)


def produce(settings: Settings, messages: list[tuple]) -> list[tuple[str, int, int]]:
    """(topic, partition, key, value, headers, timestamp_ms) messages; their (topic, partition, offset), in order."""
    producer = Producer({"bootstrap.servers": settings.bootstrap, "enable.idempotence": True, "acks": "all"})
    delivered: list = [None] * len(messages)

    def on_delivery(i, err, msg):
        delivered[i] = err or (msg.topic(), msg.partition(), msg.offset())

    for i, (topic, partition, key, value, headers, ts) in enumerate(messages):
        kwargs = {} if partition is None else {"partition": partition}
        producer.produce(topic, value=value, key=key, headers=headers, timestamp=ts,
                         on_delivery=lambda err, msg, i=i: on_delivery(i, err, msg), **kwargs)
    assert producer.flush(60) == 0
    assert all(isinstance(d, tuple) for d in delivered), delivered
    return delivered


def watermarks(settings: Settings) -> dict[tuple[str, int], tuple[int, int]]:
    """Kafka's (low, high) offsets of every partition of the contract topics."""
    consumer = Consumer({"bootstrap.servers": settings.bootstrap, "group.id": "bronze-tests"})
    try:
        metadata = consumer.list_topics(timeout=30)
        return {(topic, p): consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
                for topic in TOPIC_TABLES for p in metadata.topics[topic].partitions}
    finally:
        consumer.close()


def read_bronze(spark: SparkSession, settings: Settings) -> DataFrame:
    """The three bronze tables as one frame (Delta, through the project's table I/O)."""
    frames = [tables.read(spark, name, settings.lakehouse) for name in TOPIC_TABLES.values()]
    return frames[0].unionByName(frames[1]).unionByName(frames[2])


def expected_offsets(spark: SparkSession, marks: dict) -> DataFrame:
    """One row per offset Kafka holds: (topic, partition, offset)."""
    rows = [(topic, p, o) for (topic, p), (low, high) in marks.items() for o in range(low, high)]
    return spark.createDataFrame(rows, "topic string, partition int, offset bigint")


def in_flight(settings: Settings) -> int | None:
    """The batch planned in the stream's checkpoint but not committed there, if any."""
    from lakehouse.bronze.state import checkpoint_batches

    pending = checkpoint_batches(settings, "offsets") - checkpoint_batches(settings, "commits")
    return max(pending) if pending else None
