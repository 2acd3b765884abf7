"""The HTTP surface of `pinlake api`: the ingest API, the read side and the Data Docs on one app.

Each side builds its own part (ingest: the POSTs and probes; serving: /gold and /dashboard;
quality: the Data Docs site under /quality/); this module composes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from pinlake.settings import Settings, get_settings

if TYPE_CHECKING:  # the command line imports this module: FastAPI only where the app is built
    from fastapi import FastAPI


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole API for these settings (default: the process's settings)."""
    from ingest.app import create_app as ingest_app
    from quality.docs import mount_data_docs
    from serving.api import create_router

    settings = settings or get_settings()
    app = ingest_app(settings)
    app.include_router(create_router(settings))
    _add_pipeline(app, settings)
    mount_data_docs(app, settings)
    return app


def _add_pipeline(app: FastAPI, settings: Settings) -> None:
    @app.get("/dashboard/pipeline", tags=["serving"], summary="Bronze lag per topic and the DAG's latest runs")
    def pipeline() -> dict:
        """The bronze stream's lag (as `pinlake status` shows it) and the `medallion` DAG's latest
        runs from Airflow's REST API; `error` says why runs are missing."""
        from lakehouse.bronze.status import bronze_status
        from orchestration.client import latest_runs

        bronze = bronze_status(settings)
        return {"bronze": {"healthy": bronze["healthy"], "last_batch_at": bronze["last_batch_at"],
                           "topics": {topic: {"lag": entry["lag"], "last_rows_at": entry["last_rows_at"]}
                                      for topic, entry in bronze["topics"].items()}},
                "airflow": latest_runs(settings)}


def api(
    host: str = typer.Option(None, help="Address to bind; default PINLAKE_API_HOST."),
    port: int = typer.Option(None, help="Port; default PINLAKE_API_PORT."),
    workers: int = typer.Option(None, help="uvicorn worker processes, each with its own producer; default "
                                           "PINLAKE_API_WORKERS. /metrics counts for all of them."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request (costs throughput)."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Run the API (ingest, gold tables, dashboard, Data Docs) in the foreground (uvicorn)."""
    import uvicorn

    settings = get_settings()
    workers = workers or settings.api_workers
    if workers > 1:
        from ingest.metrics import share_between_processes

        share_between_processes(settings.run_dir / f"api-metrics-{port or settings.api_port}")
    uvicorn.run("pinlake.http:create_app", factory=True, host=host or settings.api_host,
                port=port or settings.api_port, workers=workers, access_log=access_log,
                log_level=log_level, timeout_graceful_shutdown=15)


def register(app: typer.Typer) -> None:
    """Add `pinlake api` to the command line."""
    app.command("api")(api)
