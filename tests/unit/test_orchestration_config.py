"""The local Airflow's configuration, its generated password, and the pure helpers of `pinlake run`."""

from __future__ import annotations

import json

import pytest

from orchestration.airflow_home import (
    DAGS_FOLDER,
    admin_password,
    airflow_env,
    api_url,
    passwords_file,
    prepare,
    spark_connection,
)
from orchestration.client import log_lines
from orchestration.dag_defaults import schedule
from orchestration.spark import job_file, launch_conf
from pinlake.settings import Settings
from tests import PROJECT_ROOT

pytestmark = pytest.mark.unit


def test_airflow_lives_under_the_data_root_with_the_configured_ports(tmp_path):
    settings = Settings(data_root=tmp_path, airflow_port=18080, airflow_log_port=18793,
                        airflow_trigger_log_port=18794, airflow_parallelism=3, spark_master="local[2]",
                        airflow_statsd_port=18125)
    env = airflow_env(settings)
    assert (env["AIRFLOW__METRICS__STATSD_ON"], env["AIRFLOW__METRICS__STATSD_HOST"],
            env["AIRFLOW__METRICS__STATSD_PORT"], env["AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED"]) == \
        ("True", "127.0.0.1", "18125", "True")
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_FOLDER)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "3"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert env["AIRFLOW__API__PORT"] == "18080"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "18793"
    assert env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] == "18794"
    assert json.loads(env["AIRFLOW_CONN_PINLAKE_SPARK"]) == {"conn_type": "spark", "host": "local[2]"}
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(passwords_file(settings))


def test_admin_password_is_generated_once_private_and_never_a_default(tmp_path):
    settings = Settings(data_root=tmp_path)
    assert admin_password(settings) is None
    prepare(settings)
    first = admin_password(settings)
    assert first and first != "admin" and len(first) >= 20
    assert oct(passwords_file(settings).stat().st_mode)[-3:] == "600"
    prepare(settings)
    assert admin_password(settings) == first
    assert admin_password(Settings(data_root=tmp_path / "other")) is None
    assert prepare(Settings(data_root=tmp_path / "other")) is None
    assert admin_password(Settings(data_root=tmp_path / "other")) != first


def test_a_configured_password_and_url_win(tmp_path):
    settings = Settings(data_root=tmp_path, airflow_password="s3cret", airflow_url="http://airflow:8080/")
    assert admin_password(settings) == "s3cret"
    assert api_url(settings) == "http://airflow:8080"
    assert api_url(Settings(data_root=tmp_path, airflow_host="0.0.0.0", airflow_port=9)) == "http://127.0.0.1:9"


@pytest.mark.parametrize(("value", "expected"), [("@hourly", "@hourly"), (" none ", None), ("", None),
                                                  ("*/15 * * * *", "*/15 * * * *")])
def test_schedule_setting(value, expected):
    assert schedule(Settings(medallion_schedule=value).medallion_schedule) == expected


def test_spark_connection_and_launch_conf():
    assert json.loads(spark_connection("spark://m:7077")) == {"conn_type": "spark", "host": "spark://m:7077"}
    conf = {"spark.jars": "a.jar,b.jar", "spark.driver.memory": "2g"}
    local = launch_conf(conf, "local[*]")
    assert "spark.jars" not in local and local["spark.driver.memory"] == "2g"
    assert local["spark.driver.bindAddress"] == "127.0.0.1"
    cluster = launch_conf(conf, "spark://m:7077")
    assert "spark.driver.bindAddress" not in cluster and "spark.driver.host" not in cluster
    assert job_file("lakehouse.silver.job") == str(PROJECT_ROOT / "lakehouse" / "silver" / "job.py")


def test_log_lines_of_structured_and_plain_entries():
    entries = [
        {"timestamp": "2026-01-01T00:00:00Z", "level": "error", "event": "Task failed\nTraceback ...",
         "error_detail": [{"exc_type": "ValueError", "exc_value": "bad", "is_cause": False, "frames": []}]},
        "plain line one\nplain line two",
        {"event": "no stamp"},
    ]
    lines = [line for entry in entries for line in log_lines(entry)]
    assert lines == [
        "[2026-01-01T00:00:00Z ERROR] Task failed", "Traceback ...", "ValueError: bad",
        "plain line one", "plain line two", "no stamp",
    ]


def test_a_failed_task_s_exception_is_shown_as_its_type_message_and_place():
    """Airflow logs a task's exception as structlog's dicts, the chain outermost first."""
    import sys

    import structlog

    def fail():
        try:
            raise ConnectionResetError("reset by peer")
        except OSError as exc:
            raise RuntimeError("silver failed on the Spark job server") from exc

    try:
        fail()
    except RuntimeError:
        detail = structlog.tracebacks.ExceptionDictTransformer(use_rich=False, show_locals=False)(sys.exc_info())
    lines = log_lines({"event": "Task failed with exception", "level": "error", "error_detail": detail})
    assert lines[0] == "[ERROR] Task failed with exception"
    assert lines[1] == "RuntimeError: silver failed on the Spark job server"
    assert lines[2].startswith("  at ") and lines[2].endswith(" in fail") and __file__ in lines[2]
    assert lines[3] == "caused by ConnectionResetError: reset by peer"


def test_the_pool_bodies_are_what_airflow_takes_as_a_new_pool_and_as_a_patch():
    """The official client's bodies, as sent, pass the server's own models: a POST's PoolBody, and
    a PATCH, which Airflow validates as a whole pool (a body without include_deferred got a 422)."""
    from airflow.api_fastapi.core_api.datamodels.pools import BasePool, PoolBody, PoolPatchBody

    from orchestration.airflow_home import LAKEHOUSE_POOL
    from orchestration.client import pool_bodies

    new, patch = pool_bodies(LAKEHOUSE_POOL, 1, "one writer")
    assert PoolBody.model_validate(new.to_dict()).pool == LAKEHOUSE_POOL
    sent = patch.to_dict()
    server = PoolPatchBody.model_validate(sent)
    dumped = server.model_dump(include=server.model_fields_set, by_alias=True)
    dumped["pool"] = dumped.pop("name", dumped.get("pool"))
    assert BasePool.model_validate(dumped).slots == 1


def test_answers_keep_fields_that_are_none_and_additional_properties():
    """A task instance not scheduled yet has state None: the answer must still have the key."""
    from airflow_client.client.models.structured_log_message import StructuredLogMessage

    from orchestration.client import plain

    entry = StructuredLogMessage.from_dict({"event": "started", "level": "info"})
    assert plain(entry) == {"event": "started", "timestamp": None, "level": "info"}


def test_only_the_jobs_that_report_lineage_are_given_its_parent_ids():
    """The steps pass `--lineage-parent/--lineage-root` to silver and gold, whose events name their
    Airflow task; maintenance reports no lineage of its own and its arguments refuse them."""
    from datetime import timedelta

    from lakehouse import maintenance
    from orchestration.spark import spark_step

    steps = {module: spark_step(module.rsplit(".", 1)[-1], module, timeout=timedelta(minutes=1))
             for module in ("lakehouse.silver.job", "lakehouse.gold.job", "lakehouse.maintenance")}
    takes = {module: step._lineage_datasets() is not None for module, step in steps.items()}
    assert takes == {"lakehouse.silver.job": True, "lakehouse.gold.job": True, "lakehouse.maintenance": False}
    with pytest.raises(SystemExit):
        maintenance.parse_args(["run-1", "--lineage-parent", "pinlake/maintenance.optimize_vacuum/x"])


class _Answers:
    """The asset-event answers of one run, in order (an exception is raised, a list returned)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = 0

    def asset_events(self, dag_id: str, run_id: str) -> list[dict]:
        self.asked += 1
        answer = self.answers[min(self.asked, len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_500_while_the_triggered_run_is_queued_is_asked_again_and_any_other_error_is_not():
    from orchestration.client import AirflowError
    from orchestration.commands import triggered_run

    created = [{"created_dagruns": [{"dag_id": "publish", "run_id": "asset_triggered__1"},
                                    {"dag_id": "other", "run_id": "x"}]}]
    queued = AirflowError("asset events of r: 500 Internal Server Error", 500)
    answers = _Answers(queued, queued, created)
    assert triggered_run(answers, "medallion", "r", "publish", timeout=10, interval=0) == "asset_triggered__1"
    assert answers.asked == 3

    with pytest.raises(AirflowError, match="500"):  # still 500 at the timeout: Airflow's answer, not "no run"
        triggered_run(_Answers(queued), "medallion", "r", "publish", timeout=0.05, interval=0.01)
    assert triggered_run(_Answers([]), "medallion", "r", "publish", timeout=0.05, interval=0.01) is None
    refused = _Answers(AirflowError("asset events of r: 400 Bad Request", 400), created)
    with pytest.raises(AirflowError, match="400"):
        triggered_run(refused, "medallion", "r", "publish", timeout=10, interval=0)
    assert refused.asked == 1
