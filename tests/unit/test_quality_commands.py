"""`pinlake quality` over a real quality.results Delta table (written with deltalake, no Spark)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lakehouse.tables import table_path
from pinlake.cli import app
from pinlake.settings import Settings, get_settings
from quality.docs import index_path, mount_data_docs
from quality.results import RESULTS, latest_run

pytestmark = pytest.mark.unit

RESULTS_ARROW = pa.schema([
    ("run_id", pa.string()), ("table", pa.string()), ("suite", pa.string()), ("expectation", pa.string()),
    ("severity", pa.string()), ("success", pa.bool_()), ("element_count", pa.int64()),
    ("unexpected_count", pa.int64()), ("observed_value", pa.string()),
    ("validated_at", pa.timestamp("us", tz="UTC")),
])


def _at(minute: int) -> datetime:
    return datetime(2026, 3, 1, 12, minute, tzinfo=timezone.utc)


def _write(settings: Settings, rows: list[tuple]) -> None:
    columns = list(zip(*rows))
    frame = pa.table({f.name: pa.array(col, f.type) for f, col in zip(RESULTS_ARROW, columns)}, schema=RESULTS_ARROW)
    write_deltalake(table_path(RESULTS.name, root=settings.lakehouse), frame, mode="append")


@pytest.fixture()
def settings(tmp_path, monkeypatch) -> Settings:
    """The CLI's settings point at an empty data root."""
    monkeypatch.setenv("PINLAKE_DATA_ROOT", str(tmp_path))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


OLD_RUN = [("run-1", "silver.pins", "silver.pins", "expect_column_values_to_be_unique(unique_id)",
            "critical", False, 4, 2, None, _at(0))]
NEW_RUN = [
    ("run-2", "silver.pins", "silver.pins", "expect_column_values_to_be_unique(unique_id)",
     "critical", True, 3, 0, None, _at(5)),
    ("run-2", "silver.pins", "silver.pins", "expect_column_values_to_not_be_null(category)",
     "warning", False, 3, 1, "unexpected e.g. [null]", _at(5)),
]
FAILED_GOLD = [("run-3", "gold.category_by_country", "gold.category_by_country",
                "not empty when silver is not", "critical", False, 0, None, "0", _at(9))]


def test_latest_run_is_the_run_of_the_latest_validation(settings):
    _write(settings, OLD_RUN + NEW_RUN)
    assert [(o.run_id, o.expectation, o.success) for o in latest_run(settings)] == [
        ("run-2", "expect_column_values_to_be_unique(unique_id)", True),
        ("run-2", "expect_column_values_to_not_be_null(category)", False),
    ]


def test_warnings_only_exit_zero_and_show_the_table_and_docs_path(settings):
    _write(settings, OLD_RUN + NEW_RUN)
    result = CliRunner().invoke(app, ["quality"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "run run-2" in result.output
    assert "expect_column_values_to_not_be_null(category)" in result.output and "warn" in result.output
    assert str(index_path(settings)) in result.output


def test_a_critical_failure_in_the_latest_run_exits_non_zero(settings):
    _write(settings, OLD_RUN + NEW_RUN + FAILED_GOLD)
    result = CliRunner().invoke(app, ["quality", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["run_id"] == "run-3" and report["data_docs"] == str(index_path(settings))
    assert report["results"] == [{
        "table": "gold.category_by_country", "expectation": "not empty when silver is not",
        "severity": "critical", "success": False, "unexpected_count": None, "observed_value": "0",
        "validated_at": "2026-03-01T12:09:00+00:00"}]


def test_no_results_yet_is_said_plainly(settings):
    result = CliRunner().invoke(app, ["quality"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "no validation recorded yet" in result.output and "not built yet" in result.output


def test_data_docs_mount_answers_404_until_the_site_exists(settings):
    api = FastAPI()
    mount_data_docs(api, settings)
    client = TestClient(api)
    assert client.get("/quality/").status_code == 404
    index_path(settings).parent.mkdir(parents=True)
    index_path(settings).write_text("<html><body>suites</body></html>")
    answer = client.get("/quality/")
    assert answer.status_code == 200 and "suites" in answer.text
