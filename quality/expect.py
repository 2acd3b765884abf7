"""The vocabulary expectations are written in: severity, stable names, run-time parameters.

Each table's own expectations live next to its rules, in the module that builds it (its spec's
`expectations`); `quality.suites` turns a spec into its suite.
"""

from __future__ import annotations

import re

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

# The run-time parameter of "not empty when its inputs are not"; the gate supplies it, and the
# counts a spec names (`Table.counts`).
MIN_ROWS = "min_rows"


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


def not_null(column: str, severity: str = CRITICAL) -> Expectation:
    """The column has no null value."""
    return expectation(severity, gxe.ExpectColumnValuesToNotBeNull, column=column)


def between(column: str, min_value=None, max_value=None, severity: str = CRITICAL) -> Expectation:
    """Every non-null value lies in [min_value, max_value] (an open end: None)."""
    return expectation(severity, gxe.ExpectColumnValuesToBeBetween, column=column, min_value=min_value,
                       max_value=max_value)


def in_set(column: str, values, severity: str = CRITICAL) -> Expectation:
    """Every non-null value is one of `values`."""
    return expectation(severity, gxe.ExpectColumnValuesToBeInSet, column=column, value_set=sorted(values))


def matches(column: str, regex: str, severity: str = CRITICAL) -> Expectation:
    """Every non-null value matches `regex`."""
    return expectation(severity, gxe.ExpectColumnValuesToMatchRegex, column=column, regex=regex)


def not_matches(column: str, regex: str, severity: str = CRITICAL) -> Expectation:
    """No value matches `regex`."""
    return expectation(severity, gxe.ExpectColumnValuesToNotMatchRegex, column=column, regex=regex)


def no_rows(name: str, where: str, description: str, severity: str = CRITICAL) -> Expectation:
    """No row of the candidate matches the SQL condition `where`."""
    return expectation(severity, gxe.UnexpectedRowsExpectation, name=name, description=description,
                       unexpected_rows_query=f"SELECT * FROM {{batch}} WHERE {where}")


def sql_text(value: str) -> str:
    """A Python string as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
