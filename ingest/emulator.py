"""A deterministic generator of realistic Pinterest postings, dirty values included.

`generate(count, seed)` is a pure function of its arguments: the same call yields the same
events, so tests and other layers can rebuild any stream the emulator sent. Each posting is
a pin, its geo and its user sharing the posting number, in that order. Every kind of dirty
value of contract section 5 appears at the rates of `RATES` (a fraction of the records the
kind applies to). Besides the postings, the stream re-sends exact duplicates of recent
events and newer versions of recent entities, so it holds more than `3 * count` events;
`count_events` says how many without building them.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Iterator

from ingest import emulator_data as data

RATES = {
    # pin
    "title_placeholder": 0.05,          # "No Title Data Available"
    "description_placeholder": 0.02,    # "No description available" (stories always have one)
    "user_info_error": 0.02,            # poster_name and follower_count "User Info Error"
    "follower_count_integer": 0.15,     # a JSON integer instead of text
    "follower_count_invalid": 0.004,    # e.g. "-12", "lots": quarantined by silver
    "tag_placeholder": 0.04,            # "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
    "tags_untidy": 0.03,                # spaces and empty entries between commas
    "story": 0.06,                      # "multi-video(story page format)"
    "video": 0.09,
    "media_invalid": 0.003,             # e.g. "gif"
    "image_src_error": 0.03,            # "Image src error."
    "downloaded_invalid": 0.003,        # 2 instead of 0/1
    "uuid_upper_case": 0.03,
    "uuid_malformed": 0.003,
    "category_case": 0.04,              # "Travel", "ART"
    # geo
    "latitude_out_of_range": 0.005,
    "longitude_out_of_range": 0.005,
    "timestamp_malformed": 0.01,
    # user
    "age_out_of_range": 0.005,
    "age_null": 0.01,
    "one_name_null": 0.02,
    "date_joined_malformed": 0.01,
    # any record
    "padded": 0.02,                     # a string field with white space around it
    "empty_string": 0.01,               # an optional string field ""
    "null_field": 0.01,                 # an optional field null
    "absent_field": 0.01,               # an optional field left out
    "unknown_field": 0.02,              # a field the contract does not list, kept by bronze
    "negative_ind": 0.002,              # the whole posting: quarantined for its posting number
    # the stream
    "duplicate": 0.02,                  # per posting: re-send one recent event unchanged
    "new_version": 0.03,                # per posting: a newer version of a recent entity
}
RECENT = 300  # postings remembered for duplicates and versions
OPTIONAL = {
    "pin": ["title", "description", "poster_name", "follower_count", "tag_list", "is_image_or_video",
            "image_src", "downloaded", "save_location", "category"],
    "geo": ["latitude", "longitude", "country"],
    "user": ["first_name", "last_name", "age", "date_joined"],
}


def count_events(count: int, seed: int) -> int:
    """How many events `generate(count, seed)` yields, without generating them."""
    plan = _plan_rng(seed)
    return sum(3 + (plan.random() < RATES["duplicate"]) + (plan.random() < RATES["new_version"])
               for _ in range(count))


def generate(count: int, seed: int = 0, start: int = 0) -> Iterator[dict]:
    """Yield `{"type", "record"}` events for postings `start .. start + count - 1`."""
    rng, plan = random.Random(seed), _plan_rng(seed)
    recent_events: deque[dict] = deque(maxlen=3 * RECENT)
    recent_postings: deque[dict] = deque(maxlen=RECENT)
    for number in range(start, start + count):
        posting = _posting(rng, number)
        recent_postings.append(posting)
        for kind in ("pin", "geo", "user"):
            event = {"type": kind, "record": posting[kind]}
            recent_events.append(event)
            yield event
        duplicate, new_version = plan.random() < RATES["duplicate"], plan.random() < RATES["new_version"]
        if duplicate:
            yield _copy(rng.choice(recent_events))
        if new_version:
            yield _new_version(rng, rng.choice(recent_postings))


def _plan_rng(seed: int) -> random.Random:
    # The decisions that change the number of events come from their own stream, so that
    # count_events can replay them alone.
    return random.Random(f"pinlake-emulator-plan:{seed}")


def _copy(event: dict) -> dict:
    return {"type": event["type"], "record": dict(event["record"])}


def _chance(rng: random.Random, name: str) -> bool:
    return rng.random() < RATES[name]


def _posting(rng: random.Random, number: int) -> dict:
    ind = -number - 1 if _chance(rng, "negative_ind") else number
    country = rng.choice(data.COUNTRIES)
    posted = data.random_moment(rng, 2018, 2022)
    return {
        "pin": _untidy(rng, "pin", _pin(rng, ind)),
        "geo": _untidy(rng, "geo", _geo(rng, ind, country, posted)),
        "user": _untidy(rng, "user", _user(rng, ind, posted)),
    }


def _unique_id(rng: random.Random) -> str:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if _chance(rng, "uuid_upper_case"):
        return value.upper()
    if _chance(rng, "uuid_malformed"):
        return rng.choice(["not-a-uuid", value.replace("-", "")[:30], value[:-4] + "zzzz"])
    return value


def _pin(rng: random.Random, ind: int) -> dict:
    category = rng.choice(data.CATEGORIES)
    media = _media(rng)
    poster, followers = data.poster(rng), data.follower_count(rng)
    if _chance(rng, "user_info_error"):
        poster = followers = "User Info Error"
    elif _chance(rng, "follower_count_integer"):
        followers = data.follower_number(rng)
    elif _chance(rng, "follower_count_invalid"):
        followers = rng.choice(["-12", "lots", "1.2B", "k"])
    story = media == "multi-video(story page format)"
    return {
        "index": ind,
        "unique_id": _unique_id(rng),
        "title": "No Title Data Available" if _chance(rng, "title_placeholder") else data.title(rng, category),
        "description": ("No description available Story format" if story
                        else "No description available" if _chance(rng, "description_placeholder")
                        else data.description(rng, category)),
        "poster_name": poster,
        "follower_count": followers,
        "tag_list": _tags(rng, category),
        "is_image_or_video": media,
        "image_src": "Image src error." if _chance(rng, "image_src_error") else data.image_url(rng),
        "downloaded": 2 if _chance(rng, "downloaded_invalid") else int(rng.random() < 0.9),
        "save_location": f"Local save in /data/{category}",
        "category": rng.choice([category.title(), category.upper()]) if _chance(rng, "category_case") else category,
    }


def _media(rng: random.Random) -> str:
    if _chance(rng, "media_invalid"):
        return rng.choice(["gif", "carousel"])
    if _chance(rng, "story"):
        return "multi-video(story page format)"
    return "video" if _chance(rng, "video") else "image"


def _tags(rng: random.Random, category: str) -> str:
    if _chance(rng, "tag_placeholder"):
        return "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
    tags = data.tags(rng, category)
    if _chance(rng, "tags_untidy"):
        return " , ".join(tags) + ",,"
    return ",".join(tags)


def _geo(rng: random.Random, ind: int, country: tuple, posted) -> dict:
    name, lat, lon, spread = country
    latitude = round(max(-90.0, min(90.0, rng.gauss(lat, spread))), 6)
    longitude = round(max(-180.0, min(180.0, rng.gauss(lon, spread))), 6)
    if _chance(rng, "latitude_out_of_range"):
        latitude = rng.choice([-1, 1]) * round(rng.uniform(90.001, 300.0), 4)
    if _chance(rng, "longitude_out_of_range"):
        longitude = rng.choice([-1, 1]) * round(rng.uniform(180.001, 500.0), 4)
    stamp = data.malformed_date(rng) if _chance(rng, "timestamp_malformed") else data.format_moment(rng, posted)
    return {"ind": ind, "timestamp": stamp, "latitude": latitude, "longitude": longitude, "country": name}


def _user(rng: random.Random, ind: int, posted) -> dict:
    first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
    if _chance(rng, "one_name_null"):
        first, last = (None, last) if rng.random() < 0.5 else (first, None)
    age = data.age(rng)
    if _chance(rng, "age_out_of_range"):
        age = rng.choice([-1, 131, 150, 999])
    elif _chance(rng, "age_null"):
        age = None
    joined = data.random_moment(rng, 2015, posted.year)
    stamp = data.malformed_date(rng) if _chance(rng, "date_joined_malformed") else data.format_moment(rng, joined)
    return {"ind": ind, "first_name": first, "last_name": last, "age": age, "date_joined": stamp}


def _untidy(rng: random.Random, kind: str, record: dict) -> dict:
    """The record-level dirt: padding, empty strings, nulls, absent and unknown fields."""
    strings = [name for name in OPTIONAL[kind] if isinstance(record.get(name), str)]
    if strings and _chance(rng, "padded"):
        name = rng.choice(strings)
        record[name] = rng.choice([" ", "  ", "\t"]) + record[name] + rng.choice([" ", "  \n"])
    if strings and _chance(rng, "empty_string"):
        record[rng.choice(strings)] = ""
    if _chance(rng, "null_field"):
        record[rng.choice(OPTIONAL[kind])] = None
    if _chance(rng, "absent_field"):
        record.pop(rng.choice(OPTIONAL[kind]), None)
    if _chance(rng, "unknown_field"):
        record[rng.choice(["source", "app_version", "session"])] = rng.choice(["ios", "android", "web", 3, None])
    return record


def _new_version(rng: random.Random, posting: dict) -> dict:
    """A later version of one entity of an earlier posting: same key, some fields changed."""
    kind = rng.choice(["pin", "geo", "user"])
    record = dict(posting[kind])
    if kind == "pin":
        record["follower_count"] = data.follower_count(rng)
        record["title"] = data.title(rng, str(record.get("category") or ""))
    elif kind == "geo":
        record["timestamp"] = data.format_moment(rng, data.random_moment(rng, 2023, 2024))
        record["country"] = rng.choice(data.COUNTRIES)[0]
    else:
        record["age"] = data.age(rng)
        record["last_name"] = rng.choice(data.LAST_NAMES)
    posting[kind] = record  # the next version of this entity builds on this one
    return {"type": kind, "record": dict(record)}
