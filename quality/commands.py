"""`pinlake quality`: the latest run's validation results and where the Data Docs are."""

from __future__ import annotations

import json

import typer

from pinlake.exits import Exit


def _result(outcome) -> str:
    if outcome.success:
        return "[green]pass[/green]"
    return "[red]FAIL[/red]" if outcome.severity == "critical" else "[yellow]warn[/yellow]"


def _print_table(outcomes, console) -> None:
    from rich.table import Table

    table = Table("table", "expectation", "severity", "result", "unexpected", title=f"run {outcomes[0].run_id}")
    for o in outcomes:
        unexpected = "-" if o.unexpected_count is None else str(o.unexpected_count)
        table.add_row(o.table, o.expectation, o.severity, _result(o), unexpected)
    console.print(table)


def _as_json(outcomes, index: str) -> str:
    rows = [{"table": o.table, "expectation": o.expectation, "severity": o.severity, "success": o.success,
             "unexpected_count": o.unexpected_count, "observed_value": o.observed_value,
             "validated_at": o.validated_at.isoformat()} for o in outcomes]
    return json.dumps({"run_id": outcomes[0].run_id if outcomes else None, "data_docs": index,
                       "results": rows}, indent=2)


def register(app: typer.Typer) -> None:
    """Add `pinlake quality` to the command line."""

    @app.command()
    def quality(
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
        build_docs: bool = typer.Option(False, "--build-docs", help="Rebuild the Data Docs site first."),
    ) -> None:
        """Latest run's validation results and the Data Docs path; exit 1 on a critical failure."""
        from rich.console import Console

        from pinlake.settings import get_settings
        from quality.docs import DOCS_URL_PREFIX, build_data_docs, index_path
        from quality.results import latest_run

        settings, console = get_settings(), Console()
        index = build_data_docs(settings) if build_docs else index_path(settings)
        outcomes = latest_run(settings)
        if as_json:
            typer.echo(_as_json(outcomes, str(index)))
        elif not outcomes:
            console.print("no validation recorded yet: run the silver and gold jobs (`pinlake run`).")
        else:
            _print_table(outcomes, console)
        if not as_json:
            built = "" if index.exists() else " (not built yet)"
            # soft_wrap: a path or URL cut in two cannot be pasted.
            console.print(f"Data Docs: {index}{built}", soft_wrap=True, highlight=False)
            console.print(f"served by the API at http://{settings.api_host}:{settings.api_port}{DOCS_URL_PREFIX}/",
                          soft_wrap=True, highlight=False)
        failed = sorted({o.table for o in outcomes if o.critical_failure})
        if failed:
            if not as_json:
                console.print(f"[red]critical expectations failed[/red] in {', '.join(failed)}")
            raise typer.Exit(Exit.FAILED)
