"""DuckDB over Delta: current snapshots, time travel, and a query path that cannot escape."""

import time
from datetime import datetime, timezone

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakehouse.tables import table_path
from serving.engine import Lakehouse, QueryRejected, Snapshot, check_read_only
from tests.serving_data import GOLD_ROWS, write_gold

pytestmark = pytest.mark.unit


@pytest.fixture
def root(tmp_path):
    write_gold(str(tmp_path))
    return str(tmp_path)


def test_every_gold_table_reads_under_its_contract_name(root):
    lakehouse = Lakehouse(root)
    for name, rows in GOLD_ROWS.items():
        assert lakehouse.query(f"SELECT * FROM {name}").to_pylist() == rows.to_pylist()


def test_overwrite_is_seen_and_earlier_versions_stay_reachable(root):
    path = table_path("gold.category_by_country", root)
    newer = pa.table({"country": ["Chile"], "category": ["art"], "category_count": pa.array([9], pa.int64())})
    before = datetime.now(timezone.utc)
    time.sleep(0.01)  # commit timestamps have millisecond resolution; keep `before` strictly earlier
    write_deltalake(path, newer, mode="overwrite")

    sql = "SELECT * FROM gold.category_by_country ORDER BY country"
    assert Lakehouse(root).query(sql).to_pylist() == newer.to_pylist()
    first = GOLD_ROWS["gold.category_by_country"].to_pylist()
    by_version = Snapshot(versions={"gold.category_by_country": 0})
    assert Lakehouse(root, by_version).query(sql).to_pylist() == first
    by_time = Snapshot(timestamps={"gold.category_by_country": before.isoformat()})
    assert Lakehouse(root, by_time).query(sql).to_pylist() == first


def test_time_travel_outside_the_history_is_refused(root):
    with pytest.raises(QueryRejected, match="no version 5"):
        Lakehouse(root, Snapshot(versions={"gold.category_by_country": 5})).query(
            "SELECT * FROM gold.category_by_country")
    with pytest.raises(QueryRejected, match="did not exist at 2001"):
        Lakehouse(root, Snapshot(all_as_of="2001-01-01T00:00:00Z")).query(
            "SELECT * FROM gold.category_by_country")


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM read_csv('/etc/passwd')", "not allowed"),
    ("SELECT * FROM read_text('/etc/hostname')", "not allowed"),
    ("COPY (SELECT 1) TO '/tmp/pinlake-escape.csv'", "COPY statement"),
    ("COPY gold.category_by_country TO 'out.parquet'", "COPY statement"),
    ("CREATE TABLE t AS SELECT 1", "CREATE statement"),
    ("SET enable_external_access = true", "SET statement"),
    ("ATTACH '/tmp/other.duckdb'", "ATTACH statement"),
    ("INSTALL httpfs", "LOAD statement"),  # DuckDB parses INSTALL as a LOAD statement
    ("SELECT 1; DROP VIEW gold.category_by_country", "DROP statement"),
])
def test_forbidden_queries_fail_with_a_clear_message(root, sql, message):
    with pytest.raises(QueryRejected, match=message):
        Lakehouse(root).query(sql)


def test_queries_run_with_file_access_off_and_settings_locked(root):
    settings = Lakehouse(root).query(
        "SELECT current_setting('enable_external_access') AS external, "
        "current_setting('lock_configuration') AS locked").to_pylist()
    assert settings == [{"external": False, "locked": True}]


def test_unknown_and_unpublished_tables_are_named(root):
    with pytest.raises(QueryRejected, match="silver.pins.*Tables available: gold.category_by_country"):
        Lakehouse(root).query("SELECT * FROM silver.pins")


def test_check_read_only_accepts_selects_and_ctes():
    check_read_only("WITH a AS (SELECT 1 AS x) SELECT * FROM a; EXPLAIN SELECT 1")
    with pytest.raises(QueryRejected, match="empty"):
        check_read_only("  ")
