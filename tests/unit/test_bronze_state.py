"""Bronze's pure helpers: start offsets, progress merging, health from the heartbeat, status."""

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from lakehouse.bronze.job import explain, starting_offsets, stream_master
from lakehouse.bronze.state import heartbeat_file, merge_offsets, offsets_file, write_json
from lakehouse.bronze.status import bronze_status, healthy, stale_after, stalled_after, status_table
from pinlake.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.unit

PARTS = {"pinterest.pin": [0, 1], "pinterest.geo": [0, 1], "pinterest.user": [0]}


def test_a_new_checkpoint_over_empty_bronze_starts_at_kafkas_earliest():
    assert starting_offsets({}, PARTS) == "earliest"
    assert starting_offsets({"pinterest.pin": {}}, PARTS) == "earliest"


def test_a_new_checkpoint_over_existing_bronze_resumes_after_what_it_holds():
    held = {"pinterest.pin": {"0": 10, "1": 3}, "pinterest.geo": {"1": 7}}
    assert json.loads(starting_offsets(held, PARTS)) == {
        "pinterest.pin": {"0": 10, "1": 3},
        "pinterest.geo": {"0": -2, "1": 7},  # -2: Kafka's earliest, for a partition bronze never saw
        "pinterest.user": {"0": -2},
    }


def test_merge_offsets_keeps_the_larger_next_offset():
    held = {"pinterest.pin": {"0": 10, "1": 3}}
    batch = {"pinterest.pin": {"0": 8, "1": 5}, "pinterest.geo": {"2": 1}}
    assert merge_offsets(held, batch) == {"pinterest.pin": {"0": 10, "1": 5}, "pinterest.geo": {"2": 1}}
    assert held == {"pinterest.pin": {"0": 10, "1": 3}}  # not mutated


def test_explain_names_the_remedy_for_kafka_data_loss():
    spark_says = ("Partition pinterest.user-1's offset was changed from 10 to 15, Some data may have been lost "
                  "because they are not available in Kafka any more")
    text = explain(RuntimeError(spark_says))
    assert "PINLAKE_BRONZE_FAIL_ON_DATA_LOSS=false" in text and spark_says in text
    assert explain(RuntimeError("boom")) == "boom"


def _settings(tmp_path, **kw) -> Settings:
    return Settings(data_root=tmp_path, kafka_port=free_port(), **kw)


def _beat(settings, pid, age_s=0.0, ready=True, active=True, progress_age_s=0.0):
    now = datetime.now(timezone.utc)
    write_json(heartbeat_file(settings), {
        "pid": pid, "beat_at": (now - timedelta(seconds=age_s)).isoformat(), "ready": ready, "active": active,
        "progress_at": (now - timedelta(seconds=progress_age_s)).isoformat()})


def test_healthy_needs_a_fresh_heartbeat_of_a_live_ready_driver(tmp_path):
    settings = _settings(tmp_path, bronze_trigger_seconds=20)
    assert stale_after(settings) == 60
    assert not healthy(settings)  # no heartbeat yet
    _beat(settings, os.getpid())
    assert healthy(settings)
    _beat(settings, os.getpid(), ready=False)
    assert not healthy(settings)  # still in its first trigger
    _beat(settings, os.getpid(), active=False)
    assert not healthy(settings)
    _beat(settings, os.getpid(), age_s=61)
    assert not healthy(settings)  # stale: the driver stopped beating
    assert stalled_after(settings) == 400
    _beat(settings, os.getpid(), progress_age_s=399)
    assert healthy(settings)
    _beat(settings, os.getpid(), progress_age_s=401)
    assert not healthy(settings)  # beating, but stuck in one trigger for too long
    dead = subprocess.Popen(["true"])
    dead.wait()
    _beat(settings, dead.pid)
    assert not healthy(settings)  # fresh file, dead driver


def test_status_reads_the_offsets_file_and_says_unknown_lag_without_kafka(tmp_path):
    settings = _settings(tmp_path)  # nothing listens on its Kafka port
    write_json(offsets_file(settings), {
        "offsets": {"pinterest.pin": {"0": 4, "1": 6}}, "batch_id": 12,
        "batch_at": "2026-11-25T22:18:46.681+00:00", "last_rows_at": {"pinterest.pin": "2026-11-25T22:18:46.681+00:00"},
    })
    report = bronze_status(settings)
    assert report["last_batch_id"] == 12 and report["last_batch_at"] == "2026-11-25T22:18:46.681+00:00"
    assert report["topics"]["pinterest.pin"] == {
        "table": "bronze.pin_events", "kafka_end": None, "bronze_end": 10, "lag": None,
        "last_rows_at": "2026-11-25T22:18:46.681+00:00"}
    assert report["topics"]["pinterest.geo"]["bronze_end"] == 0 and not report["healthy"]

    table = status_table(report)
    assert table.title == "bronze stream: last micro-batch 2026-11-25 22:18:46 UTC (batch 12)"
    assert [c.header for c in table.columns] == ["topic", "table", "kafka end", "bronze end", "lag", "last rows at"]
    assert list(table.columns[4].cells) == ["?", "?", "?"]


def test_batch_mark_reads_bronze_marks_and_nothing_else():
    from lakehouse.bronze.writer import batch_mark

    assert batch_mark('{"app": "pinlake-bronze-q", "batch": 12}') == ("pinlake-bronze-q", 12)
    for other in (None, "", "gold inputs", '{"silver.pins": 3}', '["app", 1]', '{"app": "a", "batch": "x"}'):
        assert batch_mark(other) is None, other


@pytest.mark.parametrize("master, expected", [
    ("local[*]", "local[4]"), ("local[2]", "local[4]"), ("local[1]", "local[2]"),
    ("local", "local"), ("spark://127.0.0.1:7077", "spark://127.0.0.1:7077"), ("local[2,3]", "local[2,3]"),
])
def test_the_stream_runs_two_task_threads_per_core_on_a_local_master(master, expected):
    assert stream_master(master, cores=2) == expected
