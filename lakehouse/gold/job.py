"""The gold job: rebuild the eight gold tables of CONTRACT.md section 6 from silver.

Write-audit-publish: every table is built and cached, each passes the quality gate, and only
then is each published by a single Delta overwrite commit (readers see the old table or the
new one, never a mix). A critical failure in any table publishes none of them.

    python -m lakehouse.gold.job [run_id]     # e.g. from spark-submit
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lakehouse import tables
from lakehouse.gold import categories, medians
from lakehouse.gold import users as gold_users
from lakehouse.gold.common import pin_facts
from lakehouse.silver import geo, pins, users
from lakehouse.silver.job import NOT_STARTED, SESSION_CONF, gate_check, gates
from pinlake.settings import Settings, get_settings

# gold table -> its builder over the joined pins (facts); users_joined_by_year reads silver.users.
FROM_FACTS: dict[str, Callable[[DataFrame], DataFrame]] = {
    "gold.category_by_country": categories.build_category_by_country,
    "gold.category_by_year": categories.build_category_by_year,
    "gold.top_user_by_country": gold_users.build_top_user_by_country,
    "gold.category_by_age_group": categories.build_category_by_age_group,
    "gold.median_followers_by_age_group": medians.build_median_followers_by_age_group,
    "gold.median_followers_by_join_year": medians.build_median_followers_by_join_year,
    "gold.median_followers_by_age_group_and_join_year":
        medians.build_median_followers_by_age_group_and_join_year,
}
USERS_JOINED = "gold.users_joined_by_year"
TABLES = (*FROM_FACTS, USERS_JOINED)
SILVER_TABLES = (pins.TABLE, geo.TABLE, users.TABLE)
UP_TO_DATE = "gold is up to date: built from the current silver versions by the current code; nothing rebuilt"


def build_all(facts: DataFrame, users_df: DataFrame) -> dict[str, DataFrame]:
    """Every gold table from the joined pins (`pin_facts`) and silver.users (pure)."""
    built = {name: build(facts) for name, build in FROM_FACTS.items()}
    built[USERS_JOINED] = gold_users.build_users_joined_by_year(users_df)
    return built


def read_silver(spark: SparkSession, root: str, inputs: dict | None = None
                ) -> tuple[DataFrame, DataFrame, DataFrame]:
    """silver.pins, silver.geo, silver.users (empty frames for tables that do not exist yet), at
    the versions `inputs` names when given (the versions a rebuild records)."""
    versions = (inputs or {}).get("silver", {})

    def one(name: str, schema) -> DataFrame:
        if versions.get(name) is not None:
            return tables.read_version(spark, name, versions[name], root)
        return tables.read_or_empty(spark, name, schema, root)

    return one(pins.TABLE, pins.PINS_SCHEMA), one(geo.TABLE, geo.GEO_SCHEMA), one(users.TABLE, users.USERS_SCHEMA)


def run(spark: SparkSession, settings: Settings, run_id: str, check: Callable = gate_check,
        force: bool = False) -> dict[str, int] | None:
    """Rebuild and publish every gold table; the row count of each, or None when gold is current.

    Each gold commit records the silver versions and the gold code it was built from. When
    every gold table's latest commit records the current ones, a rebuild would publish the
    same rows again: it is skipped (unless `force`), so a scheduled run with no new data
    leaves gold's history and the quality results alone.
    """
    root = settings.lakehouse
    inputs = built_from(root)
    if not force and up_to_date(root, inputs):
        return None
    pins_df, geo_df, users_df = read_silver(spark, root, inputs)
    # seven tables aggregate the same join: compute it once
    facts = pin_facts(pins_df, geo_df, users_df).persist(StorageLevel.MEMORY_AND_DISK_DESER)
    # gold tables are small: cache each so that the gate and the write see the same rows
    built = {name: df.persist(StorageLevel.MEMORY_AND_DISK_DESER) for name, df in build_all(facts, users_df).items()}
    try:
        counts = {name: df.count() for name, df in built.items()}
        with gates(check, settings):
            for name, df in built.items():
                check(spark, df, name, run_id, settings)
        # each overwrite is its own atomic commit to its own table: side by side
        metadata = json.dumps(inputs, sort_keys=True)
        tables.side_by_side([partial(tables.overwrite, df, name, root, user_metadata=metadata)
                             for name, df in built.items()], "gold-publish")
        return counts
    finally:
        for df in (*built.values(), facts):
            df.unpersist()


def _code_version() -> str:
    """A digest of the gold transforms' source: new code rebuilds gold even when silver is unchanged."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def up_to_date(root: str, inputs: dict | None = None) -> bool:
    """True when every gold table's latest commit was built from `inputs` (default: the current
    silver versions and gold code); read from the Delta logs, without Spark."""
    inputs = inputs or built_from(root)
    return all(published_from(name, root) == inputs for name in TABLES)


def built_from(root: str) -> dict:
    """What a rebuild now would read: each silver table's current version, and the gold code."""
    return {"silver": {t: tables.version(t, root) for t in SILVER_TABLES}, "code": _code_version()}


def published_from(name: str, root: str) -> dict | None:
    """What the latest commit of gold table `name` was built from (None: unknown or no table)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        (latest,) = DeltaTable(tables.table_path(name, root)).history(1)
    except TableNotFoundError:
        return None
    try:
        return json.loads(latest.get("userMetadata") or "null")
    except ValueError:
        return None


def session(settings: Settings, force: bool = False) -> SparkSession | None:
    """The run's Spark session, or None when gold is up to date and not `force`d (Spark is then
    not started)."""
    if not force and up_to_date(settings.lakehouse):
        return None
    from lakehouse.spark import get_spark

    return get_spark("pinlake-gold", settings, conf=SESSION_CONF)


def main(argv: list[str] | None = None) -> None:
    """Entry point for spark-submit: one run with the process's settings."""
    argv = sys.argv[1:] if argv is None else argv
    run_id = argv[0] if argv else f"gold-{uuid.uuid4()}"
    settings = get_settings()
    spark = session(settings)
    if spark is None:
        print(UP_TO_DATE + NOT_STARTED)
        return
    counts = run(spark, settings, run_id)
    if counts is None:
        print(UP_TO_DATE)
    for name, rows in (counts or {}).items():
        print(f"{name}: {rows} rows")


if __name__ == "__main__":
    main()
