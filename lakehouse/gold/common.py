"""What the gold tables share (CONTRACT.md section 6): the joined pins, UTC years, age groups, "top"."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Pins with their posting's geo and user (inner joins on ind): the input of every pin table.
FACTS_SCHEMA = T.StructType([
    T.StructField("ind", T.LongType()),
    T.StructField("category", T.StringType()),
    T.StructField("poster_name", T.StringType()),
    T.StructField("follower_count", T.LongType()),
    T.StructField("country", T.StringType()),
    T.StructField("post_year", T.IntegerType()),
    T.StructField("age_group", T.StringType()),
    T.StructField("join_year", T.IntegerType()),
])
FACTS_COLUMNS = FACTS_SCHEMA.fieldNames()

UNDER_18, AGE_18_24, AGE_25_35, AGE_36_50, OVER_50 = "under 18", "18-24", "25-35", "36-50", "50+"
AGE_GROUPS = (UNDER_18, AGE_18_24, AGE_25_35, AGE_36_50, OVER_50)


def utc_year(ts: Column) -> Column:
    """The year of an instant in UTC, whatever the session time zone."""
    wall_clock = F.convert_timezone(F.current_timezone(), F.lit("UTC"), ts.cast("timestamp_ntz"))
    return F.year(wall_clock).cast("int")


def age_group(age: Column) -> Column:
    """`under 18`, `18-24`, `25-35`, `36-50`, `50+` (older than 50); null for a null age."""
    return (
        F.when(age < 18, F.lit(UNDER_18))
        .when(age <= 24, F.lit(AGE_18_24))
        .when(age <= 35, F.lit(AGE_25_35))
        .when(age <= 50, F.lit(AGE_36_50))
        .when(age > 50, F.lit(OVER_50))
    )


def pin_facts(pins: DataFrame, geo: DataFrame, users: DataFrame) -> DataFrame:
    """silver.pins inner-joined with silver.geo and silver.users on ind, with the grouping keys."""
    g = geo.select("ind", "country", utc_year(F.col("event_time")).alias("post_year"))
    u = users.select("ind", age_group(F.col("age")).alias("age_group"),
                     utc_year(F.col("date_joined")).alias("join_year"))
    return (
        pins.select("ind", "category", "poster_name", "follower_count")
        .join(g, on="ind", how="inner")
        .join(u, on="ind", how="inner")
        .select(*FACTS_COLUMNS)
    )


def top_per_group(df: DataFrame, keys: list[str], name: str, score: str) -> DataFrame:
    """Per group of `keys`, the row with the highest `score`; ties go to the alphabetically first `name`."""
    window = Window.partitionBy(*keys).orderBy(F.col(score).desc(), F.col(name).asc())
    return df.withColumn("_rank", F.row_number().over(window)).where(F.col("_rank") == 1).drop("_rank")


def top_category(facts: DataFrame, keys: list[str]) -> DataFrame:
    """Per group, the category with most pins (ties: alphabetically first) and its count."""
    counted = (
        facts.where(F.col("category").isNotNull() & _all_present(keys))
        .groupBy(*keys, "category").agg(F.count(F.lit(1)).alias("category_count"))
    )
    return top_per_group(counted, keys, "category", "category_count")


def median_followers(facts: DataFrame, keys: list[str]) -> DataFrame:
    """Per group, the exact continuous median follower_count (a double) over pins that have one."""
    return (
        facts.where(F.col("follower_count").isNotNull() & _all_present(keys))
        .groupBy(*keys)
        .agg(F.percentile(F.col("follower_count"), F.lit(0.5)).cast("double").alias("median_follower_count"))
    )


def _all_present(keys: list[str]) -> Column:
    present = F.lit(True)
    for key in keys:
        present = present & F.col(key).isNotNull()
    return present
