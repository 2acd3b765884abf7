"""The validation history: one row per expectation per validation, in the Delta table quality.results."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from pyspark.sql import types as T

from lakehouse import tables
from lakehouse.spec import Table
from pinlake.settings import Settings

RESULTS_SCHEMA = T.StructType([
    T.StructField("run_id", T.StringType(), False),
    T.StructField("table", T.StringType(), False),
    T.StructField("suite", T.StringType(), False),
    T.StructField("expectation", T.StringType(), False),
    T.StructField("severity", T.StringType(), False),
    T.StructField("success", T.BooleanType(), False),
    T.StructField("element_count", T.LongType(), True),
    T.StructField("unexpected_count", T.LongType(), True),
    T.StructField("observed_value", T.StringType(), True),
    T.StructField("validated_at", T.TimestampType(), False),
])
RESULTS = Table(name="quality.results", schema=RESULTS_SCHEMA, keys=("run_id", "table", "expectation", "validated_at"),
                description="Every expectation's outcome in every validation.")
_OBSERVED_MAX = 500  # characters kept of an observed value or an unexpected sample


@dataclass(frozen=True)
class ExpectationOutcome:
    """The outcome of one expectation in one validation: one row of quality.results."""

    run_id: str
    table: str
    suite: str
    expectation: str
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: str | None
    validated_at: datetime

    @property
    def critical_failure(self) -> bool:
        """True when this outcome stops publication."""
        return self.severity == "critical" and not self.success


def _observed(result: dict, exception: dict | None) -> str | None:
    if exception and exception.get("raised_exception"):
        return f"error: {exception.get('exception_message')}"[:_OBSERVED_MAX]
    if "observed_value" in result:
        return json.dumps(result["observed_value"], default=str)[:_OBSERVED_MAX]
    sample = result.get("partial_unexpected_list")
    if sample:
        return ("unexpected e.g. " + json.dumps(sample, default=str))[:_OBSERVED_MAX]
    return None


def _unexpected(result: dict, expectation_type: str) -> int | None:
    if "unexpected_count" in result:
        return result["unexpected_count"]
    if expectation_type == "unexpected_rows_expectation":
        return result.get("observed_value")  # the number of rows the query returned
    return None


def _severity(config) -> str:
    """GX's own severity field, for an expectation built without our `meta` (GX defaults to critical)."""
    severity = getattr(config, "severity", None)
    return getattr(severity, "value", severity) or "critical"


def _row_count(results: list) -> int | None:
    """The batch's row count, from whichever result reports it."""
    for res in results:
        if res.result.get("element_count") is not None:
            return res.result["element_count"]
        if res.expectation_config.type == "expect_table_row_count_to_be_between":
            return res.result.get("observed_value")
    return None


def outcomes_from(validation, table: str, run_id: str, validated_at: datetime) -> list[ExpectationOutcome]:
    """One outcome per expectation of a GX suite validation result."""
    rows = _row_count(validation.results)
    outcomes = []
    for res in validation.results:
        config, result = res.expectation_config, res.result or {}
        meta = config.meta or {}
        element_count = result.get("element_count")
        outcomes.append(ExpectationOutcome(
            run_id=run_id, table=table, suite=validation.suite_name,
            expectation=meta.get("name", config.type),
            severity=meta.get("severity") or _severity(config),
            success=bool(res.success),
            element_count=rows if element_count is None else element_count,
            unexpected_count=_unexpected(result, config.type),
            observed_value=_observed(result, res.exception_info),
            validated_at=validated_at,
        ))
    return outcomes


def _arrow_schema():
    """RESULTS_SCHEMA as Arrow: the same names, types and nullability."""
    import pyarrow as pa

    types = {T.StringType(): pa.string(), T.BooleanType(): pa.bool_(), T.LongType(): pa.int64(),
             T.TimestampType(): pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(f.name, types[f.dataType], nullable=f.nullable) for f in RESULTS_SCHEMA.fields])


def append_results(outcomes: list[ExpectationOutcome], settings: Settings) -> None:
    """Append outcomes to quality.results in one Delta commit."""
    import pyarrow as pa

    if outcomes:
        rows = pa.Table.from_pylist([asdict(o) for o in outcomes], schema=_arrow_schema())
        tables.append_rows(rows, RESULTS.name, root=settings.lakehouse)


def read_results(settings: Settings) -> list[ExpectationOutcome]:
    """Every recorded outcome, read from the Delta log without Spark (fast, for the CLI)."""
    rows = tables.arrow(RESULTS.name, settings.lakehouse)
    if rows is None:
        return []
    names = [f.name for f in fields(ExpectationOutcome)]
    return [ExpectationOutcome(**{n: row[n] for n in names}) for row in rows.to_pylist()]


def results_of_run(run_id: str, root: str) -> list[ExpectationOutcome]:
    """The outcomes recorded under one run id, read from the Delta log without Spark."""
    import pyarrow.compute as pc

    found = tables.dataset(RESULTS.name, root)
    if found is None:
        return []
    names = [f.name for f in fields(ExpectationOutcome)]
    rows = found.to_table(columns=names, filter=pc.field("run_id") == run_id).to_pylist()
    return [ExpectationOutcome(**row) for row in rows]


def latest_run(settings: Settings) -> list[ExpectationOutcome]:
    """The outcomes of the most recent run (the run_id of the latest validation), in order."""
    outcomes = read_results(settings)
    if not outcomes:
        return []
    latest = max(outcomes, key=lambda o: o.validated_at).run_id
    mine = [o for o in outcomes if o.run_id == latest]
    return sorted(mine, key=lambda o: (o.validated_at, o.table))
