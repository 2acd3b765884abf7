"""silver.geo: one row per `ind` from bronze.geo_events (CONTRACT.md section 5)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.silver import common as c

TABLE = "silver.geo"
BRONZE = "bronze.geo_events"
KEYS = ["ind"]

GEO_SCHEMA = T.StructType([
    T.StructField("ind", T.LongType()),
    T.StructField("event_time", T.TimestampType()),
    T.StructField("latitude", T.DoubleType()),
    T.StructField("longitude", T.DoubleType()),
    T.StructField("country", T.StringType()),
    *c.PROVENANCE_FIELDS,
])
COLUMNS = GEO_SCHEMA.fieldNames()
# The JSON fields the table reads.
FIELDS = ["ind", "timestamp", "latitude", "longitude", "country"]


def _values() -> dict[str, Column]:
    field = c.json_field
    return {
        "ind": c.parse_integer(field("ind")),
        "event_time": c.parse_timestamp(field("timestamp")),
        "latitude": c.parse_double(field("latitude")),
        "longitude": c.parse_double(field("longitude")),
        "country": field("country"),
    }


def _checks() -> dict[str, Column]:
    present = lambda name: c.json_field(name).isNotNull()  # noqa: E731
    col = F.col
    return {
        "invalid_ind": col("ind").isNull() | (col("ind") < 0),
        "invalid_timestamp": col("event_time").isNull(),
        "invalid_latitude": c.invalid(present("latitude"), col("latitude"),
                                      col("latitude").between(-90.0, 90.0)),
        "invalid_longitude": c.invalid(present("longitude"), col("longitude"),
                                       col("longitude").between(-180.0, 180.0)),
    }


def check_geo(bronze: DataFrame) -> DataFrame:
    """Every bronze geo event, cleaned, with its sorted reason codes (empty when accepted)."""
    own = [name for name in COLUMNS if name not in c.PROVENANCE]
    return c.check(bronze, FIELDS, _values(), _checks, own)


def build_geo(checked: DataFrame) -> DataFrame:
    """silver.geo rows from checked events: accepted ones only, the latest version per ind."""
    return c.latest_per_key(checked.where(c.accepted(checked)), KEYS).select(*COLUMNS)
