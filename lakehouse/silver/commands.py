"""`pinlake silver`: promote the bronze rows not processed yet into silver."""

from __future__ import annotations

import json
import uuid

import typer

from pinlake.exits import Exit


def register(app: typer.Typer) -> None:
    """Add `pinlake silver` to the command line."""

    @app.command()
    def silver(
        run_id: str = typer.Option(None, "--run-id", help="Run id for quality results (default: a new one)."),
        as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
        full_refresh: bool = typer.Option(False, "--full-refresh",
                                          help="Rebuild silver and the quarantine from all of bronze (after a "
                                               "cleaning rule changed), behind the same gates."),
    ) -> None:
        """Run the silver job once: new bronze rows -> silver.pins/geo/users and silver.quarantine."""
        from lakehouse.silver import job
        from pinlake.settings import get_settings
        from quality.gate import QualityGateFailed

        settings = get_settings()
        run_id = run_id or f"silver-{uuid.uuid4()}"
        try:
            with job.lineage_run(settings, run_id):  # no parent run: started by hand
                spark = job.session(settings, full_refresh)  # None: nothing new, and Spark not started
                summaries = job.run(spark, settings, run_id, full_refresh=full_refresh) if spark is not None else []
        except QualityGateFailed as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(Exit.FAILED) from exc
        if as_json:
            typer.echo(json.dumps({"run_id": run_id, "topics": summaries}, indent=2))
            return
        if spark is None:
            typer.echo(job.UP_TO_DATE + job.NOT_STARTED)
        elif not summaries:
            typer.echo(f"silver run {run_id}: no new bronze rows")
        for s in summaries:
            typer.echo(f"silver run {run_id}: {s['topic']} bronze v{s['bronze_version']}: {s['rows']} new rows, "
                       f"{s['accepted']} accepted, {s['quarantined']} quarantined")
