"""Write-audit-publish at the table level: a failing candidate is never written, the previous version stays."""

from __future__ import annotations

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse import tables
from pinlake.settings import Settings
from quality.gate import QualityGateFailed
from quality.results import RESULTS
from tests.quality_samples import ROWS, SCHEMAS, publish, sample

pytestmark = pytest.mark.integration


@pytest.fixture()
def settings(tmp_path) -> Settings:
    """A fresh, empty lakehouse per test."""
    return Settings(data_root=tmp_path)


def _version(spark, settings, table) -> int:
    path = tables.table_path(table, root=settings.lakehouse)
    return DeltaTable.forPath(spark, path).history(1).select("version").first()[0]


def test_a_failing_candidate_is_not_published_and_the_previous_version_stays(spark, settings):
    table = "gold.category_by_year"
    publish(spark, sample(spark, table), table, "first", settings=settings, min_rows=1)
    before = _version(spark, settings, table)

    duplicated = spark.createDataFrame([(2021, "art", 1), (2021, "travel", 1)], SCHEMAS[table])
    with pytest.raises(QualityGateFailed, match=r"expect_column_values_to_be_unique\(post_year\)"):
        publish(spark, duplicated, table, "second", settings=settings, min_rows=1)

    assert _version(spark, settings, table) == before
    assertDataFrameEqual(tables.read(spark, table, root=settings.lakehouse), sample(spark, table))
    failed = (tables.read(spark, RESULTS.name, root=settings.lakehouse)
              .where((F.col("run_id") == "second") & ~F.col("success"))
              .select("table", "expectation", "severity"))
    assertDataFrameEqual(failed, spark.createDataFrame(
        [(table, "expect_column_values_to_be_unique(post_year)", "critical")], failed.schema))


def test_an_empty_gold_candidate_is_not_published_when_silver_has_rows(spark, settings):
    tables.overwrite(sample(spark, "silver.users"), "silver.users", root=settings.lakehouse)
    table = "gold.users_joined_by_year"
    publish(spark, sample(spark, table), table, "first", settings=settings)

    with pytest.raises(QualityGateFailed, match="not empty when silver is not"):
        publish(spark, spark.createDataFrame([], SCHEMAS[table]), table, "second", settings=settings)

    assertDataFrameEqual(tables.read(spark, table, root=settings.lakehouse), sample(spark, table))


def test_a_candidate_with_warnings_only_is_published(spark, settings):
    table = "silver.geo"
    tables.overwrite(sample(spark, table), table, root=settings.lakehouse)
    rows = [list(r) for r in ROWS[table]]
    rows[1][4] = None  # a geo row without a country: a warning
    candidate = spark.createDataFrame([tuple(r) for r in rows], SCHEMAS[table])

    outcomes = publish(spark, candidate, table, "warned", settings=settings)

    assert [(o.expectation, o.severity) for o in outcomes if not o.success] == \
        [("expect_column_values_to_not_be_null(country)", "warning")]
    assertDataFrameEqual(tables.read(spark, table, root=settings.lakehouse), candidate)
