"""The `maintenance` DAG with `airflow dags test`, over real Delta tables.

The `medallion` DAG runs end to end, through the Airflow scheduler and three triggers, in
tests/integration/test_end_to_end.py.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from ingest.emulator import generate
from lakehouse import tables
from lakehouse.bronze.schema import EVENT_TABLES
from lakehouse.bronze.writer import checkpoint_if_due
from orchestration.airflow_home import LAKEHOUSE_POOL, airflow_command
from pinlake.settings import TOPICS
from quality.results import RESULTS
from tests.bronze_rows import append_bronze, from_events
from tests.conftest import free_port, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]

BRONZE = {kind: EVENT_TABLES[topic] for kind, topic in TOPICS.items()}
DAG_TEST_TIMEOUT = 2700  # seconds for one run (retries included); 25 min seen on a loaded two-core machine


def airflow_settings(data_root, **overrides):
    """Isolated settings with free ports for every Airflow listener; manual schedules."""
    return make_settings(
        data_root, airflow_port=free_port(), airflow_log_port=free_port(),
        airflow_trigger_log_port=free_port(), spark_master="local[2]", spark_driver_memory="1g",
        spark_shuffle_partitions=2,
        medallion_schedule="none", maintenance_schedule="none", **overrides,
    )


def airflow_ok(settings, *args: str, timeout: float = 600) -> str:
    """Run an `airflow` command of the test's stack; its output, or a failure with its end."""
    started = time.monotonic()
    done = airflow_command(settings, *args, timeout=timeout)
    print(f"airflow {' '.join(args)}: {time.monotonic() - started:.0f}s")
    assert done.returncode == 0, f"airflow {args} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A metadata database and the lakehouse pool for `airflow dags test` (no Airflow service)."""
    from orchestration.airflow_home import prepare

    settings = airflow_settings(tmp_path_factory.mktemp("medallion") / "var")
    prepare(settings)
    airflow_ok(settings, "db", "migrate")
    airflow_ok(settings, "pools", "set", LAKEHOUSE_POOL, "1", "pinlake lakehouse")
    return settings


def write_bronze(spark, root: str, postings: int) -> None:
    """The emulator's events as bronze rows, appended like the bronze stream appends them."""
    append_bronze(spark, root, from_events(list(generate(postings, seed=11)), start=datetime(2024, 6, 1, 8, 0, 0)))


def test_maintenance_compacts_and_vacuums_every_table_without_changing_data(stack, spark):
    from delta.tables import DeltaTable

    root = stack.lakehouse
    probe = RESULTS.name  # every table of the catalog that exists is maintained
    log = Path(tables.table_path(probe, root)) / "_delta_log"
    for part in range(3):  # three small commits: three files to compact
        row = (f"run {part}", "silver.pins", "silver.pins", "probe", "warning", True, 1, 0, None,
               datetime(2026, 1, 1, part))
        tables.append(spark.createDataFrame([row], RESULTS.schema), probe, root)
        if part == 1:  # a checkpoint of version 1 as the bronze stream writes them (deltalake)
            assert checkpoint_if_due(probe, root, every=1) == 1
    if not tables.exists(BRONZE["pin"].name, root):
        write_bronze(spark, root, postings=5)
    before = {name: tables.read(spark, name, root).cache() for name in (probe, BRONZE["pin"].name)}
    assert DeltaTable.forPath(spark, tables.table_path(probe, root)).detail().first()["numFiles"] == 3
    # Versions 0 and 1 (commit, checksum, the checkpoint of 1) past Delta's 30-day log
    # retention: the maintenance pass removes the log files that the old checkpoint makes unneeded.
    past = time.time() - 40 * 86_400
    for file in [*log.glob(f"{0:020d}.*"), *log.glob(f"{1:020d}.*")]:
        os.utime(file, (past, past))
    expired = log / f"{0:020d}.json"

    airflow_ok(stack, "dags", "test", "maintenance", timeout=DAG_TEST_TIMEOUT)

    assert not expired.exists(), sorted(f.name for f in log.iterdir())
    assert tables.last_checkpoint(probe, root) > 1, "maintenance wrote no checkpoint"
    assert DeltaTable.forPath(spark, tables.table_path(probe, root)).detail().first()["numFiles"] == 1
    for name, table in before.items():
        assertDataFrameEqual(tables.read(spark, name, root), table, checkRowOrder=False)
        operations = {r.operation for r in DeltaTable.forPath(spark, tables.table_path(name, root)).history()
                      .collect()}
        # OPTIMIZE commits only where there was something to compact; VACUUM always logs
        assert {"VACUUM START", "VACUUM END"} <= operations, (name, operations)
        assert name != probe or "OPTIMIZE" in operations, operations
