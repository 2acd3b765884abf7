"""A computation of the gold tables (CONTRACT.md section 6, v2's joins) in DuckDB SQL.

DuckDB reads the silver Delta tables through the `deltalake` package (the Delta log, never a
Parquet glob), and the result is compared with what Spark published.
"""

from __future__ import annotations

import math

import duckdb

from lakehouse import tables

# Each gold table joins pins with only the silver table it groups by.
FACTS = """
    CREATE OR REPLACE TEMP VIEW by_geo AS
    SELECT p.category, p.poster_name, p.follower_count, g.country,
           year(timezone('UTC', g.event_time)) AS post_year
    FROM pins p JOIN geo g ON p.ind = g.ind;
    CREATE OR REPLACE TEMP VIEW by_user AS
    SELECT p.category, p.poster_name, p.follower_count,
           year(timezone('UTC', u.date_joined)) AS join_year,
           CASE WHEN u.age < 18 THEN 'under 18' WHEN u.age <= 24 THEN '18-24'
                WHEN u.age <= 35 THEN '25-35' WHEN u.age <= 50 THEN '36-50'
                WHEN u.age > 50 THEN '50+' END AS age_group
    FROM pins p JOIN users u ON p.ind = u.ind
"""


def _top_category(key: str, facts: str) -> str:
    return f"""
        SELECT {key}, category, category_count FROM (
            SELECT {key}, category, count(*) AS category_count,
                   row_number() OVER (PARTITION BY {key} ORDER BY count(*) DESC, category ASC) AS rn
            FROM {facts} WHERE category IS NOT NULL AND {key} IS NOT NULL
            GROUP BY {key}, category)
        WHERE rn = 1
    """


def _median(*keys: str) -> str:  # over the pins joined with users
    cols = ", ".join(keys)
    present = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    return f"""
        SELECT {cols}, quantile_cont(follower_count, 0.5)::DOUBLE AS median_follower_count
        FROM by_user WHERE follower_count IS NOT NULL AND {present} GROUP BY {cols}
    """


GOLD_SQL = {
    "gold.category_by_country": _top_category("country", "by_geo"),
    "gold.category_by_year": _top_category("post_year", "by_geo"),
    "gold.top_user_by_country": """
        SELECT country, poster_name, follower_count FROM (
            SELECT country, poster_name, follower_count,
                   row_number() OVER (PARTITION BY country ORDER BY follower_count DESC, poster_name ASC) AS rn
            FROM by_geo WHERE country IS NOT NULL AND poster_name IS NOT NULL AND follower_count IS NOT NULL)
        WHERE rn = 1
    """,
    "gold.category_by_age_group": _top_category("age_group", "by_user"),
    "gold.median_followers_by_age_group": _median("age_group"),
    "gold.users_joined_by_year": """
        SELECT year(timezone('UTC', date_joined)) AS join_year, count(*) AS number_users_joined
        FROM users WHERE date_joined IS NOT NULL GROUP BY 1
    """,
    "gold.median_followers_by_join_year": _median("join_year"),
    "gold.median_followers_by_age_group_and_join_year": _median("age_group", "join_year"),
}


def arrow(root: str, name: str):
    """A Delta table's current snapshot as Arrow, through the Delta log."""
    return tables.arrow(name, root)


def expected_gold(root: str) -> dict[str, list[tuple]]:
    """Every gold table computed by DuckDB from the silver tables under `root`, rows sorted."""
    con = duckdb.connect()
    for name in ("pins", "geo", "users"):
        con.register(name, arrow(root, f"silver.{name}"))
    con.execute(FACTS)
    return {table: sorted(con.execute(sql).fetchall(), key=_sort_key) for table, sql in GOLD_SQL.items()}


def published_gold(root: str) -> dict[str, list[tuple]]:
    """Every gold table Spark published under `root`, rows sorted, columns in contract order."""
    out = {}
    for table in GOLD_SQL:
        data = arrow(root, table)
        out[table] = sorted(zip(*[data.column(c).to_pylist() for c in data.column_names]), key=_sort_key)
    return out


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in row)


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    """Equal rows; doubles equal to the last few bits (two engines, one exact median)."""
    if len(got) != len(want):
        return False
    for a_row, b_row in zip(got, want):
        for a, b in zip(a_row, b_row, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9):
                    return False
            elif a != b:
                return False
    return True


def gold_from_events(events) -> dict[str, list[tuple]]:
    """Every gold table computed by DuckDB (bench/batch_duckdb's silver and gold SQL) straight from
    the `{"type", "record"}` events a client sent, in the order it sent them.

    Nothing of the pipeline is used: each event becomes a bronze-shaped row whose value is its
    JSON text, and the sending order stands in for Kafka's (the emitter keeps every entity's
    versions on one connection, in order, so they reach one partition in that order).
    """
    import json

    import pyarrow as pa

    from bench.batch_duckdb import rebuild

    rows: dict[str, list[str]] = {"pin": [], "geo": [], "user": []}
    for event in events:
        rows[event["type"]].append(json.dumps(event["record"]))
    con = duckdb.connect()
    for kind, values in rows.items():
        n = len(values)
        con.register(f"bronze_{kind}", pa.table({
            "event_id": [f"{kind}-{i}" for i in range(n)], "received_at": pa.nulls(n, pa.timestamp("us", "UTC")),
            "key": pa.nulls(n, pa.string()), "value": values, "topic": [kind] * n,
            "partition": pa.array([0] * n, pa.int32()), "offset": pa.array(range(n), pa.int64()),
            "kafka_timestamp": pa.array([0] * n, pa.timestamp("us", "UTC"))}))
    rebuild(con)
    out = {}
    for table in GOLD_SQL:
        out[table] = sorted(con.execute(f"SELECT * FROM gold_{table.split('.')[1]}").fetchall(), key=_sort_key)
    return out
