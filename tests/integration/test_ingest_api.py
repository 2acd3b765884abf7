"""The ingest API against a real broker: what a 200 means, and every refusal of contract section 2."""

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from pydantic import SecretStr

from pinlake.settings import TOPICS
from tests.integration.ingest_helpers import api_settings, high_watermarks, read_since, running_api

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
KEY = "s3cret-key"


@pytest.fixture(scope="module")
def api(kafka_settings, tmp_path_factory):
    settings = api_settings(kafka_settings, tmp_path_factory.mktemp("api"))
    with running_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def guarded(kafka_settings, tmp_path_factory):
    """An API with a key and small size limits."""
    settings = api_settings(kafka_settings, tmp_path_factory.mktemp("guarded"), api_key=SecretStr(KEY),
                            api_max_body_bytes=4096, api_max_record_bytes=1024)
    with running_api(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def _pin(**fields) -> dict:
    return {"index": 4321, "unique_id": str(uuid.uuid4()), "title": "No Title Data Available",
            "follower_count": "8k", "mystery": {"kept": [1, None, True]}, **fields}


def test_a_record_arrives_with_its_key_headers_and_exact_value(api, kafka_settings):
    before = high_watermarks(kafka_settings.bootstrap)
    started = datetime.now(timezone.utc)
    sent = {
        "pin": json.dumps(_pin(), indent=1).encode(),
        "geo": b'{"ind": 4321, "timestamp": "2019-13-45", "latitude": 512.5, "extra": "kept"}',
        "user": '{"ind": 4321, "first_name": "Aïsha", "age": 999}'.encode(),
    }
    ids = {}
    for kind, body in sent.items():
        answer = api.post(f"/{kind}/", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        ids[kind] = answer.json()["event_id"]
    received = {m["headers"]["event_id"]: m for m in read_since(kafka_settings.bootstrap, before)}
    keys = {"pin": json.loads(sent["pin"])["unique_id"].encode(), "geo": b"4321", "user": b"4321"}
    for kind, body in sent.items():
        message = received[ids[kind]]
        assert (message["topic"], message["key"], message["value"]) == (TOPICS[kind], keys[kind], body)
        assert set(message["headers"]) == {"event_id", "received_at"}
        moment = datetime.fromisoformat(message["headers"]["received_at"].replace("Z", "+00:00"))
        assert message["headers"]["received_at"].endswith("Z")
        assert started - timedelta(seconds=1) <= moment <= datetime.now(timezone.utc)
        assert str(uuid.UUID(ids[kind])) == ids[kind]


def test_trailing_slash_is_optional(api):
    for path in ("/user", "/user/"):
        assert api.post(path, json={"ind": 1}).status_code == 200
    for path in ("/events", "/events/"):
        assert api.post(path, json=[{"type": "user", "record": {"ind": 1}}]).status_code == 200


def test_a_batch_is_acknowledged_in_order_with_every_record_as_received(api, kafka_settings):
    before = high_watermarks(kafka_settings.bootstrap)
    records = [("pin", _pin(index=i)) for i in range(3)] + [("geo", {"ind": 9, "timestamp": "t"}),
                                                            ("user", {"ind": 9, "age": None})]
    answer = api.post("/events", json=[{"type": kind, "record": record} for kind, record in records])
    assert answer.status_code == 200, answer.text
    ids = answer.json()["event_ids"]
    assert len(ids) == len(set(ids)) == 5
    received = {m["headers"]["event_id"]: m for m in read_since(kafka_settings.bootstrap, before)}
    assert [(received[i]["topic"], json.loads(received[i]["value"])) for i in ids] == \
        [(TOPICS[kind], record) for kind, record in records]


@pytest.mark.parametrize("path, body, item, field", [
    ("/pin/", {"unique_id": "u"}, None, "index"),
    ("/pin/", {"index": True, "unique_id": "u"}, None, "index"),
    ("/pin/", {"index": 1.5, "unique_id": "u"}, None, "index"),
    ("/pin/", {"index": 1, "unique_id": "u", "follower_count": 2.5}, None, "follower_count"),
    ("/geo/", {"ind": 1}, None, "timestamp"),
    ("/geo/", {"ind": 1, "timestamp": "t", "latitude": "12.5"}, None, "latitude"),
    ("/user/", {"ind": "1"}, None, "ind"),
    ("/user/", {"ind": 1, "age": False}, None, "age"),
    ("/events", [{"type": "user", "record": {"ind": 1}}, {"type": "geo", "record": {"ind": 2}}], 1, "timestamp"),
    ("/events", [{"type": "video", "record": {}}], 0, "type"),
])
def test_each_422_names_its_item_and_field(api, path, body, item, field):
    answer = api.post(path, json=body)
    assert answer.status_code == 422
    problems = answer.json()["detail"]
    assert [(p["item"], p["field"]) for p in problems] == [(item, field)]
    assert field in problems[0]["msg"]


def test_a_batch_with_one_bad_item_produces_nothing(api, kafka_settings):
    before = high_watermarks(kafka_settings.bootstrap)
    good = [{"type": "user", "record": {"ind": n}} for n in range(50)]
    answer = api.post("/events", json=[*good[:25], {"type": "pin", "record": {"index": 1}}, *good[25:]])
    assert answer.status_code == 422
    assert [(p["item"], p["field"], p["type"]) for p in answer.json()["detail"]] == [(25, "unique_id", "missing")]
    sentinel = api.post("/geo/", json={"ind": 77, "timestamp": "sentinel"})
    assert sentinel.status_code == 200
    assert [m["value"] for m in read_since(kafka_settings.bootstrap, before)] == \
        [b'{"ind":77,"timestamp":"sentinel"}']


def test_a_body_that_is_not_json_is_refused(api):
    answer = api.post("/pin/", content=b"{nope", headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["type"] == "json_invalid"


def test_probes_metrics_and_docs(api):
    assert api.post("/pin/", json=_pin()).status_code == 200
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready", "kafka": "ok"}
    metrics = api.get("/metrics").text
    assert 'pinlake_ingest_requests_total{route="pin",status="200"}' in metrics
    assert 'pinlake_ingest_records_total{type="pin"}' in metrics
    assert "pinlake_ingest_kafka_reachable 1.0" in metrics
    assert api.get("/docs").status_code == 200
    schema = api.get("/openapi.json").json()
    assert {"/pin/", "/geo/", "/user/", "/events"} <= set(schema["paths"])
    assert schema["components"]["schemas"]["Pin"]["required"] == ["index", "unique_id"]


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}])
def test_without_the_right_key_the_answer_is_401(guarded, headers):
    for path, body in (("/user/", {"ind": 1}), ("/events", [{"type": "user", "record": {"ind": 1}}])):
        answer = guarded.post(path, json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["detail"][0]["type"] == "unauthorized"


def test_with_the_right_key_the_answer_is_200_and_probes_need_no_key(guarded):
    assert guarded.post("/user/", json={"ind": 1}, headers={"X-API-Key": KEY}).status_code == 200
    assert guarded.get("/healthz").status_code == 200
    schema = guarded.get("/openapi.json").json()
    assert schema["paths"]["/user/"]["post"]["security"] == [{"APIKey": []}]


def test_an_oversized_body_is_refused_with_413(guarded):
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    big = json.dumps([{"type": "user", "record": {"ind": n, "first_name": "x" * 100}} for n in range(40)])
    assert guarded.post("/events", content=big.encode(), headers=headers).status_code == 413

    def chunks():  # no Content-Length: the limit holds while streaming
        yield b"["
        for n in range(40):
            yield json.dumps({"type": "user", "record": {"ind": n, "first_name": "x" * 100}}).encode() + b","
        yield b'{"type": "user", "record": {"ind": 0}}]'

    answer = guarded.post("/events", content=chunks(), headers=headers)
    assert answer.status_code == 413 and answer.json()["detail"][0]["type"] == "too_large"


def test_an_oversized_record_is_refused_with_413_naming_it(guarded):
    body = [{"type": "user", "record": {"ind": 1}}, {"type": "user", "record": {"ind": 2, "bio": "y" * 2000}}]
    answer = guarded.post("/events", json=body, headers={"X-API-Key": KEY})
    assert answer.status_code == 413
    assert [(p["item"], p["type"]) for p in answer.json()["detail"]] == [(1, "too_large")]


def test_metrics_count_the_requests_of_every_worker(kafka_settings, tmp_path):
    """`pinlake api` with two workers: each scrape, whichever worker answers it, counts every request."""
    settings = api_settings(kafka_settings, tmp_path, api_workers=2)
    sent = 40
    with running_api(settings) as url:
        for _ in range(sent):  # a connection each, so that both workers take some
            assert httpx.post(f"{url}/pin/", json=_pin(), timeout=30).status_code == 200
        scrapes = [httpx.get(f"{url}/metrics", timeout=30).text for _ in range(8)]
        pids = {path.stem.rsplit("_", 1)[-1] for path in (settings.run_dir / f"api-metrics-{settings.api_port}")
                .glob("*.db")}
    pattern = re.compile(r'^pinlake_ingest_requests_total\{route="pin",status="200"\} (\S+)$', re.M)
    counted = [float(pattern.search(text).group(1)) for text in scrapes]
    assert counted == [sent] * len(scrapes), counted
    assert all('pinlake_ingest_records_total{type="pin"} 40.0' in text for text in scrapes)
    assert all("pinlake_ingest_kafka_reachable 1.0" in text for text in scrapes)
    assert len(pids) == 2, pids
