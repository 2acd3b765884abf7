"""Gold's shared rules (CONTRACT.md section 6): each table's own inner join, UTC years, age groups."""

from datetime import datetime, timezone

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse.gold.common import facts
from tests.silver_rows import geo_rows, pin_rows, user_rows

WITH_GEO = ("silver.pins", "silver.geo")
WITH_USERS = ("silver.pins", "silver.users")


def pin_facts(pins, geo, users, inputs):
    """The facts of a gold table reading `inputs`, from these silver frames."""
    return facts({"silver.pins": pins, "silver.geo": geo, "silver.users": users}, inputs)

pytestmark = pytest.mark.unit


def utc(text: str) -> datetime:
    """An ISO-8601 instant as the naive UTC datetime Spark's TIMESTAMP round-trips."""
    return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None)


AGES = [(0, "under 18"), (17, "under 18"), (18, "18-24"), (24, "18-24"), (25, "25-35"), (35, "25-35"),
        (36, "36-50"), (50, "36-50"), (51, "50+"), (130, "50+"), (None, None)]


def test_age_group_boundaries(spark):
    n = len(AGES)
    got = pin_facts(pin_rows(spark, [{"ind": i} for i in range(n)]), geo_rows(spark, []),
                    user_rows(spark, [{"ind": i, "age": age} for i, (age, _) in enumerate(AGES)]), WITH_USERS)
    assertDataFrameEqual(got.select("ind", "age_group"),
                         [Row(ind=i, age_group=group) for i, (_, group) in enumerate(AGES)])


YEARS = [("2019-01-01T01:00:00+02:00", 2018), ("2018-12-31T23:30:00-01:00", 2019),
         ("2019-12-31T23:59:59.999999+00:00", 2019), ("2020-01-01T00:00:00+00:00", 2020)]


@pytest.mark.parametrize("session_zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_post_and_join_years_are_utc_years_whatever_the_session_zone(spark, session_zone):
    pins = pin_rows(spark, [{"ind": i} for i in range(len(YEARS))])
    geo = geo_rows(spark, [{"ind": i, "event_time": utc(t)} for i, (t, _) in enumerate(YEARS)])
    users = user_rows(spark, [{"ind": i, "date_joined": utc(t)} for i, (t, _) in enumerate(YEARS)])
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", session_zone)
    try:
        posted = pin_facts(pins, geo, users, WITH_GEO).select("ind", "post_year").collect()
        joined = pin_facts(pins, geo, users, WITH_USERS).select("ind", "join_year").collect()
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    assert sorted(posted) == [Row(ind=i, post_year=y) for i, (_, y) in enumerate(YEARS)]
    assert sorted(joined) == [Row(ind=i, join_year=y) for i, (_, y) in enumerate(YEARS)]


def test_pins_join_only_the_table_a_gold_table_groups_by_inner_on_ind(spark):
    """Contract v2: pin 2 has no user row and still has its country; pin 3 has no geo row and
    still has its age group; pin 4's geo and user rows have no pin and count nowhere."""
    pins = pin_rows(spark, [{"ind": 1, "category": "a"}, {"ind": 1, "category": "b"}, {"ind": 2, "category": "c"},
                            {"ind": 3, "category": "d"}])
    geo = geo_rows(spark, [{"ind": 1, "country": "X"}, {"ind": 2, "country": "Y"}, {"ind": 4, "country": "Z"}])
    users = user_rows(spark, [{"ind": 1, "age": 20}, {"ind": 3, "age": 30}, {"ind": 4, "age": 40}])
    assertDataFrameEqual(pin_facts(pins, geo, users, WITH_GEO).select("ind", "category", "country"),
                         [Row(ind=1, category="a", country="X"), Row(ind=1, category="b", country="X"),
                          Row(ind=2, category="c", country="Y")])
    assertDataFrameEqual(pin_facts(pins, geo, users, WITH_USERS).select("ind", "category", "age_group"),
                         [Row(ind=1, category="a", age_group="18-24"), Row(ind=1, category="b", age_group="18-24"),
                          Row(ind=3, category="d", age_group="25-35")])


def test_users_alone_are_every_silver_users_row(spark):
    users = user_rows(spark, [{"ind": 1, "age": 20}, {"ind": 5, "age": None}])
    got = pin_facts(pin_rows(spark, []), geo_rows(spark, []), users, ("silver.users",))
    assertDataFrameEqual(got.select("ind", "age_group"), [Row(ind=1, age_group="18-24"), Row(ind=5, age_group=None)])


def test_join_year_of_a_null_date_is_null(spark):
    got = pin_facts(pin_rows(spark, [{"ind": 1}]), geo_rows(spark, [{"ind": 1}]),
                    user_rows(spark, [{"ind": 1, "date_joined": None}]), WITH_USERS)
    assert got.select("join_year").collect() == [Row(join_year=None)]
