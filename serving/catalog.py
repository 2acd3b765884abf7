"""The lakehouse tables that can be queried, under their contract names (from the table specs)."""

from __future__ import annotations

from collections.abc import Iterable

from lakehouse import catalog, tables


def queryable() -> tuple[str, ...]:
    """Every lakehouse table's name, bronze to quality."""
    return tuple(catalog.all_tables())


def gold_tables() -> tuple[str, ...]:
    """The gold tables' names."""
    return tuple(spec.name for spec in catalog.layer("gold"))


def existing_tables(root: str, names: Iterable[str] | None = None) -> dict[str, str]:
    """Contract name -> path, for the tables (of `names`, default all) that exist under `root`."""
    wanted = set(queryable() if names is None else names)
    return {name: tables.table_path(name, root) for name in queryable() if name in wanted and tables.exists(name, root)}
