"""The exporter of Airflow's metrics as a service: StatsD in (as Airflow's StatsD client sends it),
Prometheus text out. Airflow itself reporting through it is in tests/integration/test_end_to_end.py."""

from __future__ import annotations

import pytest
from statsd import StatsClient

from orchestration.metrics import AIRFLOW_METRICS, metrics_url
from pinlake.supervisor import Supervisor, wait_until
from tests.conftest import make_settings, processes_of
from tests.prometheus import scrape

pytestmark = pytest.mark.integration


def samples(settings) -> dict[str, float]:
    return {s.name: s.value for s in scrape(metrics_url(settings))}


def test_statsd_from_airflow_s_client_reaches_metrics(tmp_path):
    settings = make_settings(tmp_path / "var")
    supervisor = Supervisor(settings, [AIRFLOW_METRICS])
    try:
        assert supervisor.start(AIRFLOW_METRICS)
        client = StatsClient("127.0.0.1", settings.airflow_statsd_port, prefix="airflow")
        client.incr("scheduler_heartbeat", 3)
        client.gauge("executor.open_slots", 7)
        client.timing("dagrun.duration.success.medallion", 1500)
        client.incr("ti.finish,dag_id=medallion,task_id=gold,state=success")  # Airflow's InfluxDB-style tags
        assert wait_until(lambda: samples(settings).get("airflow_scheduler_heartbeat_total") == 3, 30)
        seen = samples(settings)
        assert seen["airflow_executor_open_slots"] == 7
        assert seen["airflow_dagrun_duration_success_medallion_count"] == 1
        assert seen["airflow_dagrun_duration_success_medallion_sum"] == 1.5
        finished = [s for s in scrape(metrics_url(settings)) if s.name == "airflow_ti_finish_total"]
        assert [(s.labels, s.value) for s in finished] == [
            ({"dag_id": "medallion", "task_id": "gold", "state": "success"}, 1)]
    finally:
        supervisor.stop(AIRFLOW_METRICS)
    assert not processes_of(settings.data_root)
