"""gold.category_by_year: each post year's most popular pin category (pins joined with geo)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import expect_top_category, top_category
from lakehouse.silver.geo import GEO
from lakehouse.silver.pins import PINS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("post_year", T.IntegerType()),
    T.StructField("category", T.StringType()),
    T.StructField("category_count", T.LongType()),
])


def build_category_by_year(facts: DataFrame) -> DataFrame:
    """Per UTC year of the geo event, the category with most pins (ties: alphabetically first)."""
    return top_category(facts, ["post_year"]).select(*SCHEMA.fieldNames())


def expect_category_by_year() -> list:
    """A top category per post year."""
    return expect_top_category()


TABLE = Table(
    name="gold.category_by_year", schema=SCHEMA, keys=("post_year",),
    description="Most popular category per post year",
    inputs=(PINS.name, GEO.name), build=build_category_by_year, expectations=expect_category_by_year,
    reach={PINS.name: "category IS NOT NULL", GEO.name: None},
    summary=("post_year", "category"),
)
