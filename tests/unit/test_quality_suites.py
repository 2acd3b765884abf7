"""The suites as built from the specs: one per table, every expectation with a severity, the contract's minimum checks."""

from __future__ import annotations

from datetime import datetime

import pytest

from lakehouse import catalog
from quality.expect import CRITICAL, SEVERITIES, WARNING, critical
from quality.gate import QualityGateFailed
from quality.results import ExpectationOutcome
from quality.suites import build_suite

pytestmark = pytest.mark.unit

GOLD = [spec.name for spec in catalog.layer("gold")]
ALL = [spec.name for spec in catalog.gated()]
CONTRACT_GOLD = {
    "gold.category_by_country", "gold.category_by_year", "gold.top_user_by_country",
    "gold.category_by_age_group", "gold.median_followers_by_age_group", "gold.users_joined_by_year",
    "gold.median_followers_by_join_year", "gold.median_followers_by_age_group_and_join_year",
}
KEYS = {
    "silver.pins": ["unique_id"], "silver.geo": ["ind"], "silver.users": ["ind"],
    "silver.quarantine": ["source_topic", "source_partition", "source_offset"],
    "gold.category_by_country": ["country"], "gold.category_by_year": ["post_year"],
    "gold.top_user_by_country": ["country"], "gold.category_by_age_group": ["age_group"],
    "gold.median_followers_by_age_group": ["age_group"], "gold.users_joined_by_year": ["join_year"],
    "gold.median_followers_by_join_year": ["join_year"],
    "gold.median_followers_by_age_group_and_join_year": ["age_group", "join_year"],
}


def _by_name(table: str) -> dict:
    return {e.meta["name"]: e for e in build_suite(table).expectations}


def test_one_suite_per_table_named_after_it():
    assert set(ALL) == {"silver.pins", "silver.geo", "silver.users", "silver.quarantine"} | CONTRACT_GOLD
    for spec in catalog.gated():
        assert spec.expectations.__name__ == f"expect_{spec.name.split('.')[1]}"
        assert build_suite(spec.name).name == spec.name


@pytest.mark.parametrize("table", ALL)
def test_every_expectation_carries_its_severity_and_a_unique_name(table):
    expectations = build_suite(table).expectations
    assert expectations
    for exp in expectations:
        assert exp.meta["severity"] in SEVERITIES
        assert exp.severity.value == exp.meta["severity"]
    names = [e.meta["name"] for e in expectations]
    assert len(names) == len(set(names)), f"duplicate expectation names in {table}"


@pytest.mark.parametrize("table", ALL)
def test_keys_are_not_null_and_unique_critically(table):
    found = _by_name(table)
    columns = KEYS[table]
    for column in columns:
        assert found[f"expect_column_values_to_not_be_null({column})"].meta["severity"] == CRITICAL
    unique = (f"expect_column_values_to_be_unique({columns[0]})" if len(columns) == 1
              else f"expect_compound_columns_to_be_unique({', '.join(columns)})")
    assert found[unique].meta["severity"] == CRITICAL


@pytest.mark.parametrize("table", GOLD)
def test_gold_tables_must_not_be_empty_when_silver_is_not(table):
    exp = _by_name(table)["not empty when silver is not"]
    assert exp.meta["severity"] == CRITICAL
    assert exp.min_value == {"$PARAMETER": "min_rows"}
    spec = catalog.table(table)
    assert set(spec.reach) == set(spec.inputs)  # a filter (or none) for every table it reads


def test_users_joined_sum_equals_silver_users_with_a_join_year():
    exp = _by_name("gold.users_joined_by_year")["sum equals silver.users with a join_year"]
    assert exp.meta["severity"] == CRITICAL
    assert exp.column == "number_users_joined"
    assert exp.min_value == exp.max_value == {"$PARAMETER": "users_with_join_year"}


def test_section5_ranges_and_sets_are_critical():
    pins, geo, users = _by_name("silver.pins"), _by_name("silver.geo"), _by_name("silver.users")
    assert pins["expect_column_values_to_be_in_set(media_type)"].value_set == ["image", "story", "video"]
    assert (geo["expect_column_values_to_be_between(latitude)"].min_value,
            geo["expect_column_values_to_be_between(latitude)"].max_value) == (-90, 90)
    assert (geo["expect_column_values_to_be_between(longitude)"].min_value,
            geo["expect_column_values_to_be_between(longitude)"].max_value) == (-180, 180)
    assert (users["expect_column_values_to_be_between(age)"].min_value,
            users["expect_column_values_to_be_between(age)"].max_value) == (0, 130)
    for found in (pins, geo, users):
        assert found["expect_column_values_to_be_between(ind)"].min_value == 0
    ranged = [pins["expect_column_values_to_be_in_set(media_type)"],
              pins["expect_column_values_to_be_between(follower_count)"],
              pins["expect_column_values_to_match_regex(unique_id)"],
              geo["expect_column_values_to_be_between(latitude)"], users["expect_column_values_to_be_between(age)"]]
    assert {e.meta["severity"] for e in ranged} == {CRITICAL}


def test_category_and_image_src_are_warnings():
    pins = _by_name("silver.pins")
    assert pins["expect_column_values_to_not_be_null(category)"].meta["severity"] == WARNING
    url = pins["expect_column_values_to_match_regex(image_src)"]
    assert url.meta["severity"] == WARNING and url.regex == r"^https?://"


def test_unknown_table_and_bad_severity_are_named():
    with pytest.raises(KeyError, match="silver.nope"):
        build_suite("silver.nope")
    with pytest.raises(ValueError, match="severity"):
        import great_expectations.expectations as gxe

        from quality.expect import expectation

        expectation("fatal", gxe.ExpectColumnValuesToNotBeNull, column="ind")
    assert critical.__doc__


def test_gate_failure_names_the_table_and_every_failing_expectation():
    at = datetime(2026, 1, 1)
    failures = [
        ExpectationOutcome("r1", "silver.pins", "silver.pins", "expect_column_values_to_be_unique(unique_id)",
                           CRITICAL, False, 3, 2, "unexpected e.g. [\"a\", \"a\"]", at),
        ExpectationOutcome("r1", "silver.pins", "silver.pins", "not empty when silver is not",
                           CRITICAL, False, 0, None, "0", at),
    ]
    message = str(QualityGateFailed("silver.pins", failures))
    assert "silver.pins" in message
    assert "expect_column_values_to_be_unique(unique_id) (2 unexpected of 3)" in message
    assert "not empty when silver is not (observed 0)" in message
