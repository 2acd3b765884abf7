"""`pinlake gold`: rebuild the gold tables from silver."""

from __future__ import annotations

import json
import uuid

import typer

from pinlake.exits import Exit


def register(app: typer.Typer) -> None:
    """Add `pinlake gold` to the command line."""

    @app.command()
    def gold(
        run_id: str = typer.Option(None, "--run-id", help="Run id for quality results (default: a new one)."),
        force: bool = typer.Option(False, "--force", help="Rebuild even when gold is up to date with silver."),
        full: bool = typer.Option(False, "--full", help="Compute every table from all of silver, not from what "
                                                        "changed since the last run (implies --force)."),
        as_json: bool = typer.Option(False, "--json", help="Print the row counts as JSON."),
    ) -> None:
        """Run the gold job once: update the gold tables from what changed in silver, and publish them."""
        from lakehouse.gold import job
        from pinlake.settings import get_settings
        from quality.gate import QualityGateFailed

        settings = get_settings()
        run_id = run_id or f"gold-{uuid.uuid4()}"
        try:
            with job.lineage_run(settings, run_id):  # no parent run: started by hand
                spark = job.session(settings, force or full)  # None: up to date, and Spark not started
                counts = job.run(spark, settings, run_id, force=force or full, full=full) if spark is not None else None
        except QualityGateFailed as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(Exit.FAILED) from exc
        if as_json:
            typer.echo(json.dumps({"run_id": run_id, "rebuilt": counts is not None, "tables": counts or {}}, indent=2))
            return
        if counts is None:
            typer.echo(job.UP_TO_DATE + (job.NOT_STARTED if spark is None else ""))
        for name, rows in (counts or {}).items():
            typer.echo(f"gold run {run_id}: {name}: {rows} rows")
