"""The suites' registry and the small vocabulary they are written in (severity, names, parameters)."""

from __future__ import annotations

import re
from collections.abc import Callable

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

# Run-time parameters a suite may reference (`{"$PARAMETER": name}`); the gate supplies them.
MIN_ROWS = "min_rows"
USERS_WITH_JOIN_YEAR = "users_with_join_year"


class ExpectColumnTotalToBeBetween(gxe.ExpectColumnSumToBeBetween):
    """Column sum between bounds, where the sum of no rows is 0 (Spark's SUM of no rows is NULL)."""

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        if metrics.get("column.sum") is None:
            # An empty candidate totals 0; without this, a run with no users could never pass.
            metrics = {**metrics, "column.sum": 0}
        return super()._validate(metrics, runtime_configuration, execution_engine)


def param(name: str) -> dict:
    """A reference to a run-time parameter, filled in by the gate at each validation."""
    return {"$PARAMETER": name}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _default_name(cls: type[Expectation], kwargs: dict) -> str:
    columns = kwargs.get("column") or ", ".join(kwargs.get("column_list", []))
    return f"{_snake(cls.__name__)}({columns})"


def expectation(severity: str, cls: type[Expectation], name: str | None = None, **kwargs) -> Expectation:
    """One expectation carrying its severity (GX's field and `meta`) and a stable readable name."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    meta = {"severity": severity, "name": name or _default_name(cls, kwargs)}
    return cls(severity=severity, meta=meta, **kwargs)


def critical(cls: type[Expectation], name: str | None = None, **kwargs) -> Expectation:
    """An expectation whose failure stops publication."""
    return expectation(CRITICAL, cls, name, **kwargs)


def warning(cls: type[Expectation], name: str | None = None, **kwargs) -> Expectation:
    """An expectation whose failure is recorded and reported, nothing more."""
    return expectation(WARNING, cls, name, **kwargs)


def keys(*columns: str) -> list[Expectation]:
    """The key is never null and unique: critical, on every table."""
    not_null = [critical(gxe.ExpectColumnValuesToNotBeNull, column=c) for c in columns]
    if len(columns) == 1:
        return [*not_null, critical(gxe.ExpectColumnValuesToBeUnique, column=columns[0])]
    return [*not_null, critical(gxe.ExpectCompoundColumnsToBeUnique, column_list=list(columns))]


def columns_present(*columns: str) -> Expectation:
    """Every contract column is there (extra columns are allowed)."""
    return critical(gxe.ExpectTableColumnsToMatchSet, name="expect_table_columns_to_match_set",
                    column_set=list(columns), exact_match=False)


def suite(name: str, expectations: list[Expectation]) -> gx.ExpectationSuite:
    """A suite named after its table."""
    return gx.ExpectationSuite(name=name, expectations=expectations)


def builders() -> dict[str, Callable[[], gx.ExpectationSuite]]:
    """Every table's suite builder, by table name (`silver.pins` -> `silver_pins`)."""
    from quality import gold_suites, silver_suites

    found = {}
    for module in (silver_suites, gold_suites):
        for table in module.TABLES:
            found[table] = getattr(module, table.replace(".", "_"))
    return found


def build_suite(table: str) -> gx.ExpectationSuite:
    """The suite of one table; a clear error for a table without one."""
    known = builders()
    if table not in known:
        raise KeyError(f"no quality suite for table {table!r}; known: {', '.join(sorted(known))}")
    return known[table]()
