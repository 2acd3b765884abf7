"""`to_bronze` and `to_raw_bytes` on batch frames built from inline Kafka rows."""

from datetime import date, datetime, timezone

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse.bronze.schema import BRONZE_SCHEMA, KAFKA_SOURCE_SCHEMA, RAW_BYTES_SCHEMA, TOPIC_TABLES
from lakehouse.bronze.transform import to_bronze, to_raw_bytes, utc_date

pytestmark = pytest.mark.unit

UTC = timezone.utc
INGESTED = datetime(2026, 11, 5, 8, 0, 0, tzinfo=UTC)
EID = "0b0c3c52-9f1e-4a57-9e59-1c4f6f0d2a10"
PIN = b'{"index": 7, "unique_id": "9f1e", "title": "  keep me  ", "extra": [1, 2]}'


def _headers(*pairs):
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs]


def _kafka(spark, rows):
    """(key, value, topic, partition, offset, timestamp, headers) tuples as a Kafka source frame."""
    return spark.createDataFrame([(k, v, t, p, o, ts, 0, h) for k, v, t, p, o, ts, h in rows],
                                 KAFKA_SOURCE_SCHEMA)


KAFKA_ROWS = [
    # An API message: JSON value, both headers, RFC 3339 with fraction and Z.
    (b"9f1e", PIN, "pinterest.pin", 0, 41, datetime(2026, 11, 3, 23, 59, 59, 999999, tzinfo=UTC),
     _headers(("event_id", EID), ("received_at", "2026-11-03T23:59:59.5Z"))),
    # Not JSON; received_at with an offset is stored in UTC; the next UTC day is the partition.
    (b"12", b"not json, just text \xc3\xa9", "pinterest.geo", 2, 0, datetime(2026, 11, 4, 0, 0, tzinfo=UTC),
     _headers(("received_at", "2026-11-04T01:30:00+02:00"), ("event_id", "e-2"))),
    # Neither key nor headers; an empty value.
    (None, b"", "pinterest.user", 1, 9, datetime(2026, 1, 1, 12, 0, tzinfo=UTC), None),
    # A repeated header: the last wins (Kafka's lastHeader); lower-case RFC 3339 separators.
    (b"k", b"[1,2,3]", "pinterest.user", 0, 3, datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
     _headers(("event_id", "first"), ("received_at", "2026-06-30t22:00:00z"), ("event_id", "last"))),
    # Not a date-time: null, never an error; a tombstone (null value) lands as null.
    (b"k2", None, "pinterest.geo", 0, 5, datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
     _headers(("received_at", "yesterday"), ("other", b"\x00\x01"))),
    # An empty header list: no event_id, no received_at.
    (b"k3", b"{}", "pinterest.pin", 2, 8, datetime(2026, 6, 30, 23, 0, tzinfo=UTC), []),
    # Not UTF-8 at all: each invalid sequence becomes U+FFFD, the exact bytes go to raw_bytes.
    (b"\xffkey", b"\xff\xfe{\"ind\": 1}\xc3", "pinterest.geo", 1, 77, datetime(2026, 2, 1, tzinfo=UTC),
     _headers(("event_id", b"\xffid"))),
]


def test_to_bronze_whole_frame(spark):
    got = to_bronze(_kafka(spark, KAFKA_ROWS), ingested_at=F.lit(INGESTED))

    expected = spark.createDataFrame([
        (EID, datetime(2026, 11, 3, 23, 59, 59, 500000, tzinfo=UTC), "9f1e", PIN.decode(), "pinterest.pin",
         0, 41, datetime(2026, 11, 3, 23, 59, 59, 999999, tzinfo=UTC), INGESTED, date(2026, 11, 3)),
        ("e-2", datetime(2026, 11, 3, 23, 30, tzinfo=UTC), "12", "not json, just text é", "pinterest.geo",
         2, 0, datetime(2026, 11, 4, tzinfo=UTC), INGESTED, date(2026, 11, 4)),
        (None, None, None, "", "pinterest.user", 1, 9, datetime(2026, 1, 1, 12, tzinfo=UTC), INGESTED,
         date(2026, 1, 1)),
        ("last", datetime(2026, 6, 30, 22, tzinfo=UTC), "k", "[1,2,3]", "pinterest.user", 0, 3,
         datetime(2026, 6, 30, 23, tzinfo=UTC), INGESTED, date(2026, 6, 30)),
        (None, None, "k2", None, "pinterest.geo", 0, 5, datetime(2026, 6, 30, 23, tzinfo=UTC), INGESTED,
         date(2026, 6, 30)),
        (None, None, "k3", "{}", "pinterest.pin", 2, 8, datetime(2026, 6, 30, 23, tzinfo=UTC), INGESTED,
         date(2026, 6, 30)),
        ("\ufffdid", None, "\ufffdkey", '\ufffd\ufffd{"ind": 1}\ufffd', "pinterest.geo", 1, 77,
         datetime(2026, 2, 1, tzinfo=UTC), INGESTED, date(2026, 2, 1)),
    ], BRONZE_SCHEMA)
    assertDataFrameEqual(got, expected)
    assert [(f.name, f.dataType) for f in got.schema] == [(f.name, f.dataType) for f in BRONZE_SCHEMA]


@pytest.mark.parametrize("all_utf8", [False, True])
def test_valid_utf8_values_are_byte_for_byte_unchanged(spark, all_utf8):
    values = [PIN, b"plain text", "emoji \U0001f600 and \u00e9".encode(), b"\x00\x7f", b"{broken json"]
    rows = [(None, v, "pinterest.pin", 0, i, datetime(2026, 1, 1, tzinfo=UTC), None) for i, v in enumerate(values)]
    got = to_bronze(_kafka(spark, rows), all_utf8=all_utf8).select(F.col("value").cast("binary").alias("value"),
                                                                  "offset")
    assert {r.offset: bytes(r.value) for r in got.collect()} == dict(enumerate(values))


def test_the_cast_for_a_batch_known_valid_gives_the_same_rows_as_the_repair(spark):
    valid = _kafka(spark, KAFKA_ROWS[:-1])  # every row but the undecodable one
    assertDataFrameEqual(to_bronze(valid, F.lit(INGESTED), all_utf8=True), to_bronze(valid, F.lit(INGESTED)))


def test_to_raw_bytes_keeps_exact_bytes_of_undecodable_messages_only(spark):
    got = to_raw_bytes(_kafka(spark, KAFKA_ROWS), ingested_at=F.lit(INGESTED))

    expected = spark.createDataFrame([
        ("pinterest.geo", 1, 77, bytearray(b"\xffkey"), bytearray(b"\xff\xfe{\"ind\": 1}\xc3"),
         datetime(2026, 2, 1, tzinfo=UTC), INGESTED, date(2026, 2, 1)),
    ], RAW_BYTES_SCHEMA)
    assertDataFrameEqual(got, expected)


def test_ingest_date_is_the_utc_date_whatever_the_session_time_zone(spark):
    rows = [(None, b"x", "pinterest.pin", 0, 0, datetime(2026, 3, 1, 2, 0, tzinfo=UTC), None)]
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")  # 2026-02-28 18:00 there
    try:
        got = to_bronze(_kafka(spark, rows)).select("ingest_date").collect()
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    assert got[0].ingest_date == date(2026, 3, 1)


def test_utc_date_before_1970_rounds_down(spark):
    df = spark.createDataFrame([(datetime(1969, 12, 31, 23, 0, tzinfo=UTC),)], "ts timestamp")
    assert df.select(utc_date(F.col("ts")).alias("d")).first().d == date(1969, 12, 31)


def test_one_table_per_topic():
    assert TOPIC_TABLES == {"pinterest.pin": "bronze.pin_events", "pinterest.geo": "bronze.geo_events",
                            "pinterest.user": "bronze.user_events"}
