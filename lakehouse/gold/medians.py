"""The median gold tables: exact continuous medians of follower_count per age group and join year."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from lakehouse.gold.common import median_followers

MEDIAN_BY_AGE_GROUP_SCHEMA = T.StructType([
    T.StructField("age_group", T.StringType()),
    T.StructField("median_follower_count", T.DoubleType()),
])
MEDIAN_BY_JOIN_YEAR_SCHEMA = T.StructType([
    T.StructField("join_year", T.IntegerType()),
    T.StructField("median_follower_count", T.DoubleType()),
])
MEDIAN_BY_AGE_GROUP_AND_JOIN_YEAR_SCHEMA = T.StructType([
    T.StructField("age_group", T.StringType()),
    T.StructField("join_year", T.IntegerType()),
    T.StructField("median_follower_count", T.DoubleType()),
])


def build_median_followers_by_age_group(facts: DataFrame) -> DataFrame:
    """gold.median_followers_by_age_group."""
    return median_followers(facts, ["age_group"]).select(*MEDIAN_BY_AGE_GROUP_SCHEMA.fieldNames())


def build_median_followers_by_join_year(facts: DataFrame) -> DataFrame:
    """gold.median_followers_by_join_year."""
    return median_followers(facts, ["join_year"]).select(*MEDIAN_BY_JOIN_YEAR_SCHEMA.fieldNames())


def build_median_followers_by_age_group_and_join_year(facts: DataFrame) -> DataFrame:
    """gold.median_followers_by_age_group_and_join_year."""
    return median_followers(facts, ["age_group", "join_year"]) \
        .select(*MEDIAN_BY_AGE_GROUP_AND_JOIN_YEAR_SCHEMA.fieldNames())
