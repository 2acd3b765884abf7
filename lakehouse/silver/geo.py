"""silver.geo: one row per `ind` from bronze.geo_events (CONTRACT.md section 5)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.bronze.schema import EVENT_TABLES
from lakehouse.silver import common as c
from lakehouse.silver.reasons import Reason
from lakehouse.spec import SilverTable
from pinlake.settings import TOPICS

LATITUDE = (-90.0, 90.0)
LONGITUDE = (-180.0, 180.0)

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


def _checks() -> dict[Reason, Column]:
    present = lambda name: c.json_field(name).isNotNull()  # noqa: E731
    col = F.col
    return {
        Reason.INVALID_IND: c.unusable_ind(),
        Reason.INVALID_TIMESTAMP: col("event_time").isNull(),
        Reason.INVALID_LATITUDE: c.invalid(present("latitude"), col("latitude"), col("latitude").between(*LATITUDE)),
        Reason.INVALID_LONGITUDE: c.invalid(present("longitude"), col("longitude"),
                                            col("longitude").between(*LONGITUDE)),
    }


def clean_geo(bronze: DataFrame) -> DataFrame:
    """Every bronze geo event, cleaned, with its sorted reason codes (empty when accepted)."""
    own = [name for name in COLUMNS if name not in c.PROVENANCE]
    return c.clean(bronze, FIELDS, _values(), _checks, own)


def build_geo(cleaned: DataFrame) -> DataFrame:
    """silver.geo rows from cleaned events: accepted ones only, the latest version per ind."""
    return c.latest_per_key(cleaned.where(c.accepted(cleaned)), list(GEO.keys)).select(*COLUMNS)


def expect_geo() -> list:
    """silver.geo: a parsed time and coordinates in range."""
    from quality import expect as x

    return [*c.expect_entity(), x.not_null("event_time"), x.between("latitude", *LATITUDE),
            x.between("longitude", *LONGITUDE), x.not_null("country", x.WARNING)]


GEO = SilverTable(
    name="silver.geo", schema=GEO_SCHEMA, keys=("ind",), description="One row per posting's geolocation (ind).",
    inputs=(EVENT_TABLES[TOPICS["geo"]].name,), topic=TOPICS["geo"], clean=clean_geo, build=build_geo,
    expectations=expect_geo, properties=c.CHANGE_FEED,
)
