"""The API's read side: allow-listed gold tables as paginated JSON, and the dashboard."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse

from pinlake.settings import Settings
from serving.catalog import display_order, gold_tables
from serving.engine import Lakehouse

STATIC = Path(__file__).parent / "static"


def _plotly_js() -> Path:
    """plotly.js from the pinned browser assets (pinlake/web_assets.txt)."""
    from pinlake import web

    return web.package_dir(web.pinned()["plotly.js-dist-min"], web.require()) / "plotly.min.js"


def page(lakehouse: Lakehouse, table: str, limit: int, offset: int) -> dict:
    """One page of a gold table, in a stable order."""
    name = f"gold.{table}"
    if name not in gold_tables():
        raise HTTPException(404, detail={"error": f"{table!r} is not a gold table served here",
                                         "tables": [served.split(".", 1)[1] for served in gold_tables()]})
    if name not in lakehouse.tables():
        raise HTTPException(404, detail={"error": f"{name} has not been published yet"})
    total = lakehouse.query(f"SELECT count(*) AS n FROM {name}").column("n")[0].as_py()
    rows = lakehouse.query(f"SELECT * FROM {name} ORDER BY {display_order(name)} LIMIT {limit} OFFSET {offset}") \
        .to_pylist()
    following = offset + len(rows)
    return {"table": name, "total": total, "limit": limit, "offset": offset, "rows": rows,
            "next_offset": following if following < total else None}


def create_router(settings: Settings) -> APIRouter:
    """Routes for /gold/{table} and /dashboard, reading the lakehouse of these settings."""
    router = APIRouter()
    lakehouse = Lakehouse(settings.lakehouse)

    @router.get("/gold/{table}", tags=["serving"], summary="One page of an allow-listed gold table",
                responses={404: {"description": "Not one of the gold tables, or not published yet"}})
    def gold_table(table: str, limit: int = Query(100, ge=1, le=10_000),
                   offset: int = Query(0, ge=0)) -> dict:
        return page(lakehouse, table, limit, offset)

    @router.get("/dashboard", include_in_schema=False)
    def dashboard() -> HTMLResponse:
        return HTMLResponse((STATIC / "dashboard.html").read_text())

    @router.get("/dashboard/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    @router.get("/dashboard/tables", tags=["serving"], summary="The gold tables: name, question, keys, columns")
    def dashboard_tables() -> list[dict]:
        from lakehouse import catalog

        return [{"name": spec.name, "description": spec.description, "keys": list(spec.keys),
                 "columns": spec.columns} for spec in catalog.layer("gold")]

    @router.get("/dashboard/status", tags=["serving"], summary="Freshness of each layer and quality")
    def dashboard_status() -> dict:
        from serving.freshness import status

        return status(lakehouse)

    @router.get("/dashboard/lineage", tags=["serving"],
                summary="The lineage graph from the stored OpenLineage events: tables, jobs, reads and writes")
    def dashboard_lineage() -> dict:
        from lakehouse.lineage.graph import lineage_graph
        from lakehouse.lineage.store import read_events

        columns = ["event_time", "event_type", "job_namespace", "job_name", "run_id", "parent_job_name",
                   "inputs", "outputs"]
        return lineage_graph(read_events(settings.lakehouse, columns))

    return router
