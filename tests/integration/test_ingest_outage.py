"""With the broker down the API answers 503 with Retry-After, never 200, and recovers by itself."""

import asyncio
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from ingest.emulator import count_events
from pinlake.kafka import KAFKA
from pinlake.supervisor import Supervisor, wait_until
from tests.conftest import make_settings, processes_of
from tests.integration.ingest_helpers import high_watermarks, read_since, running_api

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own, which it may stop and start without touching the shared one."""
    settings = make_settings(tmp_path / "var", api_delivery_timeout_s=3.0, api_retry_after_s=1)
    supervisor = Supervisor(settings, [KAFKA])
    supervisor.start(KAFKA)
    yield settings, supervisor
    supervisor.down()
    assert not processes_of(settings.data_root)


def _post(client: httpx.Client, n: int) -> httpx.Response:
    return client.post("/geo/", json={"ind": n, "timestamp": "2020-01-01 00:00:00"})


def test_broker_down_gives_503_never_200_and_the_api_recovers_by_itself(own_broker):
    settings, supervisor = own_broker
    before = high_watermarks(settings.bootstrap)
    acknowledged: list[str] = []
    with running_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        first = _post(client, 1)
        assert first.status_code == 200, first.text
        acknowledged.append(first.json()["event_id"])

        supervisor.stop(KAFKA)
        outage = []
        deadline = time.monotonic() + 8  # long enough for queued records to time out (3 s)
        while time.monotonic() < deadline or len(outage) < 5:
            outage.append(_post(client, 2))
        assert {answer.status_code for answer in outage} == {503}
        assert all(answer.headers["Retry-After"] == "1" for answer in outage)
        assert outage[-1].json()["detail"][0]["type"] == "unavailable"
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200

        supervisor.start(KAFKA)
        recovery: list[httpx.Response] = []
        assert wait_until(lambda: recovery.append(_post(client, 3)) or recovery[-1].status_code == 200, 90), \
            f"still {recovery[-1].status_code} after the broker came back: {recovery[-1].text}"
        assert {answer.status_code for answer in recovery} <= {200, 503}
        acknowledged.append(recovery[-1].json()["event_id"])
        assert client.get("/readyz").status_code == 200
        answer = client.post("/events", json=[{"type": "user", "record": {"ind": n}} for n in range(20)])
        assert answer.status_code == 200
        acknowledged.extend(answer.json()["event_ids"])

    in_kafka = {m["headers"]["event_id"] for m in read_since(settings.bootstrap, before)}
    assert set(acknowledged) <= in_kafka, "a 200 was given for a record Kafka does not have"


def test_a_full_producer_queue_gives_503(kafka_settings, tmp_path):
    from tests.integration.ingest_helpers import api_settings

    settings = api_settings(kafka_settings, tmp_path, api_queue_max_messages=10, api_retry_after_s=3)
    before = high_watermarks(kafka_settings.bootstrap)
    with running_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/events", json=[{"type": "user", "record": {"ind": n}} for n in range(11)])
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "3"
        assert "queue is full" in answer.json()["detail"][0]["msg"]
        assert client.post("/events", json=[{"type": "user", "record": {"ind": n}} for n in range(10)]) \
            .status_code == 200
    assert len(read_since(kafka_settings.bootstrap, before)) == 10


def _answered_503(url: str) -> bool:
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    return 'status="503"' in metrics


def test_emit_retries_503_until_the_broker_is_back(own_broker, tmp_path):
    settings, supervisor = own_broker
    before = high_watermarks(settings.bootstrap)
    ledger = tmp_path / "ledger.jsonl"
    with running_api(settings) as url:
        supervisor.stop(KAFKA)
        env = {**os.environ, **settings.child_env()}
        emit = subprocess.Popen([sys.executable, "-m", "pinlake.cli", "emit", "--count", "4", "--seed", "9",
                                 "--ledger", str(ledger), "--retries", "30"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_until(lambda: _answered_503(url), 60), "emit never met a 503"
            supervisor.start(KAFKA)
            output, _ = emit.communicate(timeout=300)
        finally:
            emit.kill()
    assert emit.returncode == 0, output
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert len(entries) == count_events(4, 9)
    in_kafka = {m["headers"]["event_id"] for m in read_since(settings.bootstrap, before)}
    assert {e["event_id"] for e in entries} <= in_kafka


def test_a_request_before_the_first_probe_waits_for_it_and_is_produced(kafka_settings):
    """A worker's first request can come before its first Kafka probe has answered (a second
    uvicorn worker, say): it waits for that answer and is produced, never refused with a 503."""
    from ingest.producer import KafkaSink
    from ingest.validation import Message

    async def first_request() -> list[str]:
        sink = KafkaSink(kafka_settings)
        sink.start()  # the pump has not run yet: no probe has answered
        try:
            return await sink.send([Message("user", b"1", b'{"ind": 1}')], "2026-12-01T00:00:00.000000Z")
        finally:
            await sink.aclose()

    before = high_watermarks(kafka_settings.bootstrap)
    ids = asyncio.run(first_request())
    assert len(ids) == 1
    assert [m["headers"]["event_id"] for m in read_since(kafka_settings.bootstrap, before)] == ids
