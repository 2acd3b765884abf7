"""Benchmark: silver + gold in Spark vs the same transforms in DuckDB, and an incremental silver run.

For each size, bronze tables with that many events are generated first (bench/batch_data.py,
not timed). Then, timed, in the same run and over the same bronze data:
  1. Spark: a full silver run (empty silver) and a gold run, through the project's jobs;
  2. DuckDB: the same transforms as SQL (bench/batch_duckdb.py), bronze read through the Delta log;
  3. Spark: after appending `--increment` (1%) new events to bronze, an incremental silver run.
Prints the wall times, the Spark/DuckDB ratio, and incremental/full.

    .venv/bin/python bench/batch.py --events 1000000 10000000   # about 21 minutes here (two cores)
    .venv/bin/python bench/batch.py --events 100000          # a quick check that it works

The quality gate (Great Expectations) is not part of the comparison, since the DuckDB peer
has none; `--gate` includes it in the Spark runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import batch_data, batch_duckdb  # noqa: E402
from pinlake.settings import Settings, get_settings  # noqa: E402


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def _silver_counts(spark, root: str) -> dict[str, int]:
    from lakehouse import tables

    return {name: tables.read(spark, f"silver.{name}", root).count() for name in ("pins", "geo", "users", "quarantine")}


def bench_size(spark, base: Settings, events: int, increment: float, gate: bool, threads: int | None) -> dict:
    """All timings for one bronze size (prepared from scratch under its own lakehouse root)."""
    from lakehouse.gold import job as gold_job
    from lakehouse.silver import job as silver_job

    data_root = base.data_root / "bench-batch" / str(events)
    shutil.rmtree(data_root, ignore_errors=True)
    settings = base.model_copy(update={"data_root": data_root, "lakehouse_root": None})
    root = settings.lakehouse
    postings = events // 3
    prep, _ = _timed(batch_data.prepare, spark, root, 0, postings)
    print(f"[{events:,}] bronze prepared in {prep:.1f}s (not timed)", flush=True)

    silver_s, summaries = _timed(silver_job.run, spark, settings, "bench-full", gated=gate)
    gold_s, _ = _timed(gold_job.run, spark, settings, "bench-full", gated=gate)
    print(f"[{events:,}] spark silver {silver_s:.1f}s, gold {gold_s:.1f}s", flush=True)
    spark_counts = _silver_counts(spark, root)
    duck_s, duck_counts = _timed(batch_duckdb.run, root, threads)
    print(f"[{events:,}] duckdb silver+gold {duck_s:.1f}s", flush=True)
    if spark_counts != duck_counts:  # the two engines should agree on every row count
        print(f"[{events:,}] WARNING silver rows differ: spark {spark_counts}, duckdb {duck_counts}", flush=True)

    new_postings = max(1, int(postings * increment))
    batch_data.prepare(spark, root, postings, new_postings)
    incr_s, incr = _timed(silver_job.run, spark, settings, "bench-incremental", gated=gate)
    spark_s = silver_s + gold_s
    return {
        "events": 3 * postings, "new_events": 3 * new_postings,
        "spark_silver_s": round(silver_s, 2), "spark_gold_s": round(gold_s, 2), "spark_total_s": round(spark_s, 2),
        "duckdb_total_s": round(duck_s, 2), "spark_over_duckdb": round(spark_s / duck_s, 2),
        "incremental_silver_s": round(incr_s, 2), "incremental_over_full": round(incr_s / silver_s, 3),
        "accepted": sum(s["accepted"] for s in summaries), "quarantined": sum(s["quarantined"] for s in summaries),
        "spark_silver_rows": spark_counts, "duckdb_silver_rows": duck_counts,
        "incremental_rows": sum(s["rows"] for s in incr),
    }


def markdown(results: list[dict], settings: Settings, gate: bool) -> str:
    """The figures as a Markdown table for BENCHMARKS.md."""
    lines = [
        f"Spark master `{settings.spark_master}`, driver memory {settings.spark_driver_memory}, "
        f"{settings.spark_shuffle_partitions} shuffle partitions; quality gate {'on' if gate else 'off'}.",
        "",
        "| events | Spark silver (s) | Spark gold (s) | Spark total (s) | DuckDB total (s) | Spark / DuckDB "
        "| incremental silver, +1% (s) | incremental / full silver |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['events']:,} | {r['spark_silver_s']} | {r['spark_gold_s']} | {r['spark_total_s']} "
                     f"| {r['duckdb_total_s']} | {r['spark_over_duckdb']}x | {r['incremental_silver_s']} "
                     f"| {r['incremental_over_full']:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for every requested size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--increment", type=float, default=0.01, help="new events of the incremental run")
    parser.add_argument("--gate", action="store_true", help="include the quality gate in the Spark runs")
    parser.add_argument("--duckdb-threads", type=int, default=None, help="default: DuckDB's own (all cores)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    from lakehouse.spark import BATCH_CONF, get_spark

    settings = get_settings()
    spark = get_spark("pinlake-bench-batch", settings, conf=BATCH_CONF)
    results = []
    for events in args.events:
        results.append(bench_size(spark, settings, events, args.increment, args.gate, args.duckdb_threads))
        print(json.dumps(results[-1]), flush=True)
    print()
    print(markdown(results, settings, args.gate))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
