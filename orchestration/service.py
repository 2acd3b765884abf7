"""Airflow as a local service of `pinlake up`: `airflow standalone` under the supervisor.

The supervisor starts `python -m orchestration.service`, which sets the local configuration
(orchestration/airflow_home.py) and replaces itself with `airflow standalone` (same pid, its
own process group). Standalone does not stop its children on SIGTERM, so the service stops
with SIGINT sent to standalone alone: it then stops each component with SIGTERM and waits for
it. A SIGINT to the whole group would reach the components beside standalone's own SIGTERM,
and they do not exit (the supervisor SIGKILLed them after its timeout). The supervisor
SIGKILLs the group if anything is left.
"""

from __future__ import annotations

import os
import signal
import sys

from orchestration import airflow_home
from orchestration.airflow_home import LAKEHOUSE_POOL, api_url, passwords_file
from pinlake.settings import Settings, get_settings
from pinlake.supervisor import Service, ServiceFailed, wait_until

DAG_IDS = ("medallion", "publish", "maintenance")
COMPONENTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


def command(settings: Settings) -> list[str]:
    """This module's launcher, run by this interpreter."""
    return [sys.executable, "-m", "orchestration.service"]


def healthy(settings: Settings, timeout: float = 3.0) -> bool:
    """True when the API server answers and reports every component healthy."""
    import httpx

    try:
        report = httpx.get(f"{api_url(settings)}/api/v2/monitor/health", timeout=timeout).json()
    except (httpx.HTTPError, ValueError):
        return False
    return all((report.get(name) or {}).get("status") == "healthy" for name in COMPONENTS)


def after_start(settings: Settings, timeout: float = 240.0) -> None:
    """Wait until pinlake's DAGs are parsed, create the lakehouse pool, unpause the DAGs."""
    from orchestration.client import AirflowClient, AirflowUnreachable

    def parsed_or_failed() -> bool:
        try:
            return all(client.dag(d) for d in DAG_IDS) or bool(client.import_errors())
        except AirflowUnreachable:  # the API server is busy while the DAG processor starts
            return False

    with AirflowClient.from_settings(settings) as client:
        client.ensure_pool(LAKEHOUSE_POOL, 1, "pinlake: one table-writing task at a time (medallion, maintenance)")
        if not wait_until(parsed_or_failed, timeout, 2.0):
            raise ServiceFailed(f"Airflow did not register the DAGs {DAG_IDS} within {timeout:.0f}s")
        errors = client.import_errors()
        if errors:
            raise ServiceFailed("DAG import errors: " + "; ".join(
                f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors))
        for dag_id in DAG_IDS:
            client.set_paused(dag_id, False)


def extra(settings: Settings) -> dict:
    """What `pinlake status` shows: the UI, the user and where the generated password is (not the password)."""
    return {"url": api_url(settings), "username": settings.airflow_username,
            "password_file": str(passwords_file(settings))}


AIRFLOW = Service(
    name="airflow",
    command=command,
    address=api_url,
    healthy=healthy,
    prepare=airflow_home.prepare,
    after_start=after_start,
    stop_signal=signal.SIGINT,
    signal_group=False,
    # The first start creates the metadata database: minutes on a busy two-core machine.
    start_timeout=420.0,
    extra=extra,
)


def main() -> None:
    """Become `airflow standalone` with the local configuration."""
    settings = get_settings()
    airflow_home.prepare(settings)
    env = {**os.environ, **settings.child_env(), **airflow_home.airflow_env(settings)}
    airflow = str(airflow_home.bin_dir() / "airflow")
    os.execve(airflow, [airflow, "standalone"], env)


if __name__ == "__main__":
    main()
