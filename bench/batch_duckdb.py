"""The silver and gold transforms as DuckDB SQL: the single-node peer of bench/batch.py.

The same rules as lakehouse/silver and lakehouse/gold (CONTRACT.md sections 5 and 6, with the
values those modules apply: reason codes, placeholders, ranges, age groups), over the same
bronze Delta tables read through the Delta log (`deltalake` -> Arrow). A full rebuild: parse,
clean, reason codes, latest version per key, quarantine, every gold table, all materialised as
DuckDB tables.
"""

from __future__ import annotations

import duckdb

from lakehouse import tables
from lakehouse.bronze.schema import TOPIC_TABLES
from lakehouse.gold.common import AGE_BOUNDS, OVER_50
from lakehouse.silver import pins as p
from lakehouse.silver.common import MIN_IND, WHITESPACE
from lakehouse.silver.geo import GEO, LATITUDE, LONGITUDE
from lakehouse.silver.pins import PINS
from lakehouse.silver.reasons import Reason as R
from lakehouse.silver.users import AGE, USERS
from pinlake.settings import TOPICS

WS = WHITESPACE.replace("'", "''")
INTEGER = r"^[+-]?\d+(\.0+)?$"
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DATE_TIME = r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
FOLLOWERS = r"^([+-]?)(\d+\.?\d*|\.\d+)([kKmM]?)$"

MACROS = f"""
CREATE OR REPLACE MACRO clean(x) AS nullif(trim(x, '{WS}'), '');
CREATE OR REPLACE MACRO as_int(x) AS CASE WHEN regexp_matches(x, '{INTEGER}')
    THEN TRY_CAST(regexp_extract(x, '^([+-]?\\d+)', 1) AS BIGINT) END;
CREATE OR REPLACE MACRO as_double(x) AS CASE WHEN regexp_matches(x, '{NUMBER}') THEN TRY_CAST(x AS DOUBLE) END;
CREATE OR REPLACE MACRO as_time(x) AS CASE WHEN regexp_matches(x, '{DATE_TIME}') THEN TRY_CAST(
    regexp_extract(x, '{DATE_TIME}', 1) || 'T' || regexp_extract(x, '{DATE_TIME}', 2)
    || coalesce(nullif(regexp_extract(x, '{DATE_TIME}', 3), ''), ':00')
    || '.' || rpad(substr(regexp_extract(x, '{DATE_TIME}', 4), 2, 6), 6, '0')
    || coalesce(nullif(regexp_extract(x, '{DATE_TIME}', 5), ''), 'Z') AS TIMESTAMPTZ) END;
CREATE OR REPLACE MACRO is_object(t) AS coalesce(starts_with(t, '{{') AND json_valid(t), false);
CREATE OR REPLACE MACRO codes(is_obj, l) AS CASE WHEN is_obj
    THEN list_sort(list_filter(l, c -> c IS NOT NULL)) ELSE ['{R.MALFORMED_JSON}'] END;
CREATE OR REPLACE MACRO bad(present, parsed, valid) AS coalesce(present AND (parsed IS NULL OR NOT valid), false);
"""


def _source(bronze: str, fields: list[str]) -> str:
    """Bronze rows with provenance and each JSON field's cleaned text as f_<field>."""
    paths = ", ".join(f"'$.\"{f}\"'" for f in fields)
    cols = ", ".join(f"clean(v[{i + 1}]) AS f_{f}" for i, f in enumerate(fields))
    return f"""
        SELECT *, {cols} FROM (
            SELECT event_id, received_at, "partition"::INT AS source_partition, "offset" AS source_offset,
                   kafka_timestamp, topic AS source_topic, value, is_object(trim(value, '{WS}')) AS is_obj,
                   CASE WHEN is_obj THEN json_extract_string(trim(value, '{WS}'), [{paths}]) END AS v
            FROM {bronze})
    """


PROVENANCE = "event_id, received_at, source_partition, source_offset, kafka_timestamp, source_topic, value, reasons"

PINS_SQL = f"""
CREATE OR REPLACE TABLE pins_checked AS
SELECT *, codes(is_obj, [
    CASE WHEN ind IS NULL OR ind < {MIN_IND} THEN '{R.INVALID_IND}' END,
    CASE WHEN unique_id IS NULL THEN '{R.INVALID_UNIQUE_ID}' END,
    CASE WHEN bad(f_follower_count IS NOT NULL AND f_follower_count <> '{p.USER_INFO_ERROR}', follower_count,
                  follower_count >= 0) THEN '{R.INVALID_FOLLOWER_COUNT}' END,
    CASE WHEN bad(f_is_image_or_video IS NOT NULL, media_type, true) THEN '{R.INVALID_MEDIA_TYPE}' END,
    CASE WHEN bad(f_downloaded IS NOT NULL, downloaded, true) THEN '{R.INVALID_DOWNLOADED}' END]) AS reasons
FROM (
    SELECT *, as_int(f_index) AS ind,
        CASE WHEN regexp_matches(f_unique_id, '{UUID}') THEN lower(f_unique_id) END AS unique_id,
        nullif(f_title, '{p.NO_TITLE}') AS title,
        CASE WHEN NOT starts_with(f_description, '{p.NO_DESCRIPTION}') THEN f_description END AS description,
        nullif(f_poster_name, '{p.USER_INFO_ERROR}') AS poster_name,
        CASE WHEN f_follower_count <> '{p.USER_INFO_ERROR}' AND regexp_matches(f_follower_count, '{FOLLOWERS}') THEN
            TRY_CAST(round(TRY_CAST(regexp_extract(f_follower_count, '{FOLLOWERS}', 2) AS DECIMAL(30, 6))
                * CASE lower(regexp_extract(f_follower_count, '{FOLLOWERS}', 3)) WHEN 'k' THEN 1000
                  WHEN 'm' THEN 1000000 ELSE 1 END, 0)
                * CASE WHEN regexp_extract(f_follower_count, '{FOLLOWERS}', 1) = '-' THEN -1 ELSE 1 END AS BIGINT)
        END AS follower_count,
        CASE WHEN f_tag_list <> '{p.NO_TAGS}' THEN list_filter(
            list_transform(string_split(f_tag_list, ','), x -> trim(x, '{WS}')), x -> x <> '') END AS tags,
        CASE f_is_image_or_video {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in p.MEDIA_TYPES.items())}
            END AS media_type,
        nullif(f_image_src, '{p.IMAGE_SRC_ERROR}') AS image_src,
        CASE as_int(f_downloaded) WHEN 1 THEN true WHEN 0 THEN false END AS downloaded,
        clean(regexp_replace(f_save_location, '^{p.SAVE_PREFIX}(\\s+|$)', '')) AS save_location,
        lower(f_category) AS category
    FROM ({_source("bronze_pin", ["index", "unique_id", "title", "description", "poster_name", "follower_count",
                                  "tag_list", "is_image_or_video", "image_src", "downloaded", "save_location",
                                  "category"])}))
"""

GEO_SQL = f"""
CREATE OR REPLACE TABLE geo_checked AS
SELECT *, codes(is_obj, [
    CASE WHEN ind IS NULL OR ind < {MIN_IND} THEN '{R.INVALID_IND}' END,
    CASE WHEN event_time IS NULL THEN '{R.INVALID_TIMESTAMP}' END,
    CASE WHEN bad(f_latitude IS NOT NULL, latitude, latitude BETWEEN {LATITUDE[0]} AND {LATITUDE[1]})
        THEN '{R.INVALID_LATITUDE}' END,
    CASE WHEN bad(f_longitude IS NOT NULL, longitude, longitude BETWEEN {LONGITUDE[0]} AND {LONGITUDE[1]})
        THEN '{R.INVALID_LONGITUDE}' END
    ]) AS reasons
FROM (SELECT *, as_int(f_ind) AS ind, as_time(f_timestamp) AS event_time, as_double(f_latitude) AS latitude,
             as_double(f_longitude) AS longitude, f_country AS country
      FROM ({_source("bronze_geo", ["ind", "timestamp", "latitude", "longitude", "country"])}))
"""

USERS_SQL = f"""
CREATE OR REPLACE TABLE users_checked AS
SELECT * REPLACE (CASE WHEN age BETWEEN {AGE[0]} AND {AGE[1]} THEN age::INT END AS age), codes(is_obj, [
    CASE WHEN ind IS NULL OR ind < {MIN_IND} THEN '{R.INVALID_IND}' END,
    CASE WHEN bad(f_age IS NOT NULL, age, age BETWEEN {AGE[0]} AND {AGE[1]}) THEN '{R.INVALID_AGE}' END,
    CASE WHEN bad(f_date_joined IS NOT NULL, date_joined, true) THEN '{R.INVALID_DATE_JOINED}' END]) AS reasons
FROM (SELECT *, as_int(f_ind) AS ind, nullif(concat_ws(' ', f_first_name, f_last_name), '') AS user_name,
             as_int(f_age) AS age, as_time(f_date_joined) AS date_joined
      FROM ({_source("bronze_user", ["ind", "first_name", "last_name", "age", "date_joined"])}))
"""

LATEST = "QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY kafka_timestamp DESC, source_partition DESC, source_offset DESC) = 1"
SILVER = {
    "pins": ("pins_checked", "unique_id", "ind, unique_id, title, description, poster_name, follower_count, tags, "
             "media_type, image_src, downloaded, save_location, category"),
    "geo": ("geo_checked", "ind", "ind, event_time, latitude, longitude, country"),
    "users": ("users_checked", "ind", "ind, user_name, age, date_joined"),
}


def silver_sql() -> list[str]:
    """Statements that build silver pins, geo, users and quarantine from the checked tables."""
    out = [f"""CREATE OR REPLACE TABLE {name} AS SELECT {cols}, event_id, received_at, source_partition,
               source_offset, kafka_timestamp FROM {checked} WHERE len(reasons) = 0 {LATEST.format(key=key)}"""
           for name, (checked, key, cols) in SILVER.items()]
    rejected = " UNION ALL ".join(
        f"SELECT source_topic, source_partition, source_offset, event_id, received_at, value AS raw, reasons, "
        f"now() AS quarantined_at FROM {checked} WHERE len(reasons) > 0" for checked, _, _ in SILVER.values())
    return [*out, f"CREATE OR REPLACE TABLE quarantine AS {rejected}"]


AGE_GROUP = ("CASE " + " ".join(f"WHEN u.age <= {bound} THEN '{label}'" for bound, label in AGE_BOUNDS)
             + f" WHEN u.age > {AGE_BOUNDS[-1][0]} THEN '{OVER_50}' END")
# Each gold table's facts: pins with only the silver table it groups by (contract v2), or users alone.
FACTS = {
    (PINS.name, GEO.name): """SELECT p.category, p.poster_name, p.follower_count, g.country,
        year(timezone('UTC', g.event_time)) AS post_year FROM pins p JOIN geo g ON p.ind = g.ind""",
    (PINS.name, USERS.name): f"""SELECT p.category, p.poster_name, p.follower_count,
        year(timezone('UTC', u.date_joined)) AS join_year, {AGE_GROUP} AS age_group
        FROM pins p JOIN users u ON p.ind = u.ind""",
    (USERS.name,): """SELECT year(timezone('UTC', date_joined)) AS join_year FROM users""",
}


def _top(facts: str, key: str, name: str, score: str) -> str:
    return f"""SELECT {key}, {name}, {score} FROM (
        SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY {score} DESC, {name} ASC) AS rn FROM ({facts}))
        WHERE rn = 1"""


def _gold(spec, facts: str) -> str:
    """One gold table's SELECT over its facts, by the measure it publishes (its last column)."""
    cols, measure = ", ".join(spec.keys), spec.columns[-1]
    present = " AND ".join(f"{k} IS NOT NULL" for k in spec.keys)
    if measure == "category_count":  # the top category per group
        counted = f"SELECT {cols}, category, count(*) AS category_count FROM ({facts}) " \
                  f"WHERE category IS NOT NULL AND {present} GROUP BY ALL"
        return _top(counted, cols, "category", "category_count")
    if measure == "follower_count":  # the top poster per group
        return _top(f"SELECT * FROM ({facts}) WHERE {present} AND poster_name IS NOT NULL "
                    "AND follower_count IS NOT NULL", cols, "poster_name", "follower_count")
    if measure == "median_follower_count":
        return f"""SELECT {cols}, quantile_cont(follower_count, 0.5)::DOUBLE AS median_follower_count
            FROM ({facts}) WHERE follower_count IS NOT NULL AND {present} GROUP BY ALL"""
    return f"SELECT {cols}, count(*) AS {measure} FROM ({facts}) WHERE {present} GROUP BY ALL"


def gold_sql() -> list[str]:
    """Statements that build every gold table as gold_<name>."""
    from lakehouse.gold.tables import gold_tables

    return [f"CREATE OR REPLACE TABLE gold_{spec.name.split('.')[1]} AS {_gold(spec, FACTS[spec.inputs])}"
            for spec in gold_tables()]


def rebuild(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Silver and gold from the bronze-shaped relations bronze_pin, bronze_geo and bronze_user
    registered on `con`; the row counts of the silver tables."""
    con.execute("SET TimeZone = 'UTC'")
    for statement in [MACROS, PINS_SQL, GEO_SQL, USERS_SQL, *silver_sql(), *gold_sql()]:
        con.execute(statement)
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("pins", "geo", "users", "quarantine")}


def run(root: str, threads: int | None = None) -> dict[str, int]:
    """The whole silver + gold rebuild in DuckDB over the bronze Delta tables under `root`."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    for kind, topic in TOPICS.items():
        con.register(f"bronze_{kind}", tables.delta_log(TOPIC_TABLES[topic], root).to_pyarrow_dataset())
    counts = rebuild(con)
    con.close()
    return counts
