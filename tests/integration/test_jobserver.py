"""The Spark job server (`lakehouse/jobserver.py`) as `pinlake up` starts it: the silver and gold
jobs run in its warm session and publish the oracle's gold, one job at a time (a second one
meanwhile is a 409, which a step's submit waits out); a wrong request is a 400 naming the field;
a failed job is an answer with its error, and the server goes on."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from ingest.emulator import generate
from lakehouse import jobserver
from pinlake.supervisor import Supervisor, wait_until
from tests.bronze_rows import append_bronze, from_events
from tests.conftest import make_settings, processes_of
from tests.integration.compare import assert_gold, assert_oracle_agrees, gold_of_events, published_gold

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The job server alone, on a data root of its own; yields (settings, url)."""
    settings = make_settings(tmp_path_factory.mktemp("jobserver") / "var", spark_master="local[2]",
                             spark_driver_memory="1g", spark_shuffle_partitions=2)
    supervisor = Supervisor(settings, [jobserver.SPARK_SERVER])
    try:
        supervisor.up()
        yield settings, settings.spark_server
    finally:
        supervisor.down()
    assert processes_of(settings.data_root) == [], "a process outlived the job server"


def test_silver_and_gold_on_the_server_publish_the_oracles_gold_one_job_at_a_time(server, spark):
    settings, url = server
    events = list(generate(60, seed=21))
    append_bronze(spark, settings.lakehouse, from_events(events, datetime(2024, 5, 1, 8, 0)))
    answers: list = []
    silver = threading.Thread(target=lambda: answers.append(
        jobserver.submit(url, "lakehouse.silver.job", ["it-silver"], timeout=900)))
    silver.start()
    try:
        # While silver runs, the server refuses a second job.
        assert wait_until(lambda: jobserver.call(url, "/health", None, 10)[1]["running"] or not silver.is_alive(),
                          300, 0.05)
        status, body = jobserver.call(url, "/jobs", {"module": "lakehouse.gold.job", "args": ["it-early"]}, 30)
        assert silver.is_alive(), "silver ended before the second job was sent; nothing was tested"
        assert status == 409 and "busy: lakehouse.silver.job is running" in body["error"], (status, body)
        # A step's submit (a retried task whose earlier try's job still runs) waits for it, then runs.
        busy: list[str] = []
        gold = jobserver.submit(url, "lakehouse.gold.job", ["it-gold"], timeout=900, on_busy=busy.append)
        assert busy == ["busy: lakehouse.silver.job is running"], busy
    finally:
        silver.join(900)
    assert answers and "'topic': 'pinterest.pin'" in answers[0], answers
    print(f"gold on the server:\n{gold}")
    assert_gold(published_gold(settings.lakehouse), gold_of_events(events))
    assert_oracle_agrees(settings.lakehouse)
    # The same run again finds nothing new, in the same warm session.
    assert "silver is up to date" in jobserver.submit(url, "lakehouse.silver.job", ["it-again"], timeout=900)


def test_a_request_naming_no_job_of_the_server_is_a_400_naming_the_field(server):
    _, url = server
    status, body = jobserver.call(url, "/jobs", {"module": "os", "args": []}, timeout=30)
    assert status == 400 and body["error"].startswith("module: 'os' is not a job of this server"), body
    status, body = jobserver.call(url, "/jobs", {"module": "lakehouse.gold.job", "args": [1]}, timeout=30)
    assert status == 400 and body["error"].startswith("args:"), body


def test_a_failed_job_is_an_answer_with_its_error_and_the_server_goes_on(server):
    _, url = server
    with pytest.raises(jobserver.JobFailed, match="VACUUM keeps at least 168 hours") as failed:
        jobserver.submit(url, "lakehouse.maintenance", ["it-bad", "--retention-hours", "1"], timeout=300)
    assert "Traceback" in failed.value.output
    assert jobserver.answers(url)
