"""The gold tables (CONTRACT.md section 6): tops and ties, exact medians, null groupings, each one's join."""

from datetime import datetime

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse.gold.job import build_all
from lakehouse.gold.tables import (
    category_by_age_group,
    category_by_country,
    category_by_year,
    median_followers_by_age_group,
    median_followers_by_age_group_and_join_year,
    median_followers_by_join_year,
    top_user_by_country,
    users_joined_by_year,
)
from lakehouse.gold.tables import gold_tables
from tests.silver_rows import geo_rows, pin_rows, user_rows

pytestmark = pytest.mark.unit
PIN_KEYS, GEO_KEYS, USER_KEYS = {"category", "poster_name", "follower_count"}, {"country", "event_time"}, \
    {"age", "date_joined"}


def silver_of(spark, postings: list[dict], geo: bool = True, users: bool = True) -> dict:
    """Silver frames from postings: each dict mixes pin, geo and user fields of one ind. A posting
    gets a geo (user) row when it has a geo (user) field, or when `geo` (`users`) says all do."""
    def part(keys, everyone):
        return [{"ind": p["ind"], **{k: v for k, v in p.items() if k in keys}} for p in postings
                if everyone or keys & set(p)]
    return {"silver.pins": pin_rows(spark, part(PIN_KEYS, True)), "silver.geo": geo_rows(spark, part(GEO_KEYS, geo)),
            "silver.users": user_rows(spark, part(USER_KEYS, users))}


def build(spark, module, postings: list[dict], **which):
    """The gold table of `module` built by the gold job from the postings' silver rows."""
    return build_all(silver_of(spark, postings, **which))[0][module.TABLE.name]


def test_category_by_country_top_with_ties_and_nulls(spark):
    postings = [
        # X: art 2, travel 2 -> tie, alphabetically first wins; the null category is not counted
        *[{"ind": i, "country": "X", "category": c} for i, c in enumerate(["travel", "art", "travel", "art"])],
        *[{"ind": 10 + i, "country": "X", "category": None} for i in range(3)],
        # Y: one diy beats nothing else
        {"ind": 20, "country": "Y", "category": "diy"},
        # a null country is not a group; Z has only null categories: no row
        {"ind": 30, "country": None, "category": "art"},
        {"ind": 31, "country": "Z", "category": None},
    ]
    got = build(spark, category_by_country, postings)
    assertDataFrameEqual(got, [Row(country="X", category="art", category_count=2),
                               Row(country="Y", category="diy", category_count=1)])


def test_category_by_year_counts_pins_per_utc_post_year(spark):
    new_year_2019 = datetime(2018, 12, 31, 23, 0)  # 2019-01-01T01:00:00+02:00
    postings = [
        {"ind": 1, "event_time": new_year_2019, "category": "b"},
        {"ind": 2, "event_time": new_year_2019, "category": "c"},
        {"ind": 3, "event_time": new_year_2019, "category": "c"},
        {"ind": 4, "event_time": datetime(2019, 1, 1, 0, 0), "category": "a"},
    ]
    got = build(spark, category_by_year, postings)
    assertDataFrameEqual(got, [Row(post_year=2018, category="c", category_count=2),
                               Row(post_year=2019, category="a", category_count=1)])


def test_several_pins_of_one_posting_each_count(spark):
    silver = {"silver.pins": pin_rows(spark, [{"ind": 1, "category": "b"}, {"ind": 1, "category": "b"},
                                              {"ind": 2, "category": "a"}]),
              "silver.geo": geo_rows(spark, [{"ind": 1, "country": "X"}, {"ind": 2, "country": "X"}]),
              "silver.users": user_rows(spark, [{"ind": 1}, {"ind": 2}])}
    assertDataFrameEqual(build_all(silver)[0][category_by_country.TABLE.name],
                         [Row(country="X", category="b", category_count=2)])


def test_a_pin_without_a_user_row_counts_for_its_country_and_year(spark):
    """Contract v2: the country and year tables join pins with geo alone."""
    postings = [{"ind": 1, "country": "X", "category": "art", "age": 20}, {"ind": 2, "country": "X", "category": "diy"},
                {"ind": 3, "country": "X", "category": "diy"}]
    assertDataFrameEqual(build(spark, category_by_country, postings, users=False),
                         [Row(country="X", category="diy", category_count=2)])
    assertDataFrameEqual(build(spark, category_by_year, postings, users=False),
                         [Row(post_year=2020, category="diy", category_count=2)])
    assertDataFrameEqual(build(spark, category_by_age_group, postings, users=False),
                         [Row(age_group="18-24", category="art", category_count=1)])


def test_a_pin_without_a_geo_row_counts_for_its_age_group_and_join_year(spark):
    """Contract v2: the age and join-year tables join pins with users alone."""
    postings = [{"ind": 1, "age": 30, "follower_count": 10, "country": "X", "poster_name": "a"},
                {"ind": 2, "age": 30, "follower_count": 20, "date_joined": datetime(2016, 1, 2)},
                {"ind": 3, "age": 30, "follower_count": 40, "date_joined": datetime(2016, 3, 4)}]
    assertDataFrameEqual(build(spark, median_followers_by_age_group, postings, geo=False),
                         [Row(age_group="25-35", median_follower_count=20.0)])
    assertDataFrameEqual(build(spark, median_followers_by_join_year, postings, geo=False),
                         [Row(join_year=2016, median_follower_count=30.0)])
    assertDataFrameEqual(build(spark, top_user_by_country, postings, geo=False),
                         [Row(country="X", poster_name="a", follower_count=10)])


def test_category_by_age_group_without_null_ages(spark):
    postings = [{"ind": 1, "age": 18, "category": "z"}, {"ind": 2, "age": 24, "category": "y"},
                {"ind": 3, "age": 25, "category": "x"}, {"ind": 4, "age": None, "category": "w"},
                {"ind": 5, "age": 51, "category": "v"}, {"ind": 6, "age": 50, "category": "u"}]
    got = build(spark, category_by_age_group, postings)
    assertDataFrameEqual(got, [Row(age_group="18-24", category="y", category_count=1),
                               Row(age_group="25-35", category="x", category_count=1),
                               Row(age_group="36-50", category="u", category_count=1),
                               Row(age_group="50+", category="v", category_count=1)])


def test_top_user_by_country_highest_followers_ties_alphabetical(spark):
    postings = [
        {"ind": 1, "country": "X", "poster_name": "zed", "follower_count": 900},
        {"ind": 2, "country": "X", "poster_name": "amy", "follower_count": 900},
        {"ind": 3, "country": "X", "poster_name": "bob", "follower_count": 800},
        {"ind": 4, "country": "X", "poster_name": None, "follower_count": 5000},
        {"ind": 5, "country": "X", "poster_name": "cat", "follower_count": None},
        {"ind": 6, "country": "Y", "poster_name": "dan", "follower_count": 0},
        {"ind": 7, "country": None, "poster_name": "eve", "follower_count": 10**9},
        {"ind": 8, "country": "Z", "poster_name": None, "follower_count": 7},
    ]
    got = build(spark, top_user_by_country, postings)
    assertDataFrameEqual(got, [Row(country="X", poster_name="amy", follower_count=900),
                               Row(country="Y", poster_name="dan", follower_count=0)])


def test_medians_exact_continuous_even_and_odd(spark):
    postings = [
        # 25-35, odd count: 1, 7, 1000001 -> 7 (the null follower_count is left out)
        *[{"ind": i, "age": 30, "follower_count": f} for i, f in enumerate([1000001, 1, 7, None])],
        # 36-50, even count: 10, 20, 21, 1000 -> (20 + 21) / 2
        *[{"ind": 10 + i, "age": 40, "follower_count": f} for i, f in enumerate([1000, 21, 10, 20])],
        # under 18: a single value; null age and an all-null group give no row
        {"ind": 20, "age": 3, "follower_count": 5},
        {"ind": 21, "age": None, "follower_count": 5},
        {"ind": 22, "age": 60, "follower_count": None},
        # 18-24, two values far apart: an approximate percentile would miss the mean
        {"ind": 23, "age": 20, "follower_count": 9007199254740990},
        {"ind": 24, "age": 20, "follower_count": 1},
    ]
    got = build(spark, median_followers_by_age_group, postings)
    assertDataFrameEqual(got, [Row(age_group="25-35", median_follower_count=7.0),
                               Row(age_group="36-50", median_follower_count=20.5),
                               Row(age_group="under 18", median_follower_count=5.0),
                               Row(age_group="18-24", median_follower_count=4503599627370495.5)])


def test_median_by_join_year_and_by_age_group_and_join_year(spark):
    j2015, j2016 = datetime(2015, 6, 1), datetime(2016, 6, 1)
    postings = [
        {"ind": 1, "age": 20, "date_joined": j2015, "follower_count": 1},
        {"ind": 2, "age": 20, "date_joined": j2015, "follower_count": 2},
        {"ind": 3, "age": 40, "date_joined": j2015, "follower_count": 10},
        {"ind": 4, "age": 40, "date_joined": j2016, "follower_count": 4},
        {"ind": 5, "age": None, "date_joined": j2016, "follower_count": 6},
        {"ind": 6, "age": 40, "date_joined": None, "follower_count": 100},
    ]
    assertDataFrameEqual(build(spark, median_followers_by_join_year, postings),
                         [Row(join_year=2015, median_follower_count=2.0),
                          Row(join_year=2016, median_follower_count=5.0)])
    assertDataFrameEqual(build(spark, median_followers_by_age_group_and_join_year, postings),
                         [Row(age_group="18-24", join_year=2015, median_follower_count=1.5),
                          Row(age_group="36-50", join_year=2015, median_follower_count=10.0),
                          Row(age_group="36-50", join_year=2016, median_follower_count=4.0)])


def test_users_joined_by_year_counts_silver_users_rows(spark):
    silver = {"silver.pins": pin_rows(spark, []), "silver.geo": geo_rows(spark, []),
              "silver.users": user_rows(spark, [
                  {"ind": 1, "date_joined": datetime(2015, 12, 31, 23, 0)},  # 2016-01-01T01:00+02:00 is 2015
                  {"ind": 2, "date_joined": datetime(2016, 1, 1, 0, 0)},
                  {"ind": 3, "date_joined": datetime(2016, 5, 1)},
                  {"ind": 4, "date_joined": None},
              ])}
    assertDataFrameEqual(build_all(silver)[0][users_joined_by_year.TABLE.name],
                         [Row(join_year=2015, number_users_joined=1), Row(join_year=2016, number_users_joined=2)])


def test_build_all_has_every_table_with_contract_columns(spark):
    built, _ = build_all(silver_of(spark, []))
    assert set(built) == {spec.name for spec in gold_tables()}
    assert {name: df.schema.simpleString() for name, df in built.items()} == {
        "gold.category_by_country": "struct<country:string,category:string,category_count:bigint>",
        "gold.category_by_year": "struct<post_year:int,category:string,category_count:bigint>",
        "gold.top_user_by_country": "struct<country:string,poster_name:string,follower_count:bigint>",
        "gold.category_by_age_group": "struct<age_group:string,category:string,category_count:bigint>",
        "gold.median_followers_by_age_group": "struct<age_group:string,median_follower_count:double>",
        "gold.users_joined_by_year": "struct<join_year:int,number_users_joined:bigint>",
        "gold.median_followers_by_join_year": "struct<join_year:int,median_follower_count:double>",
        "gold.median_followers_by_age_group_and_join_year":
            "struct<age_group:string,join_year:int,median_follower_count:double>",
    }
