"""The reason codes of silver.quarantine (CONTRACT.md section 5), one enum for the rules and the suites."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a bronze row was quarantined; a row carries every code that applies, sorted."""

    INVALID_AGE = "invalid_age"
    INVALID_DATE_JOINED = "invalid_date_joined"
    INVALID_DOWNLOADED = "invalid_downloaded"
    INVALID_FOLLOWER_COUNT = "invalid_follower_count"
    INVALID_IND = "invalid_ind"
    INVALID_LATITUDE = "invalid_latitude"
    INVALID_LONGITUDE = "invalid_longitude"
    INVALID_MEDIA_TYPE = "invalid_media_type"
    INVALID_TIMESTAMP = "invalid_timestamp"
    INVALID_UNIQUE_ID = "invalid_unique_id"
    # A value that is not one JSON object: the single reason of its row.
    MALFORMED_JSON = "malformed_json"
