"""Shared fixtures: real services on free loopback ports, one Spark session for the run."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from pinlake.settings import Settings
from tests.ports import free_block, free_port  # noqa: F401 - the tests import them from here

# The JVMs the tests start (Kafka, the jobs' commands, the bronze stream, the job server) compile
# with C1 only: their inputs are tiny and most live for a minute or two, so C2's compilations
# cost two busy cores more than they give back (the golden cases' set-up took 20% less). The
# tests' own Spark session lives for the whole run and keeps the JIT's defaults (the batches
# module took 15% longer on C1 alone). Nothing here measures speed: bench/ does, with the defaults.
C1_ONLY = "-XX:TieredStopAtLevel=1"
os.environ.setdefault("JAVA_TOOL_OPTIONS", C1_ONLY)

# The conf Delta's own test suite uses: few shuffle partitions, no UI.
TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
}


def make_settings(data_root: Path, **overrides) -> Settings:
    """Settings for an isolated stack: its own data root and free ports."""
    ports = ("kafka_port", "kafka_controller_port", "api_port", "spark_server_port", "bronze_metrics_port",
             "airflow_statsd_port", "airflow_metrics_port")
    return Settings(data_root=data_root, kafka_heap="384m",
                    **{**{name: free_port() for name in ports}, **overrides})


def processes_of(data_root: Path) -> list[psutil.Process]:
    """Every live process whose environment points at this data root."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and \
                    proc.environ().get("PINLAKE_DATA_ROOT") == str(data_root):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture(scope="session")
def kafka_settings(tmp_path_factory) -> Settings:
    """A real single-node Kafka broker (KRaft) with the contract's topics, for the session."""
    from pinlake.kafka import KAFKA
    from pinlake.supervisor import Supervisor

    settings = make_settings(tmp_path_factory.mktemp("kafka-stack"))
    supervisor = Supervisor(settings, [KAFKA])
    supervisor.start(KAFKA)
    yield settings
    supervisor.down()
    assert not processes_of(settings.data_root), "the broker outlived its fixture"


@pytest.fixture(scope="session")
def object_store(tmp_path_factory) -> Settings:
    """The local object store (SeaweedFS) as `pinlake up` runs it, with the bucket `pinlake-test`,
    for the session; the settings of a lakehouse in it."""
    from pinlake.objectstore import OBJECT_STORE
    from pinlake.supervisor import Supervisor

    settings = make_settings(tmp_path_factory.mktemp("objectstore"), lakehouse_root="s3://pinlake-test/lake",
                             objectstore_port=free_block(8))
    supervisor = Supervisor(settings, [OBJECT_STORE])
    supervisor.start(OBJECT_STORE)
    yield settings
    supervisor.down()
    assert not processes_of(settings.data_root), "the object store outlived its fixture"


def s3a_for(spark, settings: Settings) -> None:
    """Point the session's S3A at the object store of `settings` for its bucket alone (S3A's
    per-bucket options): the session was built before the store had a port."""
    from pinlake.objectstore import hadoop_options

    conf = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in hadoop_options(settings).items():
        if key.startswith("fs.s3a."):
            conf.set(f"fs.s3a.bucket.{settings.bucket}.{key.removeprefix('fs.s3a.')}", value)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One Spark session for the run, built by the project's factory with Delta's test conf."""
    from lakehouse.spark import get_spark

    settings = Settings(data_root=tmp_path_factory.mktemp("spark"), spark_master="local[2]")
    c1_only = os.environ.get("JAVA_TOOL_OPTIONS") == C1_ONLY
    if c1_only:  # this JVM lives for the whole run: C2 pays for itself
        del os.environ["JAVA_TOOL_OPTIONS"]
    try:
        session = get_spark("pinlake-tests", settings=settings, conf=TEST_CONF)
    finally:
        if c1_only:
            os.environ["JAVA_TOOL_OPTIONS"] = C1_ONLY
    yield session
    session.stop()
