"""Resolve the pinned JVM artifacts (pinlake/artifacts.txt) once, into a cache outside git.

Each set (the broker's classpath, Spark's extra jars) is resolved apart with Maven into
`<jvm_cache>/<set>-<digest>/`, where the digest covers that set's pinned lines: a changed
pin resolves anew, an unchanged one is never resolved again. pinlake's own Java (pinlake/java:
Delta's log store for object stores) is compiled against Spark's set into
`<jvm_cache>/pinlake-java-<digest>/`, the digest covering the sources and that set.
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
JAVA_SOURCES = Path(__file__).resolve().parent / "java"  # package data
OWN_JAR = "pinlake-delta.jar"
COMPLETE_MARKER = ".complete"
_VERSIONED_JAR = re.compile(r"^(?P<artifact>.+?)-\d[\w.\-]*\.jar$")


class JvmArtifactsMissing(RuntimeError):
    """The JVM artifacts have not been resolved yet."""


def pinned_sets(path: Path | None = None) -> dict[str, list[str]]:
    """The pinned lines per set, in file order: `group:artifact:version`, then any exclusions
    (` !group:artifact`)."""
    path = path or ARTIFACTS_FILE
    sets: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, *rest = line.split()
        coordinate, *excluded = rest or [""]
        if coordinate.count(":") != 2:
            raise ValueError(f"{path}: {coordinate!r} is not group:artifact:version")
        if any(not e.startswith("!") or e.count(":") != 1 for e in excluded):
            raise ValueError(f"{path}: exclusions of {coordinate} must read !group:artifact, not {excluded}")
        sets.setdefault(name, []).append(" ".join([coordinate, *excluded]))
    return sets


def set_dir(name: str, cache: Path | None = None) -> Path:
    """The cache folder of one set at its current pins."""
    coordinates = pinned_sets()[name]
    digest = hashlib.sha256("\n".join(coordinates).encode()).hexdigest()[:12]
    return (cache or get_settings().jvm_cache) / f"{name}-{digest}"


def own_dir(cache: Path | None = None) -> Path:
    """The cache folder of pinlake's own compiled Java, at its current sources and Spark's set."""
    digest = hashlib.sha256(set_dir("spark", cache).name.encode())
    for source in sorted(JAVA_SOURCES.glob("*.java")):
        digest.update(source.read_bytes())
    return (cache or get_settings().jvm_cache) / f"pinlake-java-{digest.hexdigest()[:12]}"


def jars(name: str) -> list[Path]:
    """The resolved jars of one set (Spark's with pinlake's own); raises when `make jvm` has not run."""
    folders = [set_dir(name), *([own_dir()] if name == "spark" else [])]
    for folder in folders:
        if not (folder / COMPLETE_MARKER).exists():
            raise JvmArtifactsMissing(
                f"JVM artifacts for {name!r} are not resolved; run `make jvm` (looked in {folder})"
            )
    return sorted(jar for folder in folders for jar in folder.glob("*.jar"))


def _dependency(line: str) -> str:
    coordinate, *excluded = line.split()
    group, artifact, version = coordinate.split(":")
    exclusions = "".join("<exclusion><groupId>{}</groupId><artifactId>{}</artifactId></exclusion>".format(
        *e[1:].split(":")) for e in excluded)
    return (f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>"
            + (f"<exclusions>{exclusions}</exclusions>" if exclusions else "") + "</dependency>")


def _pom(coordinates: list[str]) -> str:
    deps = "".join(_dependency(c) for c in coordinates)
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


def compile_own() -> Path:
    """Compile pinlake/java against Spark's jars and set into a jar, unless done before; its folder."""
    target = own_dir()
    if (target / COMPLETE_MARKER).exists():
        return target
    if shutil.which("javac") is None:
        raise RuntimeError("a JDK (javac) is needed once to compile pinlake's Java (pinlake/java)")
    import pyspark

    classpath = [*sorted(set_dir("spark").glob("*.jar")), Path(pyspark.__file__).parent / "jars" / "*"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        classes, staging = Path(tmp) / "classes", Path(tmp) / "jar"
        staging.mkdir()
        subprocess.run(["javac", "--release", "17", "-nowarn", "-d", str(classes),
                        "-cp", ":".join(str(p) for p in classpath), *map(str, sorted(JAVA_SOURCES.glob("*.java")))],
                       check=True)
        subprocess.run(["jar", "--create", "--file", str(staging / OWN_JAR), "-C", str(classes), "."], check=True)
        (staging / COMPLETE_MARKER).write_text("\n".join(sorted(p.name for p in JAVA_SOURCES.glob("*.java"))) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target


def main() -> int:
    """Resolve every pinned set and compile pinlake's own Java; print where each one is."""
    for name, coordinates in pinned_sets().items():
        folder = resolve(name, coordinates)
        print(f"{name}: {len(list(folder.glob('*.jar')))} jars in {folder}")
    print(f"pinlake's own Java: {compile_own() / OWN_JAR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
