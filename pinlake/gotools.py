"""Build the pinned tools that exist only as Go modules, once, into a cache outside git.

Each tool is built at its pinned version into `<tools_cache>/<name>-<version>/`; a built one is
never built again. Most are `go install`ed; a module whose go.mod has replace directives (which
`go install module@version` refuses) is downloaded and built inside its own folder, as its
authors build it. `python -m pinlake.gotools [NAME...]` builds the named ones (`make setup`:
those the local stack needs; `make objectstore`: the S3-compatible server).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pinlake.settings import get_settings


@dataclass(frozen=True)
class Tool:
    """A Go module at a pinned version, and the main package in it that is the tool."""

    module: str
    version: str
    package: str = ""  # inside the module: built in the module's own folder; empty: `go install module@version`


PINNED = {
    # Prometheus' StatsD exporter turns Airflow's StatsD metrics into /metrics.
    "statsd_exporter": Tool("github.com/prometheus/statsd_exporter", "v0.28.0"),
    # SeaweedFS (Apache-2.0): `weed server -s3` is the S3-compatible object store of the local
    # stack and the tests. Its go.mod replaces modules, so it builds inside its own folder.
    "weed": Tool("github.com/seaweedfs/seaweedfs", "v0.0.0-20261109003541-7506e5f91cd6", package="./weed"),
}
DEFAULT = ("statsd_exporter",)  # what `make setup` builds


class ToolMissing(RuntimeError):
    """A pinned Go tool has not been built yet."""


def path(name: str, cache: Path | None = None) -> Path:
    """Where the built tool is (whether or not it is there yet)."""
    return (cache or get_settings().tools_cache) / f"{name}-{PINNED[name].version}" / name


def require(name: str) -> Path:
    """The built tool, or a clear error naming the command that builds it."""
    found = path(name)
    if not found.is_file():
        how = "`make setup`" if name in DEFAULT else "`make objectstore`"
        raise ToolMissing(f"{name} is not built yet: run {how} (or `python -m pinlake.gotools {name}`)")
    return found


def build(name: str, cache: Path | None = None) -> Path:
    """Build the tool at its pinned version, unless built before."""
    target = path(name, cache)
    if target.is_file():
        return target
    if shutil.which("go") is None:
        raise ToolMissing(f"building {name} needs Go on PATH")
    tool = PINNED[name]
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent.parent) as tmp:
        env = {**os.environ, "CGO_ENABLED": "0"}
        if tool.package:
            source = _download(tool, env)
            tree = Path(tmp) / "src"  # the module cache is read-only: build in a copy
            shutil.copytree(source, tree, symlinks=True)
            for folder in (tree, *(p for p in tree.rglob("*") if p.is_dir())):
                folder.chmod(0o755)  # copied read-only too: the copy could not be removed afterwards
            subprocess.run(["go", "build", "-trimpath", "-o", str(Path(tmp) / name), tool.package],
                           cwd=tree, env=env, check=True)
        else:
            subprocess.run(["go", "install", "-trimpath", f"{tool.module}@{tool.version}"],
                           env={**env, "GOBIN": tmp}, check=True)
        target.parent.mkdir(exist_ok=True)
        os.replace(Path(tmp) / name, target)
    return target


def _download(tool: Tool, env: dict) -> Path:
    """The module's folder in Go's module cache, downloaded if need be."""
    done = subprocess.run(["go", "mod", "download", "-json", f"{tool.module}@{tool.version}"], env=env,
                          capture_output=True, text=True)
    info = json.loads(done.stdout or "{}")
    if done.returncode != 0 or not info.get("Dir"):
        raise ToolMissing(f"could not download {tool.module}@{tool.version}: {info.get('Error') or done.stderr}")
    return Path(info["Dir"])


def main(argv: list[str] | None = None) -> int:
    names = (sys.argv[1:] if argv is None else argv) or list(DEFAULT)
    unknown = [name for name in names if name not in PINNED]
    if unknown:
        print(f"unknown tools {unknown}; pinned: {sorted(PINNED)}", file=sys.stderr)
        return 2
    for name in names:
        print(f"{name}: {build(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
