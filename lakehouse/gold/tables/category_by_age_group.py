"""gold.category_by_age_group: each age group's most popular pin category (pins joined with users)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import expect_age_group, expect_top_category, top_category
from lakehouse.silver.pins import PINS
from lakehouse.silver.users import USERS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("age_group", T.StringType()),
    T.StructField("category", T.StringType()),
    T.StructField("category_count", T.LongType()),
])


def build_category_by_age_group(facts: DataFrame) -> DataFrame:
    """Per age group of the poster, the category with most pins (ties: alphabetically first)."""
    return top_category(facts, ["age_group"]).select(*SCHEMA.fieldNames())


def expect_category_by_age_group() -> list:
    """A known age group and its top category."""
    return [*expect_age_group(), *expect_top_category()]


TABLE = Table(
    name="gold.category_by_age_group", schema=SCHEMA, keys=("age_group",),
    description="Most popular category per age group",
    inputs=(PINS.name, USERS.name), build=build_category_by_age_group, expectations=expect_category_by_age_group,
    reach={PINS.name: "category IS NOT NULL", USERS.name: "age IS NOT NULL"},
    summary=("age_group", "category"),
)
