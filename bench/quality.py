"""Quality-gate cost: time of quality.gate.check against the un-gated Delta write of the same candidate.

Generates (untimed) silver candidates of --rows entities each (pins, geo, users sharing `ind`,
plus a quarantine of rows/100) and the eight gold candidates aggregated from them, each cached
and counted first so that both timings read the same materialised rows. Then, per table:
  write - tables.overwrite of the candidate (the baseline: publication without a gate)
  gate  - quality.gate.check of the candidate (GX validation + quality.results + Data Docs page)
and prints both, the totals and the ratio gate/write.
Run: .venv/bin/python bench/quality.py [--rows N] [--master local[2]]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lakehouse import tables  # noqa: E402
from lakehouse.spark import get_spark  # noqa: E402
from pinlake.settings import Settings  # noqa: E402
from quality.gate import check  # noqa: E402

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
    "silver.quarantine": f"""SELECT 'pinterest.pin' AS source_topic, CAST(id % 3 AS INT) AS source_partition,
        id AS source_offset, md5(CAST(id AS STRING)) AS event_id, {_T0} AS received_at, '{{{{' AS raw,
        array('malformed_json') AS reasons, {_T0} AS quarantined_at FROM range({{rows}} DIV 100)""",
}
_AGE_GROUP = ("CASE WHEN age < 18 THEN 'under 18' WHEN age <= 24 THEN '18-24' WHEN age <= 35 THEN '25-35' "
              "WHEN age <= 50 THEN '36-50' ELSE '50+' END")
_JOINED = f"""SELECT p.category, p.follower_count, p.poster_name, g.country, year(g.event_time) AS post_year,
    {_AGE_GROUP} AS age_group, year(u.date_joined) AS join_year
    FROM pins p JOIN geo g ON p.ind = g.ind JOIN users u ON p.ind = u.ind"""


def _top(key: str) -> str:
    return f"""SELECT {key}, category, n AS category_count FROM (SELECT {key}, category, n,
        row_number() OVER (PARTITION BY {key} ORDER BY n DESC, category) AS r FROM
        (SELECT {key}, category, count(*) AS n FROM joined WHERE category IS NOT NULL GROUP BY {key}, category))
        WHERE r = 1"""


def _median(*keys: str) -> str:
    cols = ", ".join(keys)
    return f"""SELECT {cols}, percentile(follower_count, 0.5) AS median_follower_count FROM joined
        WHERE follower_count IS NOT NULL GROUP BY {cols}"""


GOLD_SQL = {
    "gold.category_by_country": _top("country"),
    "gold.category_by_year": _top("post_year"),
    "gold.top_user_by_country": """SELECT country, max_by(poster_name, follower_count) AS poster_name,
        max(follower_count) AS follower_count FROM joined WHERE poster_name IS NOT NULL GROUP BY country""",
    "gold.category_by_age_group": _top("age_group"),
    "gold.median_followers_by_age_group": _median("age_group"),
    "gold.users_joined_by_year": """SELECT year(date_joined) AS join_year, count(*) AS number_users_joined
        FROM users WHERE date_joined IS NOT NULL GROUP BY year(date_joined)""",
    "gold.median_followers_by_join_year": _median("join_year"),
    "gold.median_followers_by_age_group_and_join_year": _median("age_group", "join_year"),
}


def candidates(spark, rows: int) -> dict:
    """Every gated table's candidate, cached and materialised (untimed)."""
    found = {}
    for table, sql in SILVER_SQL.items():
        found[table] = spark.sql(sql.format(rows=rows)).cache()
        found[table].count()
    for name in ("pins", "geo", "users"):
        found[f"silver.{name}"].createOrReplaceTempView(name)
    spark.sql(_JOINED).createOrReplaceTempView("joined")
    for table, sql in GOLD_SQL.items():
        found[table] = spark.sql(sql).cache()
        found[table].count()
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
        gate = _timed(lambda: check(spark, frame, table, "bench", settings=settings))
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


def main() -> None:
    """Generate, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[*]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinlake-bench-quality-") as root:
        settings = Settings(data_root=Path(root), spark_master=args.master)
        spark = get_spark("bench-quality", settings=settings)
        frames = candidates(spark, args.rows)
        check(spark, frames["silver.users"].limit(10), "silver.users", "warm-up", settings=settings)
        report(measure(spark, frames, settings), args.rows, args.master)
        spark.stop()


if __name__ == "__main__":
    main()
