"""`pinlake audit`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def audit(
    ledger: Path = typer.Option(None, exists=True, dir_okay=False,
                                help="A `pinlake emit --ledger` file: also check every acknowledged event id "
                                     "is in Kafka."),
    as_json: bool = typer.Option(False, "--json", help="Print the reconciliation as JSON."),
) -> None:
    """Reconcile the emit ledger with Kafka, Kafka with bronze, bronze with silver + quarantine.

    Exits 1 naming every gap (a lost, doubled or unprocessed row), 2 when Kafka cannot be read.
    """
    from rich.console import Console
    from rich.table import Table

    from lakehouse import audit as audit_
    from pinlake.settings import get_settings

    settings = get_settings()
    try:
        reports = audit_.audit(settings, ledger)
    except (LookupError, ConnectionError, TimeoutError) as exc:
        Console(stderr=True).print(f"[red]audit failed:[/] {exc}. Is the stack up (pinlake up)?")
        raise typer.Exit(2) from exc
    except ValueError as exc:  # a malformed ledger line, named with its line number
        Console(stderr=True).print(f"[red]audit failed:[/] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(audit_.as_json(reports) + "\n")
    else:
        console = Console()
        table = Table(title=f"pinlake audit ({settings.lakehouse})")
        columns = (["acknowledged"] if ledger else []) + ["kafka", "bronze", "accepted", "quarantined", "pending"]
        table.add_column("topic")
        for column in columns:
            table.add_column(column, justify="right")
        table.add_column("result")
        for r in reports:
            counts = ([r.acknowledged] if ledger else []) + [r.kafka, r.bronze, r.accepted, r.quarantined, r.pending]
            table.add_row(r.topic, *(f"{n:,}" for n in counts),
                          "[green]clean[/]" if r.clean else f"[red]{len(r.gaps)} gap(s)[/]")
        console.print(table)
        for r in reports:
            for gap in r.gaps:
                console.print(f"[red]gap[/] {r.topic} {gap.stage}: {gap.what}", soft_wrap=True, highlight=False)
        if all(r.clean for r in reports):
            console.print("nothing lost, nothing doubled: every row is accounted for "
                          "(bronze = accepted + quarantined, per topic)")
    if not all(r.clean for r in reports):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `pinlake audit` to the command line."""
    app.command("audit")(audit)
