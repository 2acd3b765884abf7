"""`pinlake query` prints tables, CSV and JSON, and explains what it refuses."""

import json

import pytest
from typer.testing import CliRunner

from pinlake.cli import app
from pinlake.settings import get_settings
from tests.serving_data import GOLD_ROWS, write_gold

pytestmark = pytest.mark.unit
SQL = "SELECT * FROM gold.category_by_country ORDER BY country"


@pytest.fixture
def lake(tmp_path, monkeypatch):
    monkeypatch.setenv("PINLAKE_DATA_ROOT", str(tmp_path))
    get_settings.cache_clear()
    write_gold(get_settings().lakehouse)
    yield
    get_settings.cache_clear()


def test_json_is_an_array_of_objects(lake):
    result = CliRunner().invoke(app, ["query", SQL, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == GOLD_ROWS["gold.category_by_country"].to_pylist()


def test_csv_has_a_header_and_every_row(lake):
    result = CliRunner().invoke(app, ["query", SQL, "-f", "csv"])
    assert result.stdout.splitlines() == ["country,category,category_count", "Albania,art,5",
                                          "Chile,travel,3", "Peru,food,2"]


def test_table_format_shows_the_values(lake):
    result = CliRunner().invoke(app, ["query", SQL])
    assert result.exit_code == 0
    for value in ("Albania", "travel", "category_count"):
        assert value in result.stdout


def test_refusals_exit_1_with_the_reason(lake):
    result = CliRunner().invoke(app, ["query", "SELECT * FROM read_csv('/etc/passwd')"])
    assert result.exit_code == 1
    assert "not allowed" in result.stderr


def test_time_travel_option_is_validated(lake):
    result = CliRunner().invoke(app, ["query", SQL, "--table-version", "gold.category_by_country"])
    assert result.exit_code == 2 and "TABLE=VALUE" in result.output
    result = CliRunner().invoke(app, ["query", SQL, "--table-version", "gold.category_by_country=0", "-f", "csv"])
    assert result.exit_code == 0 and "Albania,art,5" in result.stdout
