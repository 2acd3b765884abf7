"""The gold tables, one module each: its schema, builder, expectations and spec (`TABLE`).

Adding a gold table is adding a module here: the job, the gates, the demo, serving and
maintenance find it through `gold_tables()`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from lakehouse.spec import Table


@cache
def gold_tables() -> tuple[Table, ...]:
    """Every gold table's spec, by name."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        spec = getattr(importlib.import_module(f"{__name__}.{module.name}"), "TABLE", None)
        if not isinstance(spec, Table) or spec.name != f"gold.{module.name}":
            raise TypeError(f"{__name__}.{module.name} must define TABLE, the spec of gold.{module.name}")
        found.append(spec)
    return tuple(sorted(found, key=lambda spec: spec.name))
