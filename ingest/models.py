"""The three event kinds of contract section 1, defined once and rendered three ways.

`FIELDS` is the single source of truth. From it come the pydantic models (the OpenAPI
schema shown at /docs), the msgspec structs (the fast path that checks a record while
decoding it) and the plain-Python checks in `ingest.validation` (the authoritative path that
names every bad field).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, create_model

# JSON types of the contract. An "integer" is a JSON number without fraction or exponent
# (so `1.5` and `true` are not integers); a "number" is any JSON number but not a boolean.
INTEGER, NUMBER, STRING, STRING_OR_INTEGER = "integer", "number", "string", "string or integer"

EVENT_TYPES = ("pin", "geo", "user")
MAX_BATCH_ITEMS = 10_000

# kind -> field -> (JSON type, required, description)
FIELDS: dict[str, dict[str, tuple[str, bool, str]]] = {
    "pin": {
        "index": (INTEGER, True, "The posting number."),
        "unique_id": (STRING, True, "A UUID; the Kafka key of the pin."),
        "title": (STRING, False, "Title, or a placeholder such as 'No Title Data Available'."),
        "description": (STRING, False, "Description text."),
        "poster_name": (STRING, False, "Poster's name, or 'User Info Error'."),
        "follower_count": (STRING_OR_INTEGER, False, "E.g. '8k', '1.2M', '731', 731 or 'User Info Error'."),
        "tag_list": (STRING, False, "Comma-joined tags."),
        "is_image_or_video": (STRING, False, "'image', 'video' or 'multi-video(story page format)'."),
        "image_src": (STRING, False, "Image URL or 'Image src error.'."),
        "downloaded": (INTEGER, False, "0 or 1."),
        "save_location": (STRING, False, "E.g. 'Local save in /data/art'."),
        "category": (STRING, False, "E.g. 'art', 'travel'."),
    },
    "geo": {
        "ind": (INTEGER, True, "The posting number; the Kafka key."),
        "timestamp": (STRING, True, "ISO-8601 date-time of the posting."),
        "latitude": (NUMBER, False, "Latitude in degrees."),
        "longitude": (NUMBER, False, "Longitude in degrees."),
        "country": (STRING, False, "Country name."),
    },
    "user": {
        "ind": (INTEGER, True, "The posting number; the Kafka key."),
        "first_name": (STRING, False, "First name."),
        "last_name": (STRING, False, "Last name."),
        "age": (INTEGER, False, "Age in years."),
        "date_joined": (STRING, False, "ISO-8601 date-time the user joined."),
    },
}

# The field whose value becomes the Kafka message key (as text).
KEY_FIELD = {"pin": "unique_id", "geo": "ind", "user": "ind"}

_PY_TYPES: dict[str, Any] = {INTEGER: int, NUMBER: float, STRING: str, STRING_OR_INTEGER: str | int}


def _struct(kind: str) -> type[msgspec.Struct]:
    """A msgspec struct that decodes exactly the records the contract accepts (unknown keys skipped)."""
    fields = []
    for name, (json_type, required, _) in FIELDS[kind].items():
        py_type = _PY_TYPES[json_type]
        fields.append((name, py_type) if required else (name, py_type | None, None))
    return msgspec.defstruct(f"{kind.title()}Struct", fields)


STRUCTS: dict[str, type[msgspec.Struct]] = {kind: _struct(kind) for kind in EVENT_TYPES}


class _Envelope(msgspec.Struct):
    """One /events item, the record kept as the exact bytes received."""

    type: Literal["pin", "geo", "user"]
    record: msgspec.Raw


ENVELOPES = msgspec.json.Decoder(list[_Envelope])
RECORD_DECODERS = {kind: msgspec.json.Decoder(STRUCTS[kind]) for kind in EVENT_TYPES}


def _model(kind: str) -> type[BaseModel]:
    """The pydantic model of one kind, for the OpenAPI schema; extra fields allowed."""
    fields: dict[str, Any] = {}
    for name, (json_type, required, description) in FIELDS[kind].items():
        py_type = _PY_TYPES[json_type]
        if required:
            fields[name] = (py_type, Field(..., description=description))
        else:
            fields[name] = (py_type | None, Field(None, description=description))
    config = ConfigDict(extra="allow", strict=True, title=kind.title())
    return create_model(kind.title(), __config__=config, __doc__=f"A {kind} record; other fields are kept.",
                        **fields)


Pin, Geo, User = (_model(kind) for kind in EVENT_TYPES)
MODELS: dict[str, type[BaseModel]] = {"pin": Pin, "geo": Geo, "user": User}


class PinEvent(BaseModel):
    """A pin in an /events batch."""

    type: Literal["pin"]
    record: Pin  # type: ignore[valid-type]


class GeoEvent(BaseModel):
    """A geo record in an /events batch."""

    type: Literal["geo"]
    record: Geo  # type: ignore[valid-type]


class UserEvent(BaseModel):
    """A user record in an /events batch."""

    type: Literal["user"]
    record: User  # type: ignore[valid-type]


class Accepted(BaseModel):
    """A record Kafka acknowledged."""

    event_id: str = Field(..., description="UUID the API assigned; also the Kafka header `event_id`.")


class BatchAccepted(BaseModel):
    """Every record of a batch that Kafka acknowledged, in request order."""

    event_ids: list[str]


class Problem(BaseModel):
    """One reason a request was refused."""

    model_config = ConfigDict(extra="allow")
    loc: list[str | int] = Field(..., description="Path to the bad part, e.g. ['body', 3, 'record', 'index'].")
    item: int | None = Field(None, description="Index of the bad item in an /events batch.")
    field: str | None = Field(None, description="Name of the bad field.")
    type: str = Field(..., description="missing, wrong_type, invalid_event_type, json_invalid, too_many_items, "
                                       "too_large, unauthorized, unavailable.")
    msg: str


class ProblemBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    detail: list[Problem]


SCHEMA_MODELS: list[type[BaseModel]] = [Pin, Geo, User, PinEvent, GeoEvent, UserEvent,
                                        Accepted, BatchAccepted, Problem, ProblemBody]
