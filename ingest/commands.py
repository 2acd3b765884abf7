"""`pinlake emit`: send generated or recorded events to the ingest API."""

from __future__ import annotations

from pathlib import Path

import typer

from pinlake.exits import Exit
from pinlake.settings import get_settings


def emit(
    count: int = typer.Option(1000, help="Postings to generate (each is a pin, a geo and a user event)."),
    seed: int = typer.Option(0, help="Seed of the generator: the same seed sends the same events."),
    start: int = typer.Option(0, help="First posting number."),
    rate: float = typer.Option(0.0, help="Events per second; 0 sends as fast as the API takes them."),
    batch_size: int = typer.Option(1, help="Events per request; above 1 uses POST /events."),
    file: Path = typer.Option(None, "--file", exists=True, dir_okay=False,
                              help="Replay this JSONL file of {\"type\", \"record\"} lines instead."),
    ledger: Path = typer.Option(None, help="Append one JSON line {type, event_id} per acknowledged event."),
    url: str = typer.Option(None, help="The API's base URL; default from PINLAKE_API_HOST/PORT."),
    api_key: str = typer.Option(None, help="X-API-Key; default PINLAKE_API_KEY."),
    concurrency: int = typer.Option(4, help="Requests in flight (each entity stays on one)."),
    retries: int = typer.Option(8, help="Retries of a 503 or a connection failure, with backoff."),
) -> None:
    """Send generated postings (or a JSONL file) to the ingest API and summarise what happened."""
    import asyncio
    from contextlib import nullcontext

    from rich.console import Console

    from ingest.emit import Emitter, Unauthorized, count_lines, read_jsonl
    from ingest.emulator import count_events, generate
    from ingest.service import api_url

    settings = get_settings()
    if batch_size > 10_000:
        raise typer.BadParameter("at most 10000 events per request", param_hint="--batch-size")
    key = api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
    events, total = ((read_jsonl(file), count_lines(file)) if file
                     else (generate(count, seed, start), count_events(count, seed)))
    console = Console(stderr=True)
    with _progress(console, total) as (advance, _), \
            (open(ledger, "a", encoding="utf-8") if ledger else nullcontext()) as ledger_file:
        emitter = Emitter(url=url or api_url(settings), api_key=key, rate=rate, batch_size=max(1, batch_size),
                          concurrency=max(1, concurrency), retries=retries, ledger=ledger_file,
                          on_progress=advance)
        try:
            summary = asyncio.run(emitter.run(events))
        except Unauthorized as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(Exit.REFUSED) from exc
    _report(summary)
    if summary.unreachable and not summary.acknowledged and summary.unreachable == summary.failed:
        console.print(f"[red]error:[/red] the API at {url or api_url(settings)} could not be reached; "
                      "is the stack up (`pinlake up`)?")
        raise typer.Exit(Exit.UNREACHABLE)
    if summary.rejected or summary.failed:
        raise typer.Exit(Exit.FAILED)


def _progress(console, total: int):
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    @contextmanager
    def bar():
        with Progress(TextColumn("emit"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=False) as progress:
            task = progress.add_task("events", total=total)
            yield (lambda n: progress.advance(task, n)), progress

    return bar()


def _report(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("sent", "acknowledged", "rejected", "failed", "seconds", "events/s", title="pinlake emit")
    table.add_row(str(summary.sent), str(summary.acknowledged), str(summary.rejected), str(summary.failed),
                  f"{summary.seconds:.1f}", f"{summary.rate:.0f}")
    Console().print(table)
    for problem in summary.problems:  # unwrapped: paths and JSON bodies stay greppable
        typer.echo(f"- {problem}")


def register(app: typer.Typer) -> None:
    """Add `pinlake emit` to the command line."""
    app.command("emit")(emit)
