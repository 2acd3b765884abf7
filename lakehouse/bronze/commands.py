"""The `pinlake bronze` command."""

from __future__ import annotations

import logging
import os

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

        code = run(get_settings(), once=once)
        if code != 0:
            # A failed stream may have lost its JVM: the py4j connections' finalizers then log at
            # interpreter exit and can hang there on a logging lock (seen once: a driver whose JVM
            # was SIGKILLed never exited). Flush the logs and leave without finalizers; a JVM still
            # alive exits by itself when its driver's pipe closes.
            logging.shutdown()
            os._exit(code)
        raise typer.Exit(code)
