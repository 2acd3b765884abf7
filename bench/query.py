"""Query latency: pinlake's DuckDB-over-Delta path against the same data as native DuckDB tables.

Prepares (untimed) silver tables of --rows postings and the gold tables derived from them,
as Delta tables in a temporary lakehouse. Then times, per query, p50/p95 of:
  serving - one long-lived engine (the API's path: snapshot cache, one stat per table per query)
  cold    - a new engine per query, lazy scans (the `pinlake query` path: reads the Delta log each time)
  native  - the same rows loaded into DuckDB tables (the baseline)
and prints the ratio serving/native. Run: .venv/bin/python bench/query.py [--rows N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.batch_duckdb import gold_sql  # noqa: E402
from lakehouse.gold.tables import gold_tables  # noqa: E402
from lakehouse import tables  # noqa: E402
from serving.engine import Lakehouse  # noqa: E402

CATEGORIES = ["art", "travel", "food", "diy", "beauty", "fashion", "finance", "quotes", "tattoos", "vehicles"]
COUNTRIES = [f"Country {i:03d}" for i in range(200)]
SILVER_QUERIES = {
    "top categories": "SELECT category, count(*) AS pins FROM silver.pins GROUP BY ALL ORDER BY pins DESC LIMIT 10",
    "followers by country": """SELECT g.country, avg(p.follower_count) AS mean_followers FROM silver.pins p
        JOIN silver.geo g USING (ind) GROUP BY ALL ORDER BY mean_followers DESC LIMIT 10""",
    "one user": "SELECT * FROM silver.users WHERE ind = 123457",
}


def silver(rows: int, seed: int = 7) -> dict[str, pa.Table]:
    """Silver-shaped pins, geo and users for `rows` postings."""
    rng = np.random.default_rng(seed)
    ind = np.arange(rows, dtype=np.int64)
    base = np.datetime64("2018-01-01T00:00:00", "us")
    event_time = base + rng.integers(0, 5 * 365 * 86400, rows).astype("timedelta64[s]")
    followers = rng.lognormal(7, 2, rows).astype(np.int64)
    provenance = {"event_id": pa.array([f"e{i}" for i in ind]), "source_partition": pa.array(ind % 3, pa.int32()),
                  "source_offset": pa.array(ind), "kafka_timestamp": pa.array(event_time)}
    pins = pa.table({
        "ind": ind, "unique_id": pa.array([f"{i:08x}-0000-4000-8000-000000000000" for i in ind]),
        "title": pa.array([f"Pin title {i}" for i in ind]), "poster_name": pa.array([f"poster {i % 50000}" for i in ind]),
        "follower_count": pa.array(np.where(rng.random(rows) < 0.05, None, followers)),
        "category": pa.array(np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), rows)]),
        "media_type": pa.array(np.array(["image", "video", "story"])[rng.integers(0, 3, rows)]),
        "downloaded": pa.array(rng.random(rows) < 0.9), **provenance})
    geo = pa.table({"ind": ind, "event_time": pa.array(event_time),
                    "latitude": rng.uniform(-90, 90, rows), "longitude": rng.uniform(-180, 180, rows),
                    "country": pa.array(np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), rows)]), **provenance})
    users = pa.table({"ind": ind, "user_name": pa.array([f"User {i}" for i in ind]),
                      "age": pa.array(rng.integers(13, 90, rows), pa.int32()),
                      "date_joined": pa.array(base + rng.integers(0, 3 * 365 * 86400, rows).astype("timedelta64[s]")),
                      **provenance})
    return {"pins": pins, "geo": geo, "users": users}


def prepare(root: str, rows: int) -> duckdb.DuckDBPyConnection:
    """Write silver and gold as Delta tables; return a DuckDB with the same rows as native tables."""
    native = duckdb.connect()
    for schema in ("silver", "gold"):
        native.execute(f"CREATE SCHEMA {schema}")
    for name, table in silver(rows).items():
        tables.append_rows(table, f"silver.{name}", root)
        native.register(name, table)
        native.execute(f"CREATE TABLE silver.{name} AS SELECT * FROM {name}")
    for statement in gold_sql():  # the gold job's transforms, as DuckDB SQL: gold_<name>
        native.execute(statement)
    for spec in gold_tables():
        result = native.execute(f"SELECT * FROM gold_{spec.name.split('.')[1]}").fetch_arrow_table()
        tables.append_rows(result, spec.name, root)
        native.execute(f"CREATE TABLE {spec.name} AS SELECT * FROM result")
    return native


def interleaved(runs: dict[str, object], reps: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 in ms of each callable, sampled in turn so that all see the same machine load."""
    for run in runs.values():
        run()  # warm-up: loads the snapshot into the serving cache
    samples = {label: [] for label in runs}
    for _ in range(reps):
        for label, run in runs.items():
            start = time.perf_counter()
            run()
            samples[label].append((time.perf_counter() - start) * 1000)
    return {label: (statistics.median(v), sorted(v)[min(len(v) - 1, int(0.95 * len(v)))])
            for label, v in samples.items()}


def main() -> None:
    """Prepare the data, time every query three ways, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="postings in silver")
    parser.add_argument("--reps", type=int, default=200, help="timed runs per query (silver: half)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        native = prepare(root, args.rows)
        print(f"prepared {args.rows:,} postings (silver + gold Delta tables) in {time.perf_counter() - started:.1f}s")
        serving = Lakehouse(root)
        print(f"{'query':<52} {'serving p50/p95 ms':>19} {'cold p50/p95 ms':>17} {'native p50/p95 ms':>18} {'ratio p50/p95':>14}")
        ratios = []
        gold = {spec.name: f"SELECT * FROM {spec.name} ORDER BY ALL" for spec in gold_tables()}
        for label, sql, reps in ([(k, v, args.reps) for k, v in gold.items()]
                                 + [(f"silver: {k}", v, max(5, args.reps // 2)) for k, v in SILVER_QUERIES.items()]):
            assert serving.query(sql).to_pylist() == native.execute(sql).fetch_arrow_table().to_pylist(), label
            times = interleaved({"serving": lambda: serving.query(sql),
                                 "native": lambda: native.execute(sql).fetch_arrow_table()}, reps)
            ours, base = times["serving"], times["native"]
            cold = interleaved({"cold": lambda: Lakehouse(root, materialize_bytes=0).query(sql)}, max(3, reps // 10))["cold"]
            ratio = (ours[0] / base[0], ours[1] / base[1])
            ratios.append(ratio)
            print(f"{label:<52} {ours[0]:>8.2f} /{ours[1]:>8.2f} {cold[0]:>7.2f} /{cold[1]:>7.2f} "
                  f"{base[0]:>8.2f} /{base[1]:>7.2f} {ratio[0]:>6.2f}x/{ratio[1]:>5.2f}x")
        worst = max(max(r) for r in ratios)
        print(f"worst serving/native ratio: {worst:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
