"""The silver and gold jobs run unchanged on a Spark standalone cluster and publish the same gold.

A master and one worker start on 127.0.0.1 from pyspark's own `bin/spark-class`, under the
project's supervisor; the jobs are the same `python -m lakehouse.<layer>.job` entry points the
DAG submits, with only PINLAKE_SPARK_MASTER changed. The tables are on the object store (the
session's SeaweedFS), so driver and executors share no disk: every Delta file goes through S3.
"""

import json
import os
import subprocess
import sys
import urllib.request
from datetime import datetime
from pathlib import Path

import pyspark
import pytest

from ingest.emulator import generate
from pinlake.settings import Settings, get_settings
from pinlake.supervisor import Service, Supervisor
from tests.bronze_rows import append_bronze, from_events
from tests.conftest import free_port, make_settings, processes_of, s3a_for
from tests.integration.compare import assert_gold, assert_oracle_agrees, gold_of_events, published_gold

pytestmark = [pytest.mark.integration, pytest.mark.cluster]
SPARK_CLASS = str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def _alive_workers(web_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=2) as response:
            return sum(w["state"] == "ALIVE" for w in json.load(response)["workers"])
    except OSError:
        return -1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A standalone master and one worker (2 cores) on loopback; yields the master URL."""
    settings = make_settings(tmp_path_factory.mktemp("spark-cluster"))
    port, web, worker_web = free_port(), free_port(), free_port()
    master = Service(
        name="spark-master",
        command=lambda s: [SPARK_CLASS, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                           "--port", str(port), "--webui-port", str(web)],
        address=lambda s: f"spark://127.0.0.1:{port}",
        healthy=lambda s: _alive_workers(web) >= 0,
    )
    worker = Service(
        name="spark-worker",
        command=lambda s: [SPARK_CLASS, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                           "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", str(worker_web),
                           "--work-dir", str(s.data_root / "spark-work")],
        address=lambda s: "127.0.0.1",
        healthy=lambda s: _alive_workers(web) == 1,
    )
    supervisor = Supervisor(settings, [master, worker])
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # master, worker, driver and executors talk on loopback only
    try:
        supervisor.up()
        yield f"spark://127.0.0.1:{port}"
    finally:
        supervisor.down()
    assert processes_of(settings.data_root) == []


def _run_on_cluster(lake: Settings, run_id: str) -> None:
    env = {**os.environ, **lake.child_env(), "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    for layer in ("silver", "gold"):
        done = subprocess.run([sys.executable, "-m", f"lakehouse.{layer}.job", f"{run_id}-{layer}"], env=env,
                              capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, f"{layer} on {lake.spark_master} failed:\n{done.stderr[-3000:]}"


def test_cluster_publishes_the_gold_that_local_mode_does(spark, cluster, object_store, tmp_path, monkeypatch,
                                                          request):
    events = list(generate(120, seed=11))
    on_cluster = Settings(_env_file=None, data_root=tmp_path / "cluster", spark_master=cluster,
                          lakehouse_root=f"s3://{object_store.bucket}/cluster",
                          objectstore_port=object_store.objectstore_port)
    for key, value in on_cluster.child_env().items():  # this process reads the tables there too
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    s3a_for(spark, on_cluster)
    append_bronze(spark, on_cluster.lakehouse, from_events(events, datetime(2024, 5, 1, 8, 0)))

    _run_on_cluster(on_cluster, "it-cluster")  # the jobs' own entry points, as the DAG submits them

    # The reference is the oracle (the contract written again, tests/oracle.py): from the events
    # sent, and from the bronze rows the cluster read (silver with provenance, quarantine, gold).
    assert_gold(published_gold(on_cluster.lakehouse), gold_of_events(events))
    assert_oracle_agrees(on_cluster.lakehouse)
    assert not list(tmp_path.rglob("_delta_log")) and not list(tmp_path.rglob("*.parquet"))
