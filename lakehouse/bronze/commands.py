"""The `pinlake bronze` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `pinlake bronze` to the command line."""

    @app.command()
    def bronze(
        once: bool = typer.Option(False, "--once", help="Catch up with Kafka (available-now), then exit."),
    ) -> None:
        """Run the bronze stream: Kafka topics -> Delta bronze tables, exactly once."""
        from lakehouse.bronze.job import run
        from pinlake.settings import get_settings

        raise typer.Exit(run(get_settings(), once=once))
