"""Small valid rows for every gated table (consistent across layers), and publishing a checked table."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, SparkSession

from lakehouse import catalog, tables
from pinlake.settings import Settings
from quality.gate import validate

_T = datetime(2024, 5, 1, 12, 0, 0)
_UUID = "5b6d4e2a-1c3f-4a5b-9d8e-7f6a5b4c3d2{}"


def _prov(n: int) -> tuple:
    return (f"00000000-0000-4000-8000-00000000000{n}", _T, n % 3, 100 + n, _T)


ROWS = {
    "silver.pins": [
        (1, _UUID.format(1), "Cats", None, "Ann", 8000, ["cat", "art"], "image", "https://i.pinimg.com/1.jpg",
         True, "/data/art", "art", *_prov(1)),
        (2, _UUID.format(2), None, "Trips", "Bob", 1200000, None, "video", "http://i.pinimg.com/2.jpg",
         False, "/data/travel", "travel", *_prov(2)),
        (3, _UUID.format(3), "Tea", None, None, None, ["tea"], None, None, None, None, "art", *_prov(3)),
    ],
    "silver.geo": [
        (1, datetime(2021, 3, 1, 8), 48.85, 2.35, "France", *_prov(1)),
        (2, datetime(2022, 7, 9, 17), -33.87, 151.21, "Australia", *_prov(2)),
        (3, datetime(2022, 1, 2, 0), 90.0, -180.0, "Antarctica", *_prov(3)),
    ],
    "silver.users": [
        (1, "Ann Lee", 17, datetime(2015, 6, 1), *_prov(1)),
        (2, "Bob", 40, datetime(2016, 2, 3), *_prov(2)),
        (3, None, None, None, *_prov(3)),
    ],
    "silver.quarantine": [
        ("pinterest.pin", 0, 7, "00000000-0000-4000-8000-000000000009", _T, '{"index": -1}',
         ["invalid_follower_count", "invalid_ind"], _T),
        ("pinterest.geo", 0, 7, None, None, "not json", ["malformed_json"], _T),
    ],
    "gold.category_by_country": [("France", "art", 1), ("Australia", "travel", 1), ("Antarctica", "art", 1)],
    "gold.category_by_year": [(2021, "art", 1), (2022, "art", 1)],
    "gold.top_user_by_country": [("France", "Ann", 8000), ("Australia", "Bob", 1200000)],
    "gold.category_by_age_group": [("under 18", "art", 1), ("36-50", "travel", 1)],
    "gold.median_followers_by_age_group": [("under 18", 8000.0), ("36-50", 1200000.0)],
    "gold.users_joined_by_year": [(2015, 1), (2016, 1)],
    "gold.median_followers_by_join_year": [(2015, 8000.0), (2016, 1200000.0)],
    "gold.median_followers_by_age_group_and_join_year": [("under 18", 2015, 8000.0), ("36-50", 2016, 1200000.0)],
}


SCHEMAS = {name: catalog.table(name).schema for name in ROWS}


def sample(spark: SparkSession, table: str) -> DataFrame:
    """A small frame of `table` that passes every expectation of its suite."""
    return spark.createDataFrame(ROWS[table], SCHEMAS[table])


def publish(spark: SparkSession, df: DataFrame, table: str, run_id: str, settings: Settings, **context):
    """Write-audit-publish of a whole table: validate `df`, then overwrite `table` in one commit.

    On a critical failure QualityGateFailed propagates and `table` is untouched.
    """
    df = df.persist()
    try:
        outcomes = validate(spark, df, table, run_id, context=context or None, settings=settings)
        tables.overwrite(df, table, settings.lakehouse)
    finally:
        df.unpersist()
    return outcomes
