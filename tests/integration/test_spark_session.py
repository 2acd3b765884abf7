"""The session factory's Spark has Delta and the Kafka source on its classpath."""

import json

import pytest
from confluent_kafka import Producer
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse import catalog, tables

pytestmark = pytest.mark.integration


def test_delta_table_round_trip(spark, tmp_path):
    rows = [Row(ind=1, name="a"), Row(ind=2, name="b")]
    df = spark.createDataFrame(rows, "ind bigint, name string")
    tables.overwrite(df, "silver.example", root=str(tmp_path))
    tables.append(spark.createDataFrame([Row(ind=3, name="c")], df.schema), "silver.example", root=str(tmp_path))

    assert tables.exists("silver.example", root=str(tmp_path))
    assert (tmp_path / "silver" / "example" / "_delta_log").is_dir()
    assertDataFrameEqual(tables.read(spark, "silver.example", root=str(tmp_path)),
                         rows + [Row(ind=3, name="c")])
    history = spark.sql(f"DESCRIBE HISTORY delta.`{tmp_path}/silver/example`").collect()
    assert [h.operation for h in history] == ["WRITE", "WRITE"]


def test_kafka_source_reads_a_topic(spark, kafka_settings):
    topic = "pinterest.geo"
    producer = Producer({"bootstrap.servers": kafka_settings.bootstrap})
    records = [{"ind": 9000 + i, "country": f"c{i}"} for i in range(3)]
    for record in records:
        producer.produce(topic, key=str(record["ind"]), value=json.dumps(record))
    assert producer.flush(30) == 0

    df = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", kafka_settings.bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .selectExpr("CAST(key AS STRING) AS key", "CAST(value AS STRING) AS value")
    )
    got = {row.key: row.value for row in df.collect()}
    assert [json.loads(got[str(r["ind"])]) for r in records] == records


def test_table_names_are_checked():
    with pytest.raises(ValueError, match="not a lakehouse table name"):
        tables.table_path("pins")
    with pytest.raises(ValueError):
        tables.table_path("silver.../etc")


def test_ensure_creates_a_table_whose_creation_was_killed(spark, tmp_path):
    """A `_delta_log` with only the temporary file of an uncommitted first commit is no table."""
    log = tmp_path / "silver" / "pins" / "_delta_log"
    (log / "_staged_commits").mkdir(parents=True)
    (log / ".00000000000000000000.json.27df7557-e43d-4f42-b9a9-006a350c2b6d.tmp").write_text("{}")
    spec = catalog.table("silver.pins")
    tables.ensure(spark, spec, str(tmp_path))
    assert tables.version(spec.name, str(tmp_path)) == 0
    assert tables.read(spark, spec.name, str(tmp_path)).schema == spec.schema


def test_rows_counts_every_table_from_its_log_and_none_for_a_missing_one(spark, tmp_path):
    root = str(tmp_path)
    df = spark.createDataFrame([Row(ind=i, name=str(i)) for i in range(5)], "ind bigint, name string")
    tables.overwrite(df, "silver.example", root=root)
    tables.append(df.limit(2), "silver.example", root=root)
    tables.overwrite(df.limit(3), "silver.other", root=root)
    tables.overwrite(df.limit(1), "silver.other", root=root)  # the overwritten files no longer count

    assert tables.rows(["silver.example", "silver.other", "silver.missing"], root) == 8


def test_a_small_run_is_interpreted_and_the_session_gets_its_own_conf_back(spark, tmp_path):
    from lakehouse.spark import SMALL_RUN_CONF, sized_for
    from pinlake.settings import Settings

    settings = Settings(data_root=tmp_path, spark_small_run_rows=100)
    before = {key: spark.conf.get(key, None) for key in SMALL_RUN_CONF}
    assert before != SMALL_RUN_CONF

    def compiled() -> bool:  # a whole-stage code generation stage shows as "*(n)" in the plan
        return "*(" in spark.range(10).selectExpr("id * 2 AS twice")._jdf.queryExecution().executedPlan().toString()

    assert compiled()
    with sized_for(spark, 100, settings) as small:
        assert small
        assert {key: spark.conf.get(key) for key in SMALL_RUN_CONF} == SMALL_RUN_CONF
        assert not compiled()
    assert {key: spark.conf.get(key, None) for key in SMALL_RUN_CONF} == before
    assert compiled()

    for rows in (101, None):  # more rows than the limit, or not known: compiled as usual
        with sized_for(spark, rows, settings) as small:
            assert not small
            assert {key: spark.conf.get(key, None) for key in SMALL_RUN_CONF} == before
    with sized_for(spark, 0, settings.model_copy(update={"spark_small_run_rows": 0})) as small:
        assert not small  # a limit of 0 turns it off, even for an empty input
