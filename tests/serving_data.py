"""Small gold tables, written as real Delta tables, for the serving tests."""

from __future__ import annotations

import pyarrow as pa
from deltalake import write_deltalake

from lakehouse.tables import table_path

GOLD_ROWS = {
    "gold.category_by_country": pa.table({"country": ["Albania", "Chile", "Peru"],
                                          "category": ["art", "travel", "food"],
                                          "category_count": pa.array([5, 3, 2], pa.int64())}),
    "gold.category_by_year": pa.table({"post_year": pa.array([2018, 2019], pa.int32()),
                                       "category": ["art", "travel"],
                                       "category_count": pa.array([4, 6], pa.int64())}),
    "gold.top_user_by_country": pa.table({"country": ["Albania", "Chile"],
                                          "poster_name": ["Ann", "Bo"],
                                          "follower_count": pa.array([8000, 1200000], pa.int64())}),
    "gold.category_by_age_group": pa.table({"age_group": ["18-24", "25-35"],
                                            "category": ["art", "food"],
                                            "category_count": pa.array([7, 2], pa.int64())}),
    "gold.median_followers_by_age_group": pa.table({"age_group": ["18-24", "25-35"],
                                                    "median_follower_count": [1500.0, 731.0]}),
    "gold.users_joined_by_year": pa.table({"join_year": pa.array([2015, 2016], pa.int32()),
                                           "number_users_joined": pa.array([10, 12], pa.int64())}),
    "gold.median_followers_by_join_year": pa.table({"join_year": pa.array([2015, 2016], pa.int32()),
                                                    "median_follower_count": [900.0, 1100.5]}),
    "gold.median_followers_by_age_group_and_join_year": pa.table({
        "age_group": ["18-24", "18-24", "25-35"],
        "join_year": pa.array([2015, 2016, 2015], pa.int32()),
        "median_follower_count": [800.0, 1200.0, 731.0]}),
}


def write_gold(root: str) -> None:
    """Publish every gold table once under `root`."""
    for name, rows in GOLD_ROWS.items():
        write_deltalake(table_path(name, root), rows, mode="overwrite")
