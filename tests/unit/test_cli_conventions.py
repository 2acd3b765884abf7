"""One convention over every command: the exit-code table, `--version`, completion, no secret
printed, `status` failing when a service is down, tables readable at 80 columns, age groups in
age order."""

from __future__ import annotations

import io
import json
import re
import socket

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from lakehouse.audit import Gap, TopicAudit
from lakehouse.commands import audit_table
from lakehouse.tables import table_path
from orchestration.airflow_home import passwords_file, prepare
from pinlake.cli import app, services_table
from pinlake.exits import TABLE, Exit
from pinlake.settings import Settings, get_settings
from tests import PROJECT_ROOT
from serving.api import create_router

pytestmark = pytest.mark.unit
TOPICS = ("pinterest.pin", "pinterest.geo", "pinterest.user")


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A data root with nothing running, and every port one that nothing listens on."""
    monkeypatch.setenv("PINLAKE_DATA_ROOT", str(tmp_path))
    for name in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "API_PORT", "SPARK_SERVER_PORT", "AIRFLOW_PORT"):
        monkeypatch.setenv(f"PINLAKE_{name}", str(_closed_port()))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rendered(renderable) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_the_readmes_exit_code_table_is_the_one_the_code_keeps():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### Exit codes", 1)[1]
    rows = re.findall(r"^\| (\d) \| (.+) \|$", section, re.M)
    assert [(int(code), text) for code, text in rows] == [(int(code), text) for code, text in TABLE]
    assert [code for code, _ in TABLE] == list(Exit)


def test_version_and_shell_completion():
    from importlib.metadata import version

    shown = CliRunner().invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.stdout.strip() == f"pinlake {version('pinlake')}"
    completion = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="pinlake")
    assert completion.exit_code == 0 and "_pinlake_completion" in completion.stdout


def test_a_usage_error_exits_2_and_query_has_no_version_option(root):
    assert CliRunner().invoke(app, ["run", "--no-such-option"]).exit_code == Exit.USAGE
    shadowing = CliRunner().invoke(app, ["query", "SELECT 1", "--version", "silver.pins=1"])
    assert shadowing.exit_code == Exit.USAGE and "No such option" in shadowing.output


def test_status_exits_3_naming_what_is_down_and_never_prints_the_password(root):
    prepare(root)  # what `pinlake up` does first: the generated admin password
    password = json.loads(passwords_file(root).read_text())[root.airflow_username]
    for args in (["status"], ["status", "--json"]):
        shown = CliRunner().invoke(app, args)
        assert shown.exit_code == Exit.UNREACHABLE, shown.output
        assert password not in shown.output
    report = json.loads(CliRunner().invoke(app, ["status", "--json"]).stdout)
    assert report["services"]["airflow"]["password_file"] == str(passwords_file(root))
    assert "not healthy: kafka, api, bronze, spark, airflow" in CliRunner().invoke(app, ["status"]).stderr


def test_commands_that_need_a_service_exit_3_when_it_is_not_there(root):
    emitted = CliRunner().invoke(app, ["emit", "--count", "2", "--retries", "0"])
    assert emitted.exit_code == Exit.UNREACHABLE and "could not be reached" in emitted.output
    triggered = CliRunner().invoke(app, ["run"])
    assert triggered.exit_code == Exit.UNREACHABLE and "not reachable" in triggered.output


def test_the_audit_table_keeps_topics_and_counts_whole_at_80_columns():
    reports = [TopicAudit(topic, 3_333_333, 3_333_333, 3_333_333, 3_186_562, 146_771, 0) for topic in TOPICS]
    reports[1].gaps.append(Gap("bronze -> silver", "one row missing", 1))
    text = _rendered(audit_table(reports, "/home/someone/projects/pinlake/var/lakehouse", with_ledger=True))
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    for topic in TOPICS:
        assert topic in text
    for stage, count in (("acknowledged", "3,333,333"), ("accepted", "3,186,562"), ("quarantined", "146,771")):
        assert re.search(rf"{stage} +│ +{count} +│ +{count} +│ +{count}", text), text
    assert re.search(r"result +│ +clean +│ +1 gap\(s\) +│ +clean", text), text


def test_the_services_table_keeps_names_and_states_whole_at_80_columns():
    log = "/home/someone/projects/pinlake/var/logs/{}.log"
    report = {name: {"running": True, "healthy": name != "bronze", "pid": 1234567, "address": "127.0.0.1:65535",
                     "log": log.format(name)} for name in ("kafka", "api", "bronze", "spark", "airflow")}
    text = _rendered(services_table(report))
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    for name in report:
        assert re.search(rf"│ {name} +│ {'unhealthy' if name == 'bronze' else 'healthy'} +│ 1234567 +│", text), text


def test_age_groups_are_served_in_age_order(tmp_path):
    settings = Settings(_env_file=None, data_root=tmp_path, lakehouse_root=str(tmp_path / "lake"))
    ages = ["50+", "18-24", "under 18", "36-50", "25-35"]
    write_deltalake(table_path("gold.median_followers_by_age_group", settings.lakehouse),
                    pa.table({"age_group": ages, "median_follower_count": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    router = FastAPI()
    router.include_router(create_router(settings))
    rows = TestClient(router).get("/gold/median_followers_by_age_group").json()["rows"]
    assert [row["age_group"] for row in rows] == ["under 18", "18-24", "25-35", "36-50", "50+"]
