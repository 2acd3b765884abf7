"""Producer settings, message headers, event ids and the counting of delivery reports."""

import asyncio
import re
import uuid
from datetime import datetime, timezone

import pytest
from confluent_kafka import KafkaError

from ingest.app import received_at
from ingest.producer import _Pending, headers, new_event_ids, producer_config
from pinlake.settings import Settings

pytestmark = pytest.mark.unit


def test_the_producer_is_idempotent_acks_all_and_compressed(tmp_path):
    settings = Settings(_env_file=None, data_root=tmp_path, kafka_port=1234, api_linger_ms=3,
                        api_delivery_timeout_s=7.5, api_queue_max_messages=500)
    config = producer_config(settings)
    assert config["bootstrap.servers"] == "127.0.0.1:1234"
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["compression.type"] in ("lz4", "zstd")
    assert config["linger.ms"] == 3 and config["message.timeout.ms"] == 7500
    assert config["queue.buffering.max.messages"] == 500


def test_event_ids_are_distinct_version_4_uuids():
    ids = new_event_ids(1000)
    assert len(set(ids)) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_headers_carry_the_event_id_and_received_at():
    assert headers("e-1", "2026-11-25T10:00:00.000001Z") == [("event_id", "e-1"),
                                                             ("received_at", "2026-11-25T10:00:00.000001Z")]


def test_received_at_is_rfc3339_utc():
    text = received_at()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - moment).total_seconds()) < 5


def _error() -> KafkaError:
    return KafkaError(KafkaError._MSG_TIMED_OUT)


def test_a_request_finishes_when_its_last_report_arrives():
    loop = asyncio.new_event_loop()
    try:
        pending = _Pending(3, loop.create_future())
        pending.delivered(None, None)
        pending.delivered(None, None)
        assert not pending.future.done()
        pending.delivered(None, None)
        assert pending.future.result() is None
    finally:
        loop.close()


def test_a_request_fails_at_its_first_failed_report_and_only_once():
    loop = asyncio.new_event_loop()
    try:
        pending = _Pending(3, loop.create_future())
        pending.delivered(None, None)
        error = _error()
        pending.delivered(error, None)
        assert pending.future.result() is error
        pending.delivered(_error(), None)  # later reports change nothing
        assert pending.future.result() is error and pending.remaining == 0
    finally:
        loop.close()
