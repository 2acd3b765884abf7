"""`pinlake audit`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from pinlake.exits import Exit


def audit(
    ledger: Path = typer.Option(None, exists=True, dir_okay=False,
                                help="A `pinlake emit --ledger` file: also check every acknowledged event id "
                                     "is in Kafka."),
    as_json: bool = typer.Option(False, "--json", help="Print the reconciliation as JSON."),
) -> None:
    """Reconcile the emit ledger with Kafka, Kafka with bronze, bronze with silver + quarantine.

    Exits 1 naming every gap (a lost, doubled or unprocessed row), 3 when Kafka cannot be reached.
    """
    from rich.console import Console

    from lakehouse import audit as audit_
    from pinlake.settings import get_settings

    settings = get_settings()
    try:
        reports = audit_.audit(settings, ledger)
    except (ConnectionError, TimeoutError) as exc:
        Console(stderr=True).print(f"[red]audit failed:[/] {exc}. Is the stack up (pinlake up)?")
        raise typer.Exit(Exit.UNREACHABLE) from exc
    except LookupError as exc:  # Kafka answers, without the pipeline's topics
        Console(stderr=True).print(f"[red]audit failed:[/] {exc}. Is the stack up (pinlake up)?")
        raise typer.Exit(Exit.FAILED) from exc
    except ValueError as exc:  # a malformed ledger line, named with its line number
        Console(stderr=True).print(f"[red]audit failed:[/] {exc}")
        raise typer.Exit(Exit.USAGE) from exc
    if as_json:
        sys.stdout.write(audit_.as_json(reports) + "\n")
    else:
        console = Console()
        console.print(audit_table(reports, settings.lakehouse, with_ledger=ledger is not None))
        for r in reports:
            for gap in r.gaps:
                console.print(f"[red]gap[/] {r.topic} {gap.stage}: {gap.what}", soft_wrap=True, highlight=False)
        if all(r.clean for r in reports):
            console.print("nothing lost, nothing doubled: every row is accounted for "
                          "(bronze = accepted + quarantined, per topic)")
    if not all(r.clean for r in reports):
        raise typer.Exit(Exit.FAILED)


def audit_table(reports, lakehouse: str, with_ledger: bool):
    """The reconciliation, a column per topic and a row per stage: at 80 columns nothing is cut."""
    from rich.table import Table

    stages = (["acknowledged"] if with_ledger else []) + ["kafka", "bronze", "accepted", "quarantined", "pending"]
    table = Table(title=f"pinlake audit ({lakehouse})", title_justify="left")
    table.add_column("", no_wrap=True)
    for r in reports:
        table.add_column(r.topic, justify="right", no_wrap=True)
    for stage in stages:
        table.add_row(stage, *(f"{getattr(r, stage):,}" for r in reports))
    table.add_row("result", *("[green]clean[/]" if r.clean else f"[red]{len(r.gaps)} gap(s)[/]" for r in reports))
    return table


def register(app: typer.Typer) -> None:
    """Add `pinlake audit` to the command line."""
    app.command("audit")(audit)
