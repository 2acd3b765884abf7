"""The quality gate on real Spark and Delta: suites pass on valid rows, critical failures stop, all is recorded."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse import tables
from pinlake.settings import Settings
from lakehouse import catalog
from quality.gate import QualityGateFailed, validate
from quality.results import RESULTS
from tests.quality_samples import ROWS, SCHEMAS, sample
from quality.suites import build_suite

pytestmark = pytest.mark.integration
SILVER = [spec.name for spec in catalog.gated() if spec.layer == "silver"]
GOLD = [spec.name for spec in catalog.layer("gold")]

RECORDED = ["table", "expectation", "severity", "success", "element_count", "unexpected_count"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory, spark) -> Settings:
    """A data root whose silver tables hold the valid samples (the context gold is checked against)."""
    settings = Settings(data_root=tmp_path_factory.mktemp("quality-gate"))
    for table in SILVER:
        tables.overwrite(sample(spark, table), table, root=settings.lakehouse)
    return settings


def _recorded(spark, settings, run_id, failed_only=True):
    frame = tables.read(spark, RESULTS.name, root=settings.lakehouse).where(F.col("run_id") == run_id)
    if failed_only:
        frame = frame.where(~F.col("success"))
    return frame.select(*RECORDED)


@pytest.mark.parametrize("table", [*SILVER, *GOLD])
def test_every_suite_passes_on_valid_rows(spark, settings, table):
    # Gold context (not empty, users with a join year) comes from the silver samples on disk.
    outcomes = validate(spark, sample(spark, table), table, f"valid-{table}", settings=settings)
    assert [o.expectation for o in outcomes if not o.success] == []
    assert sorted(o.expectation for o in outcomes) == \
        sorted(e.meta["name"] for e in build_suite(table).expectations)
    assert {o.severity for o in outcomes} <= {"critical", "warning"}
    recorded = _recorded(spark, settings, f"valid-{table}", failed_only=False)
    assert recorded.count() == len(outcomes)


def test_duplicate_key_fails_the_gate_and_is_recorded(spark, settings):
    rows = ROWS["silver.pins"]
    candidate = spark.createDataFrame([*rows, rows[0]], SCHEMAS["silver.pins"])
    with pytest.raises(QualityGateFailed) as failed:
        validate(spark, candidate, "silver.pins", "dup-key", settings=settings)
    assert "silver.pins" in str(failed.value)
    assert "expect_column_values_to_be_unique(unique_id) (2 unexpected of 4)" in str(failed.value)
    assertDataFrameEqual(_recorded(spark, settings, "dup-key"), spark.createDataFrame(
        [("silver.pins", "expect_column_values_to_be_unique(unique_id)", "critical", False, 4, 2)],
        _recorded(spark, settings, "dup-key").schema))


def test_empty_gold_candidate_fails_when_silver_is_not_empty(spark, settings):
    empty = spark.createDataFrame([], SCHEMAS["gold.category_by_country"])
    with pytest.raises(QualityGateFailed, match=r"gold.category_by_country.*not empty when silver is not"):
        validate(spark, empty, "gold.category_by_country", "empty-gold", settings=settings)
    assertDataFrameEqual(_recorded(spark, settings, "empty-gold"), spark.createDataFrame(
        [("gold.category_by_country", "not empty when silver is not", "critical", False, 0, None)],
        _recorded(spark, settings, "empty-gold").schema))


def test_empty_gold_candidate_passes_when_the_caller_says_silver_is_empty(spark, settings):
    empty = spark.createDataFrame([], SCHEMAS["gold.users_joined_by_year"])
    outcomes = validate(spark, empty, "gold.users_joined_by_year", "empty-ok", settings=settings,
                     context={"min_rows": 0, "users_with_join_year": 0})
    assert all(o.success for o in outcomes)


def test_users_joined_must_add_up_to_silver_users_with_a_join_year(spark, settings):
    # silver.users holds 2 users with a date_joined; these counts add up to 3.
    candidate = spark.createDataFrame([(2015, 1), (2016, 2)], SCHEMAS["gold.users_joined_by_year"])
    with pytest.raises(QualityGateFailed, match="sum equals silver.users with a join_year") as failed:
        validate(spark, candidate, "gold.users_joined_by_year", "sum-off", settings=settings)
    (failure,) = failed.value.failures
    assert failure.observed_value == "3.0"  # GX reports sums as floats


def test_a_warning_is_recorded_and_does_not_stop(spark, settings):
    rows = [list(r) for r in ROWS["silver.pins"]]
    rows[0][8], rows[0][11] = "ftp://example.org/cat.jpg", None  # image_src, category
    candidate = spark.createDataFrame([tuple(r) for r in rows], SCHEMAS["silver.pins"])
    outcomes = validate(spark, candidate, "silver.pins", "warn-only", settings=settings)
    assert sorted(o.expectation for o in outcomes if not o.success) == [
        "expect_column_values_to_match_regex(image_src)", "expect_column_values_to_not_be_null(category)"]
    assertDataFrameEqual(_recorded(spark, settings, "warn-only"), spark.createDataFrame([
        ("silver.pins", "expect_column_values_to_match_regex(image_src)", "warning", False, 3, 1),
        ("silver.pins", "expect_column_values_to_not_be_null(category)", "warning", False, 3, 1),
    ], _recorded(spark, settings, "warn-only").schema))


@pytest.mark.parametrize("table, column, value, expectation", [
    ("silver.geo", 2, 90.5, "expect_column_values_to_be_between(latitude)"),
    ("silver.users", 2, 131, "expect_column_values_to_be_between(age)"),
    ("silver.pins", 7, "story page", "expect_column_values_to_be_in_set(media_type)"),
    ("silver.quarantine", 6, ["malformed_json", "invalid_ind"], "reasons known and sorted"),
])
def test_a_value_out_of_its_range_or_set_fails_the_gate(spark, settings, table, column, value, expectation):
    rows = [list(r) for r in ROWS[table]]
    rows[0][column] = value
    candidate = spark.createDataFrame([tuple(r) for r in rows], SCHEMAS[table])
    with pytest.raises(QualityGateFailed) as failed:
        validate(spark, candidate, table, f"range-{table}", settings=settings)
    assert [f.expectation for f in failed.value.failures] == [expectation]


def test_unknown_context_is_refused_by_name(spark, settings):
    with pytest.raises(ValueError, match="expected_rows"):
        validate(spark, sample(spark, "gold.category_by_year"), "gold.category_by_year", "bad-context",
              settings=settings, context={"expected_rows": 3})


def test_a_checkpoint_another_process_made_stale_is_loaded_again(spark, settings, monkeypatch):
    """Two processes on one data root (a DAG's job and a `pinlake silver`): each saves the suites
    it builds at its first check, which leaves the other's cached checkpoint stale."""
    import quality.docs
    import quality.gate

    table = "silver.users"
    validate(spark, sample(spark, table), table, "first", settings=settings)  # this process caches it
    with monkeypatch.context() as other:  # what another process does at its first check
        other.setattr(quality.docs, "_contexts", {})
        quality.gate._new_checkpoint(settings, table)
    outcomes = validate(spark, sample(spark, table), table, "after-the-other", settings=settings)
    assert outcomes and all(o.success for o in outcomes)


def test_a_later_process_reuses_the_stored_checkpoints(spark, settings, monkeypatch):
    """Each job is its own process: the gates must work from the GX files earlier runs wrote."""
    import quality.docs
    import quality.gate

    tables_ = ("silver.pins", "gold.category_by_year")
    for table in tables_:  # their assets are in the stored data source now
        validate(spark, sample(spark, table), table, f"first-{table}", settings=settings)
    # A new process starts with no cached context or checkpoint: load everything from the files.
    monkeypatch.setattr(quality.docs, "_contexts", {})
    monkeypatch.setattr(quality.gate, "_checkpoints", {})
    for table in tables_:
        outcomes = validate(spark, sample(spark, table), table, f"later-{table}", settings=settings)
        assert outcomes and all(o.success for o in outcomes), table
