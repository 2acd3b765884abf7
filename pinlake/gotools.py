"""Build the pinned tools that exist only as Go modules, once, into a cache outside git.

Each tool is `go install`ed at its pinned version into `<tools_cache>/<name>-<version>/`; a
built one is never built again. `python -m pinlake.gotools` (run by `make setup`) builds all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pinlake.settings import get_settings

# name -> (Go module, version): Prometheus' StatsD exporter turns Airflow's StatsD metrics into /metrics.
PINNED = {"statsd_exporter": ("github.com/prometheus/statsd_exporter", "v0.28.0")}


class ToolMissing(RuntimeError):
    """A pinned Go tool has not been built yet."""


def path(name: str, cache: Path | None = None) -> Path:
    """Where the built tool is (whether or not it is there yet)."""
    _, version = PINNED[name]
    return (cache or get_settings().tools_cache) / f"{name}-{version}" / name


def require(name: str) -> Path:
    """The built tool, or a clear error naming the command that builds it."""
    found = path(name)
    if not found.is_file():
        raise ToolMissing(f"{name} is not built yet: run `make setup` (or `python -m pinlake.gotools`)")
    return found


def build(name: str, cache: Path | None = None) -> Path:
    """`go install` the tool at its pinned version, unless built before."""
    target = path(name, cache)
    if target.is_file():
        return target
    if shutil.which("go") is None:
        raise ToolMissing(f"building {name} needs Go on PATH")
    module, version = PINNED[name]
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent.parent) as tmp:
        env = {**os.environ, "GOBIN": tmp, "CGO_ENABLED": "0"}
        subprocess.run(["go", "install", "-trimpath", f"{module}@{version}"], env=env, check=True)
        target.parent.mkdir(exist_ok=True)
        os.replace(Path(tmp) / name, target)
    return target


def main() -> int:
    for name in PINNED:
        print(f"{name}: {build(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
