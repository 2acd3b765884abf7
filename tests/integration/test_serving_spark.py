"""DuckDB reads exactly what Spark reads, after Spark's MERGE and overwrite, never stale files."""

import pytest
from delta.tables import DeltaTable
from pyspark.sql import Row

from lakehouse import tables
from pinlake.settings import Settings
from serving.database import database_path, refresh_database
from serving.engine import Lakehouse, Snapshot

pytestmark = pytest.mark.integration
SCHEMA = "ind bigint, title string, follower_count bigint"


def _spark_rows(spark, root, version=None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    rows = reader.load(tables.table_path("silver.pins", root)).collect()
    return sorted((r.asDict() for r in rows), key=lambda r: r["ind"])


def _duck_rows(root, snapshot=None):
    return Lakehouse(root, snapshot).query("SELECT * FROM silver.pins ORDER BY ind").to_pylist()


def test_duckdb_matches_spark_after_merge_and_overwrite(spark, tmp_path):
    root = str(tmp_path / "lake")
    first = [Row(ind=i, title=f"t{i}", follower_count=i * 10) for i in range(6)]
    tables.overwrite(spark.createDataFrame(first, SCHEMA), "silver.pins", root=root)

    updates = spark.createDataFrame(
        [Row(ind=1, title="new title", follower_count=999), Row(ind=7, title="t7", follower_count=70)], SCHEMA)
    target = DeltaTable.forPath(spark, tables.table_path("silver.pins", root))
    (target.alias("t").merge(updates.alias("s"), "t.ind = s.ind")
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
    after_merge = _spark_rows(spark, root)
    assert {r["ind"]: r["title"] for r in after_merge}[1] == "new title"
    assert _duck_rows(root) == after_merge

    tables.overwrite(spark.createDataFrame([Row(ind=42, title="only", follower_count=None)], SCHEMA),
                     "silver.pins", root=root)
    assert _duck_rows(root) == _spark_rows(spark, root) == [{"ind": 42, "title": "only", "follower_count": None}]

    for version in (0, 1):
        assert _duck_rows(root, Snapshot(versions={"silver.pins": version})) == _spark_rows(spark, root, version)


def test_database_file_views_follow_the_delta_log(spark, tmp_path):
    settings = Settings(_env_file=None, data_root=tmp_path, lakehouse_root=str(tmp_path / "lake"))
    rows = [Row(ind=1, title="a", follower_count=1)]
    tables.overwrite(spark.createDataFrame(rows, SCHEMA), "silver.pins", root=settings.lakehouse)
    path = refresh_database(settings)
    assert path == tmp_path / "serving" / "pinlake.duckdb"

    tables.overwrite(spark.createDataFrame([Row(ind=2, title="b", follower_count=2)], SCHEMA),
                     "silver.pins", root=settings.lakehouse)
    con = open_database(settings)
    try:
        assert con.execute("SELECT * FROM silver.pins").fetchall() == [(2, "b", 2)]
    finally:
        con.close()


def open_database(settings, read_only: bool = True):
    """Open the DuckDB file as a client would (the delta extension loaded from its package)."""
    import duckdb
    import duckdb_ext

    con = duckdb.connect(str(database_path(settings)), read_only=read_only)
    duckdb_ext.init(con)
    con.execute("LOAD delta")
    return con
