"""silver.users: one row per `ind` from bronze.user_events (CONTRACT.md section 5)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.bronze.schema import EVENT_TABLES
from lakehouse.silver import common as c
from lakehouse.silver.reasons import Reason
from lakehouse.spec import SilverTable
from pinlake.settings import TOPICS

AGE = (0, 130)

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


def _checks() -> dict[Reason, Column]:
    present = lambda name: c.json_field(name).isNotNull()  # noqa: E731
    col = F.col
    return {
        Reason.INVALID_IND: c.unusable_ind(),
        Reason.INVALID_AGE: c.invalid(present("age"), col("age_number"), _age_in_range()),
        Reason.INVALID_DATE_JOINED: c.invalid(present("date_joined"), col("date_joined")),
    }


def clean_users(bronze: DataFrame) -> DataFrame:
    """Every bronze user event, cleaned, with its sorted reason codes (empty when accepted)."""
    # the age is kept only in range: out-of-range ages live on in quarantine's raw text
    age = F.when(_age_in_range(), F.col("age_number")).cast("int").alias("age")
    return c.clean(bronze, FIELDS, _values(), _checks, ["ind", "user_name", age, "date_joined"])


def _age_in_range() -> Column:
    return F.col("age_number").between(*AGE)


def build_users(cleaned: DataFrame) -> DataFrame:
    """silver.users rows from cleaned events: accepted ones only, the latest version per ind."""
    return c.latest_per_key(cleaned.where(c.accepted(cleaned)), list(USERS.keys)).select(*COLUMNS)


def expect_users() -> list:
    """silver.users: an age within the contract's range."""
    from quality import expect as x

    return [*c.expect_entity(), x.between("age", *AGE)]


USERS = SilverTable(
    name="silver.users", schema=USERS_SCHEMA, keys=("ind",), description="One row per posting's user (ind).",
    inputs=(EVENT_TABLES[TOPICS["user"]].name,), topic=TOPICS["user"], clean=clean_users, build=build_users,
    expectations=expect_users, properties=c.CHANGE_FEED,
)
