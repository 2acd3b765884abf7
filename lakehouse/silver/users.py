"""silver.users: one row per `ind` from bronze.user_events (CONTRACT.md section 5)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.silver import common as c

TABLE = "silver.users"
BRONZE = "bronze.user_events"
KEYS = ["ind"]

USERS_SCHEMA = T.StructType([
    T.StructField("ind", T.LongType()),
    T.StructField("user_name", T.StringType()),
    T.StructField("age", T.IntegerType()),
    T.StructField("date_joined", T.TimestampType()),
    *c.PROVENANCE_FIELDS,
])
COLUMNS = USERS_SCHEMA.fieldNames()
# The JSON fields the table reads.
FIELDS = ["ind", "first_name", "last_name", "age", "date_joined"]


def user_name(first: Column, last: Column) -> Column:
    """First and last name (clean texts) joined by one space; the one present; null when both are null."""
    joined = F.concat_ws(" ", first, last)
    return F.when(joined != "", joined)


def _values() -> dict[str, Column]:
    field = c.json_field
    return {
        "ind": c.parse_integer(field("ind")),
        "user_name": user_name(field("first_name"), field("last_name")),
        # bigint first, so that an age beyond int's range is out of range, not an overflow
        "age_number": c.parse_integer(field("age")),
        "date_joined": c.parse_timestamp(field("date_joined")),
    }


def _checks() -> dict[str, Column]:
    present = lambda name: c.json_field(name).isNotNull()  # noqa: E731
    col = F.col
    return {
        "invalid_ind": col("ind").isNull() | (col("ind") < 0),
        "invalid_age": c.invalid(present("age"), col("age_number"), _age_in_range()),
        "invalid_date_joined": c.invalid(present("date_joined"), col("date_joined")),
    }


def check_users(bronze: DataFrame) -> DataFrame:
    """Every bronze user event, cleaned, with its sorted reason codes (empty when accepted)."""
    # the age is kept only in range: out-of-range ages live on in quarantine's raw text
    age = F.when(_age_in_range(), F.col("age_number")).cast("int").alias("age")
    return c.check(bronze, FIELDS, _values(), _checks, ["ind", "user_name", age, "date_joined"])


def _age_in_range() -> Column:
    return F.col("age_number").between(0, 130)


def build_users(checked: DataFrame) -> DataFrame:
    """silver.users rows from checked events: accepted ones only, the latest version per ind."""
    return c.latest_per_key(checked.where(c.accepted(checked)), KEYS).select(*COLUMNS)
