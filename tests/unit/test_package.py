"""The package's dependencies: declared in pyproject.toml, locked with a hash for every file, the
runtime set (what the image installs) apart from the development tools."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests import PROJECT_ROOT

pytestmark = pytest.mark.unit

REQUIREMENTS = PROJECT_ROOT / "requirements"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?P<hashes>(?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)",
                 re.M)


def pins(path) -> dict[str, tuple[str, int]]:
    """name -> (version, how many hashes) of a lock written by `make lock`."""
    found = {canonicalize_name(m["name"]): (m["version"], m["hashes"].count("--hash="))
             for m in PIN.finditer(path.read_text())}
    assert found, f"{path.name}: no pins"
    return found


def project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]


def test_every_pin_carries_hashes_and_the_runtime_lock_is_the_whole_locks_runtime_part():
    whole, runtime = pins(REQUIREMENTS / "lock.txt"), pins(REQUIREMENTS / "runtime.txt")
    entries = len(re.findall(r"^[A-Za-z0-9._-]+==", (REQUIREMENTS / "lock.txt").read_text(), re.M))
    assert entries == len(whole)
    unhashed = [name for name, (_, hashes) in {**whole, **runtime}.items() if hashes == 0]
    assert unhashed == [], f"pins without hashes: {unhashed}; run `make lock`"
    moved = {name: (version, whole.get(name, ("missing",))[0]) for name, (version, _) in runtime.items()
             if whole.get(name, ("missing",))[0] != version}
    assert moved == {}, "runtime.txt and lock.txt disagree: run `make lock`"


@pytest.mark.parametrize("lock", ["runtime.txt", "lock.txt"])
def test_the_locks_satisfy_what_pyproject_declares(lock):
    locked = pins(REQUIREMENTS / lock)
    declared = [Requirement(text) for text in project()["dependencies"]]
    if lock == "lock.txt":
        declared += [Requirement(text) for text in project()["optional-dependencies"]["dev"]]
    unmet = [str(r) for r in declared
             if canonicalize_name(r.name) not in locked
             or not r.specifier.contains(locked[canonicalize_name(r.name)][0], prereleases=True)]
    assert unmet == [], f"{lock} does not satisfy {unmet}: run `make lock`"


def test_the_runtime_set_leaves_the_development_tools_out():
    runtime = pins(REQUIREMENTS / "runtime.txt")
    dev = {canonicalize_name(Requirement(text).name) for text in project()["optional-dependencies"]["dev"]}
    assert dev & set(runtime) == set()
    assert {"apache-airflow", "apache-airflow-client", "pyspark", "fastapi"} <= set(runtime)
    assert "plotly" not in runtime  # the dashboard's plotly.js is a pinned browser asset (pinlake/web_assets.txt)
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements/runtime.txt" in dockerfile
    assert "-e ." not in dockerfile, "the image installs the package itself, not a link to its sources"
