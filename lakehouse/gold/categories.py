"""The top-category gold tables: per country, per post year, per age group."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import top_category

CATEGORY_BY_COUNTRY_SCHEMA = T.StructType([
    T.StructField("country", T.StringType()),
    T.StructField("category", T.StringType()),
    T.StructField("category_count", T.LongType()),
])
CATEGORY_BY_YEAR_SCHEMA = T.StructType([
    T.StructField("post_year", T.IntegerType()),
    T.StructField("category", T.StringType()),
    T.StructField("category_count", T.LongType()),
])
CATEGORY_BY_AGE_GROUP_SCHEMA = T.StructType([
    T.StructField("age_group", T.StringType()),
    T.StructField("category", T.StringType()),
    T.StructField("category_count", T.LongType()),
])


def build_category_by_country(facts: DataFrame) -> DataFrame:
    """gold.category_by_country: each country's most frequent pin category."""
    return top_category(facts, ["country"]).select(*CATEGORY_BY_COUNTRY_SCHEMA.fieldNames())


def build_category_by_year(facts: DataFrame) -> DataFrame:
    """gold.category_by_year: each post year's (UTC) most frequent pin category."""
    return top_category(facts, ["post_year"]).select(*CATEGORY_BY_YEAR_SCHEMA.fieldNames())


def build_category_by_age_group(facts: DataFrame) -> DataFrame:
    """gold.category_by_age_group: each age group's most frequent pin category."""
    return top_category(facts, ["age_group"]).select(*CATEGORY_BY_AGE_GROUP_SCHEMA.fieldNames())
