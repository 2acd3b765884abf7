"""Each rule of the contract stands in one module: gold table names, reason codes, age groups.

Outside tests/, the name of every gold table is written only in its own module, every reason
code only in `lakehouse.silver.reasons`, every age group only in `lakehouse.gold.common`;
everything else (the jobs, gates, demo, serving, benchmarks) takes them from there.
"""

from __future__ import annotations

import fnmatch
import os
import re
from functools import cache
from pathlib import Path

import pytest

from lakehouse.gold import common
from lakehouse.gold.tables import gold_tables
from lakehouse.silver.reasons import Reason
from tests import PROJECT_ROOT

pytestmark = pytest.mark.unit

SOURCES = ("*.py", "*.html", "*.js", "*.yml", "Dockerfile")
SKIPPED = {"tests", ".venv", ".git", "var", "build", "node_modules"}


@cache
def source_files() -> dict[str, str]:
    """Every source file of the project outside tests/, by path (docs are prose, not rules)."""
    found = {}
    for folder, subfolders, files in os.walk(PROJECT_ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED and not d.startswith(".")]
        for name in files:
            if any(fnmatch.fnmatch(name, pattern) for pattern in SOURCES):
                path = Path(folder) / name
                found[str(path.relative_to(PROJECT_ROOT))] = path.read_text()
    return found


def where(text: str) -> list[str]:
    """The files that hold `text` as a whole word (not part of a longer name; `gold.x` holds `x`)."""
    pattern = re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")
    return sorted(path for path, content in source_files().items() if pattern.search(content))


@pytest.mark.parametrize("spec", gold_tables(), ids=lambda spec: spec.name)
def test_a_gold_table_is_named_in_its_own_module_only(spec):
    table = spec.name.partition(".")[2]
    assert where(table) == [f"lakehouse/gold/tables/{table}.py"]


@pytest.mark.parametrize("code", list(Reason), ids=str)
def test_a_reason_code_is_written_in_the_enum_only(code):
    assert where(str(code)) == ["lakehouse/silver/reasons.py"]


@pytest.mark.parametrize("group", common.AGE_GROUPS)
def test_an_age_group_is_written_in_gold_common_only(group):
    quoted = [path for path, content in source_files().items() if f"'{group}'" in content or f'"{group}"' in content]
    assert quoted == ["lakehouse/gold/common.py"]


def test_the_search_finds_what_it_looks_for():
    """The checks above would pass vacuously if the file walk found nothing."""
    assert "lakehouse/silver/pins.py" in where("NO_TITLE")
    assert len(source_files()) > 50
