"""The silver job: new bronze rows -> cleaned -> gated -> MERGEd into silver, rejected rows quarantined.

Write-audit-publish for the whole run: every topic's new rows are read and cleaned first,
then every candidate table (silver.pins/geo/users as they would be after the MERGE, and
silver.quarantine with the new rows) passes the quality gate, and only then is anything
written. The processed offset ranges are committed last (see `progress`).

    python -m lakehouse.silver.job [run_id]     # e.g. from spark-submit
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakehouse import tables
from lakehouse.silver import common, progress
from lakehouse.silver.geo import GEO
from lakehouse.silver.pins import PINS
from lakehouse.silver.quarantine import QUARANTINE, build_quarantine
from lakehouse.silver.users import USERS
from lakehouse.spark import BATCH_CONF, NOT_STARTED
from lakehouse.spec import SilverTable
from pinlake.settings import Settings, get_settings

UP_TO_DATE = "silver is up to date: every bronze version has been processed"
# Files of a first load: small enough that a MERGE of recent versions rewrites little.
ROWS_PER_FILE = 250_000
# The silver tables promoted from bronze, one per topic.
ENTITIES: tuple[SilverTable, ...] = (PINS, GEO, USERS)


@dataclass
class Batch:
    """One topic's new bronze rows, cleaned, with what the run will publish from them."""

    entity: SilverTable
    bronze_version: int
    cleaned: DataFrame
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


def read_batch(spark: SparkSession, entity: SilverTable, root: str, quarantined_at: datetime) -> Batch | None:
    """The entity's bronze rows not processed yet, cleaned and cached; None when there are none."""
    version = tables.version(entity.source, root)
    if version is None:
        return None
    marks = progress.watermarks(spark, entity.topic, root)
    bronze = progress.unprocessed(tables.read(spark, entity.source, root, version), marks)
    # DESER: cached column batches kept as they are (PySpark's MEMORY_AND_DISK would also
    # Java-serialize them, and with 2 GiB that ran out of heap on a 10M-event backlog).
    cleaned = entity.clean(bronze).persist(StorageLevel.MEMORY_AND_DISK_DESER)
    batch_ranges = progress.ranges(cleaned).collect()
    if not batch_ranges:
        cleaned.unpersist()
        return None
    return Batch(entity, version, cleaned, batch_ranges, entity.build(cleaned),
                 build_quarantine(cleaned, quarantined_at))


def silver_candidate(spark: SparkSession, batch: Batch, root: str) -> DataFrame:
    """The silver table as it will be after the batch's MERGE (a newer version wins per key)."""
    existing = tables.read_or_empty(spark, batch.entity, root)
    return common.latest_per_key(existing.unionByName(batch.winners), list(batch.entity.keys))


def quarantine_candidate(spark: SparkSession, rejected: DataFrame, root: str) -> DataFrame:
    """silver.quarantine as it will be after inserting the rows it does not hold yet."""
    existing = tables.read_or_empty(spark, QUARANTINE, root)
    keys = list(QUARANTINE.keys)
    return existing.unionByName(rejected.join(existing.select(*keys), on=keys, how="left_anti"))


def validate_candidates(spark: SparkSession, batches: list[Batch], rejected: DataFrame, run_id: str,
                        settings: Settings) -> None:
    """Pass every candidate table through its quality gate before anything is published."""
    from quality import gate

    root = settings.lakehouse
    candidates = [(b.entity.name, silver_candidate(spark, b, root)) for b in batches if b.accepted]
    if any(b.rejected_count for b in batches):
        candidates.append((QUARANTINE.name, quarantine_candidate(spark, rejected, root)))
    with gate.docs_once(settings):
        for table, candidate in candidates:
            gate.validate(spark, candidate, table, run_id, settings=settings)  # computes the candidate once


def publish(spark: SparkSession, batches: list[Batch], rejected: DataFrame, run_id: str, root: str,
            committed_at: datetime) -> None:
    """MERGE the winners, insert the quarantine rows, then commit the processed ranges."""
    def merge(batch: Batch) -> None:
        tables.ensure(spark, batch.entity, root)
        if batch.accepted:  # a MERGE of nothing would still be a commit
            files = -(-batch.accepted // ROWS_PER_FILE)
            tables.merge_latest(spark, batch.winners, batch.entity, list(common.VERSION_ORDER), root, files=files)

    def insert_rejected() -> None:
        tables.ensure(spark, QUARANTINE, root)
        if any(b.rejected_count for b in batches):
            tables.insert_new(spark, rejected, QUARANTINE, root)

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


def run(spark: SparkSession, settings: Settings, run_id: str, gated: bool = True) -> list[dict]:
    """Promote every bronze row not processed yet; returns one summary per topic with new rows.

    `gated=False` skips the quality gates (benchmarks measure what they cost).
    """
    root = settings.lakehouse
    started = datetime.now(timezone.utc)
    read = tables.side_by_side([partial(read_batch, spark, e, root, started) for e in ENTITIES], "silver-read")
    batches = [b for b in read if b is not None]
    try:
        if not batches:
            return []
        rejected = _union([b.rejected for b in batches])
        if gated:
            validate_candidates(spark, batches, rejected, run_id, settings)
        publish(spark, batches, rejected, run_id, root, started)
        return [b.summary() for b in batches]
    finally:
        for batch in batches:
            batch.cleaned.unpersist()


def up_to_date(settings: Settings) -> bool:
    """True when no bronze table has a version that a run has not processed, so a run would
    find no new rows. Read from the Delta logs alone: a scheduled run with nothing new then
    returns before it starts Spark. (A bronze commit without rows of a topic, an OPTIMIZE
    say, makes it False: the run then finds nothing new the usual way.)"""
    root = settings.lakehouse
    done = progress.bronze_versions(root)
    current = {e.topic: tables.version(e.source, root) for e in ENTITIES}
    return all(version is None or done.get(topic, -1) >= version for topic, version in current.items())


def session(settings: Settings) -> SparkSession | None:
    """The run's Spark session, or None when silver is up to date (Spark is then not started)."""
    if up_to_date(settings):
        return None
    from lakehouse.spark import get_spark

    return get_spark("pinlake-silver", settings, conf=BATCH_CONF)


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
