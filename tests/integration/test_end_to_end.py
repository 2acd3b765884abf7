"""End to end, as `make demo` runs it, on a smaller set: API, Kafka, bronze stream, Airflow, DuckDB,
with the lakehouse on an object store.

`python -m pinlake.demo` brings the whole local stack up under a temporary data root (free
ports, manual schedules, `PINLAKE_LAKEHOUSE_ROOT=s3://pinlake/lake`: `pinlake up` starts the
local object store and every layer reads and writes its tables there, none on the disk), sends generated postings through the real API with a ledger, waits
for the bronze stream, runs the medallion DAG through Airflow's REST API, prints the gold
answers and audits. The test then checks what a user would: every service healthy, the audit
clean against the ledger, every gold table equal to the oracle's (tests/oracle.py, the contract
written again) over the events that were sent (the generator re-sends newer versions of recent
entities, so newer versions must win); one more DAG run changes nothing and starts no Spark.
Poison goes straight to Kafka, the stack is stopped and the demo runs again on the same data
root: it comes back healthy with its data and Airflow's run history, the poison is quarantined
with its reasons, the audit is clean, and silver, the quarantine and gold are the oracle's from
bronze. Nothing is left running after `pinlake down`. Hand-written newer and late versions are
tests/integration/test_golden.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from ingest.emulator import count_events, generate
from lakehouse import catalog, tables
from lakehouse.bronze.state import checkpoint_batches
from pinlake.settings import get_settings
from pinlake.supervisor import wait_until
from tests.conftest import free_block, processes_of
from tests.integration.compare import assert_gold, assert_oracle_agrees, gold_of_events, published_gold
from tests.integration.test_orchestration_maintenance import airflow_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3000)]
PINLAKE = [sys.executable, "-m", "pinlake.cli"]
POSTINGS, SEED = 150, 5


def run(args: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"{' '.join(args[2:])}: {time.monotonic() - started:.0f}s, exit {done.returncode}")
    return done


def contents(root: str) -> dict[str, list]:
    """Every silver and gold table's rows, sorted (the order of rows in files is no content)."""
    names = ("silver.pins", "silver.geo", "silver.users", "silver.quarantine",
             *(spec.name for spec in catalog.layer("gold")))
    return {name: sorted(map(repr, tables.arrow(name, root).to_pylist())) for name in names}


def clean_audit(env: dict, ledger, sent: int, unacknowledged: dict[str, int] | None = None) -> list[dict]:
    """`pinlake audit --ledger` passes: every acknowledged id in Kafka, bronze, silver + quarantine.

    Kafka holds the acknowledged events plus `unacknowledged` ones per topic (sent to it directly).
    """
    audit = run([*PINLAKE, "audit", "--ledger", str(ledger), "--json"], env, timeout=300)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    reports = json.loads(audit.stdout)
    assert sum(r["acknowledged"] for r in reports) == sent
    for r in reports:
        extra = (unacknowledged or {}).get(r["topic"], 0)
        assert r["clean"] and r["acknowledged"] + extra == r["kafka"] == r["bronze"] \
            == r["accepted"] + r["quarantined"] and r["pending"] == 0, r
    return reports


def assert_gold_from(events: list[dict], root: str) -> None:
    """Every gold table equals the oracle's over `events`, the events sent (tests/oracle.py)."""
    assert_gold(published_gold(root), gold_of_events(events))


def send_poison(settings) -> list[tuple[str, int, int]]:
    """Straight to Kafka, past the API: bytes that are not JSON, wrong types, a value near the size limit."""
    from confluent_kafka import Producer

    poison = [
        ("pinterest.pin", bytes([0xFF, 0xFE, 0x00]) + b"not JSON at all"),
        ("pinterest.geo", b'{"ind": "seven", "timestamp": 20200101, "latitude": "north", "longitude": null}'),
        ("pinterest.user", b'{"ind": -1, "age": "old", "date_joined": "yesterday"}'),
        ("pinterest.pin", b'{"index": 1, "pad": "' + b"x" * 999_000 + b'"}'),  # the broker takes up to 1 MiB
    ]
    producer = Producer({"bootstrap.servers": settings.bootstrap, "acks": "all"})
    delivered = []
    for topic, value in poison:
        producer.produce(topic, value=value, on_delivery=lambda err, msg: delivered.append(
            err or (msg.topic(), msg.partition(), msg.offset())))
    assert producer.flush(60) == 0 and all(isinstance(d, tuple) for d in delivered), delivered
    return delivered


def latest_task_log(settings, task: str) -> str:
    """The log of `task` in the medallion run that started last."""
    runs = sorted((settings.data_root / "airflow" / "logs" / "dag_id=medallion").glob("run_id=*"),
                  key=lambda run_dir: run_dir.name.split("__")[-1])
    return "".join(path.read_text() for path in sorted((runs[-1] / f"task_id={task}").glob("attempt=*.log")))


def status(env: dict) -> dict:
    return json.loads(run([*PINLAKE, "status", "--json"], env, timeout=120).stdout)["services"]


def medallion_runs(settings) -> set[str]:
    """The run ids of every medallion run Airflow knows (its REST API)."""
    from orchestration.client import AirflowClient

    with AirflowClient.from_settings(settings) as client:
        return {r["dag_run_id"] for r in client.dag_runs("medallion")}


def demo(env: dict) -> subprocess.CompletedProcess:
    """`make demo`'s command on the test's data root."""
    return run([sys.executable, "-m", "pinlake.demo", "--postings", str(POSTINGS), "--seed", str(SEED),
                "--timeout", "1800"], env, timeout=2700)


def delta_tables_on_disk(data_root: Path) -> list[Path]:
    """Delta logs under the data root, outside the object store's own files."""
    return [p for p in data_root.rglob("_delta_log") if "objectstore" not in p.relative_to(data_root).parts]


def test_demo_path_through_every_layer(tmp_path, monkeypatch):
    settings = airflow_settings(tmp_path / "var", lakehouse_root="s3://pinlake/lake", objectstore_port=free_block(8))
    for key, value in settings.child_env().items():  # this process reads the tables on the store too
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    env = {**os.environ, "COLUMNS": "200"}
    try:
        first = demo(env)
        out = first.stdout
        print("".join(line + "\n" for line in out.splitlines() if line.startswith("pinlake ")))  # step timings
        assert first.returncode == 0, out[-6000:] + first.stderr[-4000:]
        for spec in catalog.layer("gold"):
            assert spec.description in out, spec.description
        assert "nothing lost, nothing doubled" in out and "Data Docs:" in out and "pinlake down" in out

        # The stack stays up, every service healthy (a busy scheduler may miss one heartbeat).
        assert wait_until(lambda: all(s["running"] and s["healthy"] for s in status(env).values()), 180, 5.0), \
            status(env)
        assert status(env)["objectstore"]["bucket"] == "pinlake"
        # bronze's checkpoint beside the tables, where a stream on another machine would resume from it
        assert status(env)["bronze"]["checkpoint"] == "s3://pinlake/lake/_checkpoints/bronze"
        assert checkpoint_batches(settings) and not (settings.data_root / "checkpoints").exists()
        assert tables.exists("gold.category_by_country", settings.lakehouse) and not delta_tables_on_disk(settings.data_root)
        airflow = status(env)["airflow"]  # where the generated password is, never the password itself
        password = json.loads(Path(airflow["password_file"]).read_text())["admin"]
        assert "password" not in airflow and password != "admin" and len(password) >= 20
        again = run([*PINLAKE, "up"], env, timeout=300)
        assert again.returncode == 0 and "already running" in again.stdout

        # The audit against the ledger: every acknowledged id in Kafka, bronze, silver + quarantine.
        ledger = settings.data_root / "demo" / "ledger.jsonl"
        reports = clean_audit(env, ledger, count_events(POSTINGS, SEED))
        assert sum(r["quarantined"] for r in reports) > 0, "the generated set should exercise the quarantine"
        # An acknowledgement Kafka does not hold is a gap, named.
        forged = tmp_path / "forged.jsonl"
        forged.write_text(ledger.read_text() + json.dumps({"type": "geo", "event_id": "never-sent"}) + "\n")
        gap = run([*PINLAKE, "audit", "--ledger", str(forged)], env, timeout=300)
        assert gap.returncode == 1 and "pinterest.geo ledger -> kafka: 1 acknowledged event ids not in Kafka " \
            "(never-sent)" in gap.stdout, gap.stdout + gap.stderr

        # The DAG's Spark steps ran on the warm job server that `pinlake up` started: no spark-submit.
        for step in ("silver", "gold"):
            log = latest_task_log(settings, step)
            assert "on the Spark job server" in log and "Spark-Submit cmd" not in log, log[-3000:]

        # Gold equals the oracle's (the contract written again) over the events the demo sent.
        sent = list(generate(POSTINGS, SEED))
        assert_gold_from(sent, settings.lakehouse)

        # The silver and gold steps recorded an asset event per table; the gold ones triggered the
        # one publish run (which `pinlake run --wait` followed); publish wrote the Data Docs and
        # the DuckDB file; the gates recorded Airflow's run id.
        from orchestration.client import AirflowClient

        with AirflowClient.from_settings(settings) as client:
            [first_run] = client.dag_runs("medallion")
            events = client.asset_events("medallion", first_run["dag_run_id"])
            [published] = client.dag_runs("publish")
        assert sorted(e["name"] for e in events) == sorted(s.name for s in (*catalog.layer("silver"),
                                                                             *catalog.layer("gold")))
        assert published["run_type"] == "asset_triggered" and published["state"] == "success", published
        for event in events:
            created = {(r["dag_id"], r["run_id"]) for r in event["created_dagruns"]}
            assert created == ({("publish", published["dag_run_id"])} if event["name"].startswith("gold.") else set())
        assert f"publish run {published['dag_run_id']} succeeded" in out
        assert (settings.data_root / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
                ).is_file()
        assert (settings.data_root / "serving" / "pinlake.duckdb").is_file()
        run_ids = {r["run_id"] for r in tables.arrow("quality.results", settings.lakehouse).select(["run_id"]).to_pylist()}
        assert run_ids and all(r.startswith("manual__") for r in run_ids), run_ids
        assert_lineage_of_the_run(settings.lakehouse)

        # Triggering the DAG again over the same bronze changes no silver or gold row, and its
        # Spark steps see from the Delta logs that there is nothing to do (no spark-submit).
        root = settings.lakehouse
        before = contents(root)
        rerun = run([*PINLAKE, "run", "--wait", "--timeout", "1800"], env, timeout=2000)
        assert rerun.returncode == 0 and "succeeded" in rerun.stdout, rerun.stdout + rerun.stderr
        assert "gold skipped: nothing new to publish" in rerun.stdout, rerun.stdout
        assert contents(root) == before
        for step in ("silver", "gold"):
            log = latest_task_log(settings, step)
            assert "up to date, nothing to do: spark-submit not run" in log and "Spark-Submit cmd" not in log, log[-3000:]
        # The same log through the REST API, as `pinlake run` shows a failed task's; with nothing
        # to do, both steps ended skipped, recorded no asset event and so triggered no publish run.
        with AirflowClient.from_settings(settings) as client:
            latest = max(client.dag_runs("medallion"), key=lambda r: r["run_after"])
            api_log = "\n".join(client.task_log("medallion", latest["dag_run_id"], "silver", 1))
            states = {ti["task_id"]: ti["state"] for ti in client.task_instances("medallion", latest["dag_run_id"])}
            assert client.asset_events("medallion", latest["dag_run_id"]) == []
            assert [r["dag_run_id"] for r in client.dag_runs("publish")] == [published["dag_run_id"]]
        assert states == {"silver": "skipped", "gold": "skipped"}, states
        assert "up to date, nothing to do: spark-submit not run" in api_log, api_log[-3000:]
        # The dashboard's pipeline panel lists the same runs, newest first, and bronze's lag.
        from ingest.service import api_url

        pipeline = httpx.get(f"{api_url(settings)}/dashboard/pipeline", timeout=60).json()
        assert pipeline["airflow"]["error"] is None, pipeline
        assert pipeline["airflow"]["runs"][0]["dag_run_id"] == latest["dag_run_id"]
        assert pipeline["airflow"]["runs"][0]["state"] == "success"
        assert all(isinstance(t["lag"], int) for t in pipeline["bronze"]["topics"].values()), pipeline
        # Airflow's own metrics, through the StatsD exporter `pinlake up` started.
        from orchestration.metrics import metrics_url
        from tests.prometheus import scrape

        airflow_metrics = scrape(metrics_url(settings))
        assert any(s.name == "airflow_scheduler_heartbeat_total" and s.value > 0 for s in airflow_metrics)
        of_medallion = {s.name for s in airflow_metrics if s.labels.get("dag_id") == "medallion"}
        assert of_medallion, sorted({s.name for s in airflow_metrics})  # e.g. its runs' durations

        # Poison straight to Kafka, past the API; the next DAG run (the second demo's) takes it.
        poison = send_poison(settings)

        # Stopped, then the demo again on the same data root (`make demo` twice in a row): the stack
        # comes back healthy with its data and its run history, and takes the same postings again.
        history = medallion_runs(settings)
        stopped = run([*PINLAKE, "down"], env, timeout=300)
        assert stopped.returncode == 0 and processes_of(settings.data_root) == [], stopped.stdout + stopped.stderr
        # Airflow shut down by itself (standalone stopped each component and waited), not SIGKILLed.
        airflow_log = (settings.log_dir / "airflow.log").read_text()
        assert airflow_log.rstrip().endswith("standalone | Complete"), airflow_log[-3000:]
        second = demo(env)
        assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-4000:]
        assert "nothing lost, nothing doubled" in second.stdout
        assert history < medallion_runs(settings)
        assert wait_until(lambda: all(s["running"] and s["healthy"] for s in status(env).values()), 180, 5.0), \
            status(env)
        assert_gold_from([*sent, *sent], root)
        assert_oracle_agrees(root)
        # The poison is quarantined, each message with its reasons, and the DAG run succeeded.
        quarantine = {(r["source_topic"], r["source_partition"], r["source_offset"]): r["reasons"]
                      for r in tables.arrow("silver.quarantine", root).to_pylist()}
        for where in poison:
            assert quarantine.get(where), f"poison at {where} not quarantined with reasons"
        print("poison quarantined: " + "; ".join(f"{t}: {quarantine[(t, p, o)]}" for t, p, o in poison))
        # The demo starts a new ledger: Kafka also holds the first demo's events and the poison.
        first_round = Counter({r["topic"]: r["acknowledged"] for r in reports})
        clean_audit(env, ledger, count_events(POSTINGS, SEED),
                    unacknowledged=first_round + Counter(topic for topic, _, _ in poison))
        assert not delta_tables_on_disk(settings.data_root)
    finally:
        down = run([*PINLAKE, "down"], env, timeout=300)
        get_settings.cache_clear()
    assert down.returncode == 0, down.stdout + down.stderr
    assert processes_of(settings.data_root) == []
    assert not any(s["running"] for s in status(env).values())


def assert_lineage_of_the_run(root: str) -> None:
    """quality.lineage holds the medallion run's events: each job's START and COMPLETE under its
    Airflow task's run, bronze -> silver -> gold, and Airflow's own COMPLETE of each step."""
    from lakehouse.lineage.store import read_events

    events = read_events(root)
    silver_tables = {spec.name for spec in catalog.layer("silver")}
    gold_tables = {spec.name for spec in catalog.layer("gold")}
    for job, task, reads, writes in (("lakehouse.silver.job", "medallion.silver", "bronze.", silver_tables),
                                     ("lakehouse.gold.job", "medallion.gold", "silver.", gold_tables)):
        mine = [e for e in events if e["job_name"] == job and e["parent_job_name"] == task]
        seen = [(e["job_name"], e["event_type"]) for e in events]
        assert {e["event_type"] for e in mine} >= {"START", "COMPLETE"}, seen
        done = next(e for e in mine if e["event_type"] == "COMPLETE")
        assert done["inputs"] and all(d["table"].startswith(reads) and d["version"] for d in done["inputs"]), done
        assert {d["table"] for d in done["outputs"]} >= writes - {"silver.quarantine"}, done
        steps = [e for e in events if e["job_name"] == task and e["event_type"] == "COMPLETE"]
        assert any(d["table"] in writes for e in steps for d in e["outputs"]), [e["job_name"] for e in events]
