"""silver.geo rules of CONTRACT.md section 5: date-times, coordinate ranges, required fields."""

from datetime import datetime

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse.silver import geo
from tests.bronze_rows import bronze

pytestmark = pytest.mark.unit

BAD_TIME = ["invalid_timestamp"]
TIMES = [
    ("2019-01-01T01:00:00+02:00", datetime(2018, 12, 31, 23, 0, 0), []),
    ("2019-01-01 01:00:00+02:00", datetime(2018, 12, 31, 23, 0, 0), []),
    ("2020-03-04T05:06:07Z", datetime(2020, 3, 4, 5, 6, 7), []),
    ("2020-03-04 05:06:07", datetime(2020, 3, 4, 5, 6, 7), []),  # no offset: UTC
    ("2020-03-04T05:06:07.5", datetime(2020, 3, 4, 5, 6, 7, 500000), []),
    ("2020-03-04T05:06:07.123456Z", datetime(2020, 3, 4, 5, 6, 7, 123456), []),
    ("2020-03-04T05:06:07.123456789-05:30", datetime(2020, 3, 4, 10, 36, 7, 123456), []),
    (" 2020-03-04T23:30:00-01:00 ", datetime(2020, 3, 5, 0, 30, 0), []),
    ("2020-03-04T05:06Z", datetime(2020, 3, 4, 5, 6, 0), []),
    ("2020-02-30 00:00:00", None, BAD_TIME),
    ("2020-13-01 00:00:00", None, BAD_TIME),
    ("2020-03-04", None, BAD_TIME),
    ("2020-03-04T25:00:00", None, BAD_TIME),
    ("2020/03/04 05:06:07", None, BAD_TIME),
    ("2020-03-04T05:06:07+0200", None, BAD_TIME),
    ("yesterday", None, BAD_TIME),
    ("", None, BAD_TIME),
    (None, None, BAD_TIME),
    (..., None, BAD_TIME),
]


def record(i: int, **fields) -> dict:
    return {k: v for k, v in {"ind": i, "timestamp": "2020-01-01 00:00:00", **fields}.items() if v is not ...}


def test_event_time_parsing_to_utc(spark):
    got = geo.clean_geo(bronze(spark, "geo", [record(i, timestamp=t) for i, (t, _, _) in enumerate(TIMES)]))
    assertDataFrameEqual(got.select("ind", "event_time", "reasons"),
                         [Row(ind=i, event_time=at, reasons=r) for i, (_, at, r) in enumerate(TIMES)])


def test_coordinate_ranges_inclusive(spark):
    cases = [
        (-90, -180, None, None, []), (90, 180, None, None, []), ("45.5", "-3.25", None, None, []),
        (0, 0.0, None, None, []), (None, None, None, None, []), (..., ..., None, None, []),
        (90.0001, 0, None, None, ["invalid_latitude"]), (-90.5, 0, None, None, ["invalid_latitude"]),
        (0, 180.01, None, None, ["invalid_longitude"]), (0, -181, None, None, ["invalid_longitude"]),
        ("north", "east", None, None, ["invalid_latitude", "invalid_longitude"]),
        (True, "1e2", None, 100.0, ["invalid_latitude"]),
    ]
    records = [record(i, latitude=lat, longitude=lon) for i, (lat, lon, *_) in enumerate(cases)]
    got = geo.clean_geo(bronze(spark, "geo", records)).select("ind", "latitude", "longitude", "reasons")

    def parsed(raw, given):
        return given if given is not None or raw in (None, ..., True) else _number(raw)
    assertDataFrameEqual(got, [Row(ind=i, latitude=parsed(lat, glat), longitude=parsed(lon, glon), reasons=r)
                               for i, (lat, lon, glat, glon, r) in enumerate(cases)])


def _number(raw) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def test_ind_required_and_country_trimmed(spark):
    records = [{"ind": "3", "timestamp": "2020-01-01 00:00:00", "country": " Chile "},
               {"timestamp": "2020-01-01 00:00:00", "country": ""},
               {"ind": -2, "latitude": 100}]
    got = geo.clean_geo(bronze(spark, "geo", records)).select("ind", "country", "reasons")
    assertDataFrameEqual(got, [
        Row(ind=3, country="Chile", reasons=[]),
        Row(ind=None, country=None, reasons=["invalid_ind"]),
        Row(ind=-2, country=None, reasons=["invalid_ind", "invalid_latitude", "invalid_timestamp"]),
    ])


def test_build_geo_one_row_per_ind_with_contract_columns(spark):
    records = [record(1, country="A"), record(1, country="B"), record(2, country="C", latitude=99)]
    got = geo.build_geo(geo.clean_geo(bronze(spark, "geo", records)))
    assert got.columns == geo.COLUMNS
    assertDataFrameEqual(got.select("ind", "event_time", "country", "source_offset"),
                         [Row(ind=1, event_time=datetime(2020, 1, 1), country="B", source_offset=1)])
