"""The bronze stream as a supervised service: healthy, caught up, shown by `pinlake status`."""

import json
import subprocess
from datetime import datetime

import pytest

from lakehouse.bronze.metrics import metrics_url
from lakehouse.bronze.service import BRONZE
from lakehouse.bronze.status import bronze_status, healthy
from pinlake.supervisor import Supervisor, wait_until
from tests.integration.bronze_helpers import PINLAKE, env_of, fresh_stack, produce
from tests.prometheus import scrape, value

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


def _lags(settings) -> dict:
    return {topic: entry["lag"] for topic, entry in bronze_status(settings)["topics"].items()}


def test_service_catches_up_and_status_shows_lag_and_last_batch(tmp_path):
    with fresh_stack(tmp_path / "var", bronze_trigger_seconds=1.0) as settings:
        supervisor = Supervisor(settings, [BRONZE])
        try:
            assert supervisor.start(BRONZE)  # returns once healthy: driver alive, query past its first trigger
            assert healthy(settings)
            messages = [(topic, None, str(i).encode(), f'{{"ind": {i}}}'.encode(), [("event_id", f"e{i}".encode())], 0)
                        for i in range(60) for topic in ("pinterest.pin", "pinterest.geo", "pinterest.user")]
            produce(settings, messages)
            assert wait_until(lambda: _lags(settings) == {"pinterest.pin": 0, "pinterest.geo": 0,
                                                          "pinterest.user": 0}, 600, interval=1)
            report = bronze_status(settings)
            assert {t: e["kafka_end"] for t, e in report["topics"].items()} == \
                {"pinterest.pin": 60, "pinterest.geo": 60, "pinterest.user": 60}
            assert report["last_batch_at"] and report["healthy"]

            # The driver's /metrics: lag per partition, each micro-batch's rows and time, the last commit.
            url = metrics_url(settings)
            assert wait_until(lambda: value(scrape(url), "pinlake_bronze_batch_rows_sum") == 180, 60, interval=1)
            metrics = scrape(url)
            lags = {(s.labels["topic"], s.labels["partition"]): s.value
                    for s in metrics if s.name == "pinlake_bronze_lag_messages"}
            assert lags == {(topic, str(p)): 0 for topic in ("pinterest.pin", "pinterest.geo", "pinterest.user")
                            for p in range(settings.kafka_partitions)}, metrics
            assert value(metrics, "pinlake_bronze_batch_seconds_count") >= 1
            assert value(metrics, "pinlake_bronze_kafka_reachable") == 1
            committed = datetime.fromisoformat(report["last_batch_at"]).timestamp()
            assert value(metrics, "pinlake_bronze_last_commit_timestamp_seconds") >= committed

            shown = subprocess.run([*PINLAKE, "status", "--json"], env=env_of(settings), capture_output=True,
                                   text=True, timeout=120)
            status = json.loads(shown.stdout)
            assert status["bronze"]["topics"]["pinterest.user"] == {**report["topics"]["pinterest.user"]}
            table = subprocess.run([*PINLAKE, "status"], env=env_of(settings), capture_output=True, text=True,
                                   timeout=120)
            assert "bronze stream: last micro-batch" in table.stdout and "pinterest.geo" in table.stdout
        finally:
            supervisor.stop(BRONZE)
        assert not healthy(settings)
        assert "bronze: SIGTERM" in supervisor.log_file("bronze").read_text()  # a clean stop, not a crash
