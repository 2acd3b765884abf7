"""The DAG files import cleanly and keep the rules every pinlake DAG follows; no service needed.

The DagBag is loaded in a child process with a temporary AIRFLOW_HOME, so this test neither
writes to ~/airflow nor leaves Airflow's configuration initialised in the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lakehouse import catalog
from lakehouse.tables import table_path
from orchestration.airflow_home import DAGS_FOLDER, LAKEHOUSE_POOL
from orchestration.service import DAG_IDS
from orchestration.spark import job_file

pytestmark = pytest.mark.unit

PROBE = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dags": {
        dag_id: {
            "tags": sorted(dag.tags), "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
            "schedule": dag.schedule if dag.schedule is None or isinstance(dag.schedule, str)
                        else [asset.name for asset in dag.schedule],
            "doc_md": dag.doc_md or "", "params": dict(dag.params),
            "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
            "tasks": {t.task_id: {
                "retries": t.retries, "pool": t.pool, "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule),
                "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "application": getattr(t, "application", None),
                "args": getattr(t, "application_args", None),
                "conn_id": getattr(t, "_conn_id", None),
                "outlets": [(outlet.name, outlet.uri) for outlet in t.outlets],
            } for t in dag.tasks},
        } for dag_id, dag in bag.dags.items()
    },
}))
"""


def load_dags(tmp_path, python: str = sys.executable, folder=DAGS_FOLDER, **settings_env: str) -> dict:
    """The DagBag's view of the DAG folder, parsed by `python` with the given PINLAKE_* variables."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__UNIT_TEST_MODE": "True", **settings_env}
    done = subprocess.run([python, "-c", PROBE, str(folder)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


LAKEHOUSE = "/srv/pinlake/lakehouse"


@pytest.fixture(scope="module")
def bag(tmp_path_factory) -> dict:
    return load_dags(tmp_path_factory.mktemp("dagbag"), PINLAKE_LAKEHOUSE_ROOT=LAKEHOUSE)


def test_no_import_errors_and_every_dag(bag):
    assert bag["import_errors"] == {}
    assert set(bag["dags"]) == set(DAG_IDS) == {"medallion", "publish", "maintenance"}


def test_every_dag_is_tagged_documented_and_never_catches_up(bag):
    for dag_id, dag in bag["dags"].items():
        assert "pinlake" in dag["tags"], dag_id
        assert dag["catchup"] is False, dag_id
        assert dag["max_active_runs"] == 1, dag_id
        assert dag["doc_md"].strip(), dag_id


def test_every_task_has_retries_and_a_timeout(bag):
    for dag_id, dag in bag["dags"].items():
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, (dag_id, task_id)
            assert task["timeout"] and task["timeout"] > 0, (dag_id, task_id)


def test_medallion_is_silver_then_gold_with_spark_jobs(bag):
    dag = bag["dags"]["medallion"]
    assert dag["upstream"] == {"silver": [], "gold": ["silver"]}
    for step, module in (("silver", "lakehouse.silver.job"), ("gold", "lakehouse.gold.job")):
        task = dag["tasks"][step]
        assert task["application"] == job_file(module)
        assert os.path.isfile(task["application"])
        assert task["args"] == ["{{ run_id }}"] + (
            ["{{ '--full-refresh' if params.full_refresh else '' }}"] if step == "silver" else [])
        assert task["conn_id"] == "pinlake_spark"
        assert task["pool"] == LAKEHOUSE_POOL
    assert dag["schedule"] == "@hourly"
    assert dag["params"] == {"full_refresh": False}
    # a skipped (up to date) silver step still lets gold look
    assert {t: dag["tasks"][t]["trigger_rule"] for t in ("silver", "gold")} == \
        {"silver": "all_success", "gold": "none_failed"}


def test_silver_and_gold_steps_declare_their_tables_as_assets_and_publish_follows_gold(bag):
    tasks = bag["dags"]["medallion"]["tasks"]
    for layer in ("silver", "gold"):
        names = [spec.name for spec in catalog.layer(layer)]
        assert [name for name, _ in tasks[layer]["outlets"]] == names
        for name, uri in tasks[layer]["outlets"]:
            assert uri == "file://" + table_path(name, LAKEHOUSE)
    publish = bag["dags"]["publish"]
    assert publish["schedule"] == [spec.name for spec in catalog.layer("gold")]
    assert set(publish["tasks"]) == {"publish"} and publish["tasks"]["publish"]["outlets"] == []


def test_maintenance_shares_the_lakehouse_pool(bag):
    dag = bag["dags"]["maintenance"]
    task = dag["tasks"]["optimize_vacuum"]
    assert task["pool"] == LAKEHOUSE_POOL
    assert task["application"] == job_file("lakehouse.maintenance")
    assert task["args"] == ["{{ run_id }}", "--retention-hours", "168"]
    assert dag["schedule"] == "0 3 * * *"


def test_schedules_and_retention_come_from_settings(tmp_path):
    bag = load_dags(tmp_path, PINLAKE_MEDALLION_SCHEDULE="none", PINLAKE_MAINTENANCE_SCHEDULE="@daily",
                    PINLAKE_VACUUM_RETENTION_HOURS="240")
    assert bag["import_errors"] == {}
    assert bag["dags"]["medallion"]["schedule"] is None
    assert bag["dags"]["maintenance"]["schedule"] == "@daily"
    assert bag["dags"]["maintenance"]["tasks"]["optimize_vacuum"]["args"][-1] == "240"
