"""End to end, as `make demo` runs it, on a smaller set: API, Kafka, bronze stream, Airflow, DuckDB.

`python -m pinlake.demo` brings the whole local stack up under a temporary data root (free
ports, manual schedules), sends generated postings through the real API with a ledger, waits
for the bronze stream, runs the medallion DAG through Airflow's REST API, prints the gold
answers and audits. The test then checks what a user would: every service healthy, the audit
clean against the ledger, every gold table equal to an independent DuckDB computation over
the events that were sent, two more DAG runs changing nothing, and nothing left running
after `pinlake down`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ingest.emulator import count_events, generate
from pinlake.demo import QUESTIONS
from pinlake.supervisor import wait_until
from tests.conftest import processes_of
from tests.integration.silver_gold_duckdb import arrow, gold_from_events, published_gold, same_rows
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
    names = ("silver.pins", "silver.geo", "silver.users", "silver.quarantine", *QUESTIONS)
    return {name: sorted(map(repr, arrow(root, name).to_pylist())) for name in names}


def status(env: dict) -> dict:
    return json.loads(run([*PINLAKE, "status", "--json"], env, timeout=120).stdout)["services"]


def test_demo_path_through_every_layer(tmp_path):
    settings = airflow_settings(tmp_path / "var")
    env = {**os.environ, **settings.child_env(), "COLUMNS": "200"}
    try:
        demo = run([sys.executable, "-m", "pinlake.demo", "--postings", str(POSTINGS), "--seed", str(SEED),
                    "--timeout", "1800"], env, timeout=2700)
        out = demo.stdout
        assert demo.returncode == 0, out[-6000:] + demo.stderr[-4000:]
        for question in QUESTIONS.values():
            assert question in out, question
        assert "nothing lost, nothing doubled" in out and "Data Docs:" in out and "pinlake down" in out

        # The stack stays up, every service healthy (a busy scheduler may miss one heartbeat).
        assert wait_until(lambda: all(s["running"] and s["healthy"] for s in status(env).values()), 180, 5.0), \
            status(env)
        airflow = status(env)["airflow"]
        assert airflow["password"] and airflow["password"] != "admin" and len(airflow["password"]) >= 20
        again = run([*PINLAKE, "up"], env, timeout=300)
        assert again.returncode == 0 and "already running" in again.stdout

        # The audit against the ledger: every acknowledged id in Kafka, bronze, silver + quarantine.
        ledger = settings.data_root / "demo" / "ledger.jsonl"
        audit = run([*PINLAKE, "audit", "--ledger", str(ledger), "--json"], env, timeout=300)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        reports = json.loads(audit.stdout)
        assert sum(r["acknowledged"] for r in reports) == count_events(POSTINGS, SEED)
        for r in reports:
            assert r["clean"] and r["acknowledged"] == r["kafka"] == r["bronze"] \
                == r["accepted"] + r["quarantined"] and r["pending"] == 0, r
        assert sum(r["quarantined"] for r in reports) > 0, "the generated set should exercise the quarantine"
        # An acknowledgement Kafka does not hold is a gap, named.
        forged = tmp_path / "forged.jsonl"
        forged.write_text(ledger.read_text() + json.dumps({"type": "geo", "event_id": "never-sent"}) + "\n")
        gap = run([*PINLAKE, "audit", "--ledger", str(forged)], env, timeout=300)
        assert gap.returncode == 1 and "pinterest.geo ledger -> kafka: 1 acknowledged event ids not in Kafka " \
            "(never-sent)" in gap.stdout, gap.stdout + gap.stderr

        # Gold equals DuckDB's own computation over the events the demo sent.
        want, got = gold_from_events(generate(POSTINGS, SEED)), published_gold(settings.lakehouse)
        for table in want:
            assert want[table], f"{table}: the generated set should reach every gold table"
            assert same_rows(got[table], want[table]), f"{table}:\nspark  {got[table]}\nduckdb {want[table]}"

        # publish wrote the Data Docs and the DuckDB file; the gates recorded Airflow's run id
        assert (settings.data_root / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
                ).is_file()
        assert (settings.data_root / "serving" / "pinlake.duckdb").is_file()
        run_ids = {r["run_id"] for r in arrow(settings.lakehouse, "quality.results").select(["run_id"]).to_pylist()}
        assert run_ids and all(r.startswith("manual__") for r in run_ids), run_ids

        # Triggering the DAG twice more over the same bronze changes no silver or gold row.
        before = contents(settings.lakehouse)
        for _ in range(2):
            rerun = run([*PINLAKE, "run", "--wait", "--timeout", "1800"], env, timeout=2000)
            assert rerun.returncode == 0 and "succeeded" in rerun.stdout, rerun.stdout + rerun.stderr
        assert contents(settings.lakehouse) == before
    finally:
        down = run([*PINLAKE, "down"], env, timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    assert processes_of(settings.data_root) == []
    assert not any(s["running"] for s in status(env).values())
