"""Parsing rules every silver table shares (CONTRACT.md section 5): pure column expressions.

Each helper takes the *clean text* of a JSON field (see `json_field`: trimmed, null when absent
or blank) and returns a typed column, null when the value is unusable; the table modules turn
"present but unusable" into reason codes (`lakehouse.silver.reasons`).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.silver.reasons import Reason

# Provenance every silver row carries, in this order, after the table's own columns.
PROVENANCE = ("event_id", "received_at", "source_partition", "source_offset", "kafka_timestamp")
PROVENANCE_FIELDS = [
    T.StructField("event_id", T.StringType()),
    T.StructField("received_at", T.TimestampType()),
    T.StructField("source_partition", T.IntegerType()),
    T.StructField("source_offset", T.LongType()),
    T.StructField("kafka_timestamp", T.TimestampType()),
]
# The posting number (`index` of a pin, `ind` of geo and user): an integer >= 0.
MIN_IND = 0
# "Latest version wins", ordered by these columns (all descending for the winner).
VERSION_ORDER = ("kafka_timestamp", "source_partition", "source_offset")
# Each silver table records its changes (Delta's change data feed): gold reads what a run changed.
CHANGE_FEED = {"delta.enableChangeDataFeed": "true"}

_PARSED = "_json"
_IS_OBJECT = "_is_object"
_FIELD = "_field_"
_RAW = "_raw_"

# A JSON number's text, as it comes from a JSON number or a numeric string.
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# A whole number: digits, optionally followed by a zero fraction (a JSON 12.0 reads as "12.0").
_INTEGER = r"^[+-]?\d+(\.0+)?$"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# How silver stores a UUID: the same form, lower-case.
CANONICAL_UUID = _UUID.replace("a-fA-F", "a-f")
# Date, `T` or space, hh:mm[:ss], optional fraction, optional offset `Z` / `+hh:mm` / `-hh:mm`.
_DATE_TIME = (r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_DATE_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
# White space as Python's str.strip() knows it (tabs, newlines, no-break spaces, ...);
# Spark's plain trim() would strip the ASCII space only.
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())


def parse_json(value: Column) -> Column:
    """The text parsed as a variant, wrapped in a one-element array (see `json_is_object`)."""
    return F.try_parse_json(F.concat(F.lit("["), strip(value), F.lit("]")))


def json_is_object(value: Column, parsed: Column) -> Column:
    """True when the text is exactly one JSON object, given its `parse_json`.

    Spark's JSON parsers stop after the first complete value (`{"a":1} junk` would parse),
    so the text is parsed inside `[...]`: then anything after the object makes the text
    invalid, except a second element (which shows up as element [1]) and text starting with
    `]` (which closes the array early). That last case is caught by parsing the text once
    more as the value of `{"k": ...}`, only for the rare texts holding a `]`. The variant
    parser is strict: no single quotes, NaN or duplicate keys.
    """
    text = strip(value)
    closes_early = F.when(
        text.contains("]"), F.try_parse_json(F.concat(F.lit('{"k":'), text, F.lit("}"))).isNull()
    ).otherwise(F.lit(False))
    is_object = (
        text.startswith("{") & text.endswith("}") & parsed.isNotNull()
        & F.try_variant_get(parsed, "$[1]", "string").isNull() & ~closes_early
    )
    return F.coalesce(is_object, F.lit(False))


def json_field(name: str) -> Column:
    """The clean text of field `name` (a string's content, a number's digits; null when absent
    or blank), as `with_fields` extracted it."""
    return F.col(f"{_FIELD}{name}")


def with_fields(bronze: DataFrame, fields: list[str]) -> DataFrame:
    """Bronze rows plus whether the value is one JSON object and the clean text of each field.

    Each step is a projection of its own whose columns the next one reads, so that a row's JSON
    is parsed once and each field looked up and trimmed once. Within one projection, Spark does
    not share a subexpression between the branches of a CASE WHEN, and the rules are full of
    them; it does not merge two projections when a costly column is used more than once.
    """
    parsed = bronze.withColumn(_PARSED, parse_json(F.col("value")))
    raw = parsed.select(
        "*",
        json_is_object(F.col("value"), F.col(_PARSED)).alias(_IS_OBJECT),
        *[F.try_variant_get(F.col(_PARSED), f"$[0]['{name}']", "string").alias(f"{_RAW}{name}") for name in fields],
    )
    return raw.select(
        *[column for column in raw.columns if not column.startswith(_RAW)],
        *[clean_string(F.col(f"{_RAW}{name}")).alias(f"{_FIELD}{name}") for name in fields],
    )


def is_object() -> Column:
    """True when the row's value is one JSON object (after `with_fields`)."""
    return F.col(_IS_OBJECT)


def strip(raw: Column) -> Column:
    """Surrounding white space removed (`raw` should be a column: the expression repeats it).

    Spark's trim with a set of characters (btrim) walks the whole string and allocates on every call
    (a third of silver's time when it ran on every value), so it runs only when the first or last
    character is white space, which is rare.
    """
    # A character is white space when WHITESPACE contains it (UTF-8 matches whole characters only).
    whitespace = F.lit(WHITESPACE)
    at_ends = whitespace.contains(F.substring(raw, 1, 1)) | whitespace.contains(F.substring(raw, -1, 1))
    return F.when(at_ends, F.btrim(raw, whitespace)).otherwise(raw)


def clean_string(raw: Column) -> Column:
    """Trimmed of surrounding white space; an empty string is null."""
    return F.nullif(strip(raw), F.lit(""))


def null_if(text: Column, placeholder: str) -> Column:
    """Null when the (clean) text equals a placeholder."""
    return F.when(text != placeholder, text)


def parse_integer(text: Column) -> Column:
    """A whole number (JSON number or numeric string) as bigint; null when absent or not whole."""
    digits = F.regexp_extract(text, r"^([+-]?\d+)", 1)
    return F.when(text.rlike(_INTEGER), digits.try_cast("bigint"))


def parse_double(text: Column) -> Column:
    """A number (JSON number or numeric string) as double; null when absent or not a number."""
    return F.when(text.rlike(_NUMBER), text.try_cast("double"))


def parse_timestamp(text: Column) -> Column:
    """An ISO-8601 date-time as a UTC timestamp; no offset means UTC; null when unparseable.

    The text is rebuilt as `date T hh:mm:ss.ffffff offset` so that one strict pattern parses
    it, whatever the session time zone (fractions beyond microseconds are truncated).
    """
    part = lambda i: F.regexp_extract(text, _DATE_TIME, i)  # noqa: E731
    seconds = F.when(part(3) == "", F.lit(":00")).otherwise(part(3))
    fraction = F.rpad(F.substring(F.regexp_replace(part(4), r"^\.", ""), 1, 6), 6, "0")
    offset = F.when(part(5) == "", F.lit("Z")).otherwise(part(5))
    normalized = F.concat(part(1), F.lit("T"), part(2), seconds, F.lit("."), fraction, offset)
    return F.when(text.rlike(_DATE_TIME), F.try_to_timestamp(normalized, F.lit(_DATE_TIME_FORMAT)))


def parse_uuid(text: Column) -> Column:
    """A UUID (8-4-4-4-12 hex digits, any case) in lower-case canonical form; else null."""
    return F.when(text.rlike(_UUID), F.lower(text))


def invalid(present: Column, parsed: Column, valid: Column | None = None) -> Column:
    """True when a value is present but did not parse, or parsed outside its range."""
    bad = present & parsed.isNull()
    if valid is not None:
        bad = bad | (parsed.isNotNull() & ~valid)
    return F.coalesce(bad, F.lit(False))


def reasons(checks: dict[Reason, Column]) -> Column:
    """The sorted array of codes whose predicate is true; `Reason.MALFORMED_JSON` alone for a non-object."""
    found = F.array_compact(F.array(*[F.when(checks[code], F.lit(str(code))) for code in sorted(checks)]))
    return F.when(is_object(), found).otherwise(F.array(F.lit(str(Reason.MALFORMED_JSON))))


# Each provenance column and the bronze column it is taken from (what `provenance` selects).
PROVENANCE_SOURCES = {"event_id": "event_id", "received_at": "received_at", "source_partition": "partition",
                      "source_offset": "offset", "kafka_timestamp": "kafka_timestamp"}


def provenance() -> list[Column]:
    """Bronze's Kafka coordinates under silver's provenance names."""
    return [
        F.col("event_id"),
        F.col("received_at"),
        F.col("partition").cast("int").alias("source_partition"),
        F.col("offset").cast("bigint").alias("source_offset"),
        F.col("kafka_timestamp"),
    ]


def clean(bronze: DataFrame, fields: list[str], values: dict[str, Column],
          checks: Callable[[], dict[Reason, Column]], columns: list[str | Column]) -> DataFrame:
    """Bronze rows parsed and cleaned into `columns`, with provenance and sorted reason codes.

    `fields` are the JSON fields the table reads (`json_field`), `values` the cleaned values
    computed from them, `checks` the predicate of each reason code over them. The bronze text is
    kept as `raw` for rejected rows only: accepted rows never need it, and a batch is cached
    between its uses.
    """
    cleaned = with_fields(bronze, fields).select("*", *[v.alias(k) for k, v in values.items()])
    judged = cleaned.withColumn("reasons", reasons(checks()))
    return judged.select(
        *columns, *provenance(),
        F.col("topic").alias("source_topic"),
        F.when(F.size("reasons") > 0, F.col("value")).alias("raw"),
        "reasons",
    )


def latest_per_key(df: DataFrame, keys: list[str]) -> DataFrame:
    """One row per key: the latest version by (kafka_timestamp, source_partition, source_offset)."""
    order = [F.col(c).desc_nulls_last() for c in VERSION_ORDER]
    window = Window.partitionBy(*keys).orderBy(*order)
    return (
        df.withColumn("_version_rank", F.row_number().over(window))
        .where(F.col("_version_rank") == 1)
        .drop("_version_rank")
    )


def accepted(cleaned: DataFrame) -> Column:
    """Predicate: the cleaned row has no reason to be quarantined."""
    return F.size(cleaned["reasons"]) == 0


def unusable_ind() -> Column:
    """Every silver table's predicate of `Reason.INVALID_IND`: no whole number >= MIN_IND."""
    return F.col("ind").isNull() | (F.col("ind") < MIN_IND)


def expect_entity() -> list:
    """What every silver entity table expects: `ind` >= 0 and its Kafka provenance present."""
    from quality import expect as x

    missing = " OR ".join(f"{c} IS NULL" for c in ("source_partition", "source_offset", "kafka_timestamp"))
    return [x.between("ind", MIN_IND),
            x.no_rows("provenance present", missing,
                      "source_partition, source_offset and kafka_timestamp are never null")]
