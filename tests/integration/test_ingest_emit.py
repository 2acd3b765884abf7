"""`pinlake emit` as a user runs it: every generated or replayed event lands in Kafka, the ledger says which."""

import json
import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

from ingest.emulator import count_events, generate
from pinlake.settings import TOPICS
from tests.integration.ingest_helpers import api_settings, high_watermarks, read_since, running_api

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
PINLAKE = [sys.executable, "-m", "pinlake.cli"]


@pytest.fixture(scope="module")
def api(kafka_settings, tmp_path_factory):
    settings = api_settings(kafka_settings, tmp_path_factory.mktemp("emit-api"))
    with running_api(settings) as url:
        yield settings, url


def emit(settings, *args, timeout=300) -> subprocess.CompletedProcess:
    """Run `pinlake emit` with the environment of these settings."""
    env = {**os.environ, **settings.child_env()}
    return subprocess.run([*PINLAKE, "emit", *args], env=env, capture_output=True, text=True, timeout=timeout)


def _canonical(pairs) -> list[str]:
    return sorted(json.dumps([topic, record], sort_keys=True) for topic, record in pairs)


def _ledger(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("batch_size", [1, 40])
def test_generated_events_all_land_in_kafka_and_in_the_ledger(api, kafka_settings, tmp_path, batch_size):
    settings, _ = api
    before = high_watermarks(kafka_settings.bootstrap)
    ledger = tmp_path / "ledger.jsonl"
    run = emit(settings, "--count", "25", "--seed", "5", "--batch-size", str(batch_size), "--ledger", str(ledger))
    assert run.returncode == 0, run.stdout + run.stderr
    expected = list(generate(25, 5))
    assert "acknowledged" in run.stdout and str(len(expected)) in run.stdout

    entries = _ledger(ledger)
    assert len(entries) == len({e["event_id"] for e in entries}) == count_events(25, 5) == len(expected)
    received = {m["headers"]["event_id"]: m for m in read_since(kafka_settings.bootstrap, before)}
    assert set(received) == {e["event_id"] for e in entries}
    assert all(received[e["event_id"]]["topic"] == TOPICS[e["type"]] for e in entries)
    assert _canonical((m["topic"], json.loads(m["value"])) for m in received.values()) == \
        _canonical((TOPICS[e["type"]], e["record"]) for e in expected)


def test_a_replayed_file_keeps_each_entity_in_order(api, kafka_settings, tmp_path):
    settings, _ = api
    lines = [{"type": "geo", "record": {"ind": 500 + n % 3, "timestamp": f"2020-01-01 00:00:{n:02d}"}}
             for n in range(30)]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    before = high_watermarks(kafka_settings.bootstrap)
    run = emit(settings, "--file", str(events), "--concurrency", "3", "--rate", "200")
    assert run.returncode == 0, run.stdout + run.stderr
    received = sorted(read_since(kafka_settings.bootstrap, before), key=lambda m: (m["partition"], m["offset"]))
    for ind in (500, 501, 502):
        in_kafka = [json.loads(m["value"]) for m in received if m["key"] == str(ind).encode()]
        assert in_kafka == [line["record"] for line in lines if line["record"]["ind"] == ind]


def test_a_line_that_is_not_an_event_is_reported_and_the_rest_is_sent(api, tmp_path):
    settings, _ = api
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "user", "record": {"ind": 1}}\n{broken\n{"type": "user", "record": {"ind": "x"}}\n')
    run = emit(settings, "--file", str(events))
    assert run.returncode == 1
    assert "events.jsonl:2: not JSON" in run.stdout
    assert "ind must be an integer" in run.stdout
    row = next(line for line in run.stdout.splitlines() if line.count("│") >= 6)
    assert [cell.strip() for cell in row.split("│")[1:5]] == ["2", "1", "2", "0"]


def test_a_wrong_key_stops_the_run(kafka_settings, tmp_path):
    settings = api_settings(kafka_settings, tmp_path / "keyed", api_key=SecretStr("right"))
    with running_api(settings):
        run = emit(settings, "--count", "3", "--api-key", "wrong")
        assert run.returncode == 5 and "401" in run.stdout + run.stderr  # refused credentials
        assert emit(settings, "--count", "3").returncode == 0  # the key of the settings
