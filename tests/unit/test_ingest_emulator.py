"""The emulator: deterministic, realistic postings, every dirty kind of contract section 5, all sendable."""

import json
import re
import uuid
from collections import Counter

import pytest

from ingest.emulator import count_events, generate
from ingest.validation import parse_batch

pytestmark = pytest.mark.unit
SEED, COUNT = 11, 3000
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CLEAN_MOMENT = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return list(generate(COUNT, SEED))


def _records(events, kind):
    return [e["record"] for e in events if e["type"] == kind]


def test_the_same_seed_gives_the_same_events_and_another_seed_others():
    assert list(generate(200, 5)) == list(generate(200, 5))
    assert list(generate(200, 5)) != list(generate(200, 6))
    assert list(generate(50, 5)) == list(generate(200, 5))[:len(list(generate(50, 5)))]


def test_count_events_is_the_number_generated(events):
    assert count_events(COUNT, SEED) == len(events)
    assert len(events) > 3 * COUNT


def test_each_posting_is_a_pin_a_geo_and_a_user_sharing_its_number():
    stream = list(generate(20, 3, start=100))
    triples = [stream[i:i + 3] for i in range(len(stream) - 2)
               if [e["type"] for e in stream[i:i + 3]] == ["pin", "geo", "user"]]
    for pin, geo, user in triples:
        assert pin["record"]["index"] == geo["record"]["ind"] == user["record"]["ind"]
    numbers = sorted(n if n >= 0 else -n - 1 for n in (t[0]["record"]["index"] for t in triples))
    assert numbers == list(range(100, 120))  # a negative ind is a dirty posting number: -(n + 1)


def test_every_event_has_the_right_json_types(events):
    assert len(parse_batch(json.dumps(events[:9000]).encode(), 1_000_000)) == 9000


def _dirty_kinds(events) -> Counter:
    pins, geos, users = (_records(events, kind) for kind in ("pin", "geo", "user"))
    seen = Counter()
    checks = {
        "title placeholder": (pins, lambda r: r.get("title") == "No Title Data Available"),
        "description placeholder": (pins, lambda r: str(r.get("description")).startswith("No description available")),
        "poster User Info Error": (pins, lambda r: r.get("poster_name") == "User Info Error"),
        "follower User Info Error": (pins, lambda r: r.get("follower_count") == "User Info Error"),
        "follower k": (pins, lambda r: re.fullmatch(r"\d+(\.\d)?k", str(r.get("follower_count")))),
        "follower M": (pins, lambda r: re.fullmatch(r"\d+(\.\d)?M", str(r.get("follower_count")))),
        "follower digits": (pins, lambda r: re.fullmatch(r"\d+", str(r.get("follower_count")))
                            and isinstance(r.get("follower_count"), str)),
        "follower integer": (pins, lambda r: type(r.get("follower_count")) is int),
        "follower invalid": (pins, lambda r: r.get("follower_count") in ("-12", "lots", "1.2B", "k")),
        "tag placeholder": (pins, lambda r: r.get("tag_list") == "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"),
        "untidy tags": (pins, lambda r: ",," in str(r.get("tag_list"))),
        "story media": (pins, lambda r: r.get("is_image_or_video") == "multi-video(story page format)"),
        "invalid media": (pins, lambda r: r.get("is_image_or_video") in ("gif", "carousel")),
        "image src error": (pins, lambda r: r.get("image_src") == "Image src error."),
        "invalid downloaded": (pins, lambda r: r.get("downloaded") == 2),
        "upper-case uuid": (pins, lambda r: UUID.fullmatch(r["unique_id"].lower()) and r["unique_id"].isupper()),
        "malformed uuid": (pins, lambda r: not UUID.fullmatch(r["unique_id"].lower())),
        "category case": (pins, lambda r: isinstance(r.get("category"), str) and r["category"].strip()
                          and r["category"] != r["category"].lower()),
        "negative ind": (pins, lambda r: r["index"] < 0),
        "latitude out of range": (geos, lambda r: r.get("latitude") is not None and abs(r["latitude"]) > 90),
        "longitude out of range": (geos, lambda r: r.get("longitude") is not None and abs(r["longitude"]) > 180),
        "malformed timestamp": (geos, lambda r: not CLEAN_MOMENT.fullmatch(r["timestamp"])),
        "offset timestamp": (geos, lambda r: re.search(r"[+-]\d\d:\d\d$", r["timestamp"])),
        "age out of range": (users, lambda r: r.get("age") is not None and not 0 <= r["age"] <= 130),
        "null age": (users, lambda r: "age" in r and r["age"] is None),
        "one name null": (users, lambda r: (r.get("first_name") is None) != (r.get("last_name") is None)),
        "malformed date_joined": (users, lambda r: isinstance(r.get("date_joined"), str)
                                  and not CLEAN_MOMENT.fullmatch(r["date_joined"])),
        "padded string": (pins + geos + users, lambda r: any(isinstance(v, str) and v != v.strip() and v.strip()
                                                             for v in r.values())),
        "empty string": (pins + geos + users, lambda r: "" in r.values()),
        "absent optional field": (pins, lambda r: len(r) < 12),
        "unknown field": (pins + geos + users, lambda r: {"source", "app_version", "session"} & set(r)),
    }
    for name, (records, check) in checks.items():
        seen[name] = sum(1 for r in records if check(r))
    return seen


def test_the_stream_holds_every_dirty_kind_at_a_realistic_rate(events):
    seen = _dirty_kinds(events)
    missing = [name for name, hits in seen.items() if hits == 0]
    assert missing == []
    too_many = [name for name, hits in seen.items() if hits > 0.25 * COUNT and name not in
                ("follower k", "follower digits")]
    assert too_many == []


def test_exact_duplicates_and_newer_versions_are_re_sent(events):
    texts = Counter(json.dumps(e, sort_keys=True) for e in events)
    assert sum(n - 1 for n in texts.values() if n > 1) > 0.01 * COUNT
    versions: dict[tuple, set] = {}
    for e in events:
        key = (e["type"], e["record"]["unique_id"] if e["type"] == "pin" else e["record"]["ind"])
        versions.setdefault(key, set()).add(json.dumps(e["record"], sort_keys=True))
    changed = Counter(kind for (kind, _), texts in versions.items() if len(texts) > 1)
    assert set(changed) == {"pin", "geo", "user"}


def test_clean_values_look_real(events):
    pin = next(r for r in _records(events, "pin") if r["title"] != "No Title Data Available")
    assert pin["image_src"].startswith("https://i.pinimg.com/") or pin["image_src"] == "Image src error."
    assert pin["save_location"].startswith("Local save in /data/")
    assert uuid.UUID(_records(events, "pin")[0]["unique_id"]).version == 4
    geo = _records(events, "geo")[0]
    assert -90 <= geo["latitude"] <= 90 and -180 <= geo["longitude"] <= 180 and geo["country"]
