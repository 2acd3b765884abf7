"""Silver and gold over real bronze Delta tables: incremental, idempotent, latest version wins.

Bronze rows come from the project's emulator (dirty values, duplicates, new versions), numbered
as Kafka would number them, plus hand-made late and newer versions. Silver, the quarantine
and every gold table are compared with the oracle (tests/oracle.py), the contract written again.
"""

import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta

import duckdb
import pytest

from ingest.emulator import generate
from lakehouse import tables
from lakehouse.audit import bronze_to_silver, silver_sources
from lakehouse.gold import job as gold_job
from lakehouse.gold.tables import gold_tables
from lakehouse.silver import job as silver_job
from pinlake.settings import TOPICS, Settings
from tests.bronze_rows import append_bronze, from_events, next_offsets
from tests.integration.compare import assert_oracle_agrees, published_gold

pytestmark = pytest.mark.integration

SILVER = ("silver.pins", "silver.geo", "silver.users", "silver.quarantine", "silver.progress")
START = datetime(2024, 3, 1, 9, 0, 0)


def assert_invariant(spark, settings: Settings) -> list[dict]:
    """The audit's bronze -> silver check finds no gap and nothing pending, per topic."""
    reports = []
    for topic in TOPICS.values():
        counts, gaps = bronze_to_silver(duckdb.connect(), silver_sources(settings.lakehouse, topic), topic)
        assert gaps == [] and counts["pending_rows"] == 0, (topic, counts, gaps)
        assert counts["bronze_rows"] == counts["accepted_rows"] + counts["quarantine_rows"], counts
        reports.append(counts)
    return reports


def silver_versions(root: str) -> dict[str, int]:
    return {name: tables.version(name, root) for name in SILVER}


def silver_rows(root: str) -> tuple[dict, dict, dict]:
    """silver.pins by unique_id, silver.geo and silver.users by ind."""
    return ({r["unique_id"]: r for r in tables.arrow("silver.pins", root).to_pylist()},
            {r["ind"]: r for r in tables.arrow("silver.geo", root).to_pylist()},
            {r["ind"]: r for r in tables.arrow("silver.users", root).to_pylist()})


def silver_contents(root: str) -> dict[str, list[str]]:
    """silver.pins/geo/users and the quarantine, every row (provenance and times included), sorted."""
    return {name: sorted(map(repr, tables.arrow(name, root).to_pylist())) for name in SILVER[:4]}


def versions_of(kind: str, record: dict, **changes) -> dict:
    return {"type": kind, "record": {**record, **changes}}


@pytest.fixture
def lake(tmp_path) -> Settings:
    return Settings(data_root=tmp_path / "data", spark_master="local[2]")


def gold_run(spark, lake, run_id: str, caplog) -> str:
    """One gold run; how it ran: "incremental" (from the change feed) or "full"."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="lakehouse"):
        gold_job.run(spark, lake, run_id)
    assert "queries interpreted" in caplog.text  # a small run (lakehouse.spark.sized_for)
    return "incremental" if "gold: incremental" in caplog.text else "full"


def assert_full_run_agrees(spark, lake, run_id: str) -> None:
    """A full run (every state from all of silver) publishes the tables the increments gave."""
    incremental = published_gold(lake.lakehouse)
    gold_job.run(spark, lake, run_id, force=True, full=True)
    assert published_gold(lake.lakehouse) == incremental


def test_incremental_idempotent_latest_version_wins(spark, lake, caplog):
    root = lake.lakehouse
    first = list(generate(40, seed=7))
    batch1 = from_events(first, START)
    append_bronze(spark, root, batch1)
    assert not silver_job.up_to_date(lake)

    # run 1: everything is new
    with caplog.at_level(logging.INFO, logger="lakehouse"):
        summaries = silver_job.run(spark, lake, "it-run-1")
    assert "queries interpreted" in caplog.text  # a small run (lakehouse.spark.sized_for)
    assert {s["topic"]: s["rows"] for s in summaries} == {
        f"pinterest.{k}": len(v) for k, v in batch1.items()}
    reports = assert_invariant(spark, lake)
    assert sum(r["quarantine_rows"] for r in reports) > 0, "the emulator's dirty values reach quarantine"
    assert gold_run(spark, lake, "it-run-1", caplog) == "full"  # no state yet
    assert_oracle_agrees(root)

    # run 2 on the same input: nothing new, no commit anywhere in silver, same gold
    assert silver_job.up_to_date(lake) and gold_job.up_to_date(root)
    # the jobs' entry points and `pinlake silver`/`pinlake gold` return before they start Spark
    for command in (["lakehouse.silver.job", "it-run-2"], ["lakehouse.gold.job", "it-run-2"],
                    ["pinlake.cli", "silver"], ["pinlake.cli", "gold"]):
        done = subprocess.run([sys.executable, "-m", *command], capture_output=True,
                              text=True, timeout=300, env={**os.environ, **lake.child_env()})
        assert done.returncode == 0 and "up to date" in done.stdout and silver_job.NOT_STARTED in done.stdout, \
            done.stdout + done.stderr[-3000:]
    before, gold_before = silver_versions(root), published_gold(root)
    assert silver_job.run(spark, lake, "it-run-2") == []
    assert silver_versions(root) == before
    gold_versions = {spec.name: tables.version(spec.name, root) for spec in gold_tables()}
    assert gold_job.run(spark, lake, "it-run-2") is None  # built from these silver versions already
    assert {spec.name: tables.version(spec.name, root) for spec in gold_tables()} == gold_versions
    assert published_gold(root) == gold_before
    assert gold_job.run(spark, lake, "it-run-2-forced", force=True) is not None  # --force rebuilds anyway
    assert published_gold(root) == gold_before

    # run 3: new postings, plus newer and late older versions of entities silver holds
    pins, geo, users = silver_rows(root)
    # the accepted record behind a silver row, found by its provenance
    record = {row[0]: json.loads(row[3]) for rows in batch1.values() for row in rows}
    pin_a, pin_b = (record[row["event_id"]] for row in list(pins.values())[:2])
    geo_a = record[next(iter(geo.values()))["event_id"]]
    user_a = record[next(iter(users.values()))["event_id"]]
    newer = [versions_of("pin", pin_a, title="newer title"), versions_of("geo", geo_a, country="Newland"),
             versions_of("user", user_a, first_name="Newer", last_name=None)]
    older = [versions_of("pin", pin_b, title="late stale title"), versions_of("geo", geo_a, country="Oldland"),
             versions_of("user", user_a, first_name="Stale")]
    offsets = next_offsets(batch1)
    later = from_events([*generate(30, seed=8, start=40), *newer], START + timedelta(hours=1), offsets)
    stale = from_events(older, START - timedelta(days=1), next_offsets(later, offsets))
    batch2 = {k: later[k] + stale[k] for k in later}
    append_bronze(spark, root, batch2)
    assert not silver_job.up_to_date(lake)

    summaries = silver_job.run(spark, lake, "it-run-3")
    assert silver_job.up_to_date(lake) and not gold_job.up_to_date(root)  # silver changed
    assert {s["topic"]: s["rows"] for s in summaries} == {f"pinterest.{k}": len(v) for k, v in batch2.items()}
    assert_invariant(spark, lake)
    pins_after, geo_after, users_after = silver_rows(root)
    key_a, key_b = (p["unique_id"].strip().lower() for p in (pin_a, pin_b))
    assert pins_after[key_a]["title"] == "newer title"
    assert pins_after[key_b] == pins[key_b], "a late, older version overwrote a newer one"
    assert geo_after[geo_a["ind"]]["country"] == "Newland"
    assert users_after[user_a["ind"]]["user_name"] == "Newer"
    assert gold_run(spark, lake, "it-run-3", caplog) == "incremental"  # newer and late versions retracted
    assert_oracle_agrees(root)

    progress = tables.arrow("silver.progress", root).to_pylist()
    assert {r["run_id"] for r in progress} == {"it-run-1", "it-run-3"}

    # `pinlake silver --full-refresh` rebuilds silver and the quarantine from all of bronze under
    # the same rules: the tables the incremental history gave, each replaced in a commit of its own
    incremental, versions = silver_contents(root), silver_versions(root)
    done = subprocess.run([sys.executable, "-m", "pinlake.cli", "silver", "--full-refresh", "--json",
                           "--run-id", "it-refresh"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **lake.child_env()})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert {s["topic"]: s["rows"] for s in json.loads(done.stdout)["topics"]} == \
        {f"pinterest.{k}": len(batch1[k]) + len(batch2[k]) for k in batch1}
    assert silver_contents(root) == incremental
    assert all(silver_versions(root)[name] > versions[name] for name in SILVER)
    assert {r["run_id"] for r in tables.arrow("silver.progress", root).to_pylist()} == {"it-refresh"}
    assert_invariant(spark, lake)
    assert silver_job.up_to_date(lake) and not gold_job.up_to_date(root)  # gold follows the new versions
    assert gold_run(spark, lake, "it-refresh", caplog) == "incremental"
    assert_oracle_agrees(root)
    # after every increment (the first full run, new, newer and late versions, a full refresh of
    # silver), a full run from all of silver publishes the very tables the increments gave
    assert_full_run_agrees(spark, lake, "it-refresh-full")


def test_a_critical_quality_failure_publishes_nothing(spark, lake):
    from lakehouse.silver import geo
    from quality.gate import QualityGateFailed

    root = lake.lakehouse
    append_bronze(spark, root, from_events(list(generate(5, seed=3)), START))
    # a row that breaks silver.geo's range expectation is already in the table
    bad = {"ind": 10**6, "event_time": START, "latitude": 200.0, "longitude": 0.0, "country": "X",
           "event_id": "bad", "received_at": START, "source_partition": 0, "source_offset": 0,
           "kafka_timestamp": START}
    tables.append(spark.createDataFrame([tuple(bad[c] for c in geo.COLUMNS)], geo.GEO_SCHEMA), geo.GEO.name, root)

    with pytest.raises(QualityGateFailed, match="latitude"):
        silver_job.run(spark, lake, "it-bad")
    for name in ("silver.pins", "silver.users", "silver.quarantine", "silver.progress"):
        assert not tables.exists(name, root), f"{name} was written although the gate failed"
    assert tables.version(geo.GEO.name, root) == 0
