"""
### publish: the Data Docs site and the DuckDB database file, after gold changed

Scheduled on the gold tables' Airflow assets (`orchestration/assets.py`): the `medallion`
DAG's gold step records an event for each gold table it wrote, and once every gold asset has
one since the last publish run, this DAG runs: it rebuilds the Data Docs site from the
validation results (`quality.results` and GX's stores) and refreshes the DuckDB database file
from the published Delta tables. A gold step that skipped (nothing changed) records no event,
so nothing is published again for nothing. One run at a time; `pinlake run --wait` follows the
publish run its medallion run triggered.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, task

from orchestration.assets import layer_assets
from orchestration.dag_defaults import DEFAULT_ARGS
from pinlake.settings import get_settings

with DAG(
    dag_id="publish",
    description="Data Docs and the DuckDB file, after the gold assets change",
    schedule=layer_assets("gold", get_settings().lakehouse),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=DEFAULT_ARGS,
    tags=["pinlake", "medallion"],
    doc_md=__doc__,
) as dag:

    # inlets: the gold tables it publishes, in the task's lineage events (OpenLineage)
    @task(execution_timeout=timedelta(minutes=20), inlets=layer_assets("gold", get_settings().lakehouse))
    def publish() -> dict[str, str]:
        """Rebuild the Data Docs site and the DuckDB database file; returns their paths."""
        from quality.docs import build_data_docs
        from serving.database import refresh_database

        settings = get_settings()
        return {"data_docs": str(build_data_docs(settings)), "duckdb": str(refresh_database(settings))}

    publish()
