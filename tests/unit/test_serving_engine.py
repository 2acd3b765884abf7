"""DuckDB over Delta: current snapshots, time travel, and a query path that cannot escape."""

import time
from datetime import datetime, timezone

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakehouse.tables import table_path
from serving.engine import Lakehouse, QueryRejected, Snapshot, parse
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
    with pytest.raises(QueryRejected, match="silver.pins.*Tables available: .*gold.category_by_country"):
        Lakehouse(root).query("SELECT * FROM silver.pins")


def test_parse_names_the_tables_of_selects_ctes_and_subqueries():
    sql = ("WITH a AS (SELECT * FROM gold.category_by_year) SELECT * FROM a JOIN silver.pins p USING (ind) "
           "WHERE ind IN (SELECT ind FROM Silver.Geo)")
    assert parse(sql) == {"gold.category_by_year", "silver.pins", "silver.geo"}
    with pytest.raises(QueryRejected, match="empty"):
        parse("  ")
    with pytest.raises(QueryRejected, match="syntax error"):
        parse("SELEC 1")


@pytest.mark.parametrize("materialize_bytes", [64 * 1024 * 1024, 0], ids=["in-memory", "lazy"])
def test_a_long_lived_engine_sees_every_new_commit(root, materialize_bytes, monkeypatch):
    lakehouse = Lakehouse(root, materialize_bytes=materialize_bytes)
    loads = []
    real_load = Snapshot.load
    monkeypatch.setattr(Snapshot, "load", lambda self, name, path: loads.append(name) or real_load(self, name, path))
    sql = "SELECT country, category_count FROM gold.category_by_country ORDER BY country, category_count"
    assert lakehouse.query(sql).num_rows == 3
    assert lakehouse.query(sql).num_rows == 3
    assert loads == ["gold.category_by_country"], "an unchanged table was read again"

    path = table_path("gold.category_by_country", root)
    write_deltalake(path, pa.table({"country": ["Chile"], "category": ["art"],
                                    "category_count": pa.array([1], pa.int64())}), mode="append")
    assert lakehouse.query(sql).to_pylist()[1:3] == [{"country": "Chile", "category_count": 1},
                                                     {"country": "Chile", "category_count": 3}]
    write_deltalake(path, pa.table({"country": ["Peru"], "category": ["x"],
                                    "category_count": pa.array([7], pa.int64())}), mode="overwrite")
    assert lakehouse.query(sql).to_pylist() == [{"country": "Peru", "category_count": 7}]
    assert len(loads) == 3
    lakehouse.close()


def test_a_loaded_snapshot_is_stored_compressed(tmp_path):
    # Row groups left uncompressed by a bulk load made scans up to twice as slow as native tables.
    rows = 300_000
    pins = pa.table({"ind": pa.array(range(rows), pa.int64()),
                     "category": pa.array([("art", "travel", "food")[i % 3] for i in range(rows)])})
    write_deltalake(table_path("silver.pins", str(tmp_path)), pins)
    lakehouse = Lakehouse(str(tmp_path))
    assert lakehouse.query("SELECT count(*) AS n FROM silver.pins").to_pylist() == [{"n": rows}]
    segments = lakehouse._connection().execute(
        "SELECT segment_type, compression, sum(count) FROM pragma_storage_info('silver.pins') "
        "WHERE column_name = 'category' GROUP BY ALL").fetchall()
    assert segments and all(compression != "Uncompressed" for _, compression, _ in segments), segments
