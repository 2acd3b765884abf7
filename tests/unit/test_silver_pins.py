"""silver.pins rules of CONTRACT.md section 5, one field at a time, over inline bronze rows."""

import uuid
from datetime import timedelta

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lakehouse.silver import pins
from tests.bronze_rows import T0, bronze, bronze_rows, event

pytestmark = pytest.mark.unit

UID = [str(uuid.UUID(int=i)) for i in range(100)]


def pin(i: int, **fields) -> dict:
    """A valid pin record for posting `i`, with `fields` set or (value None) removed."""
    record = {"index": i, "unique_id": UID[i], **fields}
    return {k: v for k, v in record.items() if v is not ...}


def checked(spark, records, *columns):
    frame = pins.clean_pins(bronze(spark, "pin", records))
    return frame.select("ind", *columns, "reasons")


def test_string_rules_trim_empty_and_placeholders(spark):
    records = [
        pin(0, title="  A title ", description=" text ", poster_name=" Ann ", image_src=" http://x/a.jpg ",
            save_location="Local save in /data/art", category=" Travel "),
        pin(1, title="No Title Data Available", description="No description available Story format",
            poster_name="User Info Error", image_src="Image src error.", save_location="  /data/diy ",
            category="DIY-and-CRAFTS"),
        pin(2, title="", description="   ", poster_name="", image_src="", save_location="Local save in ",
            category=""),
        pin(3, title=" No Title Data Available ", description="No description available",
            poster_name="User Info Errors", image_src="image src error.", save_location="local save in /x",
            category=None),
        pin(4),
    ]
    got = checked(spark, records, "title", "description", "poster_name", "image_src", "save_location", "category")
    assertDataFrameEqual(got, [
        Row(ind=0, title="A title", description="text", poster_name="Ann", image_src="http://x/a.jpg",
            save_location="/data/art", category="travel", reasons=[]),
        Row(ind=1, title=None, description=None, poster_name=None, image_src=None, save_location="/data/diy",
            category="diy-and-crafts", reasons=[]),
        Row(ind=2, title=None, description=None, poster_name=None, image_src=None, save_location=None,
            category=None, reasons=[]),
        Row(ind=3, title=None, description=None, poster_name="User Info Errors", image_src="image src error.",
            save_location="local save in /x", category=None, reasons=[]),
        Row(ind=4, title=None, description=None, poster_name=None, image_src=None, save_location=None,
            category=None, reasons=[]),
    ])


FOLLOWERS = [
    ("8k", 8000, []), ("1.2M", 1_200_000, []), ("731", 731, []), (731, 731, []), ("8K", 8000, []),
    ("1.2m", 1_200_000, []), (" 12k ", 12_000, []), ("0.0005k", 1, []), ("2.4994k", 2499, []),
    ("2.4995k", 2500, []), ("1.0000005M", 1_000_001, []), ("0", 0, []), (0, 0, []), ("12.5", 13, []),
    ("User Info Error", None, []), ("", None, []), (None, None, []), (..., None, []),
    ("-5", -5, ["invalid_follower_count"]), ("-1k", -1000, ["invalid_follower_count"]),
    ("abc", None, ["invalid_follower_count"]), ("8kk", None, ["invalid_follower_count"]),
    ("8 k", None, ["invalid_follower_count"]), ("1e3", None, ["invalid_follower_count"]),
    ("k", None, ["invalid_follower_count"]), ("99999999999999999999M", None, ["invalid_follower_count"]),
]


def test_follower_count_suffixes_rounding_and_errors(spark):
    records = [pin(i, follower_count=raw) for i, (raw, _, _) in enumerate(FOLLOWERS)]
    got = checked(spark, records, "follower_count")
    assertDataFrameEqual(got, [Row(ind=i, follower_count=value, reasons=codes)
                               for i, (_, value, codes) in enumerate(FOLLOWERS)])


def test_tags_split_trimmed_empties_dropped_order_kept(spark):
    cases = [("b, a ,,c ,", ["b", "a", "c"]), ("solo", ["solo"]), ("N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", None),
             ("", None), (None, None), (" , ,", []), ("x,y,x", ["x", "y", "x"])]
    got = checked(spark, [pin(i, tag_list=raw) for i, (raw, _) in enumerate(cases)], "tags")
    assertDataFrameEqual(got, [Row(ind=i, tags=tags, reasons=[]) for i, (_, tags) in enumerate(cases)])


def test_media_type_mapping(spark):
    cases = [("image", "image", []), ("video", "video", []), ("multi-video(story page format)", "story", []),
             (" video ", "video", []), (None, None, []), ("", None, []), (..., None, []),
             ("gif", None, ["invalid_media_type"]), ("Image", None, ["invalid_media_type"]),
             ("story", None, ["invalid_media_type"])]
    got = checked(spark, [pin(i, is_image_or_video=raw) for i, (raw, _, _) in enumerate(cases)], "media_type")
    assertDataFrameEqual(got, [Row(ind=i, media_type=m, reasons=r) for i, (_, m, r) in enumerate(cases)])


def test_downloaded(spark):
    cases = [(1, True, []), (0, False, []), ("1", True, []), ("0", False, []), (1.0, True, []),
             (None, None, []), (..., None, []), (2, None, ["invalid_downloaded"]),
             ("yes", None, ["invalid_downloaded"]), (True, None, ["invalid_downloaded"]),
             (-1, None, ["invalid_downloaded"])]
    got = checked(spark, [pin(i, downloaded=raw) for i, (raw, _, _) in enumerate(cases)], "downloaded")
    assertDataFrameEqual(got, [Row(ind=i, downloaded=d, reasons=r) for i, (_, d, r) in enumerate(cases)])


def test_index_and_unique_id(spark):
    upper = "A0B1C2D3-E4F5-4789-ABCD-EF0123456789"
    records = [
        {"index": "7", "unique_id": upper},
        {"index": 8.0, "unique_id": f" {UID[8]} "},
        {"index": 0, "unique_id": UID[0]},
        {"index": -1, "unique_id": UID[1]},
        {"index": 1.5, "unique_id": UID[2]},
        {"index": "x", "unique_id": UID[3]},
        {"unique_id": UID[4]},
        {"index": 5, "unique_id": "{" + UID[5] + "}"},
        {"index": 6, "unique_id": UID[6].replace("-", "")},
        {"index": 9},
        {"index": 10, "unique_id": ""},
        {"index": 99999999999999999999, "unique_id": UID[7]},
    ]
    got = pins.clean_pins(bronze(spark, "pin", records)).select("source_offset", "ind", "unique_id", "reasons")
    bad_id, bad_ind = ["invalid_unique_id"], ["invalid_ind"]
    assertDataFrameEqual(got, [
        Row(source_offset=0, ind=7, unique_id=upper.lower(), reasons=[]),
        Row(source_offset=1, ind=8, unique_id=UID[8], reasons=[]),
        Row(source_offset=2, ind=0, unique_id=UID[0], reasons=[]),
        Row(source_offset=3, ind=-1, unique_id=UID[1], reasons=bad_ind),
        Row(source_offset=4, ind=None, unique_id=UID[2], reasons=bad_ind),
        Row(source_offset=5, ind=None, unique_id=UID[3], reasons=bad_ind),
        Row(source_offset=6, ind=None, unique_id=UID[4], reasons=bad_ind),
        Row(source_offset=7, ind=5, unique_id=None, reasons=bad_id),
        Row(source_offset=8, ind=6, unique_id=None, reasons=bad_id),
        Row(source_offset=9, ind=9, unique_id=None, reasons=bad_id),
        Row(source_offset=10, ind=10, unique_id=None, reasons=bad_id),
        Row(source_offset=11, ind=None, unique_id=UID[7], reasons=bad_ind),
    ])


def test_every_reason_at_once_sorted(spark):
    record = {"index": -3, "unique_id": "nope", "follower_count": "lots", "is_image_or_video": "gif",
              "downloaded": 7}
    got = checked(spark, [record])
    assertDataFrameEqual(got, [Row(ind=-3, reasons=[
        "invalid_downloaded", "invalid_follower_count", "invalid_ind", "invalid_media_type", "invalid_unique_id"])])


def test_build_pins_keeps_latest_version_with_provenance(spark):
    v = lambda title: pin(1, title=title)  # noqa: E731
    rows = [
        event("pin", v("old"), offset=10, partition=0, seconds=0),
        event("pin", v("newest by time"), offset=3, partition=0, seconds=50),
        event("pin", v("same time, lower partition"), offset=99, partition=1, seconds=60),
        event("pin", v("same time, higher partition, low offset"), offset=5, partition=2, seconds=60),
        event("pin", v("same time and partition, higher offset"), offset=6, partition=2, seconds=60),
        event("pin", pin(2, title="other"), offset=11, partition=0, seconds=1),
        event("pin", pin(3, title="rejected newer", downloaded=5), offset=12, partition=0, seconds=99),
        event("pin", pin(3, title="accepted older"), offset=13, partition=0, seconds=2),
    ]
    got = pins.build_pins(pins.clean_pins(bronze_rows(spark, rows)))
    expected = [
        (UID[1], "same time and partition, higher offset", 2, 6, 60),
        (UID[2], "other", 0, 11, 1),
        (UID[3], "accepted older", 0, 13, 2),
    ]
    assertDataFrameEqual(got, [
        Row(ind=int(uid[-1]), unique_id=uid, title=title, description=None, poster_name=None,
            follower_count=None, tags=None, media_type=None, image_src=None, downloaded=None,
            save_location=None, category=None, event_id=f"pin-{p}-{o}", received_at=T0 + timedelta(seconds=s),
            source_partition=p, source_offset=o, kafka_timestamp=T0 + timedelta(seconds=s))
        for uid, title, p, o, s in expected
    ])
    assert got.schema.simpleString() == pins.PINS_SCHEMA.simpleString()


def test_white_space_is_any_unicode_space_not_only_blanks(spark):
    records = [pin(0, title="\t Tab title \n", poster_name="\u00a0Ann\u3000", tag_list="x,\ty\r\n, \u2003 ,z"),
               pin(1, title=" \t\n ", category="\tART\n"),
               # white space at one end only: each end is stripped on its own
               pin(2, title="Last\u2003", poster_name="\u3000First")]
    got = checked(spark, records, "title", "poster_name", "tags", "category")
    assertDataFrameEqual(got, [
        Row(ind=0, title="Tab title", poster_name="Ann", tags=["x", "y", "z"], category=None, reasons=[]),
        Row(ind=1, title=None, poster_name=None, tags=None, category="art", reasons=[]),
        Row(ind=2, title="Last", poster_name="First", tags=None, category=None, reasons=[]),
    ])
