"""`pinlake query`: DuckDB over the lakehouse, read-only."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum

import typer

from pinlake.exits import Exit


class Format(str, Enum):
    """Output formats of `pinlake query`."""

    table = "table"
    csv = "csv"
    json = "json"


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name or not setting:
            raise typer.BadParameter(f"expected TABLE=VALUE, got {value!r}", param_hint=option)
        pairs[name.strip().lower()] = setting.strip()
    return pairs


def _json_default(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def print_result(result, fmt: Format) -> None:
    """Print an Arrow table as a rich table, CSV or a JSON array of objects."""
    rows = result.to_pylist()
    if fmt is Format.json:
        json.dump(rows, sys.stdout, default=_json_default, indent=2)
        sys.stdout.write("\n")
    elif fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.column_names)
        writer.writerows([row[c] for c in result.column_names] for row in rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*result.column_names)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        Console().print(table)
        Console(stderr=True).print(f"[dim]{len(rows)} row(s)[/dim]")


def query(
    sql: str = typer.Argument(..., help='A read-only SQL query, e.g. "SELECT media_type, count(*) FROM silver.pins GROUP BY ALL".'),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    table_version: list[str] = typer.Option([], "--table-version", metavar="TABLE=N",
                                      help="Time travel: read TABLE at Delta version N (repeatable)."),
    as_of: list[str] = typer.Option([], "--as-of", metavar="[TABLE=]TIMESTAMP",
                                    help="Time travel: read TABLE (or every table) as of an RFC 3339 time."),
) -> None:
    """Query the lakehouse with DuckDB: tables under their contract names (gold.*, silver.*, ...)."""
    from pinlake.settings import get_settings
    from serving.engine import Lakehouse, Snapshot

    try:
        versions = {name: int(v) for name, v in _pairs(table_version, "--table-version").items()}
    except ValueError as exc:
        raise typer.BadParameter("the version must be a whole number", param_hint="--table-version") from exc
    everywhere = [a for a in as_of if "=" not in a]  # a bare timestamp applies to every table
    snapshot = Snapshot(versions=versions, timestamps=_pairs([a for a in as_of if "=" in a], "--as-of"),
                        all_as_of=everywhere[-1] if everywhere else None)
    try:
        # one query per process: scan lazily rather than load whole tables into DuckDB first
        result = Lakehouse(get_settings().lakehouse, snapshot, materialize_bytes=0).query(sql)
    except Exception as exc:  # noqa: BLE001 - a refused query, DuckDB or Delta errors, shown plainly
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(Exit.FAILED) from exc
    print_result(result, fmt)


def register(app: typer.Typer) -> None:
    """Add `pinlake query` to the command line."""
    app.command("query")(query)
