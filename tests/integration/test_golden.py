"""Golden cases through the real stack: hand-written events in, hand-written silver, quarantine and gold out.

tests/golden/ holds the input (run1.jsonl and run2.jsonl through the API, kafka.jsonl straight to
Kafka: poison, and a late version older than the one silver holds) and the expected rows, small
enough to check by eye: every reason code, the range and age-group boundaries, ties, even-count
medians, time zones, a newer version and a late older one, and contract v2's joins (a pin whose
user is quarantined still counts for its country; one whose geo is quarantined for its age group).
The stack is a real broker and API and `pinlake emit`; bronze's catch-up run (the query `pinlake
bronze --once` starts, a command of its own in tests/integration/test_bronze_stream.py) and the
silver job run twice in the tests' warm Spark session, then `pinlake gold` as a user runs it. The
independent oracle (tests/oracle.py) must agree too, and `pinlake audit` must name rows of
silver deleted or rewritten behind the pipeline's back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakehouse import catalog, tables
from pinlake.kafka import KAFKA
from pinlake.supervisor import Supervisor
from tests.conftest import make_settings, processes_of
from tests.integration.bronze_helpers import env_of, produce
from tests.integration.compare import PROVENANCE, assert_oracle_agrees, ordered, published_gold, rows

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
PINLAKE = [sys.executable, "-m", "pinlake.cli"]


def lines(name: str) -> list[dict]:
    """The JSON lines of a golden file."""
    return [json.loads(line) for line in (GOLDEN / name).read_text().splitlines() if line.strip()]


def pinlake(settings, *args: str, ok: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    """`pinlake <args>` as a user runs it; by default it must succeed."""
    started = time.monotonic()
    done = subprocess.run([*PINLAKE, *args], env=env_of(settings), capture_output=True, text=True, timeout=timeout)
    print(f"pinlake {' '.join(args)}: {time.monotonic() - started:.0f}s, exit {done.returncode}")
    if ok:
        assert done.returncode == 0, f"pinlake {args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def straight_to_kafka(settings, run: int) -> None:
    """kafka.jsonl's messages of one run, produced past the API (a late one with an old timestamp)."""
    now = int(time.time() * 1000)
    produce(settings, [(m["topic"], None, m["key"].encode(), m["value"].encode(), [],
                        now - m.get("age_days", 0) * 86_400_000) for m in lines("kafka.jsonl") if m["run"] == run])


def promote(spark, settings, run: int) -> None:
    """Bronze catches up (the query of `pinlake bronze --once`), then the silver job runs."""
    from lakehouse.bronze import job as bronze_job
    from lakehouse.silver import job as silver_job

    started = time.monotonic()
    bronze_job.ensure_tables(spark, settings)
    query = bronze_job.start(spark, settings, once=True)
    query.awaitTermination()
    assert query.exception() is None, query.exception()
    summaries = silver_job.run(spark, settings, f"golden-{run}")
    print(f"run {run}: bronze caught up and silver ran ({sum(s['rows'] for s in summaries)} new bronze rows) "
          f"in {time.monotonic() - started:.0f}s")


@pytest.fixture(scope="module")
def golden(tmp_path_factory, spark):
    """A broker and an API; the golden events sent in two runs, each promoted to gold."""
    from ingest.service import API

    settings = make_settings(tmp_path_factory.mktemp("golden") / "var", spark_master="local[2]",
                             spark_shuffle_partitions=2)
    supervisor = Supervisor(settings, [KAFKA, API])
    supervisor.up()
    ledger = settings.data_root / "ledger.jsonl"
    try:
        pinlake(settings, "emit", "--file", str(GOLDEN / "run1.jsonl"), "--batch-size", "50", "--ledger", str(ledger))
        straight_to_kafka(settings, run=1)
        promote(spark, settings, run=1)
        pinlake(settings, "emit", "--file", str(GOLDEN / "run2.jsonl"), "--ledger", str(ledger))
        straight_to_kafka(settings, run=2)
        promote(spark, settings, run=2)  # the late, older version reaches silver in a later run than the newer one
        built = json.loads(pinlake(settings, "gold", "--json", "--run-id", "golden-2").stdout)
        assert built["rebuilt"] and set(built["tables"]) == {spec.name for spec in catalog.layer("gold")}, built
        yield settings, ledger
    finally:
        supervisor.down()
    assert not processes_of(settings.data_root), "a process outlived the golden stack"


@pytest.mark.parametrize("table, expected", [("silver.pins", "silver_pins.jsonl"), ("silver.geo", "silver_geo.jsonl"),
                                             ("silver.users", "silver_users.jsonl")])
def test_silver_is_the_hand_written_one(golden, table, expected):
    settings, _ = golden
    assert rows(settings.lakehouse, table, drop=PROVENANCE) == ordered(lines(expected))


def test_the_quarantine_is_the_hand_written_one(golden):
    settings, _ = golden
    want = [{"source_topic": q["source_topic"], "reasons": q["reasons"],
             "raw": q.get("raw", json.dumps(q.get("record"), ensure_ascii=False))} for q in lines("quarantine.jsonl")]
    got = [{k: r[k] for k in ("source_topic", "reasons", "raw")} for r in rows(settings.lakehouse, "silver.quarantine")]
    assert ordered(got) == ordered(want)


def test_gold_is_the_hand_written_one(golden):
    settings, _ = golden
    want = {g["table"]: sorted(map(tuple, g["rows"]), key=repr) for g in lines("gold.jsonl")}
    assert set(want) == {spec.name for spec in catalog.layer("gold")}
    assert published_gold(settings.lakehouse) == want


def test_the_oracle_reads_bronze_as_silver_and_gold_do(golden):
    """The contract written again from scratch gives every silver row (provenance included), the
    quarantine and every gold table that the pipeline published, from the same bronze."""
    settings, _ = golden
    assert_oracle_agrees(settings.lakehouse)


def _audit(settings, ledger) -> subprocess.CompletedProcess:
    return pinlake(settings, "audit", "--ledger", str(ledger), ok=False, timeout=300)


def test_the_audit_names_silver_rows_deleted_or_rewritten_behind_the_pipelines_back(golden):
    settings, ledger = golden
    clean = _audit(settings, ledger)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    pins = tables.delta_log("silver.pins", settings.lakehouse)
    good = pins.version()

    pins.delete("unique_id = '00000000-0000-4000-8000-000000000005'")
    deleted = _audit(settings, ledger)
    assert deleted.returncode == 1
    assert "1 accepted bronze rows whose entity is not in silver.pins" in deleted.stdout, deleted.stdout
    pins.restore(good)
    assert _audit(settings, ledger).returncode == 0

    # pin 3 has two versions in bronze; silver is made to hold the first one again
    first = min((r for r in tables.arrow("bronze.pin_events", settings.lakehouse).to_pylist()
                 if "000000000003" in r["value"]), key=lambda r: r["kafka_timestamp"])
    pins = tables.delta_log("silver.pins", settings.lakehouse)
    pins.update(predicate="unique_id = '00000000-0000-4000-8000-000000000003'",
                new_values={"source_partition": first["partition"], "source_offset": first["offset"],
                            "kafka_timestamp": first["kafka_timestamp"], "category": "travel"})
    older = _audit(settings, ledger)
    assert older.returncode == 1
    assert "1 accepted bronze rows newer than the version silver.pins holds of their entity" in older.stdout, \
        older.stdout
    pins.restore(pins.version() - 1)
    assert _audit(settings, ledger).returncode == 0
