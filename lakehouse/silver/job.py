"""The silver job: new bronze rows -> checked -> gated -> MERGEd into silver, rejected rows quarantined.

Write-audit-publish for the whole run: every topic's new rows are read and checked first,
then every candidate table (silver.pins/geo/users as they would be after the MERGE, and
silver.quarantine with the new rows) passes the quality gate, and only then is anything
written. The processed offset ranges are committed last (see `progress`).

    python -m lakehouse.silver.job [run_id]     # e.g. from spark-submit
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakehouse import tables
from lakehouse.silver import common, geo, pins, progress, quarantine, users
from pinlake.settings import TOPICS, Settings, get_settings


# Delta rebuilds a table's state with 50 tasks by default; silver's and gold's logs are short,
# and on a few cores those tasks dominate a small run.
SESSION_CONF = {"spark.databricks.delta.snapshotPartitions": "4"}
UP_TO_DATE = "silver is up to date: every bronze version has been processed"
NOT_STARTED = "; Spark not started"
# Files of a first load: small enough that a MERGE of recent versions rewrites little.
ROWS_PER_FILE = 250_000


@dataclass(frozen=True)
class Entity:
    """One bronze table promoted to one silver table."""

    topic: str
    bronze: str
    table: str
    keys: list[str]
    schema: object
    check: Callable[[DataFrame], DataFrame]
    build: Callable[[DataFrame], DataFrame]


ENTITIES = (
    Entity(TOPICS["pin"], pins.BRONZE, pins.TABLE, pins.KEYS, pins.PINS_SCHEMA, pins.check_pins, pins.build_pins),
    Entity(TOPICS["geo"], geo.BRONZE, geo.TABLE, geo.KEYS, geo.GEO_SCHEMA, geo.check_geo, geo.build_geo),
    Entity(TOPICS["user"], users.BRONZE, users.TABLE, users.KEYS, users.USERS_SCHEMA, users.check_users,
           users.build_users),
)


@dataclass
class Batch:
    """One topic's new bronze rows, checked, with what the run will publish from them."""

    entity: Entity
    bronze_version: int
    checked: DataFrame
    ranges: list
    winners: DataFrame
    rejected: DataFrame

    @property
    def accepted(self) -> int:
        """Rows of the batch accepted into silver (superseded versions included)."""
        return sum(r.accepted for r in self.ranges)

    @property
    def rejected_count(self) -> int:
        """Rows of the batch that go to quarantine."""
        return sum(r.quarantined for r in self.ranges)

    def summary(self) -> dict:
        """What the batch holds, for the run report."""
        return {"topic": self.entity.topic, "bronze_version": self.bronze_version,
                "rows": self.accepted + self.rejected_count, "accepted": self.accepted,
                "quarantined": self.rejected_count}


def gate_check(spark: SparkSession, candidate: DataFrame, table: str, run_id: str, settings: Settings) -> None:
    """The quality gate (quality.gate.check): raises QualityGateFailed on a critical failure."""
    from quality import gate

    gate.check(spark, candidate, table, run_id, settings=settings)


def gates(check: Callable, settings: Settings) -> AbstractContextManager:
    """The block around a run's gates: with the quality gate, their Data Docs pages are rendered
    once, when the block ends (one site build per job, not one per table)."""
    if check is not gate_check:
        return nullcontext()
    from quality import gate

    return gate.docs_once(settings)


def read_batch(spark: SparkSession, entity: Entity, root: str, quarantined_at: datetime) -> Batch | None:
    """The entity's bronze rows not processed yet, checked and cached; None when there are none."""
    version = tables.version(entity.bronze, root)
    if version is None:
        return None
    marks = progress.watermarks(spark, entity.topic, root)
    bronze = progress.unprocessed(tables.read_version(spark, entity.bronze, version, root), marks)
    # DESER: cached column batches kept as they are (PySpark's MEMORY_AND_DISK would also
    # Java-serialize them, and with 2 GiB that ran out of heap on a 10M-event backlog).
    checked = entity.check(bronze).persist(StorageLevel.MEMORY_AND_DISK_DESER)
    batch_ranges = progress.ranges(checked).collect()
    if not batch_ranges:
        checked.unpersist()
        return None
    return Batch(entity, version, checked, batch_ranges, entity.build(checked),
                 quarantine.build_quarantine(checked, quarantined_at))


def silver_candidate(spark: SparkSession, batch: Batch, root: str) -> DataFrame:
    """The silver table as it will be after the batch's MERGE (a newer version wins per key)."""
    entity = batch.entity
    existing = tables.read_or_empty(spark, entity.table, entity.schema, root)
    return common.latest_per_key(existing.unionByName(batch.winners), entity.keys)


def quarantine_candidate(spark: SparkSession, rejected: DataFrame, root: str) -> DataFrame:
    """silver.quarantine as it will be after inserting the rows it does not hold yet."""
    existing = tables.read_or_empty(spark, quarantine.TABLE, quarantine.QUARANTINE_SCHEMA, root)
    new = rejected.join(existing.select(*quarantine.KEYS), on=quarantine.KEYS, how="left_anti")
    return existing.unionByName(new)


def audit(spark: SparkSession, batches: list[Batch], rejected: DataFrame, run_id: str, settings: Settings,
          check: Callable) -> None:
    """Pass every candidate through the gate before anything is published."""
    root = settings.lakehouse
    candidates = [(b.entity.table, silver_candidate(spark, b, root)) for b in batches if b.accepted]
    if any(b.rejected_count for b in batches):
        candidates.append((quarantine.TABLE, quarantine_candidate(spark, rejected, root)))
    with gates(check, settings):
        for table, candidate in candidates:
            check(spark, candidate, table, run_id, settings)  # the gate computes the candidate once


def publish(spark: SparkSession, batches: list[Batch], rejected: DataFrame, run_id: str, root: str,
            committed_at: datetime) -> None:
    """MERGE the winners, insert the quarantine rows, then commit the processed ranges."""
    def merge(batch: Batch) -> None:
        entity = batch.entity
        tables.ensure(spark, entity.table, entity.schema, root)
        if batch.accepted:  # a MERGE of nothing would still be a commit
            files = -(-batch.accepted // ROWS_PER_FILE)
            tables.merge_latest(spark, batch.winners, entity.table, entity.keys, list(common.VERSION_ORDER),
                                entity.schema, root, files=files)

    def insert_rejected() -> None:
        tables.ensure(spark, quarantine.TABLE, quarantine.QUARANTINE_SCHEMA, root)
        if any(b.rejected_count for b in batches):
            tables.insert_new(spark, rejected, quarantine.TABLE, quarantine.KEYS, quarantine.QUARANTINE_SCHEMA,
                              root)

    # Each write is idempotent and to its own table, so they run side by side; progress comes last.
    tables.side_by_side([*(partial(merge, b) for b in batches), insert_rejected], "silver-publish")
    done = [progress.progress_rows(spark, b.entity.topic, b.ranges, b.bronze_version, run_id, committed_at)
            for b in batches]
    progress.commit(spark, _union(done), root)


def _union(frames: list[DataFrame]) -> DataFrame:
    first, *rest = frames
    for frame in rest:
        first = first.unionByName(frame)
    return first


def run(spark: SparkSession, settings: Settings, run_id: str, check: Callable = gate_check) -> list[dict]:
    """Promote every bronze row not processed yet; returns one summary per topic with new rows."""
    root = settings.lakehouse
    started = datetime.now(timezone.utc)
    read = tables.side_by_side([partial(read_batch, spark, e, root, started) for e in ENTITIES], "silver-read")
    batches = [b for b in read if b is not None]
    try:
        if not batches:
            return []
        rejected = _union([b.rejected for b in batches])
        audit(spark, batches, rejected, run_id, settings, check)
        publish(spark, batches, rejected, run_id, root, started)
        return [b.summary() for b in batches]
    finally:
        for batch in batches:
            batch.checked.unpersist()


def up_to_date(settings: Settings) -> bool:
    """True when no bronze table has a version that a run has not processed, so a run would
    find no new rows. Read from the Delta logs alone: a scheduled run with nothing new then
    returns before it starts Spark. (A bronze commit without rows of a topic, an OPTIMIZE
    say, makes it False: the run then finds nothing new the usual way.)"""
    root = settings.lakehouse
    done = progress.bronze_versions(root)
    current = {e.topic: tables.version(e.bronze, root) for e in ENTITIES}
    return all(version is None or done.get(topic, -1) >= version for topic, version in current.items())


def session(settings: Settings) -> SparkSession | None:
    """The run's Spark session, or None when silver is up to date (Spark is then not started)."""
    if up_to_date(settings):
        return None
    from lakehouse.spark import get_spark

    return get_spark("pinlake-silver", settings, conf=SESSION_CONF)


def reconcile(settings: Settings | None = None) -> list[dict]:
    """Per topic: bronze rows = accepted rows (superseded included) + quarantine rows? (`holds`)."""
    from lakehouse.audit import silver_counts

    root = (settings or get_settings()).lakehouse
    return [silver_counts(root, e.topic) for e in ENTITIES]


def main(argv: list[str] | None = None) -> None:
    """Entry point for spark-submit: one run with the process's settings."""
    argv = sys.argv[1:] if argv is None else argv
    run_id = argv[0] if argv else f"silver-{uuid.uuid4()}"
    settings = get_settings()
    spark = session(settings)
    if spark is None:
        print(UP_TO_DATE + NOT_STARTED)
        return
    for summary in run(spark, settings, run_id):
        print(summary)


if __name__ == "__main__":
    main()
