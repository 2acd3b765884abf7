"""The exporter of Airflow's metrics as a service: StatsD in (as Airflow's StatsD client sends it),
Prometheus text out. Airflow itself reporting through it is in tests/integration/test_end_to_end.py."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from statsd import StatsClient

from orchestration.metrics import AIRFLOW_METRICS, metrics_url
from pinlake.supervisor import Supervisor, wait_until
from tests.conftest import make_settings, processes_of

pytestmark = pytest.mark.integration


def samples(settings) -> dict[str, float]:
    text = httpx.get(metrics_url(settings), timeout=10).text
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_statsd_from_airflow_s_client_reaches_metrics(tmp_path):
    settings = make_settings(tmp_path / "var")
    supervisor = Supervisor(settings, [AIRFLOW_METRICS])
    try:
        assert supervisor.start(AIRFLOW_METRICS)
        client = StatsClient("127.0.0.1", settings.airflow_statsd_port, prefix="airflow")
        client.incr("scheduler_heartbeat", 3)
        client.gauge("executor.open_slots", 7)
        client.timing("dagrun.duration.success.medallion", 1500)
        assert wait_until(lambda: samples(settings).get("airflow_scheduler_heartbeat_total") == 3, 30)
        seen = samples(settings)
        assert seen["airflow_executor_open_slots"] == 7
        assert seen["airflow_dagrun_duration_success_medallion_count"] == 1
        assert seen["airflow_dagrun_duration_success_medallion_sum"] == 1.5
    finally:
        supervisor.stop(AIRFLOW_METRICS)
    assert not processes_of(settings.data_root)
