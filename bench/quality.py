"""Quality-gate cost: time of quality.gate.validate against the un-gated Delta write of the same candidate.

Default mode, per table: generates (untimed) silver candidates of --rows entities each (pins, geo, users sharing `ind`,
plus a quarantine of rows/100) and the gold candidates the gold job builds from them, each cached
and counted first so that both timings read the same materialised rows. Then, per table:
  write - tables.overwrite of the candidate (the baseline: publication without a gate)
  gate  - quality.gate.validate of the candidate (GX validation + quality.results + Data Docs page)
and prints both, the totals and the ratio gate/write.

--jobs mode, the whole pipeline: writes bronze tables of --events events (a third each pins,
geo, users; 1% of pins dirty, for the quarantine), then runs the real silver job and gold job
twice on fresh lakehouses, un-gated and gated (quality.gate.validate), after an
untimed un-gated warm-up at a tiny scale. Prints both run times, the time the gates add, and
the ratio gated/un-gated.
Run: .venv/bin/python bench/quality.py [--rows N | --jobs --events N] [--master local[2]]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lakehouse import tables  # noqa: E402
from lakehouse.bronze.schema import EVENT_TABLES  # noqa: E402
from lakehouse.silver.reasons import Reason  # noqa: E402
from lakehouse.spark import get_spark  # noqa: E402
from pinlake.settings import TOPICS, Settings  # noqa: E402
from quality.gate import validate  # noqa: E402

_T0 = "timestamp'2018-01-01 00:00:00'"
_PROV = (f"md5(concat('e', id)) AS event_id, {_T0} AS received_at, CAST(id % 3 AS INT) AS source_partition, "
         f"id DIV 3 AS source_offset, {_T0} + make_interval(0, 0, 0, 0, 0, 0, id % 86400) AS kafka_timestamp")
_UUID = ("concat_ws('-', substr(h, 1, 8), substr(h, 9, 4), substr(h, 13, 4), substr(h, 17, 4), "
         "substr(h, 21, 12))")
SILVER_SQL = {
    "silver.pins": f"""SELECT id AS ind, {_UUID} AS unique_id, concat('Title ', id) AS title,
        CAST(NULL AS STRING) AS description, concat('poster', id % 5000) AS poster_name,
        (id * 7919) % 2000000 AS follower_count, array('tag', concat('t', id % 50)) AS tags,
        element_at(array('image', 'video', 'story'), CAST(id % 3 AS INT) + 1) AS media_type,
        concat('https://i.pinimg.com/', id, '.jpg') AS image_src, id % 2 = 0 AS downloaded,
        '/data/art' AS save_location,
        element_at(array('art', 'travel', 'food', 'diy', 'beauty', 'quotes'), CAST(id % 6 AS INT) + 1) AS category,
        {_PROV} FROM (SELECT id, md5(CAST(id AS STRING)) AS h FROM range({{rows}}))""",
    "silver.geo": f"""SELECT id AS ind, {_T0} + make_interval(0, 0, 0, CAST(id % 2000 AS INT)) AS event_time,
        (id % 180) - 89.5 AS latitude, (id % 360) - 179.5 AS longitude, concat('Country ', id % 200) AS country,
        {_PROV} FROM range({{rows}})""",
    "silver.users": f"""SELECT id AS ind, concat('User ', id) AS user_name, CAST(id % 90 + 10 AS INT) AS age,
        {_T0} + make_interval(0, 0, 0, CAST(id % 1500 AS INT)) AS date_joined, {_PROV} FROM range({{rows}})""",
    "silver.quarantine": f"""SELECT '{TOPICS["pin"]}' AS source_topic, CAST(id % 3 AS INT) AS source_partition,
        id AS source_offset, md5(CAST(id AS STRING)) AS event_id, {_T0} AS received_at, '{{{{' AS raw,
        array('{Reason.MALFORMED_JSON}') AS reasons, {_T0} AS quarantined_at FROM range({{rows}} DIV 100)""",
}
def candidates(spark, rows: int) -> dict:
    """Every gated table's candidate, cached and materialised (untimed)."""
    from lakehouse.gold.job import build_all

    found = {table: spark.sql(sql.format(rows=rows)) for table, sql in SILVER_SQL.items()}
    found.update(build_all(found)[0])
    for frame in found.values():
        frame.cache().count()
    return found


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(spark, frames: dict, settings: Settings) -> list[tuple[str, int, float, float]]:
    """(table, rows, write seconds, gate seconds) per table; silver written first (gold's context)."""
    results = []
    for table, frame in frames.items():
        write = _timed(lambda: tables.overwrite(frame, table, root=settings.lakehouse))
        gate = _timed(lambda: validate(spark, frame, table, "bench", settings=settings))
        results.append((table, frame.count(), write, gate))
    return results


def report(results: list, rows: int, master: str) -> None:
    """Print the per-table figures, the totals and the ratio."""
    print(f"quality gate vs un-gated write, {rows:,} entities per silver table, Spark {master}")
    print(f"{'table':50} {'rows':>10} {'write s':>8} {'gate s':>8} {'ratio':>6}")
    for table, count, write, gate in results:
        print(f"{table:50} {count:>10,} {write:>8.2f} {gate:>8.2f} {gate / write:>6.2f}")
    for layer in ("silver", "gold", ""):
        mine = [r for r in results if r[0].startswith(layer)]
        write, gate = sum(r[2] for r in mine), sum(r[3] for r in mine)
        print(f"{'total ' + (layer or 'silver + gold'):50} {'':>10} {write:>8.2f} {gate:>8.2f} {gate / write:>6.2f}")


_BRONZE_VALUES = {
    TOPICS["pin"]: ("unique_id", """to_json(named_struct('index', id, 'unique_id', {uuid},
        'title', concat('Title ', id), 'description', 'A pin', 'poster_name', concat('poster', id % 5000),
        'follower_count', IF(id % 100 = 0, 'lots', concat(id % 900, 'k')), 'tag_list', 'a,b,c',
        'is_image_or_video', 'image', 'image_src', concat('https://i.pinimg.com/', id, '.jpg'), 'downloaded', 1,
        'save_location', 'Local save in /data/art',
        'category', element_at(array('art', 'travel', 'food', 'diy', 'beauty'), CAST(id % 5 AS INT) + 1)))"""),
    TOPICS["geo"]: ("ind", """to_json(named_struct('ind', id,
        'timestamp', date_format({t0} + make_interval(0, 0, 0, CAST(id % 2000 AS INT)), 'yyyy-MM-dd HH:mm:ss'),
        'latitude', (id % 180) - 89.5, 'longitude', (id % 360) - 179.5, 'country', concat('Country ', id % 200)))"""),
    TOPICS["user"]: ("ind", """to_json(named_struct('ind', id, 'first_name', 'Ann',
        'last_name', concat('Lee', id), 'age', id % 90 + 10,
        'date_joined', date_format({t0} + make_interval(0, 0, 0, CAST(id % 1500 AS INT)), "yyyy-MM-dd'T'HH:mm:ss")))"""),
}


def bronze(spark, topic: str, postings: int):
    """One bronze table's `postings` events, as the bronze stream would have written them."""
    key, value = _BRONZE_VALUES[topic]
    uuid = _UUID.replace("substr(h", "substr(md5(CAST(id AS STRING))")
    key_sql = uuid if key == "unique_id" else "CAST(id AS STRING)"
    return spark.sql(f"""SELECT md5(concat('{topic}', id)) AS event_id, {_T0} AS received_at, {key_sql} AS key,
        {value.format(uuid=uuid, t0=_T0)} AS value, '{topic}' AS topic, CAST(id % 3 AS INT) AS partition,
        id DIV 3 AS offset, {_T0} + make_interval(0, 0, 0, 0, 0, 0, id) AS kafka_timestamp,
        {_T0} AS ingested_at, to_date({_T0}) AS ingest_date FROM range({postings})""")


def run_jobs(spark, root: Path, postings: int, gated: bool) -> tuple[float, float]:
    """Seconds of the silver job and the gold job over fresh bronze tables, with or without the gates."""
    from lakehouse.gold import job as gold_job
    from lakehouse.silver import job as silver_job

    settings = Settings(data_root=root, spark_master=spark.sparkContext.master)
    for topic, spec in EVENT_TABLES.items():
        tables.ensure(spark, spec, settings.lakehouse)
        tables.append(bronze(spark, topic, postings), spec.name, settings.lakehouse)
    silver = _timed(lambda: silver_job.run(spark, settings, "bench-silver", gated=gated))
    gold = _timed(lambda: gold_job.run(spark, settings, "bench-gold", gated=gated))
    return silver, gold


def bench_jobs(spark, base: Path, events: int) -> None:
    """Warm up, then time the un-gated and the gated silver + gold run; print the added time."""
    # JIT and Delta class loading; the gated path's one-time GX setup is part of what a job pays.
    run_jobs(spark, base / "warm-up", 300, gated=False)
    plain = run_jobs(spark, base / "ungated", events // 3, gated=False)
    gated = run_jobs(spark, base / "gated", events // 3, gated=True)
    print(f"silver + gold jobs over {events:,} events ({events // 3:,} per kind), Spark {spark.sparkContext.master}")
    print(f"{'':10} {'silver s':>9} {'gold s':>8} {'total s':>8}")
    for name, (silver, gold) in (("un-gated", plain), ("gated", gated)):
        print(f"{name:10} {silver:>9.2f} {gold:>8.2f} {silver + gold:>8.2f}")
    added = sum(gated) - sum(plain)
    print(f"gates add {added:.2f} s; ratio gated/un-gated {sum(gated) / sum(plain):.2f}")


def main() -> None:
    """Generate, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--jobs", action="store_true", help="Time the real silver + gold jobs, gated vs not.")
    parser.add_argument("--events", type=int, default=1_000_000, help="Events for --jobs (a third per kind).")
    args = parser.parse_args()
    # The gate logs its phases (setup, context, validation incl. Data Docs page, record) per table.
    logging.basicConfig(level=logging.WARNING, format="  %(message)s")
    logging.getLogger("pinlake.quality").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="pinlake-bench-quality-") as root:
        settings = Settings(data_root=Path(root), spark_master=args.master)
        spark = get_spark("bench-quality", settings=settings)
        if args.jobs:
            bench_jobs(spark, Path(root), args.events)
            spark.stop()
            return
        frames = candidates(spark, args.rows)
        validate(spark, frames["silver.users"].limit(10), "silver.users", "warm-up", settings=settings)
        report(measure(spark, frames, settings), args.rows, args.master)
        spark.stop()


if __name__ == "__main__":
    main()
