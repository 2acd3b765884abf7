"""Each gated table's Great Expectations suite, built from its spec.

A suite is what the spec says of the table (its columns are present, its keys not null and
unique, a gold table not empty when its inputs are not) plus the table's own expectations,
which live next to its rules (`Table.expectations`).
"""

from __future__ import annotations

import great_expectations as gx

from lakehouse import catalog
from lakehouse.spec import Table
from quality import expect as x


def suite(spec: Table) -> gx.ExpectationSuite:
    """The suite of one table, named after it."""
    if spec.expectations is None:
        raise KeyError(f"{spec.name} has no quality suite (its spec defines no expectations)")
    derived = [x.columns_present(*spec.columns), *x.keys(*spec.keys)]
    if spec.layer == "gold":
        derived.append(x.critical(x.gxe.ExpectTableRowCountToBeBetween, name="not empty when silver is not",
                                  min_value=x.param(x.MIN_ROWS),
                                  description="at least one row when the silver data it is built from is not empty"))
    return gx.ExpectationSuite(name=spec.name, expectations=[*derived, *spec.expectations()])


def build_suite(table: str) -> gx.ExpectationSuite:
    """The suite of the table named `table`; a clear error for a table without one."""
    known = {spec.name: spec for spec in catalog.gated()}
    if table not in known:
        raise KeyError(f"no quality suite for table {table!r}; known: {', '.join(known)}")
    return suite(known[table])


def all_suites() -> list[gx.ExpectationSuite]:
    """Every gated table's suite, in the catalog's order."""
    return [suite(spec) for spec in catalog.gated()]
