"""The silver tables' suites (CONTRACT.md sections 5 and 7), one function per table."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from lakehouse.tables import SILVER_TABLES
from pinlake.settings import TOPICS
from quality.suites import columns_present, critical, keys, suite, warning

TABLES = SILVER_TABLES

PROVENANCE = ("event_id", "received_at", "source_partition", "source_offset", "kafka_timestamp")
UUID_LOWER = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
HTTP_URL = r"^https?://"
MEDIA_TYPES = ["image", "video", "story"]
REASONS = [
    "invalid_age", "invalid_date_joined", "invalid_downloaded", "invalid_follower_count",
    "invalid_ind", "invalid_latitude", "invalid_longitude", "invalid_media_type",
    "invalid_timestamp", "invalid_unique_id", "malformed_json",
]

# Provenance comes from Kafka itself, so it is always there; one query checks all of it.
_PROVENANCE_MISSING = (
    "SELECT * FROM {batch} "
    "WHERE source_partition IS NULL OR source_offset IS NULL OR kafka_timestamp IS NULL"
)
# Placeholders that section 5 turns into null or strips; one left over is a cleaning slip.
_PLACEHOLDERS_LEFT = (
    "SELECT * FROM {batch} WHERE title = 'No Title Data Available' "
    "OR description LIKE 'No description available%' OR poster_name = 'User Info Error' "
    "OR save_location LIKE 'Local save in %'"
)
_REASON_LIST = ", ".join(f"'{code}'" for code in REASONS)
_BAD_REASONS = (
    "SELECT * FROM {batch} WHERE reasons IS NULL OR size(reasons) = 0 "
    "OR reasons <> array_sort(reasons) "
    f"OR NOT forall(reasons, r -> r IN ({_REASON_LIST}))"
)


def _provenance() -> list:
    return [critical(gxe.UnexpectedRowsExpectation, name="provenance present",
                     unexpected_rows_query=_PROVENANCE_MISSING,
                     description="source_partition, source_offset and kafka_timestamp are never null")]


def _ind() -> list:
    return [critical(gxe.ExpectColumnValuesToNotBeNull, column="ind"),
            critical(gxe.ExpectColumnValuesToBeBetween, column="ind", min_value=0)]


def silver_pins() -> gx.ExpectationSuite:
    """silver.pins: one row per unique_id, cleaned values in their ranges and sets."""
    return suite("silver.pins", [
        columns_present("ind", "unique_id", "title", "description", "poster_name", "follower_count",
                        "tags", "media_type", "image_src", "downloaded", "save_location",
                        "category", *PROVENANCE),
        *keys("unique_id"),
        critical(gxe.ExpectColumnValuesToMatchRegex, column="unique_id", regex=UUID_LOWER),
        *_ind(),
        critical(gxe.ExpectColumnValuesToBeBetween, column="follower_count", min_value=0),
        critical(gxe.ExpectColumnValuesToBeInSet, column="media_type", value_set=MEDIA_TYPES),
        critical(gxe.ExpectColumnValuesToNotMatchRegex, column="category", regex="[A-Z]"),
        *_provenance(),
        warning(gxe.ExpectColumnValuesToNotBeNull, column="category"),
        warning(gxe.ExpectColumnValuesToMatchRegex, column="image_src", regex=HTTP_URL),
        warning(gxe.UnexpectedRowsExpectation, name="placeholders cleaned",
                unexpected_rows_query=_PLACEHOLDERS_LEFT,
                description="no placeholder of section 5 is left in title, description, "
                            "poster_name or save_location"),
    ])


def silver_geo() -> gx.ExpectationSuite:
    """silver.geo: one row per ind, a parsed time and coordinates in range."""
    return suite("silver.geo", [
        columns_present("ind", "event_time", "latitude", "longitude", "country", *PROVENANCE),
        *keys("ind"),
        critical(gxe.ExpectColumnValuesToBeBetween, column="ind", min_value=0),
        critical(gxe.ExpectColumnValuesToNotBeNull, column="event_time"),
        critical(gxe.ExpectColumnValuesToBeBetween, column="latitude", min_value=-90, max_value=90),
        critical(gxe.ExpectColumnValuesToBeBetween, column="longitude", min_value=-180, max_value=180),
        *_provenance(),
        warning(gxe.ExpectColumnValuesToNotBeNull, column="country"),
    ])


def silver_users() -> gx.ExpectationSuite:
    """silver.users: one row per ind, age 0 to 130."""
    return suite("silver.users", [
        columns_present("ind", "user_name", "age", "date_joined", *PROVENANCE),
        *keys("ind"),
        critical(gxe.ExpectColumnValuesToBeBetween, column="ind", min_value=0),
        critical(gxe.ExpectColumnValuesToBeBetween, column="age", min_value=0, max_value=130),
        *_provenance(),
    ])


def silver_quarantine() -> gx.ExpectationSuite:
    """silver.quarantine: one row per rejected bronze row, with known, sorted reasons."""
    return suite("silver.quarantine", [
        columns_present("source_topic", "source_partition", "source_offset", "event_id",
                        "received_at", "raw", "reasons", "quarantined_at"),
        *keys("source_topic", "source_partition", "source_offset"),
        critical(gxe.ExpectColumnValuesToBeInSet, column="source_topic",
                 value_set=sorted(TOPICS.values())),
        critical(gxe.UnexpectedRowsExpectation, name="reasons known and sorted",
                 unexpected_rows_query=_BAD_REASONS,
                 description="reasons is a non-empty, sorted array of the contract's codes"),
        critical(gxe.ExpectColumnValuesToNotBeNull, column="quarantined_at"),
    ])
