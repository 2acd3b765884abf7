"""The quality gate: validate a candidate DataFrame against its table's suite, record, and stop on critical failures."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse import catalog, tables
from lakehouse.spec import Table
from pinlake.settings import Settings, get_settings
from quality.expect import MIN_ROWS
from quality.results import ExpectationOutcome, append_results, outcomes_from
from quality.suites import build_suite

log = logging.getLogger("pinlake.quality")
DATASOURCE = "pinlake"
BATCH_DEFINITION = "candidate"
_checkpoints: dict[tuple[str, str], object] = {}
_input_counts: dict[tuple[str, str, str], dict] = {}
_lock = threading.Lock()
# Inside `docs_once`: the validations whose Data Docs pages wait for the block's end.
_deferred_docs: ContextVar[list | None] = ContextVar("pinlake_deferred_docs", default=None)


class QualityGateFailed(Exception):
    """A candidate broke critical expectations; str() names the table and every one of them."""

    def __init__(self, table: str, failures: list[ExpectationOutcome]):
        self.table = table
        self.failures = failures
        named = "; ".join(_describe(o) for o in failures)
        super().__init__(f"quality gate failed for {table}: {len(failures)} critical "
                         f"expectation(s) failed: {named}")


def _describe(outcome: ExpectationOutcome) -> str:
    counts = f"{outcome.unexpected_count} unexpected of {outcome.element_count}" \
        if outcome.unexpected_count is not None else f"observed {outcome.observed_value}"
    return f"{outcome.expectation} ({counts})"


def validate(spark: SparkSession, df: DataFrame, table: str, run_id: str, *,
             context: dict | None = None, settings: Settings | None = None) -> list[ExpectationOutcome]:
    """Validate candidate `df` for `table`, record every outcome, raise QualityGateFailed on a critical failure.

    Call it before committing `df` (write-audit-publish): nothing is written to `table` here.
    Every expectation's outcome is appended to quality.results under `run_id` (use one run id
    for a whole pipeline run: `pinlake quality` shows the latest run), and the Data Docs page
    of this validation is rendered (at the end of the enclosing `docs_once` block, if any).
    Warnings are recorded and the call returns normally.

    `context` carries the run-time parameters of the suite that the candidate alone cannot tell;
    each is optional, and what is missing is counted in the current silver tables under
    `settings.lakehouse`, from the table's spec:
      - "min_rows", the least number of rows the candidate must have: a gold table's is 1 when
        each of its inputs has a row that can reach it (`Table.reach`), else 0;
      - every count its spec names (`Table.counts`), e.g. "users_with_join_year".
    `settings` defaults to the process's settings (lakehouse root and data root).

    The validation reads `df` once (into a local checkpoint that GX's many queries scan); cache
    `df` yourself (and unpersist after the write) to let the write reuse it.
    """
    from great_expectations.exceptions.resource_freshness import ResourceFreshnessAggregateError

    settings = settings or get_settings()
    phases = _Phases()
    with phases("setup"):
        checkpoint = _checkpoint(settings, table)
    with phases("context"):
        parameters = _parameters(spark, table, run_id, context or {}, settings)
    with phases("validation"):
        try:
            outcomes = _validate_frozen(checkpoint, df, table, run_id, parameters, settings)
        except ResourceFreshnessAggregateError:
            # Another process on this data root saved the table's suite since this one cached
            # its checkpoint (each process saves the suites it builds): load them again, once.
            checkpoint = _checkpoint(settings, table, refresh=True)
            outcomes = _validate_frozen(checkpoint, df, table, run_id, parameters, settings)
    with phases("record"):
        append_results(outcomes, settings)
    failures = [o for o in outcomes if o.critical_failure]
    warnings = sum(1 for o in outcomes if not o.success and not o.critical_failure)
    log.info("quality gate %s (run %s): %d expectations, %d critical and %d warning failures; %s",
             table, run_id, len(outcomes), len(failures), warnings, phases)
    if failures:
        raise QualityGateFailed(table, failures)
    return outcomes


class _Phases:
    """Wall-clock seconds per phase of one validation, for the log line."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start

    def __str__(self) -> str:
        return ", ".join(f"{name} {secs:.2f}s" for name, secs in self.seconds.items())


def _validate_frozen(checkpoint, df: DataFrame, table: str, run_id: str, parameters: dict,
              settings: Settings) -> list[ExpectationOutcome]:
    """Run the checkpoint over a local checkpoint of `df`.

    GX runs one Spark job per metric, and each job plans its query over the frame it is given:
    over the candidate itself (a MERGE preview or a gold aggregate over Delta scans) that took
    about twice as long as over the candidate's rows computed once (a scan of cached blocks).
    Spark drops those blocks once the frame is garbage.
    """
    validated_at = datetime.now(timezone.utc)
    frozen = df.localCheckpoint(eager=True)
    return _run(checkpoint, frozen, table, run_id, parameters, validated_at, settings)


def _run(checkpoint, df: DataFrame, table: str, run_id: str, parameters: dict,
         validated_at: datetime, settings: Settings) -> list[ExpectationOutcome]:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from quality.docs import render_validations

    result = checkpoint.run(batch_parameters={"dataframe": df}, expectation_parameters=parameters,
                            run_id=RunIdentifier(run_name=run_id, run_time=validated_at))
    ((key, validation),) = result.run_results.items()
    pages = [key, ExpectationSuiteIdentifier(name=key.expectation_suite_identifier.name)]
    deferred = _deferred_docs.get()
    if deferred is None:
        render_validations(settings, pages)
    else:
        deferred.extend(pages)
    return outcomes_from(validation, table, run_id, validated_at.replace(tzinfo=None))


@contextmanager
def docs_once(settings: Settings | None = None):
    """Render the Data Docs pages of every validation in the block once, when it ends.

    Each site build costs about half a second whatever it renders (eight gold validations:
    3.5 s one by one, 0.65 s in one build), so a job wraps all its gates in one block. The
    pages are rendered even when a gate fails, so that the failure can be read in the docs.
    """
    from quality.docs import render_validations

    pending: list = []
    token = _deferred_docs.set(pending)
    try:
        yield
    finally:
        _deferred_docs.reset(token)
        if pending:
            render_validations(settings or get_settings(), pending)


def _parameters(spark: SparkSession, table: str, run_id: str, context: dict, settings: Settings) -> dict:
    spec = catalog.table(table)
    known = (MIN_ROWS, *spec.counts)
    unknown = sorted(set(context) - set(known))
    if unknown:
        raise ValueError(f"unknown quality context key(s) {unknown} for {table}; known: {list(known)}")
    parameters = dict(context)
    if MIN_ROWS not in parameters:
        counts = [_input_rows(spark, name, where, run_id, settings) for name, where in spec.reach.items()]
        parameters[MIN_ROWS] = int(bool(counts) and all(counts))
    for key, (name, where) in spec.counts.items():
        if key not in parameters:
            parameters[key] = _input_rows(spark, name, where, run_id, settings)
    return parameters


def _input_rows(spark: SparkSession, name: str, where: str | None, run_id: str, settings: Settings) -> int:
    """Rows of input table `name` matching `where`, from one cached pass per table and run."""
    key = (settings.lakehouse, run_id, name)
    with _lock:
        if key not in _input_counts:
            # One run publishes silver before gold reads it, so counts hold for the run.
            if len(_input_counts) > 32:
                _input_counts.clear()
            _input_counts[key] = _count_filters(spark, name, settings)
    return _input_counts[key][where]


def _count_filters(spark: SparkSession, name: str, settings: Settings) -> dict:
    """Every filter the gates need on one input table, counted in a single aggregate."""
    filters = sorted({where for spec in catalog.gated() for n, where in _filters(spec) if n == name and where})
    if not tables.exists(name, settings.lakehouse):
        return {None: 0, **{w: 0 for w in filters}}
    frame = tables.read(spark, name, settings.lakehouse)
    (row,) = frame.agg(F.count(F.lit(1)).alias("all"),
                       *[F.count_if(F.expr(w)).alias(f"f{i}") for i, w in enumerate(filters)]).collect()
    return {None: row["all"], **{w: row[f"f{i}"] for i, w in enumerate(filters)}}


def _filters(spec: Table) -> list[tuple[str, str | None]]:
    return [*spec.reach.items(), *spec.counts.values()]


def _checkpoint(settings: Settings, table: str, refresh: bool = False):
    """The table's checkpoint in the file context (suite and validation), cached."""
    key = (str(settings.data_root), table)
    with _lock:
        if refresh or key not in _checkpoints:
            _checkpoints[key] = _new_checkpoint(settings, table)
        return _checkpoints[key]


def _new_checkpoint(settings: Settings, table: str):
    import great_expectations as gx

    from quality.docs import gx_context

    context = gx_context(settings)
    suite = context.suites.add_or_update(build_suite(table))
    existing = context.data_sources.all()
    # Reuse the data source: replacing it would drop the assets other tables' checkpoints use.
    source = existing[DATASOURCE] if DATASOURCE in existing else context.data_sources.add_spark(DATASOURCE)
    # get_asset ties a stored asset to this (hydrated) data source; iterating `source.assets`
    # would hand back assets without a context, which fail in a later process.
    if table in {a.name for a in source.assets}:
        asset = source.get_asset(table)
    else:
        asset = source.add_dataframe_asset(table)
    if BATCH_DEFINITION in {b.name for b in asset.batch_definitions}:
        batch = asset.get_batch_definition(BATCH_DEFINITION)
    else:
        batch = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=table, data=batch, suite=suite))
    # No actions: `_run` renders the Data Docs pages itself, or `docs_once` does for many.
    return context.checkpoints.add_or_update(gx.Checkpoint(
        name=table, validation_definitions=[validation], result_format="BASIC", actions=[]))
