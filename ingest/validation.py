"""Turn request bodies into Kafka messages, or into a list of problems naming item and field.

The API checks presence and JSON types, nothing more (contract section 2). Each body goes
through a fast path first: msgspec decodes straight into typed structs, which accept exactly
the valid records, and keeps each batch record as the exact bytes received. Whatever the
fast path refuses goes through the slow path, plain checks on the parsed JSON, which is the
authority: it names every bad field, and it accepts what the fast path cannot represent
(an integer beyond 64 bits, a number beyond a double) but the contract allows.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import msgspec

from ingest.models import (
    ENVELOPES, EVENT_TYPES, FIELDS, INTEGER, KEY_FIELD, MAX_BATCH_ITEMS, NUMBER, RECORD_DECODERS, STRING,
    STRING_OR_INTEGER,
)


class Message(NamedTuple):
    """One record ready for Kafka: its kind, key and value (the record's JSON as received)."""

    kind: str
    key: bytes
    value: bytes


class Invalid(Exception):
    """The request is refused; `problems` names each bad item and field; `status` is 422 or 413."""

    def __init__(self, problems: list[dict], status: int = 422):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
        self.status = status


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is a subclass of int in Python
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


_ACCEPTS = {
    INTEGER: {"integer"},
    NUMBER: {"integer", "number"},
    STRING: {"string"},
    STRING_OR_INTEGER: {"string", "integer"},
}


def _problem(loc: list, item: int | None, field: str | None, kind: str, msg: str, **extra) -> dict:
    return {"loc": loc, "item": item, "field": field, "type": kind, "msg": msg, **extra}


def record_problems(kind: str, record: Any, loc: list, item: int | None = None) -> list[dict]:
    """Every missing required field and every field of the wrong JSON type in one record."""
    if not isinstance(record, dict):
        got = json_type(record)
        return [_problem(loc, item, "record" if item is not None else None, "wrong_type",
                         f"a {kind} record must be a JSON object, got {got}", expected="object", got=got)]
    problems = []
    for name, (expected, required, _) in FIELDS[kind].items():
        if name not in record:
            if required:
                problems.append(_problem([*loc, name], item, name, "missing", f"{name} is required"))
            continue
        value = record[name]
        got = json_type(value)
        if got in _ACCEPTS[expected] or (got == "null" and not required):
            continue
        problems.append(_problem([*loc, name], item, name, "wrong_type",
                                 f"{name} must be {_a(expected)}, got {got}", expected=expected, got=got))
    return problems


def _a(expected: str) -> str:
    return ("an " if expected[0] in "aeiou" else "a ") + expected


def _key(kind: str, record: Any) -> bytes:
    """The contract's message key: unique_id for pins, ind as text for geo and user."""
    value = record[KEY_FIELD[kind]] if isinstance(record, dict) else getattr(record, KEY_FIELD[kind])
    return (value if isinstance(value, str) else str(value)).encode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_any(body: bytes, loc: list) -> Any:
    # The standard library, unlike msgspec, reads numbers of any size (1e400 -> inf), which
    # the contract accepts: out-of-range values are silver's business.
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Invalid([_problem(loc, None, None, "json_invalid", f"body is not valid JSON: {exc}")]) from None


def _check_size(messages: list[Message], limit: int, batch: bool) -> list[Message]:
    problems = [
        _problem(["body", i, "record"] if batch else ["body"], i if batch else None, None, "too_large",
                 f"record is {len(m.value)} bytes; the limit is {limit}")
        for i, m in enumerate(messages) if len(m.value) > limit
    ]
    if problems:
        raise Invalid(problems, status=413)
    return messages


def parse_record(kind: str, body: bytes, max_record_bytes: int) -> Message:
    """One record posted to /pin/, /geo/ or /user/; its message value is the body itself."""
    try:
        record: Any = RECORD_DECODERS[kind].decode(body)
    except (msgspec.DecodeError, ValueError):  # ValueError: invalid UTF-8 in a string
        record = _decode_any(body, ["body"])
        problems = record_problems(kind, record, ["body"])
        if problems:
            raise Invalid(problems) from None
    return _check_size([Message(kind, _key(kind, record), bytes(body))], max_record_bytes, batch=False)[0]


def parse_batch(body: bytes, max_record_bytes: int) -> list[Message]:
    """An /events body; all of it is valid, or Invalid names every bad item and field."""
    try:
        envelopes = ENVELOPES.decode(body)
    except (msgspec.DecodeError, ValueError):  # ValueError: invalid UTF-8 in a string
        return _check_size(_parse_batch_slowly(body), max_record_bytes, batch=True)
    if len(envelopes) > MAX_BATCH_ITEMS:
        raise Invalid([_too_many(len(envelopes))])
    messages, fallback = [], False
    for envelope in envelopes:
        raw = bytes(envelope.record)
        try:
            record = RECORD_DECODERS[envelope.type].decode(raw)
        except (msgspec.DecodeError, ValueError):  # ValueError: invalid UTF-8 in a string
            fallback = True
            break
        messages.append(Message(envelope.type, _key(envelope.type, record), raw))
    if fallback:
        messages = _parse_batch_slowly(body, [bytes(e.record) for e in envelopes])
    return _check_size(messages, max_record_bytes, batch=True)


def _too_many(count: int) -> dict:
    return _problem(["body"], None, None, "too_many_items",
                    f"a batch holds at most {MAX_BATCH_ITEMS} items, got {count}")


def _parse_batch_slowly(body: bytes, raws: list[bytes] | None = None) -> list[Message]:
    items = _decode_any(body, ["body"])
    if not isinstance(items, list):
        got = json_type(items)
        raise Invalid([_problem(["body"], None, None, "wrong_type", f"body must be a JSON array, got {got}",
                                expected="array", got=got)])
    if len(items) > MAX_BATCH_ITEMS:
        raise Invalid([_too_many(len(items))])
    problems: list[dict] = []
    for i, item in enumerate(items):
        problems.extend(item_problems(item, i))
    if problems:
        raise Invalid(problems)
    # Valid after all (e.g. a 100-digit integer): keep the exact bytes when the fast decode
    # produced them; else re-encode, which keeps every field and value.
    return [Message(item["type"], _key(item["type"], item["record"]),
                    raws[i] if raws is not None else _encode(item["record"]))
            for i, item in enumerate(items)]


def _encode(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def item_problems(item: Any, i: int) -> list[dict]:
    """Problems of one /events item: its envelope, then its record."""
    loc = ["body", i]
    if not isinstance(item, dict):
        got = json_type(item)
        return [_problem(loc, i, None, "wrong_type", f"item {i} must be a JSON object, got {got}",
                         expected="object", got=got)]
    problems = []
    kind = item.get("type")
    if "type" not in item:
        problems.append(_problem([*loc, "type"], i, "type", "missing", "type is required"))
    elif not isinstance(kind, str):
        got = json_type(kind)
        problems.append(_problem([*loc, "type"], i, "type", "wrong_type", f"type must be a string, got {got}",
                                 expected="string", got=got))
    elif kind not in EVENT_TYPES:
        problems.append(_problem([*loc, "type"], i, "type", "invalid_event_type",
                                 f"type must be one of {', '.join(EVENT_TYPES)}, got {kind!r}"))
    if "record" not in item:
        problems.append(_problem([*loc, "record"], i, "record", "missing", "record is required"))
    elif kind in EVENT_TYPES:
        problems.extend(record_problems(kind, item["record"], [*loc, "record"], i))
    elif not isinstance(item["record"], dict):
        got = json_type(item["record"])
        problems.append(_problem([*loc, "record"], i, "record", "wrong_type",
                                 f"record must be a JSON object, got {got}", expected="object", got=got))
    return problems
