"""
### medallion: bronze -> silver -> gold

Promotes what the bronze stream has landed, one step per layer:

1. **silver** (Spark): the bronze rows not processed yet are cleaned, checked by the silver
   quality gate and MERGEd into `silver.*`; rejected rows go to `silver.quarantine`. With the
   parameter `full_refresh` (`pinlake run --full-refresh`), all of bronze is cleaned again and
   replaces silver and the quarantine (after a cleaning rule changed).
2. **gold** (Spark): the `gold.*` tables follow what changed in silver behind the gold gate
   and are published atomically.

Each silver and gold table is an Airflow asset (`orchestration/assets.py`) that its step
declares as an outlet: a step that succeeds records an event for each. The `publish` DAG
(the Data Docs site and the DuckDB database file) is scheduled on the gold assets, so it runs
after every gold step that wrote gold, and never after a skipped one.

Each Spark step is `spark-submit` of the job's file with the Airflow run id as its run id
(it lands in `quality.results`). Every step is idempotent: a retry or a re-run over the same
bronze leaves silver and gold as they were. A step whose tables are already up to date (read
from the Delta logs: no bronze version left unprocessed; gold built from the current silver)
ends **skipped** without starting Spark, so an idle scheduled run costs seconds; gold still
runs after a skipped silver step (gold may be behind silver still). The silver and gold
steps share the one-slot pool `pinlake_lakehouse` with the `maintenance` DAG, so
OPTIMIZE/VACUUM never touches a table while this DAG writes it. One run at a time; no
catch-up of missed intervals. Schedule: `PINLAKE_MEDALLION_SCHEDULE` (default `@hourly`,
`none` for manual runs only); trigger by hand with `pinlake run --wait`, which follows the
`publish` run that this run's gold assets trigger too.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Param

from orchestration.assets import layer_assets
from orchestration.dag_defaults import DEFAULT_ARGS, schedule
from orchestration.spark import spark_step
from pinlake.settings import get_settings

# Above maintenance's weight: when both wait for the lakehouse pool, medallion goes first.
PRIORITY = 10


def silver_up_to_date(context) -> bool:
    """No bronze version is left unprocessed and no full refresh is asked for (the silver step
    then skips its Spark job)."""
    from lakehouse.silver import job

    return not context["params"]["full_refresh"] and job.up_to_date(get_settings())


def gold_up_to_date(context) -> bool:
    """Gold was built from the current silver versions by the current code."""
    from lakehouse.gold import job

    return job.up_to_date(get_settings().lakehouse)


with DAG(
    dag_id="medallion",
    description="bronze -> silver -> gold (publish follows the gold assets)",
    schedule=schedule(get_settings().medallion_schedule),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=DEFAULT_ARGS,
    tags=["pinlake", "medallion", "spark"],
    doc_md=__doc__,
    params={"full_refresh": Param(False, type="boolean",
                                  description="Rebuild silver and the quarantine from all of bronze "
                                              "(after a cleaning rule changed); gold follows.")},
) as dag:
    lakehouse = get_settings().lakehouse
    silver = spark_step("silver", "lakehouse.silver.job", timeout=timedelta(minutes=60),
                        args=["{{ '--full-refresh' if params.full_refresh else '' }}"],
                        priority_weight=PRIORITY, up_to_date=silver_up_to_date,
                        outlets=layer_assets("silver", lakehouse))
    # gold also runs after a silver step that was skipped: gold may be behind silver still
    gold = spark_step("gold", "lakehouse.gold.job", timeout=timedelta(minutes=45),
                      priority_weight=PRIORITY, up_to_date=gold_up_to_date, trigger_rule="none_failed",
                      outlets=layer_assets("gold", lakehouse))

    silver >> gold
