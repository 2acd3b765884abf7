"""The gold tables' suites (CONTRACT.md sections 6 and 7), one function per table."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from lakehouse.tables import GOLD_TABLES
from quality.suites import (
    MIN_ROWS, USERS_WITH_JOIN_YEAR, ExpectColumnTotalToBeBetween, columns_present, critical, keys,
    param, suite, warning,
)

TABLES = GOLD_TABLES
AGE_GROUPS = ["under 18", "18-24", "25-35", "36-50", "50+"]


def _not_empty() -> list:
    # min_rows is 1 when the silver rows this table is built from exist, else 0 (see quality.gate).
    return [critical(gxe.ExpectTableRowCountToBeBetween, name="not empty when silver is not",
                     min_value=param(MIN_ROWS),
                     description="at least one row when the silver data it is built from is not empty")]


def _top_category() -> list:
    return [warning(gxe.ExpectColumnValuesToNotBeNull, column="category"),
            critical(gxe.ExpectColumnValuesToNotBeNull, column="category_count"),
            critical(gxe.ExpectColumnValuesToBeBetween, column="category_count", min_value=1)]


def _age_group() -> list:
    return [critical(gxe.ExpectColumnValuesToBeInSet, column="age_group", value_set=AGE_GROUPS)]


def _median() -> list:
    return [critical(gxe.ExpectColumnValuesToNotBeNull, column="median_follower_count"),
            critical(gxe.ExpectColumnValuesToBeBetween, column="median_follower_count", min_value=0)]


def gold_category_by_country() -> gx.ExpectationSuite:
    """gold.category_by_country: one row per country, its top category."""
    return suite("gold.category_by_country", [
        columns_present("country", "category", "category_count"),
        *keys("country"), *_top_category(), *_not_empty(),
    ])


def gold_category_by_year() -> gx.ExpectationSuite:
    """gold.category_by_year: one row per post_year, its top category."""
    return suite("gold.category_by_year", [
        columns_present("post_year", "category", "category_count"),
        *keys("post_year"), *_top_category(), *_not_empty(),
    ])


def gold_top_user_by_country() -> gx.ExpectationSuite:
    """gold.top_user_by_country: one row per country, the poster with most followers."""
    return suite("gold.top_user_by_country", [
        columns_present("country", "poster_name", "follower_count"),
        *keys("country"),
        critical(gxe.ExpectColumnValuesToNotBeNull, column="poster_name"),
        critical(gxe.ExpectColumnValuesToNotBeNull, column="follower_count"),
        critical(gxe.ExpectColumnValuesToBeBetween, column="follower_count", min_value=0),
        *_not_empty(),
    ])


def gold_category_by_age_group() -> gx.ExpectationSuite:
    """gold.category_by_age_group: one row per age group, its top category."""
    return suite("gold.category_by_age_group", [
        columns_present("age_group", "category", "category_count"),
        *keys("age_group"), *_age_group(), *_top_category(), *_not_empty(),
    ])


def gold_median_followers_by_age_group() -> gx.ExpectationSuite:
    """gold.median_followers_by_age_group: one row per age group, a median follower count."""
    return suite("gold.median_followers_by_age_group", [
        columns_present("age_group", "median_follower_count"),
        *keys("age_group"), *_age_group(), *_median(), *_not_empty(),
    ])


def gold_users_joined_by_year() -> gx.ExpectationSuite:
    """gold.users_joined_by_year: one row per join year; the counts add up to silver.users."""
    return suite("gold.users_joined_by_year", [
        columns_present("join_year", "number_users_joined"),
        *keys("join_year"),
        critical(gxe.ExpectColumnValuesToNotBeNull, column="number_users_joined"),
        critical(gxe.ExpectColumnValuesToBeBetween, column="number_users_joined", min_value=1),
        critical(ExpectColumnTotalToBeBetween, name="sum equals silver.users with a join_year",
                 column="number_users_joined", min_value=param(USERS_WITH_JOIN_YEAR),
                 max_value=param(USERS_WITH_JOIN_YEAR),
                 description="sum(number_users_joined) equals the silver.users rows with a join_year"),
        *_not_empty(),
    ])


def gold_median_followers_by_join_year() -> gx.ExpectationSuite:
    """gold.median_followers_by_join_year: one row per join year, a median follower count."""
    return suite("gold.median_followers_by_join_year", [
        columns_present("join_year", "median_follower_count"),
        *keys("join_year"), *_median(), *_not_empty(),
    ])


def gold_median_followers_by_age_group_and_join_year() -> gx.ExpectationSuite:
    """gold.median_followers_by_age_group_and_join_year: one row per (age group, join year)."""
    return suite("gold.median_followers_by_age_group_and_join_year", [
        columns_present("age_group", "join_year", "median_follower_count"),
        *keys("age_group", "join_year"), *_age_group(), *_median(), *_not_empty(),
    ])
