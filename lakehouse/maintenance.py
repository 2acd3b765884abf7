"""The maintenance job: for every lakehouse table, the log's clean-up, OPTIMIZE and VACUUM.

    python -m lakehouse.maintenance [run_id] [--retention-hours 168]   # e.g. from spark-submit

The tables are the catalog's (`lakehouse.catalog`) and the gold tables' states, those that
exist. For each one, in order:
a checkpoint of its latest version and the removal of the log files past Delta's log
retention (30 days) that the checkpoint makes unneeded; OPTIMIZE (compaction, data
unchanged); VACUUM of the files no version of the last `retention_hours` needs. The log's
clean-up comes first: the bronze stream checkpoints its tables with `deltalake`, which
removes no log file, so this pass does it.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from pyspark.sql import SparkSession

from lakehouse import catalog, tables
from pinlake.settings import get_settings

MIN_RETENTION_HOURS = 168  # Delta's own safety floor: 7 days
# VACUUM START / VACUUM END commits in each table's history: when files went, and how many.
SESSION_CONF = {"spark.databricks.delta.vacuum.logging.enabled": "true"}


def maintain(spark: SparkSession, name: str, root: str, retention_hours: int) -> dict:
    """The log's clean-up, OPTIMIZE, then VACUUM of one table; what it did."""
    if retention_hours < MIN_RETENTION_HOURS:
        raise ValueError(f"retention_hours={retention_hours}: VACUUM keeps at least {MIN_RETENTION_HOURS} hours")
    tables.checkpoint(name, root)
    tables.clean_log(name, root)
    metrics = tables.optimize(spark, name, root)
    tables.vacuum(spark, name, root, retention_hours)
    return {"table": name, "files_removed": metrics["numFilesRemoved"], "files_added": metrics["numFilesAdded"]}


def run(spark: SparkSession, root: str, retention_hours: int) -> list[dict]:
    """Maintain every lakehouse table that exists, and every gold state; one summary per table."""
    from lakehouse.gold.job import state_name

    names = [*catalog.all_tables(), *(state_name(spec.name) for spec in catalog.layer("gold"))]
    return [maintain(spark, name, root, retention_hours) for name in names if tables.exists(name, root)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    """run_id (optional) and --retention-hours."""
    parser = argparse.ArgumentParser(prog="lakehouse.maintenance")
    parser.add_argument("run_id", nargs="?", default=f"maintenance-{uuid.uuid4()}")
    parser.add_argument("--retention-hours", type=int, default=get_settings().vacuum_retention_hours)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point for spark-submit: one pass over every table with the process's settings."""
    from lakehouse.spark import get_spark

    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = get_settings()
    spark = get_spark("pinlake-maintenance", settings, conf=SESSION_CONF)
    for summary in run(spark, settings.lakehouse, args.retention_hours):
        print(f"{args.run_id}: {summary}")


if __name__ == "__main__":
    main()
