"""Benchmark: the lakehouse on the object store against the local disk, in the same run.

Starts a Kafka broker, the ingest API and the local object store (SeaweedFS, as `pinlake up`
runs it) in a temporary data root, and sends N events (default 1,000,000) through
POST /events once, so that Kafka holds them as a backlog. Then, for each place of the
lakehouse, each on a data root of its own: the local disk (the baseline) and the object store
(`s3://pinlake-bench/lake`, bronze's checkpoint beside the tables):

  1. bronze drain: the bronze service (a new process, its JVM start and first batch included)
     over the whole backlog: events/s between its first and last batch, and start to caught up;
  2. silver + gold, cold: `pinlake silver` then `pinlake gold`, each a new process, quality
     gates on: what a DAG step runs without the job server;
  3. silver + gold, warm: the Spark job server (as `pinlake up` starts it; its start not timed)
     runs `silver --full-refresh` then `gold --full`: the same rows again, in a live session.

Prints every figure per place and the ratio object store / disk (above 1: the store is slower).

    .venv/bin/python bench/objectstore.py                     # 1M events, about 15 minutes here
    .venv/bin/python bench/objectstore.py --events 30000      # a quick check that it works
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bronze import drain, lag, post  # noqa: E402
from ingest.emulator import generate  # noqa: E402
from ingest.service import API, api_url, ready  # noqa: E402
from lakehouse import jobserver, tables  # noqa: E402
from lakehouse.bronze.service import BRONZE  # noqa: E402
from pinlake.kafka import KAFKA  # noqa: E402
from pinlake.objectstore import OBJECT_STORE  # noqa: E402
from pinlake.settings import Settings, get_settings  # noqa: E402
from pinlake.supervisor import Supervisor, wait_until  # noqa: E402
from tests.ports import free_block, free_port  # noqa: E402

PLACES = ("disk", "store")  # the baseline first


def place_settings(base: Settings, root: Path, place: str) -> Settings:
    """The settings of one place: a data root of its own, the lakehouse on the disk or in the store."""
    lakehouse = "s3://pinlake-bench/lake" if place == "store" else None
    return base.model_copy(update={"data_root": root / place, "lakehouse_root": lakehouse,
                                   "spark_server_port": free_port()})


def pinlake(settings: Settings, *args: str) -> float:
    """One `pinlake` command in a new process, as a user runs it; its wall time."""
    env = {**os.environ, **settings.child_env()}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pinlake.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pinlake {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}"
                         f"{done.stderr[-3000:]}")
    return seconds


def on_server(settings: Settings, module: str, args: list[str]) -> float:
    """One job on the job server; its wall time as the DAG step waits for it."""
    started = time.perf_counter()
    jobserver.submit(settings.spark_server, module, args, timeout=3600)
    return time.perf_counter() - started


def measure(settings: Settings, backlog: int) -> dict:
    """The three phases on one place; its services stopped afterwards."""
    os.environ.update(settings.child_env())  # this process counts the rows there too
    get_settings.cache_clear()
    services = Supervisor(settings, [OBJECT_STORE, BRONZE, jobserver.SPARK_SERVER] if settings.on_s3
                          else [BRONZE, jobserver.SPARK_SERVER])
    try:
        if settings.on_s3:
            assert services.start(OBJECT_STORE), services.log_file(OBJECT_STORE.name).read_text()[-3000:]
        figures = {"drain": drain(settings, services, backlog)}
        services.stop(BRONZE)
        print(f"[{place_of(settings)}] bronze drained {backlog:,} events at {figures['drain']['events_per_s']:,.0f}/s",
              flush=True)
        figures["silver_cold_s"] = pinlake(settings, "silver", "--run-id", "bench-cold")
        figures["gold_cold_s"] = pinlake(settings, "gold", "--run-id", "bench-cold")
        print(f"[{place_of(settings)}] cold: silver {figures['silver_cold_s']:.1f}s, "
              f"gold {figures['gold_cold_s']:.1f}s", flush=True)
        assert services.start(jobserver.SPARK_SERVER), services.log_file("spark").read_text()[-3000:]
        figures["silver_warm_s"] = on_server(settings, "lakehouse.silver.job", ["bench-warm", "--full-refresh"])
        figures["gold_warm_s"] = on_server(settings, "lakehouse.gold.job", ["bench-warm", "--full"])
        print(f"[{place_of(settings)}] warm: silver {figures['silver_warm_s']:.1f}s, "
              f"gold {figures['gold_warm_s']:.1f}s", flush=True)
        figures["silver_rows"] = tables.rows(["silver.pins", "silver.geo", "silver.users", "silver.quarantine"],
                                             settings.lakehouse)
        return figures
    finally:
        services.down()


def place_of(settings: Settings) -> str:
    return "store" if settings.on_s3 else "disk"


def report(events: int, results: dict[str, dict]) -> None:
    """Each figure per place, and the store's ratio to the disk."""
    disk, store = results["disk"], results["store"]
    rows = [
        ("bronze drain (events/s)", disk["drain"]["events_per_s"], store["drain"]["events_per_s"], True),
        ("bronze start to caught up (s)", disk["drain"]["startup_to_caught_up_s"],
         store["drain"]["startup_to_caught_up_s"], False),
        ("silver, cold (s)", disk["silver_cold_s"], store["silver_cold_s"], False),
        ("gold, cold (s)", disk["gold_cold_s"], store["gold_cold_s"], False),
        ("silver + gold, cold (s)", disk["silver_cold_s"] + disk["gold_cold_s"],
         store["silver_cold_s"] + store["gold_cold_s"], False),
        ("silver, warm (s)", disk["silver_warm_s"], store["silver_warm_s"], False),
        ("gold, warm (s)", disk["gold_warm_s"], store["gold_warm_s"], False),
        ("silver + gold, warm (s)", disk["silver_warm_s"] + disk["gold_warm_s"],
         store["silver_warm_s"] + store["gold_warm_s"], False),
    ]
    print(f"\nthe lakehouse on the object store against the local disk, {events:,} events")
    print(f"{'':32} {'disk':>12} {'store':>12}  store / disk (slower when above 1)")
    for label, on_disk, on_store, is_rate in rows:
        slower = on_disk / on_store if is_rate else on_store / on_disk
        print(f"{label:32} {on_disk:>12,.1f} {on_store:>12,.1f}  {slower:.2f}")
    same = disk["silver_rows"] == store["silver_rows"]
    print(f"silver + quarantine rows: disk {disk['silver_rows']:,}, store {store['silver_rows']:,}"
          f"{'' if same else '  DIFFER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events sent once, drained by each place")
    parser.add_argument("--batch", type=int, default=500, help="events per POST /events")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="pinlake-bench-objectstore-"))
    base = Settings(data_root=root / "stack", kafka_port=free_port(), kafka_controller_port=free_port(),
                    api_port=free_port(), objectstore_port=free_block(8))
    stack = Supervisor(base, [KAFKA, API])
    try:
        stack.start(KAFKA)
        stack.start(API)
        assert wait_until(lambda: ready(base), 60), "the API never became ready"
        events = [{"type": e["type"], "record": e["record"]} for e in generate(args.events, args.seed)][:args.events]
        with httpx.Client(base_url=api_url(base), timeout=60) as client:
            for i in range(0, len(events), args.batch):
                post(client, events[i:i + args.batch])
        backlog = lag(base)
        print(f"{backlog:,} events in Kafka", flush=True)
        results = {place: measure(place_settings(base, root, place), backlog) for place in PLACES}
        report(len(events), results)
        if args.json:
            print(json.dumps(results, indent=2))
    finally:
        stack.down()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
