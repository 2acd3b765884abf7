"""Lineage of real runs: the silver and gold jobs over real bronze Delta tables store START and
COMPLETE events in quality.lineage that name bronze -> silver -> gold with their Delta versions;
the Airflow steps report the same tables; DuckDB queries the events; the graph draws them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest

from ingest.emulator import generate
from lakehouse import catalog, tables
from lakehouse.gold import job as gold_job
from lakehouse.lineage.graph import lineage_graph
from lakehouse.lineage.store import read_events
from lakehouse.silver import job as silver_job
from pinlake.settings import Settings, get_settings
from quality.results import results_of_run
from serving.engine import Lakehouse
from tests.bronze_rows import append_bronze, from_events

pytestmark = pytest.mark.integration

BRONZE = [spec.name for spec in catalog.layer("bronze") if spec.name.endswith("_events")]
SILVER = ["silver.pins", "silver.geo", "silver.users"]


RUN = "it-lineage"


@pytest.fixture(scope="module")
def ran(spark, tmp_path_factory) -> tuple[Settings, str, str]:
    """One silver and one gold run over a small bronze, each inside its lineage run: the lake,
    the Airflow task's and the DAG run's OpenLineage run ids that silver names as its parents."""
    lake = Settings(_env_file=None, data_root=tmp_path_factory.mktemp("lineage") / "data", spark_master="local[2]")
    append_bronze(spark, lake.lakehouse, from_events(list(generate(30, seed=11)), datetime(2024, 5, 1, 8)))
    task_run, dag_run = str(uuid.uuid4()), str(uuid.uuid4())
    parent = (f"pinlake/medallion.silver/{task_run}", f"pinlake/medallion/{dag_run}")
    with silver_job.lineage_run(lake, RUN, *parent):  # as the DAG's step runs it
        silver_job.run(spark, lake, RUN)
    with gold_job.lineage_run(lake, RUN):  # as `pinlake gold` runs it: no parent
        gold_job.run(spark, lake, RUN)
    return lake, task_run, dag_run


def versions(row: dict, key: str) -> dict[str, int]:
    return {d["table"]: int(d["version"]) for d in row[key] if d["version"] is not None}


def test_silver_and_gold_runs_store_start_and_complete_from_bronze_to_gold(ran):
    lake, task_run, dag_run = ran
    root = lake.lakehouse
    events = read_events(root)
    by_job = {job: [e for e in events if e["job_name"] == job] for job in (silver_job.JOB, gold_job.JOB)}
    assert [e["event_type"] for e in by_job[silver_job.JOB]] == ["START", "COMPLETE"]
    assert [e["event_type"] for e in by_job[gold_job.JOB]] == ["START", "COMPLETE"]
    silver_done, gold_done = by_job[silver_job.JOB][-1], by_job[gold_job.JOB][-1]
    assert len({e["run_id"] for e in by_job[silver_job.JOB]}) == 1

    # silver: bronze in, at the versions it read; silver out, at the versions it wrote
    assert versions(silver_done, "inputs") == {name: tables.version(name, root) for name in BRONZE}
    written = versions(silver_done, "outputs")
    assert {name: written[name] for name in SILVER} == {name: tables.version(name, root) for name in SILVER}
    assert (silver_done["parent_job_name"], silver_done["parent_run_id"]) == ("medallion.silver", task_run)
    root_facet = json.loads(silver_done["event"])["run"]["facets"]["parent"]["root"]
    assert (root_facet["job"]["name"], root_facet["run"]["runId"]) == ("medallion", dag_run)

    # gold: the silver versions silver wrote in, every gold table out at its new version
    assert versions(gold_done, "inputs") == {name: written[name] for name in SILVER}
    assert versions(gold_done, "outputs") == {spec.name: tables.version(spec.name, root)
                                              for spec in catalog.layer("gold")}
    assert gold_done["parent_run_id"] is None

    # the written tables carry the gate's assertions of this run and their column lineage
    event = json.loads(silver_done["event"])
    pins = next(o for o in event["outputs"] if o["name"].endswith("/silver/pins"))
    gated = [o for o in results_of_run(RUN, root) if o.table == "silver.pins"]
    assert len(pins["facets"]["dataQualityAssertions"]["assertions"]) == len(gated) > 0
    assert pins["facets"]["columnLineage"]["fields"]["source_offset"]["inputFields"][0]["field"] == "offset"

    # DuckDB reads the events as any table (pinlake query)
    chain = Lakehouse(root).query(
        "SELECT job_name, event_type, list_transform(outputs, o -> o.table) AS outputs FROM quality.lineage "
        "WHERE event_type = 'COMPLETE' ORDER BY event_time").to_pylist()
    assert [r["job_name"] for r in chain] == [silver_job.JOB, gold_job.JOB]
    assert "silver.pins" in chain[0]["outputs"]

    # the graph: bronze (0) -> silver job (1) -> silver (2) -> gold job (3) -> gold (4)
    depth = {n["id"]: n["depth"] for n in lineage_graph(events)["nodes"]}
    assert {depth[name] for name in BRONZE} == {0}
    assert depth[f"pinlake/{silver_job.JOB}"] == 1 and depth["silver.pins"] == 2
    assert depth[f"pinlake/{gold_job.JOB}"] == 3
    assert {depth[spec.name] for spec in catalog.layer("gold")} == {4}


def test_the_airflow_steps_report_the_tables_they_read_and_wrote(ran, monkeypatch):
    """The medallion steps' OpenLineage facets (what Airflow's provider emits for them) name the
    same tables and versions as the jobs' own events."""
    from datetime import timedelta

    from orchestration.spark import spark_step

    lake, _, _ = ran
    root = lake.lakehouse
    for key, value in lake.child_env().items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        silver = spark_step("silver", "lakehouse.silver.job", timeout=timedelta(minutes=5))
        gold = spark_step("gold", "lakehouse.gold.job", timeout=timedelta(minutes=5))
        task = type("TaskInstance", (), {"run_id": RUN})()  # the one attribute the step reads
        started, done = silver.get_openlineage_facets_on_start(), silver.get_openlineage_facets_on_complete(task)
        gold_done = gold.get_openlineage_facets_on_complete(task)
    finally:
        get_settings.cache_clear()

    def named(entries) -> dict[str, str | None]:
        return {e.facets["symlinks"].identifiers[0].name: getattr(e.facets.get("version"), "datasetVersion", None)
                for e in entries}

    assert set(named(started.inputs)) == set(BRONZE)
    assert set(named(started.outputs)) == {spec.name for spec in catalog.layer("silver")}
    assert named(done.inputs) == {name: str(tables.version(name, root)) for name in BRONZE}
    assert {name: named(done.outputs)[name] for name in SILVER} == {n: str(tables.version(n, root)) for n in SILVER}
    assert "dataQualityAssertions" in next(o for o in done.outputs if o.name.endswith("/silver/pins")).facets
    assert named(gold_done.inputs) == {name: str(tables.version(name, root)) for name in SILVER}
    assert named(gold_done.outputs) == {spec.name: str(tables.version(spec.name, root))
                                        for spec in catalog.layer("gold")}
