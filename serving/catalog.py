"""The lakehouse tables that can be queried, under their contract names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lakehouse.tables import BRONZE_TABLES, GOLD_TABLES, QUALITY_TABLES, SILVER_TABLES, table_path

ALL_TABLES = BRONZE_TABLES + SILVER_TABLES + GOLD_TABLES + QUALITY_TABLES


def is_delta_table(path: str) -> bool:
    """True when `path` holds a Delta log (local paths only; URIs are assumed to exist)."""
    if "://" in path:
        return True
    return (Path(path) / "_delta_log").is_dir()


def existing_tables(root: str, names: Iterable[str] | None = None) -> dict[str, str]:
    """Contract name -> path, for the tables (of `names`, default all) that exist under `root`."""
    found = {}
    wanted = set(ALL_TABLES if names is None else names)
    for name in (n for n in ALL_TABLES if n in wanted):
        path = table_path(name, root)
        if is_delta_table(path):
            found[name] = path
    return found
