"""The maintenance job: OPTIMIZE (compaction) and VACUUM of every Delta table under the lakehouse root.

    python orchestration/maintenance_job.py [run_id] [--retention-hours 168]   # from spark-submit

Tables are found, not listed by hand: every `<root>/<layer>/<table>` folder with a Delta log
(for each layer of `lakehouse.tables.LAYERS`), so a table added later is maintained too.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from pyspark.sql import SparkSession

from lakehouse.tables import LAYERS
from pinlake.settings import get_settings

MIN_RETENTION_HOURS = 168  # Delta's own safety floor: 7 days
# VACUUM START / VACUUM END commits in each table's history: when files went, and how many.
SESSION_CONF = {"spark.databricks.delta.vacuum.logging.enabled": "true"}


def delta_tables(spark: SparkSession, root: str) -> list[str]:
    """`layer.table` names of every Delta table under the root, sorted."""
    from delta.tables import DeltaTable

    jvm = spark.sparkContext._jvm
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    found = []
    for layer in LAYERS:
        folder = jvm.org.apache.hadoop.fs.Path(f"{root.rstrip('/')}/{layer}")
        fs = folder.getFileSystem(hadoop_conf)
        if not fs.exists(folder):
            continue
        for status in fs.listStatus(folder):
            name = status.getPath().getName()
            if status.isDirectory() and DeltaTable.isDeltaTable(spark, f"{root.rstrip('/')}/{layer}/{name}"):
                found.append(f"{layer}.{name}")
    return sorted(found)


def maintain(spark: SparkSession, name: str, root: str, retention_hours: int) -> dict:
    """The clean-up of expired log files, OPTIMIZE, then VACUUM; what it did."""
    from delta.tables import DeltaTable

    from lakehouse.tables import table_path

    if retention_hours < MIN_RETENTION_HOURS:
        raise ValueError(f"retention_hours={retention_hours}: VACUUM keeps at least {MIN_RETENTION_HOURS} hours")
    table = DeltaTable.forPath(spark, table_path(name, root))
    # First: run after OPTIMIZE and VACUUM, Delta's clean-up removed no expired file (seen in a probe).
    checkpoint_and_clean_log(spark, table_path(name, root))
    metrics = table.optimize().executeCompaction().collect()[0]["metrics"]
    table.vacuum(float(retention_hours))
    return {"table": name, "files_removed": metrics["numFilesRemoved"], "files_added": metrics["numFilesAdded"]}


def checkpoint_and_clean_log(spark: SparkSession, path: str) -> None:
    """A checkpoint of the table's latest version, then the removal of its expired log files.

    Delta removes log files older than `delta.logRetentionDuration` (30 days) when Spark
    writes a checkpoint. The bronze stream writes its checkpoints with `deltalake`, off the
    commit path (lakehouse/bronze/writer.py), and those remove nothing, so this pass does it.
    """
    jvm = spark.sparkContext._jvm
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    none = jvm.scala.Option.empty()
    log.checkpointAndCleanUpDeltaLog(log.update(False, none, none), none)  # the latest version, read now


def run(spark: SparkSession, root: str, retention_hours: int) -> list[dict]:
    """Maintain every Delta table under the root; one summary per table."""
    return [maintain(spark, name, root, retention_hours) for name in delta_tables(spark, root)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    """run_id (optional) and --retention-hours."""
    parser = argparse.ArgumentParser(prog="maintenance_job")
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
