"""The user gold tables: the top poster per country, and users joined per year."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.gold.common import top_per_group, utc_year

TOP_USER_BY_COUNTRY_SCHEMA = T.StructType([
    T.StructField("country", T.StringType()),
    T.StructField("poster_name", T.StringType()),
    T.StructField("follower_count", T.LongType()),
])
USERS_JOINED_BY_YEAR_SCHEMA = T.StructType([
    T.StructField("join_year", T.IntegerType()),
    T.StructField("number_users_joined", T.LongType()),
])


def build_top_user_by_country(facts: DataFrame) -> DataFrame:
    """gold.top_user_by_country: per country, the poster of the pin with most followers (ties: first name)."""
    candidates = facts.where(
        F.col("country").isNotNull() & F.col("poster_name").isNotNull() & F.col("follower_count").isNotNull()
    )
    return top_per_group(candidates, ["country"], "poster_name", "follower_count") \
        .select(*TOP_USER_BY_COUNTRY_SCHEMA.fieldNames())


def build_users_joined_by_year(users: DataFrame) -> DataFrame:
    """gold.users_joined_by_year: silver.users rows per UTC year of date_joined."""
    return (
        users.select(utc_year(F.col("date_joined")).alias("join_year"))
        .where(F.col("join_year").isNotNull())
        .groupBy("join_year").agg(F.count(F.lit(1)).alias("number_users_joined"))
        .select(*USERS_JOINED_BY_YEAR_SCHEMA.fieldNames())
    )
