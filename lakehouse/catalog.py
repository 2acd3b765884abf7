"""Every table of the lakehouse, by layer, from the specs the layers define: the one registry.

The jobs, the quality gates, serving's catalog, the demo and maintenance all list tables from
here; a table is defined once, in the module that builds it (`lakehouse.spec.Table`).
"""

from __future__ import annotations

from functools import cache

from lakehouse.spec import Table


@cache
def all_tables() -> dict[str, Table]:
    """Every table's spec by name: bronze, silver, gold, quality, in that order."""
    from lakehouse.bronze.schema import EVENT_TABLES, RAW_BYTES
    from lakehouse.gold.tables import gold_tables
    from lakehouse.lineage.table import LINEAGE
    from lakehouse.silver.geo import GEO
    from lakehouse.silver.pins import PINS
    from lakehouse.silver.progress import PROGRESS
    from lakehouse.silver.quarantine import QUARANTINE
    from lakehouse.silver.users import USERS
    from quality.results import RESULTS

    specs = [*EVENT_TABLES.values(), RAW_BYTES, PINS, GEO, USERS, QUARANTINE, PROGRESS, *gold_tables(),
             RESULTS, LINEAGE]
    return {spec.name: spec for spec in specs}


def table(name: str) -> Table:
    """One table's spec; a clear error for a name that is not a lakehouse table."""
    try:
        return all_tables()[name]
    except KeyError:
        raise KeyError(f"no lakehouse table {name!r}; known: {', '.join(all_tables())}") from None


def layer(name: str) -> tuple[Table, ...]:
    """The specs of one layer (`bronze`, `silver`, `gold`, `quality`), in order."""
    return tuple(spec for spec in all_tables().values() if spec.layer == name)


def gated() -> tuple[Table, ...]:
    """The tables with a quality suite (every silver table rows reach, and every gold table)."""
    return tuple(spec for spec in all_tables().values() if spec.expectations is not None)
