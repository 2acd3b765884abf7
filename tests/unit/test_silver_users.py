"""silver.users rules of CONTRACT.md section 5: user_name, age range, date_joined."""

from datetime import datetime

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse.silver import users
from tests.bronze_rows import bronze

pytestmark = pytest.mark.unit


def record(i: int, **fields) -> dict:
    return {k: v for k, v in {"ind": i, **fields}.items() if v is not ...}


def checked(spark, records, *columns):
    return users.clean_users(bronze(spark, "user", records)).select("ind", *columns, "reasons")


def test_user_name_joins_first_and_last(spark):
    cases = [("Ann", "Lee", "Ann Lee"), (" Ann ", " Lee ", "Ann Lee"), ("Ann", None, "Ann"), (None, "Lee", "Lee"),
             ("", "Lee", "Lee"), ("Ann", "  ", "Ann"), (None, None, None), ("", "", None), (..., ..., None),
             ("Mary Ann", "van Dyke", "Mary Ann van Dyke")]
    got = checked(spark, [record(i, first_name=f, last_name=l) for i, (f, l, _) in enumerate(cases)], "user_name")
    assertDataFrameEqual(got, [Row(ind=i, user_name=n, reasons=[]) for i, (_, _, n) in enumerate(cases)])


def test_age_range_inclusive_and_numeric_strings(spark):
    bad = ["invalid_age"]
    cases = [(0, 0, []), (130, 130, []), ("42", 42, []), (30.0, 30, []), (None, None, []), (..., None, []),
             ("", None, []), (-1, None, bad), (131, None, bad), (30.5, None, bad), ("old", None, bad),
             (99999999999, None, bad), (False, None, bad)]
    got = checked(spark, [record(i, age=a) for i, (a, _, _) in enumerate(cases)], "age")
    assertDataFrameEqual(got, [Row(ind=i, age=a, reasons=r) for i, (_, a, r) in enumerate(cases)])


def test_date_joined_null_allowed_unparseable_quarantined(spark):
    bad = ["invalid_date_joined"]
    cases = [("2015-10-10 10:10:10", datetime(2015, 10, 10, 10, 10, 10), []),
             ("2016-01-01T00:30:00+01:00", datetime(2015, 12, 31, 23, 30), []),
             (None, None, []), (..., None, []), ("", None, []),
             ("2015-10-32 00:00:00", None, bad), ("10/10/2015", None, bad)]
    got = checked(spark, [record(i, date_joined=d) for i, (d, _, _) in enumerate(cases)], "date_joined")
    assertDataFrameEqual(got, [Row(ind=i, date_joined=d, reasons=r) for i, (_, d, r) in enumerate(cases)])


def test_ind_rules_and_all_reasons_sorted(spark):
    records = [{"first_name": "x"}, {"ind": "-1", "age": 200, "date_joined": "soon"}, {"ind": " 12 "}]
    got = checked(spark, records)
    assertDataFrameEqual(got, [
        Row(ind=None, reasons=["invalid_ind"]),
        Row(ind=-1, reasons=["invalid_age", "invalid_date_joined", "invalid_ind"]),
        Row(ind=12, reasons=[]),
    ])


def test_build_users_one_row_per_ind_with_contract_columns(spark):
    records = [record(5, first_name="Old"), record(5, first_name="New", age=20), record(6, age=999)]
    got = users.build_users(users.clean_users(bronze(spark, "user", records)))
    assert got.schema.simpleString() == users.USERS_SCHEMA.simpleString()
    assertDataFrameEqual(got.select("ind", "user_name", "age", "date_joined", "source_offset"),
                         [Row(ind=5, user_name="New", age=20, date_joined=None, source_offset=1)])
