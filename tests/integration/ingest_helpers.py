"""Helpers of the ingest integration tests: an API process, its settings, reading Kafka back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition

from pinlake.settings import TOPICS, Settings
from ingest.service import API, api_url, ready
from pinlake.supervisor import ServiceFailed, Supervisor, wait_until
from tests.conftest import free_port


def api_settings(kafka: Settings, data_root: Path, **overrides) -> Settings:
    """Settings of an API of its own (data root, port) in front of the broker of `kafka`."""
    return kafka.model_copy(update={"data_root": data_root, "api_port": free_port(),
                                    "kafka_bootstrap": kafka.bootstrap, **overrides})


def _consumer(bootstrap: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4()}",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})


def high_watermarks(bootstrap: str, timeout: float = 30.0) -> dict[tuple[str, int], int]:
    """The next offset of every partition of the contract's topics (waits for new topics' leaders)."""
    consumer = _consumer(bootstrap)
    marks: dict[tuple[str, int], int] = {}

    def read() -> bool:
        try:
            for topic in TOPICS.values():
                for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                    tp = TopicPartition(topic, partition)
                    marks[(topic, partition)] = consumer.get_watermark_offsets(tp, timeout=10)[1]
            return True
        except KafkaException:  # a fresh topic without a leader yet
            return False

    try:
        assert wait_until(read, timeout), f"no watermarks from {bootstrap} within {timeout}s"
        return marks
    finally:
        consumer.close()


def read_since(bootstrap: str, since: dict[tuple[str, int], int], timeout: float = 30.0) -> list[dict]:
    """Every message written after `since` (up to now), as dicts of topic, key, value, headers."""
    until = high_watermarks(bootstrap)
    wanted = {tp: (since.get(tp, 0), end) for tp, end in until.items() if end > since.get(tp, 0)}
    if not wanted:
        return []
    consumer = _consumer(bootstrap)
    consumer.assign([TopicPartition(t, p, start) for (t, p), (start, _) in wanted.items()])
    messages, deadline = [], time.monotonic() + timeout
    try:
        left = sum(end - start for start, end in wanted.values())
        while left and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            if message.offset() < wanted[(message.topic(), message.partition())][1]:
                left -= 1
                messages.append({"topic": message.topic(), "partition": message.partition(),
                                 "offset": message.offset(), "key": message.key(), "value": message.value(),
                                 "headers": {k: v.decode() for k, v in (message.headers() or [])}})
        assert not left, f"{left} messages never arrived"
        return messages
    finally:
        consumer.close()


@contextmanager
def running_api(settings: Settings, ready_within: float = 60.0) -> Iterator[str]:
    """Run the API under the supervisor until the block ends; yields its URL once it is ready."""
    supervisor = Supervisor(settings, [API])
    supervisor.start(API)
    try:
        if not wait_until(lambda: ready(settings), ready_within, interval=0.2):
            raise ServiceFailed(f"the API never became ready; see {supervisor.log_file(API.name)}")
        yield api_url(settings)
    finally:
        supervisor.stop(API)
