"""How long `pinlake audit` takes on a large lakehouse, against the scan its proof needs at least.

Prepares (untimed) bronze tables of --events events (bench/batch_data.py) and runs the silver job
over them, ungated. Then, timed, each in a new process as a user runs it:
  audit    - the audit's bronze -> silver proof of every topic (lakehouse.audit.bronze_to_silver:
             bronze values read for their entity keys, silver and quarantine joined to them)
  baseline - DuckDB reading the same columns through the same Delta log, with nothing compared:
             the bronze partition, offset, time and value, the silver keys and provenance
and prints both and the ratio. The Kafka side of the audit (reading every message once) is not
part of it: these bronze tables were not written from Kafka.

    .venv/bin/python bench/audit.py --events 10000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinlake.settings import TOPICS, Settings  # noqa: E402

AUDIT = """
import duckdb, json, sys, time
from lakehouse.audit import bronze_to_silver, silver_sources
root, started, out = sys.argv[1], time.perf_counter(), {}
for topic in sys.argv[2:]:
    counts, gaps = bronze_to_silver(duckdb.connect(), silver_sources(root, topic), topic)
    out[topic] = {"counts": counts, "gaps": [g.what for g in gaps]}
print(json.dumps({"seconds": time.perf_counter() - started, "topics": out}))
"""
BASELINE = """
import duckdb, json, sys, time
from lakehouse import catalog, tables
from lakehouse.bronze.schema import TOPIC_TABLES
from lakehouse.spec import SilverTable
root, started, rows = sys.argv[1], time.perf_counter(), 0
for topic in sys.argv[2:]:
    entity = next(s for s in catalog.layer("silver") if isinstance(s, SilverTable) and s.topic == topic)
    con = duckdb.connect()
    con.register("b", tables.dataset(TOPIC_TABLES[topic], root))
    con.register("s", tables.dataset(entity.name, root))
    rows += con.sql('SELECT count("partition") + count("offset") + count(kafka_timestamp) + sum(length(value)) '
                    'FROM b').fetchone()[0] or 0
    rows += con.sql(f"SELECT count({entity.keys[0]}) + count(source_offset) FROM s").fetchone()[0] or 0
print(json.dumps({"seconds": time.perf_counter() - started, "checksum": rows}))
"""


def prepare(root: Path, events: int) -> Settings:
    """Bronze of `events` events and silver promoted from it (untimed)."""
    from bench import batch_data
    from lakehouse.silver import job as silver_job
    from lakehouse.spark import BATCH_CONF, get_spark

    settings = Settings(_env_file=None, data_root=root)
    spark = get_spark("pinlake-bench-audit", settings, conf=BATCH_CONF)
    started = time.perf_counter()
    batch_data.prepare(spark, settings.lakehouse, 0, events // 3)
    silver_job.run(spark, settings, "bench-audit", gated=False)
    spark.stop()
    print(f"prepared {events:,} events: bronze and silver in {time.perf_counter() - started:.0f}s", flush=True)
    return settings


def timed(script: str, root: str) -> dict:
    """Run one side in a new process; its own report, and the process's wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, root, *TOPICS.values()], capture_output=True, text=True,
                          check=True)
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall": time.perf_counter() - started}


def main() -> None:
    """Prepare, then time the audit and the baseline, twice each, interleaved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinlake-bench-audit-") as tmp:
        settings = prepare(Path(tmp), args.events)
        print(f"{'round':>5} {'audit s (process)':>18} {'baseline s (process)':>21} {'ratio':>6}")
        for round_ in range(1, args.rounds + 1):
            audit, base = timed(AUDIT, settings.lakehouse), timed(BASELINE, settings.lakehouse)
            gaps = {t: r["gaps"] for t, r in audit["topics"].items() if r["gaps"]}
            assert not gaps, gaps  # a clean lakehouse: the audit must agree
            print(f"{round_:>5} {audit['seconds']:>8.1f} ({audit['wall']:>5.1f}) {base['seconds']:>10.1f} "
                  f"({base['wall']:>5.1f}) {audit['wall'] / base['wall']:>6.2f}")
        counts = {t: r["counts"] for t, r in audit["topics"].items()}
        print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
