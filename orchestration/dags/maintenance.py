"""
### maintenance: OPTIMIZE and VACUUM every lakehouse table

Once a day, one Spark job (`lakehouse/maintenance.py`) compacts the small files of every
lakehouse table (`OPTIMIZE`, bin-packing; data unchanged) and then deletes the files that no version of
the last `PINLAKE_VACUUM_RETENTION_HOURS` (at least 168, 7 days) still needs (`VACUUM`), so
time travel within that window and slow readers keep working. Before that it writes a
checkpoint of each table and removes the log files past Delta's log retention (30 days): the
bronze stream's own checkpoints leave that to it (docs/BRONZE.md).

It never runs at the same time as a `medallion` run: its task takes the one slot of the
`pinlake_lakehouse` pool that medallion's table-writing tasks also need, and, holding it,
first checks that no medallion run is in progress (one that is would be between two of its
steps); if one is, the task fails fast and is retried later. The bronze stream keeps
appending meanwhile: compaction and blind appends do not conflict in Delta.
Schedule: `PINLAKE_MAINTENANCE_SCHEDULE` (default `0 3 * * *`, 03:00 UTC; `none` for manual).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from orchestration.dag_defaults import DEFAULT_ARGS, schedule
from orchestration.guards import medallion_idle
from orchestration.spark import spark_step
from pinlake.settings import get_settings

settings = get_settings()

with DAG(
    dag_id="maintenance",
    description="OPTIMIZE and VACUUM every Delta table, never during a medallion run",
    schedule=schedule(settings.maintenance_schedule),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args={**DEFAULT_ARGS, "retries": 6, "retry_delay": timedelta(minutes=10)},
    tags=["pinlake", "maintenance", "spark"],
    doc_md=__doc__,
) as dag:
    spark_step(
        "optimize_vacuum", "lakehouse.maintenance", timeout=timedelta(hours=2),
        args=["--retention-hours", str(settings.vacuum_retention_hours)],
        guard=medallion_idle, priority_weight=1,
    )
