"""gold.category_by_country: each country's most popular pin category (pins joined with geo)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import expect_top_category, top_category
from lakehouse.silver.geo import GEO
from lakehouse.silver.pins import PINS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("country", T.StringType()),
    T.StructField("category", T.StringType()),
    T.StructField("category_count", T.LongType()),
])


def build_category_by_country(facts: DataFrame) -> DataFrame:
    """Per country, the category with most pins (ties: alphabetically first) and its count."""
    return top_category(facts, ["country"]).select(*SCHEMA.fieldNames())


def expect_category_by_country() -> list:
    """A top category per country."""
    return expect_top_category()


TABLE = Table(
    name="gold.category_by_country", schema=SCHEMA, keys=("country",),
    description="Most popular category per country",
    inputs=(PINS.name, GEO.name), build=build_category_by_country, expectations=expect_category_by_country,
    reach={PINS.name: "category IS NOT NULL", GEO.name: "country IS NOT NULL"},
    summary=("country", "category"),
)
