"""Lineage's pure parts: events, facets, stored rows and the graph; the transport on a real Delta table."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from openlineage.client.serde import Serde

from lakehouse import catalog
from lakehouse.lineage import datasets, graph, runs, store
from pinlake.settings import Settings
from quality.results import ExpectationOutcome

pytestmark = pytest.mark.unit

ROOT = "/data/lakehouse"


def as_json(event) -> dict:
    return json.loads(Serde.to_json(event))


def test_a_table_is_named_by_its_location_with_its_lakehouse_name_as_symlink():
    assert datasets.location("silver.pins", ROOT) == ("file", "/data/lakehouse/silver/pins")
    assert datasets.location("gold.x", "s3://bucket/lake") == ("s3://bucket", "lake/gold/x")
    entry = as_json(datasets.input_dataset("bronze.pin_events", ROOT, 4))
    assert (entry["namespace"], entry["name"]) == ("file", "/data/lakehouse/bronze/pin_events")
    assert store.table_name(entry) == "bronze.pin_events"
    assert entry["facets"]["version"]["datasetVersion"] == "4"
    assert [f["name"] for f in entry["facets"]["schema"]["fields"]] == catalog.table("bronze.pin_events").columns


def test_silver_columns_come_from_the_bronze_value_or_its_kafka_coordinates():
    sources = datasets.column_sources(catalog.table("silver.pins"))
    assert sources["source_offset"] == [("bronze.pin_events", "offset", "IDENTITY")]
    assert sources["title"] == [("bronze.pin_events", "value", "TRANSFORMATION")]
    assert set(sources) == set(catalog.table("silver.pins").columns)
    quarantine = datasets.column_sources(catalog.table("silver.quarantine"))
    assert {table for table, _, _ in quarantine["raw"]} == {"bronze.pin_events", "bronze.geo_events",
                                                           "bronze.user_events"}
    assert datasets.column_sources(catalog.table("silver.progress")) == {}


@pytest.mark.parametrize("spec", catalog.layer("gold"), ids=lambda spec: spec.name)
def test_every_gold_column_comes_from_the_silver_tables_the_spec_names(spec):
    sources = datasets.column_sources(spec)
    assert set(sources) == set(spec.columns)  # every column's origin is known
    silver = {catalog.table(name) for name in spec.inputs}
    for column, inputs in sources.items():
        for table, source, how in inputs:
            assert table in spec.inputs and source in catalog.table(table).columns, (column, table, source)
            assert how in ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
    assert silver


def test_the_gates_outcomes_become_data_quality_assertions():
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    outcomes = [ExpectationOutcome("r", "silver.pins", "s", "keys unique", "critical", True, 10, 0, None, at),
                ExpectationOutcome("r", "silver.pins", "s", "image_src is a URL", "warning", False, 10, 2,
                                   "unexpected e.g. [\"x\"]", at)]
    facet = json.loads(Serde.to_json(datasets.quality_facet(outcomes)))
    assert [(a["assertion"], a["success"], a["severity"]) for a in facet["assertions"]] == [
        ("keys unique", True, "critical"), ("image_src is a URL", False, "warning")]
    assert datasets.quality_facet([]) is None
    written = as_json(datasets.output_dataset("silver.pins", ROOT, 7, outcomes))
    assert len(written["facets"]["dataQualityAssertions"]["assertions"]) == 2
    assert written["facets"]["columnLineage"]["fields"]["ind"]["inputFields"][0]["field"] == "value"


def test_a_parent_id_of_the_provider_becomes_a_parent_run_facet():
    task, dag = str(uuid.uuid4()), str(uuid.uuid4())
    facet = json.loads(Serde.to_json(runs.parse_parent(f"pinlake/medallion.silver/{task}", f"pinlake/medallion/{dag}")))
    assert (facet["job"]["namespace"], facet["job"]["name"]) == ("pinlake", "medallion.silver")
    assert facet["run"]["runId"] == task
    assert (facet["root"]["job"]["name"], facet["root"]["run"]["runId"]) == ("medallion", dag)
    assert runs.parse_parent(None) is None
    with pytest.raises(ValueError):
        runs.parse_parent("pinlake/medallion.silver/not-a-uuid")


def event(state, job: str, inputs: list, outputs: list, parent: str | None = None, at: datetime | None = None,
          run_id: str | None = None) -> dict:
    """A stored row for an event of `job` reading and writing tables (name -> version)."""
    built = runs.run_event(state, job, run_id or str(uuid.uuid4()),
                           [datasets.input_dataset(n, ROOT, v) for n, v in inputs],
                           [datasets.output_dataset(n, ROOT, v) for n, v in outputs],
                           parent=runs.parse_parent(parent))
    payload = as_json(built)
    if at is not None:
        payload["eventTime"] = at.isoformat()
    return store.event_row(payload)


def test_a_stored_row_names_the_job_its_parent_and_its_tables_with_versions():
    parent_run = str(uuid.uuid4())
    row = event(runs.RunState.COMPLETE, "lakehouse.silver.job", [("bronze.pin_events", 3)], [("silver.pins", 5)],
                parent=f"pinlake/medallion.silver/{parent_run}")
    assert (row["event_type"], row["job_namespace"], row["job_name"]) == ("COMPLETE", "pinlake", "lakehouse.silver.job")
    assert (row["parent_job_name"], row["parent_run_id"]) == ("medallion.silver", parent_run)
    assert [(d["table"], d["version"]) for d in row["inputs"]] == [("bronze.pin_events", "3")]
    assert [(d["table"], d["version"]) for d in row["outputs"]] == [("silver.pins", "5")]
    assert json.loads(row["event"])["job"]["name"] == "lakehouse.silver.job"
    assert store.event_row({"eventTime": "2026-01-01T00:00:00Z", "dataset": {}}) is None  # no run: no row


def test_the_graph_runs_bronze_silver_job_silver_gold_job_gold():
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    gold = catalog.layer("gold")[0].name
    rows = [
        event(runs.RunState.START, "lakehouse.silver.job", [("bronze.pin_events", 1)], [], at=t0),
        event(runs.RunState.COMPLETE, "lakehouse.silver.job", [("bronze.pin_events", 1)], [("silver.pins", 2)],
              at=t0 + timedelta(seconds=1)),
        event(runs.RunState.COMPLETE, "lakehouse.gold.job", [("silver.pins", 2)], [(gold, 9)],
              at=t0 + timedelta(seconds=3)),
        event(runs.RunState.START, "lakehouse.gold.job", [("silver.pins", 2)], [], at=t0 + timedelta(seconds=4)),
        event(runs.RunState.START, "medallion", [], [], at=t0),  # a DAG run: no datasets, no node
    ]
    drawn = graph.lineage_graph(reversed(rows))
    depth = {n["id"]: n["depth"] for n in drawn["nodes"]}
    assert depth == {"bronze.pin_events": 0, "pinlake/lakehouse.silver.job": 1, "silver.pins": 2,
                     "pinlake/lakehouse.gold.job": 3, gold: 4}
    assert {(e["from"], e["to"], e["kind"], e["version"]) for e in drawn["edges"]} == {
        ("bronze.pin_events", "pinlake/lakehouse.silver.job", "read", "1"),
        ("pinlake/lakehouse.silver.job", "silver.pins", "wrote", "2"),
        ("silver.pins", "pinlake/lakehouse.gold.job", "read", "2"),
        ("pinlake/lakehouse.gold.job", gold, "wrote", "9")}
    jobs = {n["id"]: n for n in drawn["nodes"] if n["kind"] == "job"}
    assert jobs["pinlake/lakehouse.gold.job"]["state"] == "START"  # its latest event: running again
    assert {n["id"]: n["version"] for n in drawn["nodes"] if n["kind"] == "table"}[gold] == "9"
    assert graph.lineage_graph([]) == {"nodes": [], "edges": []}


def test_the_transport_openlineage_builds_from_its_config_stores_each_event(tmp_path):
    from openlineage.client import OpenLineageClient

    root = str(tmp_path / "lakehouse")
    client = OpenLineageClient(config={"transport": {"type": "lakehouse.lineage.store.DeltaTransport", "root": root}})
    assert isinstance(client.transport, store.DeltaTransport)
    run_id = str(uuid.uuid4())
    for state in (runs.RunState.START, runs.RunState.COMPLETE):
        client.emit(runs.run_event(state, "lakehouse.silver.job", run_id,
                                   [datasets.input_dataset("bronze.pin_events", root, 0)], []))
    stored = store.read_events(root)
    assert [(r["event_type"], r["run_id"]) for r in stored] == [("START", run_id), ("COMPLETE", run_id)]


def test_a_lineage_write_that_fails_is_logged_never_raised(tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    built = runs.run_event(runs.RunState.START, "j", str(uuid.uuid4()), [], [])
    assert store.write_event(built, str(blocked)) is False
    assert "not stored" in caplog.text


def test_a_job_run_emits_start_then_complete_or_fail(tmp_path):
    root = str(tmp_path / "lakehouse")

    def nothing(complete: bool) -> tuple[list, list]:
        return [datasets.input_dataset("bronze.geo_events", root, None)], []

    with runs.job_run("lakehouse.silver.job", root, nothing) as first:
        pass
    with pytest.raises(RuntimeError, match="boom"):
        with runs.job_run("lakehouse.silver.job", root, nothing) as second:
            raise RuntimeError("boom")
    stored = [(r["run_id"], r["event_type"]) for r in store.read_events(root)]
    assert stored == [(first, "START"), (first, "COMPLETE"), (second, "START"), (second, "FAIL")]
    failed = json.loads(store.read_events(root)[-1]["event"])
    assert failed["run"]["facets"]["errorMessage"]["message"] == "boom"


def test_airflow_sends_its_events_to_the_delta_transport(tmp_path):
    from orchestration.airflow_home import airflow_env, openlineage_env

    env = airflow_env(Settings(_env_file=None, data_root=tmp_path))
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "pinlake"
    assert json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"]) == {"type": "lakehouse.lineage.store.DeltaTransport"}
    assert env["AIRFLOW__OPENLINEAGE__DISABLED"] == "False"
    off = openlineage_env(Settings(_env_file=None, data_root=tmp_path, lineage_enabled=False))
    assert off["AIRFLOW__OPENLINEAGE__DISABLED"] == "True"
