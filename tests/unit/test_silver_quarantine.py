"""silver.quarantine rows (CONTRACT.md section 5): malformed JSON and every rejected row, in full."""

from datetime import datetime, timedelta

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse.silver import geo, pins, quarantine, users
from tests.bronze_rows import T0, bronze

pytestmark = pytest.mark.unit

NOT_OBJECTS = [
    "not json", "[1, 2]", '[{"ind": 1}]', '"a string"', "123", "null", "true", "", "   ", None,
    '{"ind": 1', '{"ind": 1} trailing', '{"ind": 1}}', '{"ind": 1}]', '{"ind": 1}{"ind": 2}',
    '{"ind": 1}, {"ind": 2}', '{"ind": 1}]{"ind": 2}', '{"ind": 1}] }', "{'ind': 1}",
    '{"ind": NaN, "timestamp": "2020-01-01 00:00:00"}',
    '{ind: 1}',
]


@pytest.mark.parametrize("check", [pins.clean_pins, geo.clean_geo, users.clean_users],
                         ids=["pins", "geo", "users"])
def test_a_value_that_is_not_one_json_object_has_the_single_reason_malformed_json(spark, check):
    kind = {pins.clean_pins: "pin", geo.clean_geo: "geo", users.clean_users: "user"}[check]
    got = check(bronze(spark, kind, NOT_OBJECTS)).select("source_offset", "reasons")
    assertDataFrameEqual(got, [Row(source_offset=i, reasons=["malformed_json"]) for i in range(len(NOT_OBJECTS))])


def test_json_objects_with_spacing_and_unknown_fields_are_accepted(spark):
    values = ['  {"ind": 1, "timestamp": "2020-01-01 00:00:00", "extra": {"a": [1]}}  ',
              '{\n "ind" : 2 ,\n "timestamp" : "2020-01-01 00:00:00"\n}',
              '{"ind": 3, "timestamp": "2020-01-01 00:00:00", "country": "caf\\u00e9 {x}]"}']
    got = geo.clean_geo(bronze(spark, "geo", values)).select("ind", "country", "reasons")
    assertDataFrameEqual(got, [Row(ind=1, country=None, reasons=[]), Row(ind=2, country=None, reasons=[]),
                               Row(ind=3, country="café {x}]", reasons=[])])


def test_quarantine_rows_carry_source_raw_text_and_sorted_reasons(spark):
    at = datetime(2024, 6, 1, 8, 0, 0)
    values = [{"ind": 1, "first_name": "ok"}, "{broken", {"ind": -5, "age": 131, "date_joined": "later"}]
    checked = users.clean_users(bronze(spark, "user", values, partition=2, first_offset=40))
    got = quarantine.build_quarantine(checked, at)
    assert got.schema.simpleString() == quarantine.QUARANTINE_SCHEMA.simpleString()
    assertDataFrameEqual(got, [
        Row(source_topic="pinterest.user", source_partition=2, source_offset=41, event_id="user-2-41",
            received_at=T0 + timedelta(seconds=41), raw="{broken", reasons=["malformed_json"], quarantined_at=at),
        Row(source_topic="pinterest.user", source_partition=2, source_offset=42, event_id="user-2-42",
            received_at=T0 + timedelta(seconds=42), raw='{"ind": -5, "age": 131, "date_joined": "later"}',
            reasons=["invalid_age", "invalid_date_joined", "invalid_ind"], quarantined_at=at),
    ])


def test_every_checked_row_is_either_accepted_or_quarantined(spark):
    values = [{"index": 1, "unique_id": "00000000-0000-0000-0000-000000000001"}, "junk",
              {"index": 1, "unique_id": "00000000-0000-0000-0000-000000000001", "title": "v2"},
              {"index": 2, "unique_id": "bad"}]
    checked = pins.clean_pins(bronze(spark, "pin", values))
    accepted = checked.where("size(reasons) = 0").select("source_offset")
    rejected = quarantine.build_quarantine(checked, datetime(2024, 1, 1)).select("source_offset")
    assertDataFrameEqual(accepted.unionByName(rejected), [Row(source_offset=i) for i in range(4)])
