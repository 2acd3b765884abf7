"""The gold job: the gold tables of CONTRACT.md section 6 from silver, following what changed.

Each gold table is built from its state (`Table.summary`): the distinct combinations of the
fact columns it reads, each with how many facts have it (`gold.<table>__state`). A run reads
the silver tables' change data feed since the versions the states were built from, takes the
`ind`s it names, and for just those computes the facts before (silver at those versions) and
after (silver now): the states gain the new facts' counts and lose the old ones' (a late or
newer version of a pin, geo or user retracts what its previous version counted). Each table
is then built again from its state alone, so a run costs what changed plus the size of the
states, not the history. A full run (`--full`, the first run, new gold code, or a change feed
or version that is no longer there) computes the states from all of silver instead; the two
give the same tables (tests/integration/test_silver_gold_batches.py).

Write-audit-publish: every table is built and cached, each passes its quality gate, and only
then are the states and the tables published, each by a single Delta overwrite commit
(readers see the old table or the new one, never a mix), the states first: a run that dies
between them is finished by the next from the states. A critical failure in any table
publishes none of them.

    python -m lakehouse.gold.job [run_id] [--full]     # e.g. from spark-submit
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import uuid
from functools import partial
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakehouse import catalog, tables
from lakehouse.gold import common
from lakehouse.gold.tables import gold_tables
from lakehouse.spark import BATCH_CONF, NOT_STARTED, sized_for
from pinlake.settings import Settings, get_settings

JOB = "lakehouse.gold.job"  # the module, as spark-submit and the job server run it; its lineage job name
UP_TO_DATE = "gold is up to date: built from the current silver versions by the current code; nothing rebuilt"
log = logging.getLogger(__name__)


def state_name(name: str) -> str:
    """`gold.<table>` -> `gold.<table>__state`, where its state is kept."""
    return f"{name}__state"


def silver_inputs() -> tuple[str, ...]:
    """The silver tables any gold table reads, in the catalog's order."""
    wanted = {name for spec in gold_tables() for name in spec.inputs}
    return tuple(spec.name for spec in catalog.layer("silver") if spec.name in wanted)


def build_all(silver: dict[str, DataFrame]) -> tuple[dict[str, DataFrame], list[DataFrame]]:
    """Every gold table from the silver frames (pure): the tables, and the frames they share
    (to be cached once). The states from all of silver, then each table from its state."""
    states, facts = full_states(silver)
    return {spec.name: spec.build(states[spec.name]) for spec in gold_tables()}, [*facts, *states.values()]


def full_states(silver: dict[str, DataFrame]) -> tuple[dict[str, DataFrame], list[DataFrame]]:
    """Every gold table's state from all of silver (pure), and the facts they share.

    Each gold table reads the facts of its inputs (pins joined with geo, pins joined with
    users, users alone); tables with the same inputs share one frame.
    """
    joins = {spec.inputs for spec in gold_tables()}
    facts = {inputs: common.facts(silver, inputs) for inputs in sorted(joins)}
    return {spec.name: common.summarize(facts[spec.inputs], spec.summary) for spec in gold_tables()}, \
        list(facts.values())


def incremental_states(states: dict[str, DataFrame], before: dict[str, DataFrame], after: dict[str, DataFrame],
                       changed: dict[str, DataFrame]) -> dict[str, DataFrame]:
    """Every gold table's state moved from silver `before` to silver `after` (pure): `changed`
    holds, per silver table, the `ind`s its change feed names; only their facts are computed,
    counted +1 after and -1 before, and added to the state."""
    out = {}
    for spec in gold_tables():
        touched = None
        for name in spec.inputs:
            touched = changed[name] if touched is None else touched.unionByName(changed[name])
        touched = touched.distinct()

        def only(frames: dict[str, DataFrame]) -> dict[str, DataFrame]:
            return {name: frames[name].join(touched, on="ind", how="left_semi") for name in spec.inputs}

        delta = common.facts(only(after), spec.inputs).unionByName(common.facts(only(before), spec.inputs, -1))
        kept = [*spec.summary, "n"]
        out[spec.name] = common.summarize(states[spec.name].select(*kept).unionByName(delta.select(*kept)),
                                          spec.summary)
    return out


def read_silver(spark: SparkSession, root: str, inputs: dict | None = None) -> dict[str, DataFrame]:
    """Every silver table gold reads (empty frames for tables that do not exist yet), at the
    versions `inputs` names when given (the versions a run records; none: it did not exist)."""
    if inputs is None:
        return {name: tables.read_or_empty(spark, catalog.table(name), root) for name in silver_inputs()}
    versions = inputs["silver"]
    return {name: tables.read_or_empty(spark, catalog.table(name), root, versions[name])
            if versions.get(name) is not None else spark.createDataFrame([], catalog.table(name).schema)
            for name in silver_inputs()}


def run(spark: SparkSession, settings: Settings, run_id: str, gated: bool = True,
        force: bool = False, full: bool = False) -> dict[str, int] | None:
    """Update and publish every gold table; the row count of each, or None when gold is current.

    Each gold commit (and each state's) records the silver versions and the gold code it was
    built from. When every gold table's latest commit records the current ones, a run would
    publish the same rows again: it is skipped (unless `force`), so a scheduled run with no new
    data leaves gold's history and the quality results alone. `full` computes the states from
    all of silver rather than from what changed; `gated=False` skips the quality gates. A run
    over few silver rows runs its queries interpreted (`sized_for`).
    """
    root = settings.lakehouse
    inputs = built_from(root)
    if not force and up_to_date(root, inputs):
        return None
    with sized_for(spark, tables.rows(list(silver_inputs()), root), settings):
        return _run(spark, settings, run_id, inputs, gated, full)


def _run(spark: SparkSession, settings: Settings, run_id: str, inputs: dict, gated: bool,
         full: bool) -> dict[str, int]:
    root = settings.lakehouse
    silver = read_silver(spark, root, inputs)
    states, shared = (None, []) if full else _from_changes(spark, root, silver, inputs)
    if states is None:
        for df in shared:
            df.unpersist()
        states, shared = full_states(silver)
    built = {spec.name: spec.build(states[spec.name]) for spec in gold_tables()}
    # DESER: cached as column batches (see the silver job); the gate and the writes see the same rows
    cached = [df.persist(StorageLevel.MEMORY_AND_DISK_DESER) for df in (*shared, *states.values(), *built.values())]
    try:
        counts = {name: df.count() for name, df in built.items()}
        if gated:
            validate(spark, built, run_id, settings)
        # each overwrite is its own atomic commit to its own table: side by side; the states first
        metadata = json.dumps(inputs, sort_keys=True)
        tables.side_by_side([partial(tables.overwrite, df, state_name(name), root, user_metadata=metadata)
                             for name, df in states.items()], "gold-states")
        tables.side_by_side([partial(tables.overwrite, df, name, root, user_metadata=metadata)
                             for name, df in built.items()], "gold-publish")
        return counts
    finally:
        for df in cached:
            df.unpersist()


def _from_changes(spark: SparkSession, root: str, silver: dict[str, DataFrame],
                  inputs: dict) -> tuple[dict | None, list[DataFrame]]:
    """The states moved from the versions they were built from to `inputs` (None when a full run
    is needed: no states yet, other gold code, or a change feed or version that is gone), and
    the frames it cached (to unpersist when the run is done)."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException, IllegalArgumentException

    base = states_built_from(root)
    if base is None or base["code"] != inputs["code"]:
        return None, []
    changed: dict[str, DataFrame] = {}
    try:
        # Cut loose from the state tables' files: this run overwrites them, and Spark then
        # recomputes every cached frame that reads their path, which would count the change twice.
        states = {spec.name: tables.read(spark, state_name(spec.name), root).localCheckpoint()
                  for spec in gold_tables()}
        before = read_silver(spark, root, base)
        for name, now in inputs["silver"].items():
            then = base["silver"].get(name)
            changed[name] = _changed_inds(spark, name, root, then, now)
        moved = incremental_states(states, before, silver, changed)
        # reading the change feed fails here, not halfway through the publish
        touched = {name: df.count() for name, df in changed.items()}
        log.info("gold: incremental, from silver versions %s to %s; inds changed: %s",
                 base["silver"], inputs["silver"], touched)
        return moved, list(changed.values())
    except (AnalysisException, IllegalArgumentException, Py4JJavaError) as exc:
        log.warning("gold: a full run instead of an incremental one (%s)", str(exc).splitlines()[0][:300])
        return None, list(changed.values())


def _changed_inds(spark: SparkSession, name: str, root: str, then: int | None, now: int | None) -> DataFrame:
    """The `ind`s the change feed of silver table `name` names after version `then` up to `now`
    (cached; empty when nothing changed)."""
    from pyspark.sql import types as T

    if now is None or then == now:
        return spark.createDataFrame([], T.StructType([T.StructField("ind", T.LongType())]))
    start = 0 if then is None else then + 1
    feed = (spark.read.format("delta").option("readChangeFeed", "true")
            .option("startingVersion", start).option("endingVersion", now).load(tables.table_path(name, root)))
    return feed.select("ind").distinct().persist(StorageLevel.MEMORY_AND_DISK_DESER)


def states_built_from(root: str) -> dict | None:
    """What every gold state was built from, when they all agree (None: missing or mixed)."""
    found = [published_from(state_name(spec.name), root) for spec in gold_tables()]
    return found[0] if found and found[0] is not None and all(f == found[0] for f in found) else None


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


def lineage_datasets(settings: Settings, run_id: str, complete: bool = False) -> tuple[list, list]:
    """The run's OpenLineage datasets: the silver tables at the versions gold was built from
    (recorded in gold's latest commit; before the run, the current ones), and the gold tables,
    at their new versions once `complete`."""
    from lakehouse.lineage.datasets import job_datasets

    root = settings.lakehouse
    built = published_from(gold_tables()[0].name, root) if complete else None
    inputs = (built or built_from(root))["silver"]
    return job_datasets(inputs, [spec.name for spec in gold_tables()], root, run_id, complete)


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
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--lineage-parent", help="the parent OpenLineage run: namespace/job/run id")
    parser.add_argument("--lineage-root", help="the root OpenLineage run (the DAG run): namespace/job/run id")
    args = parser.parse_args([a for a in (sys.argv[1:] if argv is None else argv) if a])
    run_id = args.run_id or f"gold-{uuid.uuid4()}"
    settings = get_settings()
    with lineage_run(settings, run_id, args.lineage_parent, args.lineage_root):
        spark = session(settings, force=args.full)
        if spark is None:
            print(UP_TO_DATE + NOT_STARTED)
            return
        counts = run(spark, settings, run_id, force=args.full, full=args.full)
        if counts is None:
            print(UP_TO_DATE)
        for name, rows in (counts or {}).items():
            print(f"{name}: {rows} rows")


if __name__ == "__main__":
    main()
