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


def display_order(name: str) -> str:
    """An ORDER BY list for showing a gold table to a person: its columns in order, age groups
    youngest first (AGE_GROUPS' order) rather than alphabetical."""
    from lakehouse.gold.common import AGE_GROUPS

    ages = "[" + ", ".join(f"'{group}'" for group in AGE_GROUPS) + "]"
    return ", ".join(f"list_position({ages}, {column})" if column == "age_group" else f'"{column}"'
                     for column in catalog.table(name).columns)


def existing_tables(root: str, names: Iterable[str] | None = None) -> dict[str, str]:
    """Contract name -> path, for the tables (of `names`, default all) that exist under `root`."""
    wanted = set(queryable() if names is None else names)
    return {name: tables.table_path(name, root) for name in queryable() if name in wanted and tables.exists(name, root)}
