"""The API checks presence and JSON types, nothing more, and names every bad item and field."""

import json

import pytest

from ingest.models import MAX_BATCH_ITEMS
from ingest.validation import Invalid, Message, parse_batch, parse_record

pytestmark = pytest.mark.unit
LIMIT = 1_000_000
PIN = {"index": 7, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf"}
GEO = {"ind": 7, "timestamp": "2018-09-08 22:12:53"}
USER = {"ind": 7}
VALID = {"pin": PIN, "geo": GEO, "user": USER}


def _problems(call) -> list[dict]:
    with pytest.raises(Invalid) as caught:
        call()
    assert caught.value.status == 422
    return caught.value.problems


def _short(problems: list[dict]) -> list[tuple]:
    return [(p["item"], p["field"], p["type"]) for p in problems]


def test_a_valid_record_becomes_its_key_and_its_exact_bytes():
    body = b'{"index": 7,  "unique_id": "ABC-not-a-uuid", "follower_count": "8k", "extra": {"kept": [1, 2]}}'
    assert parse_record("pin", body, LIMIT) == Message("pin", b"ABC-not-a-uuid", body)
    assert parse_record("geo", b'{"ind": 12, "timestamp": "x"}', LIMIT).key == b"12"
    assert parse_record("user", b'{"ind": -3}', LIMIT).key == b"-3"


@pytest.mark.parametrize("kind, record", [
    ("pin", {**PIN, "follower_count": "User Info Error", "title": "No Title Data Available",
             "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "downloaded": 7, "index": -1}),
    ("pin", {**PIN, "follower_count": 731, "is_image_or_video": "multi-video(story page format)"}),
    ("pin", {**PIN, "title": None, "description": None, "follower_count": None, "downloaded": None}),
    ("geo", {**GEO, "latitude": 512.5, "longitude": -999, "timestamp": "not a date", "country": ""}),
    ("geo", b'{"ind": 7, "timestamp": "t", "latitude": 1e400}'),
    ("user", {**USER, "age": 999, "date_joined": "2019-13-45", "first_name": None}),
    ("user", {"ind": 123456789012345678901234567890, "unknown": [None, True, 1.5]}),
])
def test_dirty_values_of_the_right_json_type_are_accepted(kind, record):
    body = record if isinstance(record, bytes) else json.dumps(record).encode()
    assert parse_record(kind, body, LIMIT).value == body


@pytest.mark.parametrize("kind, record, field, problem, got", [
    ("pin", {"unique_id": "u"}, "index", "missing", None),
    ("pin", {"index": 1}, "unique_id", "missing", None),
    ("pin", {**PIN, "index": True}, "index", "wrong_type", "boolean"),
    ("pin", {**PIN, "index": 1.5}, "index", "wrong_type", "number"),
    ("pin", {**PIN, "index": "7"}, "index", "wrong_type", "string"),
    ("pin", {**PIN, "index": None}, "index", "wrong_type", "null"),
    ("pin", {**PIN, "unique_id": 42}, "unique_id", "wrong_type", "integer"),
    ("pin", {**PIN, "follower_count": 1.5}, "follower_count", "wrong_type", "number"),
    ("pin", {**PIN, "follower_count": False}, "follower_count", "wrong_type", "boolean"),
    ("pin", {**PIN, "title": 3}, "title", "wrong_type", "integer"),
    ("pin", {**PIN, "tag_list": ["a", "b"]}, "tag_list", "wrong_type", "array"),
    ("pin", {**PIN, "downloaded": True}, "downloaded", "wrong_type", "boolean"),
    ("pin", {**PIN, "downloaded": "1"}, "downloaded", "wrong_type", "string"),
    ("pin", {**PIN, "category": {"name": "art"}}, "category", "wrong_type", "object"),
    ("geo", {"ind": 1}, "timestamp", "missing", None),
    ("geo", {**GEO, "timestamp": None}, "timestamp", "wrong_type", "null"),
    ("geo", {**GEO, "timestamp": 1554652800}, "timestamp", "wrong_type", "integer"),
    ("geo", {**GEO, "latitude": "40.7"}, "latitude", "wrong_type", "string"),
    ("geo", {**GEO, "longitude": True}, "longitude", "wrong_type", "boolean"),
    ("geo", {**GEO, "ind": 2.0}, "ind", "wrong_type", "number"),
    ("user", {}, "ind", "missing", None),
    ("user", {"ind": 1, "age": 30.5}, "age", "wrong_type", "number"),
    ("user", {"ind": 1, "age": "30"}, "age", "wrong_type", "string"),
    ("user", {"ind": 1, "date_joined": 20190101}, "date_joined", "wrong_type", "integer"),
    ("user", {"ind": 1, "first_name": False}, "first_name", "wrong_type", "boolean"),
])
def test_each_wrong_record_is_refused_naming_its_field(kind, record, field, problem, got):
    problems = _problems(lambda: parse_record(kind, json.dumps(record).encode(), LIMIT))
    assert len(problems) == 1
    assert problems[0]["field"] == field and problems[0]["type"] == problem
    assert problems[0]["loc"] == ["body", field] and problems[0]["item"] is None
    assert problems[0].get("got") == got
    assert field in problems[0]["msg"]


def test_every_bad_field_of_a_record_is_named():
    body = json.dumps({"index": True, "title": 5, "follower_count": [1]}).encode()
    assert _short(_problems(lambda: parse_record("pin", body, LIMIT))) == [
        (None, "index", "wrong_type"), (None, "unique_id", "missing"),
        (None, "title", "wrong_type"), (None, "follower_count", "wrong_type")]


@pytest.mark.parametrize("body, problem", [
    (b"{not json", "json_invalid"), (b"", "json_invalid"), (b'{"ind": NaN}', "json_invalid"),
    (b'{"ind": 1, "first_name": "\xff"}', "json_invalid"), (b"[1, 2]", "wrong_type"), (b'"a"', "wrong_type"),
])
def test_a_body_that_is_not_a_json_object_is_refused(body, problem):
    problems = _problems(lambda: parse_record("user", body, LIMIT))
    assert [(p["loc"], p["type"]) for p in problems] == [(["body"], problem)]


def _batch(*items) -> bytes:
    return json.dumps(list(items)).encode()


def test_a_valid_batch_keeps_each_record_as_its_exact_bytes_in_order():
    body = b'[{"type": "pin", "record": {"index": 7,"unique_id":"u-1", "new": 1}},' \
           b' {"record": {"ind": 8, "timestamp": "t"}, "type": "geo"}, {"type":"user","record":{"ind":9}}]'
    assert parse_batch(body, LIMIT) == [
        Message("pin", b"u-1", b'{"index": 7,"unique_id":"u-1", "new": 1}'),
        Message("geo", b"8", b'{"ind": 8, "timestamp": "t"}'),
        Message("user", b"9", b'{"ind":9}'),
    ]


def test_a_batch_with_a_number_beyond_64_bits_is_valid_and_kept_exactly():
    body = b'[{"type": "user", "record": {"ind": 123456789012345678901234567890}}]'
    assert parse_batch(body, LIMIT) == [Message("user", b"123456789012345678901234567890",
                                                b'{"ind": 123456789012345678901234567890}')]


def test_one_bad_item_rejects_the_batch_naming_item_and_field():
    body = _batch({"type": "pin", "record": PIN}, {"type": "geo", "record": GEO},
                  {"type": "user", "record": {"ind": True}})
    problems = _problems(lambda: parse_batch(body, LIMIT))
    assert problems == [{"loc": ["body", 2, "record", "ind"], "item": 2, "field": "ind", "type": "wrong_type",
                         "msg": "ind must be an integer, got boolean", "expected": "integer", "got": "boolean"}]


def test_every_bad_item_of_a_batch_is_named():
    body = _batch(
        {"type": "pin", "record": PIN},
        {"type": "pin", "record": {"index": 1.5}},
        "not an object",
        {"record": USER},
        {"type": "tweet", "record": {}},
        {"type": 3, "record": USER},
        {"type": "geo"},
        {"type": "geo", "record": [GEO]},
    )
    assert _short(_problems(lambda: parse_batch(body, LIMIT))) == [
        (1, "index", "wrong_type"), (1, "unique_id", "missing"),
        (2, None, "wrong_type"),
        (3, "type", "missing"),
        (4, "type", "invalid_event_type"),
        (5, "type", "wrong_type"),
        (6, "record", "missing"),
        (7, "record", "wrong_type"),
    ]


@pytest.mark.parametrize("body, problem", [
    (b'{"type": "pin", "record": {}}', "wrong_type"), (b"[{]", "json_invalid"),
    (_batch(*[{"type": "user", "record": USER}] * (MAX_BATCH_ITEMS + 1)), "too_many_items"),
])
def test_a_batch_body_that_is_not_an_array_of_events_is_refused(body, problem):
    problems = _problems(lambda: parse_batch(body, LIMIT))
    assert [(p["loc"], p["item"], p["type"]) for p in problems] == [(["body"], None, problem)]


def test_the_largest_batch_and_an_empty_one_are_accepted():
    assert len(parse_batch(_batch(*[{"type": "user", "record": USER}] * MAX_BATCH_ITEMS), LIMIT)) == MAX_BATCH_ITEMS
    assert parse_batch(b"[]", LIMIT) == []


def test_a_record_larger_than_the_limit_is_refused_with_413_naming_the_item():
    big = {**USER, "note": "x" * 200}
    with pytest.raises(Invalid) as caught:
        parse_batch(_batch({"type": "user", "record": USER}, {"type": "user", "record": big}), 150)
    assert caught.value.status == 413
    assert [(p["item"], p["type"]) for p in caught.value.problems] == [(1, "too_large")]
    with pytest.raises(Invalid) as caught:
        parse_record("user", json.dumps(big).encode(), 150)
    assert caught.value.status == 413
