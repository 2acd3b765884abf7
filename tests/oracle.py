"""The data contract's silver and gold (sections 5 and 6, v2), written again from the contract alone.

Plain Python: it imports nothing from ingest/, lakehouse/, quality/ or serving/ and shares no
regular expression, constant or SQL with them, so a misreading of the contract in the pipeline
shows up as a difference, not as agreement. Where the contract is silent it follows
docs/DECISIONS.md.

Input: bronze rows as dicts with `topic` (`pin`, `geo`, `user` or the Kafka topic name),
`value` (the message text), `partition`, `offset`, `kafka_timestamp`, and optionally `event_id`
and `received_at`. Output: the silver tables, the quarantine and the gold tables as lists of
dicts (gold: tuples in the contract's column order).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

BIGINT = (-(2**63), 2**63 - 1)
UUID_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
WHOLE = re.compile(r"([+-]?)(\d+)(?:\.0+)?")
DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
COUNT = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)([kKmM]?)")
WHEN = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?")
KINDS = {"pin": "pin", "geo": "geo", "user": "user",
         "pinterest.pin": "pin", "pinterest.geo": "geo", "pinterest.user": "user"}


class _NotOneObject(ValueError):
    pass


def _no_duplicates(pairs: list[tuple]) -> dict:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise _NotOneObject("duplicate keys")
    return dict(pairs)


def _no_constants(name: str):
    raise _NotOneObject(f"{name} is not JSON")


def one_object(value: str | None) -> dict | None:
    """The value as one JSON object, or None when it is anything else (the single reason then)."""
    if value is None:
        return None
    try:
        parsed = json.loads(value.strip(), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def text(record: dict, name: str) -> str | None:
    """A field's clean text: a string as it is, a number's digits; trimmed; empty is None."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        value = json.dumps(value, separators=(",", ":"))
    else:
        value = str(value)
    value = value.strip()
    return value or None


def whole(value: str | None) -> int | None:
    """A whole number in a bigint, else None (`12.0` is 12; `1.5`, `true`, `1e3` are not)."""
    match = WHOLE.fullmatch(value or "")
    if not match:
        return None
    number = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
    return number if BIGINT[0] <= number <= BIGINT[1] else None


def real(value: str | None) -> float | None:
    """A JSON number or numeric string as a float, else None."""
    return float(value) if value and DECIMAL.fullmatch(value) else None


def instant(value: str | None) -> datetime | None:
    """An ISO-8601 date-time (space or T, optional seconds and fraction, Z or ±hh:mm) in UTC."""
    match = WHEN.fullmatch(value or "")
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "")[:6].ljust(6, "0"))
    zone = timezone.utc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micros, zone)
    except ValueError:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def followers(value: str | None) -> tuple[int | None, bool]:
    """(follower_count, valid): `8k` 8000, `1.2M` 1200000, half up; `User Info Error` null."""
    if value is None or value == "User Info Error":
        return None, True
    match = COUNT.fullmatch(value)
    if not match:
        return None, False
    scale = {"": 1, "k": 1000, "m": 1_000_000}[match.group(3).lower()]
    try:
        number = (Decimal(match.group(2)) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None, False
    number = int(number) * (-1 if match.group(1) == "-" else 1)
    if number < 0 or number > BIGINT[1]:
        return None, False
    return number, True


def _null_if(value: str | None, placeholder: str) -> str | None:
    return None if value == placeholder else value


def _bad(value: str | None, parsed, valid: bool = True) -> bool:
    """A value is present but unusable, or usable but out of its range."""
    return value is not None and (parsed is None or not valid)


def pin(record: dict) -> tuple[dict, list[str]]:
    """silver.pins columns of one pin event, and its reasons."""
    index, uid = whole(text(record, "index")), text(record, "unique_id")
    count, count_ok = followers(text(record, "follower_count"))
    media = text(record, "is_image_or_video")
    media_type = {"image": "image", "video": "video", "multi-video(story page format)": "story"}.get(media)
    downloaded = whole(text(record, "downloaded"))
    tags = text(record, "tag_list")
    description = text(record, "description")
    save = text(record, "save_location")
    if save is not None:
        save = re.sub(r"^Local save in(\s+|$)", "", save).strip() or None
    category = text(record, "category")
    row = {
        "ind": index, "unique_id": uid.lower() if uid and UUID_FORM.fullmatch(uid) else None,
        "title": _null_if(text(record, "title"), "No Title Data Available"),
        "description": None if description and description.startswith("No description available") else description,
        "poster_name": _null_if(text(record, "poster_name"), "User Info Error"),
        "follower_count": count,
        "tags": None if tags in (None, "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e")
        else [t.strip() for t in tags.split(",") if t.strip()],
        "media_type": media_type, "image_src": _null_if(text(record, "image_src"), "Image src error."),
        "downloaded": {1: True, 0: False}.get(downloaded), "save_location": save,
        "category": category.lower() if category else None,
    }
    reasons = []
    if index is None or index < 0:
        reasons.append("invalid_ind")
    if row["unique_id"] is None:
        reasons.append("invalid_unique_id")
    if not count_ok:
        reasons.append("invalid_follower_count")
    if _bad(media, media_type):
        reasons.append("invalid_media_type")
    if _bad(text(record, "downloaded"), row["downloaded"]):
        reasons.append("invalid_downloaded")
    return row, reasons


def geo(record: dict) -> tuple[dict, list[str]]:
    """silver.geo columns of one geo event, and its reasons."""
    ind, lat_text, lon_text = whole(text(record, "ind")), text(record, "latitude"), text(record, "longitude")
    lat, lon = real(lat_text), real(lon_text)
    row = {"ind": ind, "event_time": instant(text(record, "timestamp")), "latitude": lat, "longitude": lon,
           "country": text(record, "country")}
    reasons = []
    if ind is None or ind < 0:
        reasons.append("invalid_ind")
    if row["event_time"] is None:
        reasons.append("invalid_timestamp")
    if _bad(lat_text, lat, lat is not None and -90 <= lat <= 90):
        reasons.append("invalid_latitude")
    if _bad(lon_text, lon, lon is not None and -180 <= lon <= 180):
        reasons.append("invalid_longitude")
    return row, reasons


def user(record: dict) -> tuple[dict, list[str]]:
    """silver.users columns of one user event, and its reasons."""
    ind, age_text, joined_text = whole(text(record, "ind")), text(record, "age"), text(record, "date_joined")
    age, joined = whole(age_text), instant(joined_text)
    names = [n for n in (text(record, "first_name"), text(record, "last_name")) if n is not None]
    row = {"ind": ind, "user_name": " ".join(names) or None,
           "age": age if age is not None and 0 <= age <= 130 else None, "date_joined": joined}
    reasons = []
    if ind is None or ind < 0:
        reasons.append("invalid_ind")
    if _bad(age_text, age, age is not None and 0 <= age <= 130):
        reasons.append("invalid_age")
    if _bad(joined_text, joined):
        reasons.append("invalid_date_joined")
    return row, reasons


RULES = {"pin": (pin, "unique_id"), "geo": (geo, "ind"), "user": (user, "ind")}


@dataclass
class Silver:
    """The silver tables and the quarantine the contract gives for a set of bronze rows."""

    pins: dict = field(default_factory=dict)  # unique_id -> row
    geo: dict = field(default_factory=dict)  # ind -> row
    users: dict = field(default_factory=dict)  # ind -> row
    quarantine: list = field(default_factory=list)

    def table(self, kind: str) -> dict:
        return {"pin": self.pins, "geo": self.geo, "user": self.users}[kind]


def _version(row: dict) -> tuple:
    return row["kafka_timestamp"], row["source_partition"], row["source_offset"]


def silver(bronze: list[dict]) -> Silver:
    """Silver from bronze: each row cleaned; rejected ones quarantined; the latest version per key."""
    out = Silver()
    for b in bronze:
        kind = KINDS[b["topic"]]
        provenance = {"event_id": b.get("event_id"), "received_at": b.get("received_at"),
                      "source_partition": b["partition"], "source_offset": b["offset"],
                      "kafka_timestamp": b["kafka_timestamp"]}
        record = one_object(b["value"])
        rule, key = RULES[kind]
        row, reasons = rule(record) if record is not None else ({}, ["malformed_json"])
        if reasons:
            out.quarantine.append({"source_topic": f"pinterest.{kind}", "source_partition": b["partition"],
                                   "source_offset": b["offset"], "event_id": b.get("event_id"),
                                   "received_at": b.get("received_at"), "raw": b["value"],
                                   "reasons": sorted(reasons)})
            continue
        row = {**row, **provenance}
        current = out.table(kind).get(row[key])
        if current is None or _version(row) > _version(current):
            out.table(kind)[row[key]] = row
    return out


AGE_GROUPS = ((17, "under 18"), (24, "18-24"), (35, "25-35"), (50, "36-50"))


def age_group(age: int | None) -> str | None:
    """The contract's age group of an age; None for a null age."""
    if age is None:
        return None
    return next((label for top, label in AGE_GROUPS if age <= top), "50+")


def _top(counts: dict, key) -> tuple:
    """The name with the highest count, ties to the alphabetically (code point) first."""
    name, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return key, name, count


def _median(values: list[int]) -> float:
    """The exact continuous median: the middle value, or the mean of the two middle ones."""
    return float(statistics.median(values))


def gold(s: Silver) -> dict[str, list[tuple]]:
    """Every gold table of section 6 from silver, rows as tuples in the contract's column order."""
    by_geo = [(p, s.geo[p["ind"]]) for p in s.pins.values() if p["ind"] in s.geo]
    by_user = [(p, s.users[p["ind"]]) for p in s.pins.values() if p["ind"] in s.users]

    def categories(pairs, group) -> list[tuple]:
        counts: dict = defaultdict(Counter)
        for p, other in pairs:
            g = group(other)
            if g is not None and p["category"] is not None:
                counts[g][p["category"]] += 1
        return [_top(c, g) for g, c in counts.items()]

    def medians(pairs, group) -> list[tuple]:
        values: dict = defaultdict(list)
        for p, other in pairs:
            g = group(other)
            if p["follower_count"] is not None and g is not None and None not in (g if isinstance(g, tuple) else (g,)):
                values[g].append(p["follower_count"])
        return [(*g, _median(v)) if isinstance(g, tuple) else (g, _median(v)) for g, v in values.items()]

    top_users: dict = {}
    for p, g in by_geo:
        if g["country"] is not None and p["poster_name"] is not None and p["follower_count"] is not None:
            best = top_users.get(g["country"])
            if best is None or (-p["follower_count"], p["poster_name"]) < (-best[1], best[0]):
                top_users[g["country"]] = (p["poster_name"], p["follower_count"])
    year = lambda moment: moment.year if moment is not None else None  # noqa: E731 (UTC already)
    joined = Counter(year(u["date_joined"]) for u in s.users.values() if u["date_joined"] is not None)
    return {
        "gold.category_by_country": categories(by_geo, lambda g: g["country"]),
        "gold.category_by_year": categories(by_geo, lambda g: year(g["event_time"])),
        "gold.top_user_by_country": [(c, name, count) for c, (name, count) in top_users.items()],
        "gold.category_by_age_group": categories(by_user, lambda u: age_group(u["age"])),
        "gold.median_followers_by_age_group": medians(by_user, lambda u: age_group(u["age"])),
        "gold.users_joined_by_year": list(joined.items()),
        "gold.median_followers_by_join_year": medians(by_user, lambda u: year(u["date_joined"])),
        "gold.median_followers_by_age_group_and_join_year":
            medians(by_user, lambda u: (age_group(u["age"]), year(u["date_joined"]))),
    }


def from_events(events: list[dict]) -> list[dict]:
    """Bronze-shaped rows from `{"type", "record"}` events in the order a client sent them.

    The sending order stands in for Kafka's: every entity's versions go through one connection
    in order, so they reach one partition in that order.
    """
    at = datetime(2000, 1, 1)
    return [{"topic": e["type"], "value": json.dumps(e["record"]), "partition": 0, "offset": i,
             "kafka_timestamp": at} for i, e in enumerate(events)]
