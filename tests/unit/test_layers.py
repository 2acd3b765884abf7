"""Layers only look down, and no module imports itself back through others.

From the bottom: settings and shared helpers; ingest, lakehouse, quality and serving;
orchestration; the command line, the list of local services, the HTTP surface and the demo.
Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests import PROJECT_ROOT

pytestmark = pytest.mark.unit

PACKAGES = ("pinlake", "ingest", "lakehouse", "quality", "serving", "orchestration")
# Longest prefix wins: `pinlake.cli` is at the top, the rest of `pinlake` at the bottom.
LAYER_OF = {
    "pinlake": 0,
    "ingest": 1, "lakehouse": 1, "quality": 1, "serving": 1,
    "orchestration": 2,
    "pinlake.cli": 3, "pinlake.services": 3, "pinlake.http": 3, "pinlake.demo": 3,
}
LAYER_NAMES = ("settings and shared helpers", "ingest, lakehouse, quality, serving", "orchestration",
               "command line, services, HTTP surface, demo")


def module_name(path: Path) -> str:
    """`lakehouse/silver/job.py` -> `lakehouse.silver.job`; a package's `__init__` is the package."""
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages, by name."""
    return {module_name(p): p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("*.py")}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules that the module at `path` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `from x import name`: the module is x
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer(name: str) -> int:
    """The layer of a module: the one of its longest listed prefix."""
    prefixes = [p for p in LAYER_OF if name == p or name.startswith(p + ".")]
    return LAYER_OF[max(prefixes, key=len)]


def graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = project_modules()
    return {name: imported(path, name, set(modules)) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer():
    assert all(layer(name) in range(len(LAYER_NAMES)) for name in project_modules())


def test_no_module_imports_a_layer_above_its_own():
    upward = sorted(f"{name} ({LAYER_NAMES[layer(name)]}) imports {target} ({LAYER_NAMES[layer(target)]})"
                    for name, targets in graph().items() for target in targets if layer(target) > layer(name))
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    """The checks above would pass vacuously if the walk missed imports: it finds both kinds."""
    edges = graph()
    assert "pinlake.settings" in edges["pinlake.jvm"]
    # the command line imports the commands of each area inside functions or at the bottom
    assert {"ingest.commands", "lakehouse.commands"} <= edges["pinlake.cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
