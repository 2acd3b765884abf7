"""`pinlake up` starts Airflow with pinlake's DAGs; `pinlake run --wait` runs medallion; `down` leaves nothing.

The whole local stack comes up as a user brings it up (Kafka, API, bronze stream, Airflow
standalone), on free ports under a temporary data root, with manual schedules so that no
scheduled run competes with the triggered one on two cores. Events go in through the API,
the bronze stream lands them, and the triggered run promotes them to gold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from lakehouse.tables import table_path
from orchestration.client import AirflowClient
from pinlake.supervisor import wait_until
from tests.conftest import processes_of
from tests.integration.test_orchestration_medallion import airflow_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(5400)]
PINLAKE = [sys.executable, "-m", "pinlake.cli"]
POSTINGS = 10


def delta_rows(path: str) -> int:
    """Rows in the current snapshot of a Delta table (0 when it does not exist yet)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(path).to_pyarrow_dataset().count_rows()
    except TableNotFoundError:
        return 0


def pinlake(args: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    """Run a `pinlake` command as a user would; print how long it took."""
    started = time.monotonic()
    done = subprocess.run(PINLAKE + args, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"pinlake {' '.join(args)}: {time.monotonic() - started:.0f}s, exit {done.returncode}")
    return done


def airflow_processes(data_root) -> list:
    """Live processes of this data root that are Airflow's (standalone, its components, tasks)."""
    found = []
    for proc in processes_of(data_root):
        try:
            if "AIRFLOW_HOME" in proc.environ():
                found.append(proc)
        except Exception:  # noqa: BLE001 - a process that just ended is not left over
            continue
    return found


def test_up_run_wait_down(tmp_path):
    settings = airflow_settings(tmp_path / "var")
    env = {**os.environ, **settings.child_env()}
    try:
        up = pinlake(["up"], env, timeout=1200)
        assert up.returncode == 0, up.stdout + up.stderr

        report = json.loads(pinlake(["status", "--json"], env, timeout=120).stdout)["services"]["airflow"]
        assert report["running"] and report["healthy"], report
        password = report["password"]
        assert password and password != "admin" and len(password) >= 20
        assert oct((settings.data_root / "airflow" / "passwords.json").stat().st_mode)[-3:] == "600"
        with AirflowClient.from_settings(settings) as client:
            for dag_id in ("medallion", "maintenance"):
                assert client.dag(dag_id)["is_paused"] is False, dag_id
            assert client.import_errors() == []

        sent = pinlake(["emit", "--count", str(POSTINGS), "--seed", "3"], env, timeout=300)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        bronze = table_path("bronze.pin_events", settings.lakehouse)
        assert wait_until(lambda: delta_rows(bronze) >= POSTINGS, timeout=600, interval=2.0), "bronze never landed"

        run = pinlake(["run", "--wait", "--timeout", "3300"], env, timeout=3400)
        assert run.returncode == 0, run.stdout + run.stderr
        for task in ("silver", "gold", "publish"):
            assert f"{task}: success" in run.stdout, run.stdout
        assert "succeeded" in run.stdout
        for table in ("silver.pins", "gold.category_by_country", "gold.users_joined_by_year"):
            assert delta_rows(table_path(table, settings.lakehouse)) > 0, table
    finally:
        down = pinlake(["down"], env, timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    assert airflow_processes(settings.data_root) == []
    assert processes_of(settings.data_root) == []
