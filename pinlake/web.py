"""Fetch the pinned browser assets (pinlake/web_assets.txt) once, into a cache outside git.

The API's /docs and /redoc and GX's Data Docs pages run scripts and styles that their projects
publish as npm packages. pinlake serves pinned copies itself, so that every page works on a
machine or in a container without the internet. Each package's tarball is fetched once with
`npm pack` (from the registry npm is configured for), checked against the sha512 pinned in
pinlake/web_assets.txt, and only the listed paths are kept, in `<web_cache>/<name>@<version>/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pinlake.settings import get_settings

ASSETS_FILE = Path(__file__).resolve().parent / "web_assets.txt"  # package data
COMPLETE_MARKER = ".complete"
URL_PREFIX = "/assets"


class WebAssetsMissing(RuntimeError):
    """The browser assets have not been fetched yet."""


@dataclass(frozen=True)
class Package:
    """One pinned npm package and the paths kept from it."""

    name: str
    version: str
    integrity: str
    keep: tuple[str, ...]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def pinned(path: Path | None = None) -> dict[str, Package]:
    """The pinned packages by name, in file order."""
    path = path or ASSETS_FILE
    packages = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        name, _, version = fields[0].rpartition("@")
        if not name or not version or len(fields) < 3 or not fields[1].startswith("sha512-"):
            raise ValueError(f"{path}:{number}: expected <name>@<version> sha512-<integrity> <path>..., got {line!r}")
        packages[name] = Package(name, version, fields[1], tuple(fields[2:]))
    return packages


def package_dir(package: Package, cache: Path | None = None) -> Path:
    """Where a package's kept files are."""
    return (cache or get_settings().web_cache) / package.spec


def url(name: str, path: str) -> str:
    """The URL under which the API serves `path` of the pinned package `name`."""
    return f"{URL_PREFIX}/{pinned()[name].spec}/{path}"


def missing(cache: Path | None = None) -> list[str]:
    """The pinned packages not fetched yet (empty: all there)."""
    return [p.spec for p in pinned().values() if not (package_dir(p, cache) / COMPLETE_MARKER).exists()]


def require(cache: Path | None = None) -> Path:
    """The cache folder; raises when a pinned package has not been fetched."""
    absent = missing(cache)
    if absent:
        raise WebAssetsMissing(f"browser assets not fetched: {', '.join(absent)}; run `make setup` "
                               "(or `python -m pinlake.web`)")
    return cache or get_settings().web_cache


def integrity_of(tarball: Path) -> str:
    """npm's integrity string of a file: sha512-<base64 digest>."""
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def _kept(member: tarfile.TarInfo, keep: tuple[str, ...]) -> bool:
    path = member.name.split("/", 1)[1] if "/" in member.name else ""  # below the tarball's `package/`
    return any(path == kept or path.startswith(kept.rstrip("/") + "/") for kept in keep)


def unpack(tarball: Path, keep: tuple[str, ...], target: Path) -> None:
    """Extract the kept regular files of an npm tarball (below its `package/`) into `target`."""
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and _kept(m, keep)]
        for member in members:
            member.name = member.name.split("/", 1)[1]
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                raise RuntimeError(f"{tarball.name} holds a path outside its folder: {member.name}")
        # regular files at checked relative paths only; the "data" filter where this Python has it
        # (3.11.4 and later: Debian bookworm's 3.11.2, the image's base, has not)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(target, members=members, **safe)


def fetch(package: Package, cache: Path | None = None) -> Path:
    """Fetch, check and unpack one package unless it is there already; returns its folder."""
    target = package_dir(package, cache)
    if (target / COMPLETE_MARKER).exists():
        return target
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed once to fetch the browser assets (pinlake/web_assets.txt)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".staging-") as tmp:
        packed = subprocess.run(["npm", "pack", package.spec, "--pack-destination", tmp, "--json"],
                                cwd=tmp, check=True, capture_output=True, text=True)
        tarball = Path(tmp) / json.loads(packed.stdout)[0]["filename"]
        found = integrity_of(tarball)
        if found != package.integrity:
            raise RuntimeError(f"{package.spec}: the tarball's integrity is {found}, "
                               f"not the {package.integrity} pinned in {ASSETS_FILE.name}")
        staging = Path(tmp) / "kept"
        unpack(tarball, package.keep, staging)
        absent = [kept for kept in package.keep if not (staging / kept).exists()]
        if absent:
            raise RuntimeError(f"{package.spec} has no {', '.join(absent)}")
        (staging / COMPLETE_MARKER).write_text(package.integrity + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target


def main() -> int:
    """Fetch every pinned package; print where each one is."""
    for package in pinned().values():
        folder = fetch(package)
        print(f"{package.spec}: {sum(1 for p in folder.rglob('*') if p.is_file()) - 1} files in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
