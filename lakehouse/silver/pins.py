"""silver.pins: one row per `unique_id` from bronze.pin_events (CONTRACT.md section 5)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.bronze.schema import EVENT_TABLES
from lakehouse.silver import common as c
from lakehouse.silver.reasons import Reason
from lakehouse.spec import SilverTable
from pinlake.settings import TOPICS

PINS_SCHEMA = T.StructType([
    T.StructField("ind", T.LongType()),
    T.StructField("unique_id", T.StringType()),
    T.StructField("title", T.StringType()),
    T.StructField("description", T.StringType()),
    T.StructField("poster_name", T.StringType()),
    T.StructField("follower_count", T.LongType()),
    T.StructField("tags", T.ArrayType(T.StringType())),
    T.StructField("media_type", T.StringType()),
    T.StructField("image_src", T.StringType()),
    T.StructField("downloaded", T.BooleanType()),
    T.StructField("save_location", T.StringType()),
    T.StructField("category", T.StringType()),
    *c.PROVENANCE_FIELDS,
])
COLUMNS = PINS_SCHEMA.fieldNames()
# The JSON fields the table reads.
FIELDS = ["index", "unique_id", "title", "description", "poster_name", "follower_count", "tag_list",
          "is_image_or_video", "image_src", "downloaded", "save_location", "category"]

NO_TITLE = "No Title Data Available"
NO_DESCRIPTION = "No description available"
USER_INFO_ERROR = "User Info Error"
NO_TAGS = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
IMAGE_SRC_ERROR = "Image src error."
MEDIA_TYPES = {"image": "image", "video": "video", "multi-video(story page format)": "story"}
SAVE_PREFIX = "Local save in"
_SAVE_PREFIX = rf"^{SAVE_PREFIX}(\s+|$)"
HTTP_URL = r"^https?://"
# A number with an optional thousand / million suffix: `8k`, `1.2M`, `731`.
_FOLLOWERS = r"^([+-]?)(\d+\.?\d*|\.\d+)([kKmM]?)$"
_MAX_FOLLOWER_DIGITS = "decimal(30,6)"  # wide enough for any bigint, small enough not to overflow x 10^6


def follower_count(text: Column) -> Column:
    """`8k` -> 8000, `1.2M` -> 1200000, rounded half up; null for `User Info Error` or unusable."""
    text = c.null_if(text, USER_INFO_ERROR)
    number = F.regexp_extract(text, _FOLLOWERS, 2).try_cast(_MAX_FOLLOWER_DIGITS)
    suffix = F.lower(F.regexp_extract(text, _FOLLOWERS, 3))
    scale = F.when(suffix == "k", F.lit(1000)).when(suffix == "m", F.lit(1_000_000)).otherwise(F.lit(1))
    value = F.round(number * scale, 0)  # Spark rounds decimals HALF_UP
    signed = F.when(F.regexp_extract(text, _FOLLOWERS, 1) == "-", -value).otherwise(value)
    return F.when(text.rlike(_FOLLOWERS), signed.try_cast("bigint"))


def tags(text: Column) -> Column:
    """`tag_list` split on commas, each trimmed, empties dropped; null for the no-tags placeholder."""
    text = c.null_if(text, NO_TAGS)
    parts = F.transform(F.split(text, ","), c.strip)
    return F.filter(parts, lambda tag: tag != "")


def media_type(text: Column) -> Column:
    """`image`, `video`, `story` (from the story-format placeholder); null for anything else."""
    mapped = F.lit(None).cast("string")
    for source, target in reversed(MEDIA_TYPES.items()):
        mapped = F.when(text == source, F.lit(target)).otherwise(mapped)
    return mapped


def downloaded(text: Column) -> Column:
    """1 -> true, 0 -> false; null for anything else."""
    number = c.parse_integer(text)
    return F.when(number == 1, F.lit(True)).when(number == 0, F.lit(False))


def save_location(text: Column) -> Column:
    """The path without the leading `Local save in `."""
    return c.clean_string(F.regexp_replace(text, _SAVE_PREFIX, ""))


def _values() -> dict[str, Column]:
    field = c.json_field
    description = field("description")
    return {
        "ind": c.parse_integer(field("index")),
        "unique_id": c.parse_uuid(field("unique_id")),
        "title": c.null_if(field("title"), NO_TITLE),
        "description": F.when(~description.startswith(NO_DESCRIPTION), description),
        "poster_name": c.null_if(field("poster_name"), USER_INFO_ERROR),
        "follower_count": follower_count(field("follower_count")),
        "tags": tags(field("tag_list")),
        "media_type": media_type(field("is_image_or_video")),
        "image_src": c.null_if(field("image_src"), IMAGE_SRC_ERROR),
        "downloaded": downloaded(field("downloaded")),
        "save_location": save_location(field("save_location")),
        "category": F.lower(field("category")),
    }


def _checks() -> dict[Reason, Column]:
    present = lambda name: c.json_field(name).isNotNull()  # noqa: E731
    col = F.col
    return {
        Reason.INVALID_IND: c.unusable_ind(),
        Reason.INVALID_UNIQUE_ID: col("unique_id").isNull(),
        Reason.INVALID_FOLLOWER_COUNT: c.invalid(
            present("follower_count") & (c.json_field("follower_count") != USER_INFO_ERROR),
            col("follower_count"), col("follower_count") >= 0),
        Reason.INVALID_MEDIA_TYPE: c.invalid(present("is_image_or_video"), col("media_type")),
        Reason.INVALID_DOWNLOADED: c.invalid(present("downloaded"), col("downloaded")),
    }


def clean_pins(bronze: DataFrame) -> DataFrame:
    """Every bronze pin event, cleaned, with its sorted reason codes (empty when accepted)."""
    own = [name for name in COLUMNS if name not in c.PROVENANCE]
    return c.clean(bronze, FIELDS, _values(), _checks, own)


def build_pins(cleaned: DataFrame) -> DataFrame:
    """silver.pins rows from cleaned events: accepted ones only, the latest version per unique_id."""
    return c.latest_per_key(cleaned.where(c.accepted(cleaned)), list(PINS.keys)).select(*COLUMNS)


def expect_pins() -> list:
    """silver.pins: canonical ids, cleaned values in their ranges and sets, no placeholder left."""
    from quality import expect as x

    left = " OR ".join([f"title = {x.sql_text(NO_TITLE)}", f"description LIKE {x.sql_text(NO_DESCRIPTION + '%')}",
                        f"poster_name = {x.sql_text(USER_INFO_ERROR)}",
                        f"save_location LIKE {x.sql_text(SAVE_PREFIX + ' %')}"])
    return [
        x.matches("unique_id", c.CANONICAL_UUID),
        x.not_null("ind"),
        *c.expect_entity(),
        x.between("follower_count", 0),
        x.in_set("media_type", set(MEDIA_TYPES.values())),
        x.not_matches("category", "[A-Z]"),
        x.not_null("category", x.WARNING),
        x.matches("image_src", HTTP_URL, x.WARNING),
        x.no_rows("placeholders cleaned", left, "no placeholder of section 5 is left in title, description, "
                  "poster_name or save_location", x.WARNING),
    ]


PINS = SilverTable(
    name="silver.pins", schema=PINS_SCHEMA, keys=("unique_id",), description="One row per pin (unique_id).",
    inputs=(EVENT_TABLES[TOPICS["pin"]].name,), topic=TOPICS["pin"], clean=clean_pins, build=build_pins,
    expectations=expect_pins, properties=c.CHANGE_FEED,
)
