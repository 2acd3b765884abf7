"""Benchmark of the bronze stream: Kafka -> Delta throughput, lag and end-to-end latency.

Starts its own Kafka broker and ingest API (`pinlake api`) in a temporary data root, then:

1. baseline, bronze stopped: POST /events batches as fast as one client goes, the ingest
   rate acknowledged by the API (every event then waits in Kafka: a backlog);
2. drain: starts the bronze service (`pinlake bronze` under the supervisor) and measures
   the rate at which it works the backlog off, from its micro-batch progress: Kafka ->
   bronze events/s at saturation, and its ratio to the ingest rate;
3. steady: sends at a fixed rate (default: the baseline ingest rate) for a while with bronze
   running; samples the lag every second and right after each micro-batch, and, for every
   event, the time from the API's 200 to the Delta commit that made its row visible in bronze
   (p50/p95).

The lag is a saw-tooth: it climbs while a batch runs and drops when the batch commits. Whether
it grows is read off the troughs, the lag right after each batch's commit: their least-squares
slope over the steady phase (its first batch left out: the drain's last ones may still run).
A slope over the per-second samples of a 30 s window swung by several percent of the rate
either way from run to run with where the teeth fell; it is printed too.

Targets: drain rate >= ingest rate; steady lag does not grow (trough slope at most 2% of the
sending rate); p95 <= 2 x trigger + 5 s.
Run:  .venv/bin/python bench/bronze.py [--events N] [--steady-seconds 60] [--rate N] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from urllib.parse import unquote  # noqa: E402

import httpx  # noqa: E402

from ingest.emulator import generate  # noqa: E402
from ingest.service import API, api_url, ready  # noqa: E402
from lakehouse import tables  # noqa: E402
from lakehouse.bronze.schema import TOPIC_TABLES  # noqa: E402
from lakehouse.bronze.service import BRONZE  # noqa: E402
from lakehouse.bronze.state import offsets_file, read_json  # noqa: E402
from lakehouse.bronze.status import bronze_status  # noqa: E402
from pinlake.kafka import KAFKA  # noqa: E402
from pinlake.settings import Settings  # noqa: E402
from pinlake.supervisor import Supervisor, wait_until  # noqa: E402
from tests.ports import free_port  # noqa: E402


def post(client: httpx.Client, events: list[dict]) -> tuple[float, list[str]]:
    """One POST /events; the time of its 200 and the event ids."""
    answer = client.post("/events", content=json.dumps(events).encode(),
                         headers={"content-type": "application/json"})
    answer.raise_for_status()
    return time.time(), answer.json()["event_ids"]


def baseline(client: httpx.Client, events: list[dict], batch: int) -> dict:
    """Ingest rate: /events batches back to back from one client."""
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        post(client, events[i:i + batch])
    seconds = time.perf_counter() - started
    return {"events": len(events), "seconds": seconds, "events_per_s": len(events) / seconds}


def lag(settings: Settings) -> int | None:
    """Total lag over the three topics (Kafka's end minus bronze's), or None when unknown."""
    lags = [entry["lag"] for entry in bronze_status(settings)["topics"].values()]
    return None if None in lags else sum(lags)


def _held(progress: dict | None) -> int:
    return sum(sum(parts.values()) for parts in (progress or {}).get("offsets", {}).values())


def drain(settings: Settings, supervisor: Supervisor, backlog: int) -> dict:
    """Start bronze over the backlog; rows per second between its first and last batch."""
    samples: dict[int, tuple[float, int]] = {}  # batch id -> (seen at, offsets held)
    started = time.perf_counter()
    thread = threading.Thread(target=supervisor.start, args=(BRONZE,), daemon=True)
    thread.start()
    while _held(read_json(offsets_file(settings))) < backlog and time.perf_counter() - started < 1800:
        progress = read_json(offsets_file(settings))
        if progress and progress.get("batch_id") is not None:
            samples.setdefault(progress["batch_id"], (time.perf_counter(), _held(progress)))
        time.sleep(0.05)  # sampling a file, not waiting for a condition
    samples.setdefault(-1, (time.perf_counter(), _held(read_json(offsets_file(settings)))))
    thread.join(600)
    (t0, n0), (t1, n1) = min(samples.values()), max(samples.values())
    rate = (n1 - n0) / (t1 - t0) if t1 > t0 and n1 > n0 else float("nan")
    return {"events": backlog, "first_batch_rows": n0, "batches": len(samples), "seconds": t1 - t0,
            "events_per_s": rate, "startup_to_caught_up_s": time.perf_counter() - started}


class Visibility(threading.Thread):
    """Follows the bronze Delta logs: the commit time at which each event id became visible."""

    def __init__(self, settings: Settings):
        super().__init__(daemon=True)
        self.stop, self.seen = threading.Event(), {}
        self.paths = [Path(tables.table_path(name, settings.lakehouse)) for name in TOPIC_TABLES.values()]
        # Rows committed before the steady phase are not measured: start after each table's current version.
        self.versions = {path: self._latest(path) for path in self.paths}

    @staticmethod
    def _latest(path: Path) -> int:
        return max(int(f.name[:20]) for f in (path / "_delta_log").glob("*.json"))

    def _commit(self, path: Path, version: int) -> None:
        """Read one commit of the log: its time and the files it added, then those files' event ids."""
        import pyarrow.parquet as pq

        added, committed = [], None
        for line in (path / "_delta_log" / f"{version:020d}.json").read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                added.append(path / unquote(action["add"]["path"]))
            elif "commitInfo" in action:
                committed = action["commitInfo"]["timestamp"] / 1000
        for file in added:
            for event_id in pq.read_table(file, columns=["event_id"]).column("event_id").to_pylist():
                self.seen.setdefault(event_id, committed)

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.paths:
                latest = self._latest(path)
                for version in range(self.versions[path] + 1, latest + 1):
                    self._commit(path, version)
                self.versions[path] = latest
            time.sleep(0.2)  # polling interval; the commit time itself is exact


def steady(settings: Settings, client: httpx.Client, events: list[dict], rate: float, seconds: float,
           batch: int) -> dict:
    """Send at `rate` for `seconds`; lag samples and ack -> visible latencies."""
    watcher = Visibility(settings)
    watcher.start()
    acked: dict[str, float] = {}
    lags: list[tuple[float, int]] = []
    troughs: list[tuple[float, int]] = []  # the lag right after each micro-batch committed
    last_batch = (read_json(offsets_file(settings)) or {}).get("batch_id")
    started, sent, next_lag = time.perf_counter(), 0, 0.0
    while time.perf_counter() - started < seconds:
        chunk = [events[(sent + i) % len(events)] for i in range(batch)]
        at, ids = post(client, chunk)
        acked.update({event_id: at for event_id in ids})
        sent += batch
        now = time.perf_counter() - started
        batch_id = (read_json(offsets_file(settings)) or {}).get("batch_id")
        if batch_id != last_batch:
            last_batch = batch_id
            troughs.append((now, lag(settings)))
        if now >= next_lag:
            lags.append((now, lag(settings)))
            next_lag = now + 1.0
        time.sleep(max(0.0, started + sent / rate - time.perf_counter()))  # pacing
    sent_seconds = time.perf_counter() - started
    wait_until(lambda: all(e in watcher.seen for e in acked), 300, interval=0.5)
    watcher.stop.set()
    watcher.join(30)
    latencies = sorted(watcher.seen[e] - at for e, at in acked.items() if e in watcher.seen)
    half = [(t, n) for t, n in lags if t >= sent_seconds / 2 and n is not None]
    return {"events": len(acked), "seconds": sent_seconds, "events_per_s": len(acked) / sent_seconds,
            "visible": len(latencies), "p50_s": statistics.median(latencies) if latencies else float("nan"),
            "p95_s": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
            "max_s": latencies[-1] if latencies else float("nan"),
            "lag_slope_per_s": _slope(half), "trough_slope_per_s": _slope([p for p in troughs[1:] if p[1] is not None]),
            "troughs": len(troughs), "lag_first": lags[0][1] if lags else None,
            "lag_last": lags[-1][1] if lags else None, "lag_max": max((n for _, n in lags if n is not None),
                                                                       default=None)}


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of lag over time (events per second); ~0 when bronze keeps up."""
    if len(points) < 2:
        return float("nan")
    mt, mn = statistics.fmean(t for t, _ in points), statistics.fmean(n for _, n in points)
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (n - mn) for t, n in points) / var if var else float("nan")


def _ok(condition: bool) -> str:
    return "PASS" if condition else "FAIL"


def report(results: dict, args, trigger: float) -> None:
    """Print the figures, the same-run baseline, the ratios and the targets."""
    base, dr, st = results["baseline"], results["drain"], results["steady"]
    print(f"\nbronze benchmark: trigger {trigger:g}s, at most {results['max_offsets']} records per batch, "
          f"backlog {base['events']} events via POST /events of {args.batch}, "
          f"steady {st['seconds']:.0f}s at {st['events_per_s']:.0f} events/s")
    print(f"ingest baseline (API, bronze stopped): {base['events_per_s']:>9.0f} events/s "
          f"({base['events']} in {base['seconds']:.1f}s)")
    print(f"bronze drain (Kafka -> bronze):        {dr['events_per_s']:>9.0f} events/s over {dr['batches']} "
          f"batches, {dr['seconds']:.1f}s; ratio to ingest {dr['events_per_s'] / base['events_per_s']:.2f}; "
          f"start to caught up {dr['startup_to_caught_up_s']:.0f}s")
    print(f"steady: sent {st['events']} ({st['events_per_s']:.0f} events/s); lag first/last/max "
          f"{st['lag_first']}/{st['lag_last']}/{st['lag_max']} events; lag slope (2nd half) "
          f"{st['lag_slope_per_s']:+.1f} events/s ({st['lag_slope_per_s'] / st['events_per_s']:+.1%} of the rate); "
          f"after each batch (slope over {st['troughs'] - 1} batches) {st['trough_slope_per_s']:+.1f} events/s "
          f"({st['trough_slope_per_s'] / st['events_per_s']:+.1%} of the rate)")
    print(f"latency API 200 -> visible in bronze: p50 {st['p50_s']:.2f}s  p95 {st['p95_s']:.2f}s  "
          f"max {st['max_s']:.2f}s  ({st['visible']}/{st['events']} seen); p95 / target "
          f"{st['p95_s'] / (2 * trigger + 5):.2f}")
    keeps_up = st["trough_slope_per_s"] <= 0.02 * st["events_per_s"]
    print("targets: drain >= ingest rate: {}; steady lag does not grow (slope after each batch <= 2% of rate): {}; "
          "p95 <= 2 x trigger + 5 s = {:g}s: {}".format(
              _ok(dr["events_per_s"] >= base["events_per_s"]), _ok(keeps_up), 2 * trigger + 5,
              _ok(st["p95_s"] <= 2 * trigger + 5)))
    if args.json:
        print(json.dumps(results, indent=2))


def main() -> None:
    """Run the three phases on a stack of its own, then stop it and remove its data."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=None,
                        help="backlog events of the baseline and drain (default: four micro-batches' worth, "
                             "so that the drain rate is measured over several batches)")
    parser.add_argument("--batch", type=int, default=500, help="events per POST /events")
    parser.add_argument("--steady-seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=None, help="steady events/s (default: the baseline rate)")
    parser.add_argument("--trigger", type=float, default=None, help="bronze trigger seconds (default: setting)")
    parser.add_argument("--max-offsets", type=int, default=None,
                        help="records per micro-batch (default: PINLAKE_BRONZE_MAX_OFFSETS_PER_TRIGGER)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="pinlake-bench-bronze-"))
    # The stream's own default unless asked: a cap of events/8 per 5 s trigger measured the cap.
    overrides = {"bronze_max_offsets_per_trigger": args.max_offsets} if args.max_offsets else {}
    if args.trigger:
        overrides["bronze_trigger_seconds"] = args.trigger
    settings = Settings(data_root=root, kafka_port=free_port(), kafka_controller_port=free_port(),
                        api_port=free_port(), **overrides)
    stack = Supervisor(settings, [KAFKA, API, BRONZE])
    try:
        stack.start(KAFKA)
        stack.start(API)
        assert wait_until(lambda: ready(settings), 60), "the API never became ready"
        count = args.events or 4 * settings.bronze_max_offsets_per_trigger
        events = [{"type": e["type"], "record": e["record"]} for e in generate(count, args.seed)][:count]
        with httpx.Client(base_url=api_url(settings), timeout=60) as client:
            post(client, events[:args.batch])  # warm up: connections, producer id
            results = {"baseline": baseline(client, events, args.batch)}
            backlog = lag(settings)
            results["drain"] = drain(settings, stack, backlog)
            rate = args.rate or results["baseline"]["events_per_s"]
            results["steady"] = steady(settings, client, events, rate, args.steady_seconds,
                                       max(1, min(args.batch, int(rate / 10))))
        results["max_offsets"] = settings.bronze_max_offsets_per_trigger
        report(results, args, settings.bronze_trigger_seconds)
    finally:
        stack.down()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
