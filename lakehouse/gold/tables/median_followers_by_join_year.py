"""gold.median_followers_by_join_year: the median follower count per join year (pins joined with users)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import expect_median, median_followers
from lakehouse.silver.pins import PINS
from lakehouse.silver.users import USERS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("join_year", T.IntegerType()),
    T.StructField("median_follower_count", T.DoubleType()),
])


def build_median_followers_by_join_year(facts: DataFrame) -> DataFrame:
    """Per UTC year the poster joined, the exact median follower count of the pins that have one."""
    return median_followers(facts, ["join_year"]).select(*SCHEMA.fieldNames())


def expect_median_followers_by_join_year() -> list:
    """A median per join year."""
    return expect_median()


TABLE = Table(
    name="gold.median_followers_by_join_year", schema=SCHEMA, keys=("join_year",),
    description="Median follower count per join year",
    inputs=(PINS.name, USERS.name), build=build_median_followers_by_join_year,
    expectations=expect_median_followers_by_join_year,
    reach={PINS.name: "follower_count IS NOT NULL", USERS.name: "date_joined IS NOT NULL"},
    summary=("join_year", "follower_count"),
)
