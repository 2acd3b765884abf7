"""Small valid rows for every gated table (consistent across layers), for tests, demos and the benchmark."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, SparkSession

_PROVENANCE = "event_id string, received_at timestamp, source_partition int, source_offset bigint, " \
              "kafka_timestamp timestamp"
SCHEMAS = {
    "silver.pins": "ind bigint, unique_id string, title string, description string, poster_name string, "
                   "follower_count bigint, tags array<string>, media_type string, image_src string, "
                   f"downloaded boolean, save_location string, category string, {_PROVENANCE}",
    "silver.geo": f"ind bigint, event_time timestamp, latitude double, longitude double, country string, "
                  f"{_PROVENANCE}",
    "silver.users": f"ind bigint, user_name string, age int, date_joined timestamp, {_PROVENANCE}",
    "silver.quarantine": "source_topic string, source_partition int, source_offset bigint, event_id string, "
                         "received_at timestamp, raw string, reasons array<string>, quarantined_at timestamp",
    "gold.category_by_country": "country string, category string, category_count bigint",
    "gold.category_by_year": "post_year int, category string, category_count bigint",
    "gold.top_user_by_country": "country string, poster_name string, follower_count bigint",
    "gold.category_by_age_group": "age_group string, category string, category_count bigint",
    "gold.median_followers_by_age_group": "age_group string, median_follower_count double",
    "gold.users_joined_by_year": "join_year int, number_users_joined bigint",
    "gold.median_followers_by_join_year": "join_year int, median_follower_count double",
    "gold.median_followers_by_age_group_and_join_year":
        "age_group string, join_year int, median_follower_count double",
}

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


def sample(spark: SparkSession, table: str) -> DataFrame:
    """A small frame of `table` that passes every expectation of its suite."""
    return spark.createDataFrame(ROWS[table], SCHEMAS[table])
