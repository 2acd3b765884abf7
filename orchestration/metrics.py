"""Airflow's metrics for Prometheus: Airflow sends StatsD (its `[metrics]` settings in
orchestration/airflow_home.py), and Prometheus' StatsD exporter, a service of `pinlake up`,
serves them at http://127.0.0.1:<airflow_metrics_port>/metrics (`airflow_` names: dots become
underscores, timers become summaries, and Airflow's tags, sent InfluxDB-style, become labels).
"""

from __future__ import annotations

import httpx

from pinlake import gotools
from pinlake.settings import Settings
from pinlake.supervisor import Service


def metrics_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.airflow_metrics_port}/metrics"


def command(settings: Settings) -> list[str]:
    """The exporter on loopback: StatsD in over UDP only, /metrics out."""
    return [str(gotools.require("statsd_exporter")),
            f"--statsd.listen-udp=127.0.0.1:{settings.airflow_statsd_port}", "--statsd.listen-tcp=",
            f"--web.listen-address=127.0.0.1:{settings.airflow_metrics_port}", "--log.level=warn"]


def healthy(settings: Settings, timeout: float = 2.0) -> bool:
    """True when /metrics answers 200."""
    try:
        return httpx.get(metrics_url(settings), timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


AIRFLOW_METRICS = Service(
    name="airflow-metrics",
    command=command,
    address=metrics_url,
    healthy=healthy,
    start_timeout=30.0,
    extra=lambda s: {"metrics": metrics_url(s), "statsd": f"udp://127.0.0.1:{s.airflow_statsd_port}"},
)
