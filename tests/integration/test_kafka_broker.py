"""The broker pinlake starts is a real Kafka: every contract topic takes and gives records."""

import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from pinlake.settings import TOPICS
from tests.integration.ingest_helpers import high_watermarks

pytestmark = pytest.mark.integration


def test_each_topic_round_trips_records(kafka_settings):
    producer = Producer({"bootstrap.servers": kafka_settings.bootstrap, "enable.idempotence": True,
                         "acks": "all"})
    # The broker is the session's: other tests write these topics too, so read from where they ended.
    start = high_watermarks(kafka_settings.bootstrap)
    sent = {}
    for topic in TOPICS.values():
        marker = str(uuid.uuid4())
        sent[topic] = [(f"k{i}".encode(), f"{marker}-{i}".encode()) for i in range(5)]
        for key, value in sent[topic]:
            producer.produce(topic, key=key, value=value, headers={"event_id": marker})
    assert producer.flush(30) == 0

    for topic, records in sent.items():
        consumer = Consumer({"bootstrap.servers": kafka_settings.bootstrap, "group.id": f"t-{uuid.uuid4()}",
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        assert len(metadata.partitions) == kafka_settings.kafka_partitions
        consumer.assign([TopicPartition(topic, p, start[(topic, p)]) for p in metadata.partitions])
        received = []
        while len(received) < len(records):
            message = consumer.poll(10)
            assert message is not None, f"timed out reading {topic}; got {received}"
            assert message.error() is None
            received.append((message.key(), message.value()))
            assert dict(message.headers())["event_id"] == records[0][1].decode().rsplit("-", 1)[0].encode()
        consumer.close()
        assert sorted(received) == sorted(records)
