from pathlib import Path

import pytest

from pinlake import jvm

pytestmark = pytest.mark.unit


def test_pinned_sets_are_exact_versions():
    sets = jvm.pinned_sets()
    assert set(sets) == {"broker", "spark"}
    assert any(" !software.amazon.awssdk:bundle" in line for line in sets["spark"])  # not the 600 MB bundle
    for coordinates in sets.values():
        for coordinate in coordinates:
            group, artifact, version = coordinate.split()[0].split(":")
            assert version[0].isdigit() and "[" not in version and "," not in version


def test_artifact_name_strips_the_version():
    assert jvm.artifact_name(Path("jackson-core-2.13.5.jar")) == "jackson-core"
    assert jvm.artifact_name(Path("delta-spark_4.2_2.13-4.4.0.jar")) == "delta-spark_4.2_2.13"
    assert jvm.artifact_name(Path("zstd-jni-1.5.7-3.jar")) == "zstd-jni"


def test_a_changed_pin_gets_a_new_cache_folder(tmp_path, monkeypatch):
    pins = tmp_path / "artifacts.txt"
    pins.write_text("spark a:b:1.0\n")
    monkeypatch.setattr(jvm, "ARTIFACTS_FILE", pins)
    first = jvm.set_dir("spark", cache=tmp_path)
    pins.write_text("spark a:b:1.1\n")
    second = jvm.set_dir("spark", cache=tmp_path)
    assert first != second


def test_missing_artifacts_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PINLAKE_JVM_CACHE", str(tmp_path))
    from pinlake.settings import get_settings

    get_settings.cache_clear()
    try:
        with pytest.raises(jvm.JvmArtifactsMissing, match="make jvm"):
            jvm.jars("broker")
    finally:
        get_settings.cache_clear()


def test_malformed_pin_is_rejected(tmp_path):
    pins = tmp_path / "artifacts.txt"
    pins.write_text("spark just-a-name\n")
    with pytest.raises(ValueError):
        jvm.pinned_sets(pins)
