"""gold.median_followers_by_age_group: the median follower count per age group (pins joined with users)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import expect_age_group, expect_median, median_followers
from lakehouse.silver.pins import PINS
from lakehouse.silver.users import USERS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("age_group", T.StringType()),
    T.StructField("median_follower_count", T.DoubleType()),
])


def build_median_followers_by_age_group(facts: DataFrame) -> DataFrame:
    """Per age group, the exact median follower count of the pins that have one."""
    return median_followers(facts, ["age_group"]).select(*SCHEMA.fieldNames())


def expect_median_followers_by_age_group() -> list:
    """A known age group and its median."""
    return [*expect_age_group(), *expect_median()]


TABLE = Table(
    name="gold.median_followers_by_age_group", schema=SCHEMA, keys=("age_group",),
    description="Median follower count per age group",
    inputs=(PINS.name, USERS.name), build=build_median_followers_by_age_group,
    expectations=expect_median_followers_by_age_group,
    reach={PINS.name: "follower_count IS NOT NULL", USERS.name: "age IS NOT NULL"},
    summary=("age_group", "follower_count"),
)
