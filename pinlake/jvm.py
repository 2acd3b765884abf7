"""Resolve the pinned JVM artifacts (pinlake/artifacts.txt) once, into a cache outside git.

Each set (the broker's classpath, Spark's extra jars) is resolved apart with Maven into
`<jvm_cache>/<set>-<digest>/`, where the digest covers that set's pinned lines: a changed
pin resolves anew, an unchanged one is never resolved again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pinlake.settings import get_settings

ARTIFACTS_FILE = Path(__file__).resolve().parent / "artifacts.txt"  # package data
COMPLETE_MARKER = ".complete"
_VERSIONED_JAR = re.compile(r"^(?P<artifact>.+?)-\d[\w.\-]*\.jar$")


class JvmArtifactsMissing(RuntimeError):
    """The JVM artifacts have not been resolved yet."""


def pinned_sets(path: Path | None = None) -> dict[str, list[str]]:
    """The pinned coordinates per set, in file order."""
    path = path or ARTIFACTS_FILE
    sets: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, coordinate = line.split()
        if coordinate.count(":") != 2:
            raise ValueError(f"{path}: {coordinate!r} is not group:artifact:version")
        sets.setdefault(name, []).append(coordinate)
    return sets


def set_dir(name: str, cache: Path | None = None) -> Path:
    """The cache folder of one set at its current pins."""
    coordinates = pinned_sets()[name]
    digest = hashlib.sha256("\n".join(coordinates).encode()).hexdigest()[:12]
    return (cache or get_settings().jvm_cache) / f"{name}-{digest}"


def jars(name: str) -> list[Path]:
    """The resolved jars of one set; raises when `make jvm` has not run."""
    folder = set_dir(name)
    if not (folder / COMPLETE_MARKER).exists():
        raise JvmArtifactsMissing(
            f"JVM artifacts for {name!r} are not resolved; run `make jvm` (looked in {folder})"
        )
    return sorted(folder.glob("*.jar"))


def _pom(coordinates: list[str]) -> str:
    deps = "".join(
        "<dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version></dependency>".format(
            *c.split(":")
        )
        for c in coordinates
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>pinlake</groupId><artifactId>jvm-set</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{deps}</dependencies></project>"
    )


def artifact_name(jar: Path) -> str:
    """`jackson-core-2.13.5.jar` -> `jackson-core`."""
    match = _VERSIONED_JAR.match(jar.name)
    return match.group("artifact") if match else jar.stem


def _pyspark_artifacts() -> set[str]:
    import pyspark

    return {artifact_name(j) for j in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}


def resolve(name: str, coordinates: list[str]) -> Path:
    """Resolve one set into the cache unless it is there already; returns its folder."""
    target = set_dir(name)
    if (target / COMPLETE_MARKER).exists():
        return target
    if shutil.which("mvn") is None:
        raise RuntimeError("Maven (mvn) is needed once to resolve the JVM artifacts")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staging = Path(tmp) / "jars"
        (Path(tmp) / "pom.xml").write_text(_pom(coordinates))
        subprocess.run(
            ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={staging}"],
            cwd=tmp, check=True,
        )
        if name == "spark":
            shipped = _pyspark_artifacts()
            for jar in staging.glob("*.jar"):
                if artifact_name(jar) in shipped:
                    jar.unlink()
        (staging / COMPLETE_MARKER).write_text("\n".join(coordinates) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target


def main() -> int:
    """Resolve every pinned set; print where each one is."""
    for name, coordinates in pinned_sets().items():
        folder = resolve(name, coordinates)
        print(f"{name}: {len(list(folder.glob('*.jar')))} jars in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
