"""gold.top_user_by_country: each country's poster with the most followers (pins joined with geo)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.gold.common import top_per_group
from lakehouse.silver.geo import GEO
from lakehouse.silver.pins import PINS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("country", T.StringType()),
    T.StructField("poster_name", T.StringType()),
    T.StructField("follower_count", T.LongType()),
])


def build_top_user_by_country(facts: DataFrame) -> DataFrame:
    """Per country, the poster of the pin with most followers (ties: alphabetically first name)."""
    candidates = facts.where(
        F.col("country").isNotNull() & F.col("poster_name").isNotNull() & F.col("follower_count").isNotNull()
    )
    return top_per_group(candidates, ["country"], "poster_name", "follower_count").select(*SCHEMA.fieldNames())


def expect_top_user_by_country() -> list:
    """A named poster per country with a follower count that is not negative."""
    from quality import expect as x

    return [x.not_null("poster_name"), x.not_null("follower_count"), x.between("follower_count", 0)]


TABLE = Table(
    name="gold.top_user_by_country", schema=SCHEMA, keys=("country",),
    description="User with the most followers per country",
    inputs=(PINS.name, GEO.name), build=build_top_user_by_country, expectations=expect_top_user_by_country,
    reach={PINS.name: "poster_name IS NOT NULL AND follower_count IS NOT NULL", GEO.name: "country IS NOT NULL"},
    summary=("country", "poster_name", "follower_count"),
)
