"""Silver-shaped rows for gold tests: only the columns a test cares about, the rest defaulted."""

from __future__ import annotations

import uuid
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession

from lakehouse.silver import geo, pins, users

AT = datetime(2024, 1, 1)
_PROVENANCE = {"event_id": "e", "received_at": AT, "source_partition": 0, "source_offset": 0, "kafka_timestamp": AT}


def _frame(spark: SparkSession, schema, rows: list[dict]) -> DataFrame:
    names = schema.fieldNames()
    return spark.createDataFrame([tuple({**_PROVENANCE, **r}.get(n) for n in names) for r in rows], schema)


def pin_rows(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """silver.pins; each dict needs `ind`, gets a fresh unique_id unless given."""
    return _frame(spark, pins.PINS_SCHEMA, [{"unique_id": str(uuid.uuid4()), **r} for r in rows])


def geo_rows(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """silver.geo; each dict needs `ind`, event_time defaults to 2020-01-01."""
    return _frame(spark, geo.GEO_SCHEMA, [{"event_time": datetime(2020, 1, 1), **r} for r in rows])


def user_rows(spark: SparkSession, rows: list[dict]) -> DataFrame:
    """silver.users; each dict needs `ind`."""
    return _frame(spark, users.USERS_SCHEMA, rows)
