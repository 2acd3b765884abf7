"""gold.median_followers_by_age_group_and_join_year: the median follower count per age group and join year."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import expect_age_group, expect_median, median_followers
from lakehouse.silver.pins import PINS
from lakehouse.silver.users import USERS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("age_group", T.StringType()),
    T.StructField("join_year", T.IntegerType()),
    T.StructField("median_follower_count", T.DoubleType()),
])


def build_median_followers_by_age_group_and_join_year(facts: DataFrame) -> DataFrame:
    """Per (age group, join year), the exact median follower count of the pins that have one."""
    return median_followers(facts, ["age_group", "join_year"]).select(*SCHEMA.fieldNames())


def expect_median_followers_by_age_group_and_join_year() -> list:
    """A known age group and a median per (age group, join year)."""
    return [*expect_age_group(), *expect_median()]


TABLE = Table(
    name="gold.median_followers_by_age_group_and_join_year", schema=SCHEMA, keys=("age_group", "join_year"),
    description="Median follower count per age group and join year",
    inputs=(PINS.name, USERS.name), build=build_median_followers_by_age_group_and_join_year,
    expectations=expect_median_followers_by_age_group_and_join_year,
    reach={PINS.name: "follower_count IS NOT NULL", USERS.name: "age IS NOT NULL AND date_joined IS NOT NULL"},
    summary=("age_group", "join_year", "follower_count"),
)
