"""The silver job: new bronze rows -> cleaned -> gated -> MERGEd into silver, rejected rows quarantined.

Write-audit-publish for the whole run: every topic's new rows are read and cleaned first,
then every candidate table (silver.pins/geo/users as they would be after the MERGE, and
silver.quarantine with the new rows) passes the quality gate, and only then is anything
written. The processed offset ranges are committed last (see `progress`).

A full refresh (`--full-refresh`, for when a cleaning rule changed) reads all of bronze
instead, passes the rebuilt tables through the same gates, and replaces silver.pins/geo/users,
the quarantine and the progress table with them: the tables the incremental history would
have given under the current rules (a row quarantined before keeps its `quarantined_at`).

    python -m lakehouse.silver.job [run_id] [--full-refresh]     # e.g. from spark-submit
"""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakehouse import catalog, tables
from lakehouse.silver import common, progress
from lakehouse.silver.geo import GEO
from lakehouse.silver.pins import PINS
from lakehouse.silver.quarantine import QUARANTINE, build_quarantine
from lakehouse.silver.users import USERS
from lakehouse.spark import BATCH_CONF, NOT_STARTED, sized_for
from lakehouse.spec import SilverTable
from pinlake.settings import Settings, get_settings

JOB = "lakehouse.silver.job"  # the module, as spark-submit and the job server run it; its lineage job name
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


def read_batch(spark: SparkSession, entity: SilverTable, root: str, quarantined_at: datetime,
               everything: bool = False) -> Batch | None:
    """The entity's bronze rows not processed yet (`everything`: all of them), cleaned and cached;
    None when there are none."""
    version = tables.version(entity.source, root)
    if version is None:
        return None
    marks = {} if everything else progress.watermarks(spark, entity.topic, root)
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


def refreshed_quarantine(spark: SparkSession, rejected: DataFrame, root: str) -> DataFrame:
    """silver.quarantine rebuilt: every rejected row, with the `quarantined_at` of its first quarantine."""
    from pyspark.sql import functions as F

    keys = list(QUARANTINE.keys)
    earlier = tables.read_or_empty(spark, QUARANTINE, root).select(*keys, F.col("quarantined_at").alias("earlier"))
    return (rejected.join(earlier, on=keys, how="left")
            .withColumn("quarantined_at", F.coalesce("earlier", "quarantined_at"))
            .select(*QUARANTINE.columns))


def validate_candidates(spark: SparkSession, batches: list[Batch], rejected: DataFrame, run_id: str,
                        settings: Settings, full_refresh: bool = False) -> None:
    """Pass every candidate table through its quality gate before anything is published."""
    from quality import gate

    root = settings.lakehouse
    candidates = [(b.entity.name, b.winners if full_refresh else silver_candidate(spark, b, root))
                  for b in batches if b.accepted]
    if any(b.rejected_count for b in batches):
        candidates.append((QUARANTINE.name, rejected if full_refresh else quarantine_candidate(spark, rejected, root)))
    with gate.docs_once(settings):
        for table, candidate in candidates:
            gate.validate(spark, candidate, table, run_id, settings=settings)  # computes the candidate once


def publish(spark: SparkSession, batches: list[Batch], rejected: DataFrame, run_id: str, root: str,
            committed_at: datetime, full_refresh: bool = False) -> None:
    """MERGE the winners, insert the quarantine rows, then commit the processed ranges; in a full
    refresh, replace each table's rows instead (one commit per table, progress last)."""
    order = list(common.VERSION_ORDER)

    def merge(batch: Batch) -> None:
        tables.ensure(spark, batch.entity, root)
        files = -(-batch.accepted // ROWS_PER_FILE)
        if full_refresh:
            tables.replace(batch.winners.repartitionByRange(max(1, files), *order), batch.entity, root)
        elif batch.accepted:  # a MERGE of nothing would still be a commit
            tables.merge_latest(spark, batch.winners, batch.entity, order, root, files=files)

    def insert_rejected() -> None:
        tables.ensure(spark, QUARANTINE, root)
        if full_refresh:
            tables.replace(rejected, QUARANTINE, root)
        elif any(b.rejected_count for b in batches):
            tables.insert_new(spark, rejected, QUARANTINE, root)

    # Each write is idempotent and to its own table, so they run side by side; progress comes last.
    tables.side_by_side([*(partial(merge, b) for b in batches), insert_rejected], "silver-publish")
    done = _union([progress.progress_rows(spark, b.entity.topic, b.ranges, b.bronze_version, run_id, committed_at)
                   for b in batches])
    if full_refresh:
        tables.ensure(spark, progress.PROGRESS, root)
        tables.replace(done, progress.PROGRESS, root)
    else:
        progress.commit(spark, done, root)


def _union(frames: list[DataFrame]) -> DataFrame:
    first, *rest = frames
    for frame in rest:
        first = first.unionByName(frame)
    return first


def run(spark: SparkSession, settings: Settings, run_id: str, gated: bool = True,
        full_refresh: bool = False) -> list[dict]:
    """Promote every bronze row not processed yet; returns one summary per topic with new rows.

    `full_refresh` rebuilds silver and the quarantine from all of bronze (the summaries then
    count every bronze row); `gated=False` skips the quality gates (benchmarks measure what they cost).
    A run over few rows (bronze and silver together) runs its queries interpreted (`sized_for`).
    """
    root = settings.lakehouse
    inputs = [name for e in ENTITIES for name in (e.source, e.name)] + [QUARANTINE.name]
    with sized_for(spark, tables.rows(inputs, root), settings):
        return _run(spark, settings, run_id, gated, full_refresh)


def _run(spark: SparkSession, settings: Settings, run_id: str, gated: bool, full_refresh: bool) -> list[dict]:
    root = settings.lakehouse
    started = datetime.now(timezone.utc)
    read = tables.side_by_side([partial(read_batch, spark, e, root, started, full_refresh) for e in ENTITIES],
                               "silver-read")
    batches = [b for b in read if b is not None]
    try:
        if not batches:
            return []
        rejected = _union([b.rejected for b in batches])
        if full_refresh:
            rejected = refreshed_quarantine(spark, rejected, root)
        if gated:
            validate_candidates(spark, batches, rejected, run_id, settings, full_refresh)
        publish(spark, batches, rejected, run_id, root, started, full_refresh)
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


def session(settings: Settings, full_refresh: bool = False) -> SparkSession | None:
    """The run's Spark session, or None when silver is up to date and no full refresh is asked
    for (Spark is then not started)."""
    if not full_refresh and up_to_date(settings):
        return None
    from lakehouse.spark import get_spark

    return get_spark("pinlake-silver", settings, conf=BATCH_CONF)


def lineage_datasets(settings: Settings, run_id: str, complete: bool = False) -> tuple[list, list]:
    """The run's OpenLineage datasets: the bronze tables at the versions it read (what it
    committed to silver.progress; before that, or for a topic without new rows, the current
    one), and the silver tables, at their new versions once `complete`."""
    from lakehouse.lineage.datasets import job_datasets

    root = settings.lakehouse
    read = progress.run_versions(run_id, root) if complete else {}
    inputs = {e.source: read.get(e.topic, tables.version(e.source, root)) for e in ENTITIES}
    return job_datasets(inputs, [spec.name for spec in catalog.layer("silver")], root, run_id, complete)


def lineage_run(settings: Settings, run_id: str, parent: str | None = None, parent_root: str | None = None):
    """The run's START and COMPLETE (or FAIL) lineage events around a block (`lakehouse.lineage.runs`)."""
    from lakehouse.lineage.runs import job_run

    return job_run(JOB, settings.lakehouse, partial(lineage_datasets, settings, run_id), parent, parent_root,
                   enabled=settings.lineage_enabled)


def main(argv: list[str] | None = None) -> None:
    """Entry point for spark-submit: one run with the process's settings, its START and
    COMPLETE (or FAIL) lineage events around it."""
    parser = argparse.ArgumentParser(prog=JOB)
    parser.add_argument("run_id", nargs="?", default=None)
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--lineage-parent", help="the parent OpenLineage run: namespace/job/run id")
    parser.add_argument("--lineage-root", help="the root OpenLineage run (the DAG run): namespace/job/run id")
    # an empty argument is what a DAG's templated flag renders to when it is off
    args = parser.parse_args([a for a in (sys.argv[1:] if argv is None else argv) if a])
    run_id = args.run_id or f"silver-{uuid.uuid4()}"
    settings = get_settings()
    with lineage_run(settings, run_id, args.lineage_parent, args.lineage_root):
        spark = session(settings, args.full_refresh)
        if spark is None:
            print(UP_TO_DATE + NOT_STARTED)
            return
        for summary in run(spark, settings, run_id, full_refresh=args.full_refresh):
            print(summary)


if __name__ == "__main__":
    main()
