"""The gold job: rebuild the gold tables of CONTRACT.md section 6 from silver.

Write-audit-publish: every table is built and cached, each passes its quality gate, and only
then is each published by a single Delta overwrite commit (readers see the old table or the
new one, never a mix). A critical failure in any table publishes none of them.

    python -m lakehouse.gold.job [run_id]     # e.g. from spark-submit
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from functools import partial
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakehouse import catalog, tables
from lakehouse.gold import common
from lakehouse.gold.tables import gold_tables
from lakehouse.spark import BATCH_CONF, NOT_STARTED
from pinlake.settings import Settings, get_settings

UP_TO_DATE = "gold is up to date: built from the current silver versions by the current code; nothing rebuilt"


def silver_inputs() -> tuple[str, ...]:
    """The silver tables any gold table reads, in the catalog's order."""
    wanted = {name for spec in gold_tables() for name in spec.inputs}
    return tuple(spec.name for spec in catalog.layer("silver") if spec.name in wanted)


def build_all(silver: dict[str, DataFrame]) -> tuple[dict[str, DataFrame], list[DataFrame]]:
    """Every gold table from the silver frames (pure): the tables, and the facts they share.

    Each gold table reads the facts of its inputs (pins joined with geo, pins joined with
    users, users alone); tables with the same inputs share one frame, to be cached once.
    """
    joins = {spec.inputs for spec in gold_tables()}
    facts = {inputs: common.facts(silver, inputs) for inputs in sorted(joins)}
    return {spec.name: spec.build(facts[spec.inputs]) for spec in gold_tables()}, list(facts.values())


def read_silver(spark: SparkSession, root: str, inputs: dict | None = None) -> dict[str, DataFrame]:
    """Every silver table gold reads (empty frames for tables that do not exist yet), at the
    versions `inputs` names when given (the versions a rebuild records)."""
    versions = (inputs or {}).get("silver", {})
    return {name: tables.read_or_empty(spark, catalog.table(name), root, versions.get(name))
            for name in silver_inputs()}


def run(spark: SparkSession, settings: Settings, run_id: str, gated: bool = True,
        force: bool = False) -> dict[str, int] | None:
    """Rebuild and publish every gold table; the row count of each, or None when gold is current.

    Each gold commit records the silver versions and the gold code it was built from. When
    every gold table's latest commit records the current ones, a rebuild would publish the
    same rows again: it is skipped (unless `force`), so a scheduled run with no new data
    leaves gold's history and the quality results alone. `gated=False` skips the quality gates.
    """
    root = settings.lakehouse
    inputs = built_from(root)
    if not force and up_to_date(root, inputs):
        return None
    built, facts = build_all(read_silver(spark, root, inputs))
    # DESER: cached as column batches (see the silver job); the gate and the write see the same rows
    for frame in facts:
        frame.persist(StorageLevel.MEMORY_AND_DISK_DESER)
    built = {name: df.persist(StorageLevel.MEMORY_AND_DISK_DESER) for name, df in built.items()}
    try:
        counts = {name: df.count() for name, df in built.items()}
        if gated:
            validate(spark, built, run_id, settings)
        # each overwrite is its own atomic commit to its own table: side by side
        metadata = json.dumps(inputs, sort_keys=True)
        tables.side_by_side([partial(tables.overwrite, df, name, root, user_metadata=metadata)
                             for name, df in built.items()], "gold-publish")
        return counts
    finally:
        for df in (*built.values(), *facts):
            df.unpersist()


def validate(spark: SparkSession, built: dict[str, DataFrame], run_id: str, settings: Settings) -> None:
    """Every built table through its quality gate; their Data Docs pages in one site build."""
    from quality import gate

    with gate.docs_once(settings):
        for name, df in built.items():
            gate.validate(spark, df, name, run_id, settings=settings)


def _code_version() -> str:
    """A digest of the gold transforms' source: new code rebuilds gold even when silver is unchanged."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def up_to_date(root: str, inputs: dict | None = None) -> bool:
    """True when every gold table's latest commit was built from `inputs` (default: the current
    silver versions and gold code); read from the Delta logs, without Spark."""
    inputs = inputs or built_from(root)
    return all(published_from(spec.name, root) == inputs for spec in gold_tables())


def built_from(root: str) -> dict:
    """What a rebuild now would read: each silver table's current version, and the gold code."""
    return {"silver": {name: tables.version(name, root) for name in silver_inputs()}, "code": _code_version()}


def published_from(name: str, root: str) -> dict | None:
    """What the latest commit of gold table `name` was built from (None: unknown or no table)."""
    latest = tables.history(name, root, 1)
    try:
        return json.loads(latest[0].get("userMetadata") or "null") if latest else None
    except ValueError:
        return None


def session(settings: Settings, force: bool = False) -> SparkSession | None:
    """The run's Spark session, or None when gold is up to date and not `force`d (Spark is then
    not started)."""
    if not force and up_to_date(settings.lakehouse):
        return None
    from lakehouse.spark import get_spark

    return get_spark("pinlake-gold", settings, conf=BATCH_CONF)


def main(argv: list[str] | None = None) -> None:
    """Entry point for spark-submit: one run with the process's settings."""
    argv = sys.argv[1:] if argv is None else argv
    run_id = argv[0] if argv else f"gold-{uuid.uuid4()}"
    settings = get_settings()
    spark = session(settings)
    if spark is None:
        print(UP_TO_DATE + NOT_STARTED)
        return
    counts = run(spark, settings, run_id)
    if counts is None:
        print(UP_TO_DATE)
    for name, rows in (counts or {}).items():
        print(f"{name}: {rows} rows")


if __name__ == "__main__":
    main()
