"""The spec of `quality.lineage`, the table every OpenLineage event of the pipeline lands in."""

from __future__ import annotations

from pyspark.sql import types as T

from lakehouse.spec import Table

TABLE_NAMESPACE = "pinlake"  # the symlinks' namespace: a dataset's lakehouse table name (`silver.pins`)

DATASET = T.StructType([
    T.StructField("table", T.StringType()),  # the lakehouse name, when it is a lakehouse table
    T.StructField("namespace", T.StringType()),
    T.StructField("name", T.StringType()),
    T.StructField("version", T.StringType()),
])
LINEAGE_SCHEMA = T.StructType([
    T.StructField("event_time", T.TimestampType(), False),
    T.StructField("event_type", T.StringType()),
    T.StructField("job_namespace", T.StringType(), False),
    T.StructField("job_name", T.StringType(), False),
    T.StructField("run_id", T.StringType(), False),
    T.StructField("parent_job_name", T.StringType()),
    T.StructField("parent_run_id", T.StringType()),
    T.StructField("inputs", T.ArrayType(DATASET)),
    T.StructField("outputs", T.ArrayType(DATASET)),
    T.StructField("event", T.StringType(), False),
])
LINEAGE = Table(name="quality.lineage", schema=LINEAGE_SCHEMA, keys=("run_id", "event_type", "event_time"),
                description="Every OpenLineage event of the pipeline's runs: Airflow's and the Spark jobs'.")


def table_name(dataset: dict) -> str | None:
    """The lakehouse name of a dataset (an event's JSON), from its symlink; None for other datasets."""
    for identifier in ((dataset.get("facets") or {}).get("symlinks") or {}).get("identifiers") or []:
        if identifier.get("namespace") == TABLE_NAMESPACE:
            return identifier.get("name")
    return None
