"""`make demo`: the main job on the local stack, from `pinlake up` to answers from gold.

Every step is the `pinlake` command a user would type, run as a child process with its output
on this terminal: up, emit (a progress bar, and a ledger of every acknowledged event id), a
wait until bronze holds everything Kafka holds, run --wait, the gold answers (DuckDB),
the quality summary and `pinlake audit --ledger`. The stack stays up afterwards.

Run: python -m pinlake.demo [--postings N] [--seed S]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table

from pinlake.settings import Settings, get_settings

PINLAKE = [sys.executable, "-m", "pinlake.cli"]

SHOWN = 10  # rows printed per answer; `pinlake query` shows the rest

console = Console()


class StepFailed(RuntimeError):
    """A demo step failed; the message says which and what to look at."""


def step(number: int, title: str) -> None:
    console.rule(f"[bold]{number}/7 {title}")


def pinlake(*args: str, settings: Settings) -> None:
    """Run `pinlake <args>` with this terminal as its output; fail the demo on a non-zero exit."""
    started = time.monotonic()
    done = subprocess.run([*PINLAKE, *args], env=None)
    if done.returncode != 0:
        raise StepFailed(f"`pinlake {' '.join(args)}` exited {done.returncode}; logs: {settings.log_dir}")
    console.print(f"[dim]pinlake {' '.join(args)}: {time.monotonic() - started:.0f}s[/dim]")


def wait_for_bronze(settings: Settings, timeout: float) -> None:
    """Follow the bronze stream's lag (Kafka's end offsets minus what bronze holds) down to zero."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from lakehouse.bronze.status import bronze_status

    deadline = time.monotonic() + timeout
    with Progress(TextColumn("bronze"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  console=console) as progress:
        task = progress.add_task("", total=None)
        while True:
            topics = bronze_status(settings)["topics"]
            lags = [t["lag"] for t in topics.values()]
            ends = [t["kafka_end"] for t in topics.values()]
            if None not in lags and None not in ends:
                total = sum(ends)
                progress.update(task, total=total, completed=total - sum(lags), description=f"lag {sum(lags):,}")
                if sum(lags) == 0:
                    return
            if time.monotonic() > deadline:
                raise StepFailed(f"bronze did not catch up with Kafka within {timeout:.0f}s (lag {lags}); "
                                 f"see `pinlake status` and {settings.log_dir / 'bronze.log'}")
            time.sleep(1.0)  # polling interval of a progress display


def print_answers(settings: Settings) -> None:
    """Every gold table under the question it answers, from DuckDB over the Delta log."""
    from lakehouse import catalog
    from serving.catalog import display_order
    from serving.engine import Lakehouse

    lakehouse = Lakehouse(settings.lakehouse)
    try:
        for table, question in ((spec.name, spec.description) for spec in catalog.layer("gold")):
            rows = lakehouse.query(f"SELECT * FROM {table} ORDER BY {display_order(table)}")
            shown = Table(*rows.column_names, title=f"{question}  ({table})", title_justify="left")
            for row in rows.slice(0, SHOWN).to_pylist():
                shown.add_row(*("" if v is None else f"{v:,.1f}" if isinstance(v, float) else str(v)
                                for v in row.values()))
            console.print(shown)
            if rows.num_rows > SHOWN:
                console.print(f"[dim]{SHOWN} of {rows.num_rows} rows; all: pinlake query \"SELECT * FROM {table}\""
                              "[/dim]", highlight=False)
    finally:
        lakehouse.close()


def print_quality(settings: Settings) -> None:
    """Per table: expectations passed, warnings, critical failures of the latest run; the Data Docs."""
    from quality.docs import DOCS_URL_PREFIX, index_path
    from quality.results import latest_run

    outcomes = latest_run(settings)
    summary = Table("table", "passed", "warnings", "critical failures",
                    title=f"quality gates, run {outcomes[0].run_id if outcomes else '-'}", title_justify="left")
    for table in dict.fromkeys(o.table for o in outcomes):
        mine = [o for o in outcomes if o.table == table]
        warnings = sum(not o.success and not o.critical_failure for o in mine)
        critical = sum(o.critical_failure for o in mine)
        summary.add_row(table, str(sum(o.success for o in mine)), str(warnings),
                        f"[red]{critical}[/red]" if critical else "0")
    console.print(summary)
    console.print(f"Data Docs: {index_path(settings)}", soft_wrap=True, highlight=False)
    console.print(f"      or http://{settings.api_host}:{settings.api_port}{DOCS_URL_PREFIX}/ "
                  "(every expectation: pinlake quality)", soft_wrap=True, highlight=False)


def print_next(settings: Settings) -> None:
    """Where to look next, and how to stop the stack."""
    from lakehouse import catalog
    from orchestration.airflow_home import passwords_file

    api = f"http://{settings.api_host}:{settings.api_port}"
    first_gold = catalog.layer("gold")[0].name.partition(".")[2]
    console.rule("[bold]explore")
    console.print(f"""\
The stack is still up (pinlake status shows each service).
  dashboard        {api}/dashboard
  gold over HTTP   {api}/gold/{first_gold}
  ad-hoc SQL       pinlake query "SELECT * FROM silver.quarantine LIMIT 5"
  any DuckDB       duckdb {settings.data_root / 'serving' / 'pinlake.duckdb'}
  Airflow          http://{settings.airflow_host}:{settings.airflow_port} (user admin, password in {passwords_file(settings)})
  more events      pinlake emit --count 1000, then pinlake run --wait
  prove it         pinlake audit
Stop everything:   pinlake down""", soft_wrap=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=20_000, help="Postings to send (each a pin, geo, user).")
    parser.add_argument("--seed", type=int, default=7, help="Seed of the event generator.")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds for each long step.")
    args = parser.parse_args(argv)
    settings = get_settings()
    ledger = settings.data_root / "demo" / "ledger.jsonl"
    began = time.monotonic()
    try:
        step(1, "start the local stack: Kafka, ingest API, bronze stream, Airflow")
        pinlake("up", settings=settings)
        step(2, f"send {args.postings:,} postings through the ingest API")
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.unlink(missing_ok=True)
        pinlake("emit", "--count", str(args.postings), "--seed", str(args.seed), "--batch-size", "500",
                "--ledger", str(ledger), settings=settings)
        step(3, "wait until bronze holds every Kafka offset")
        wait_for_bronze(settings, args.timeout)
        step(4, "run the medallion DAG (silver, gold) and follow it, then the publish DAG its gold assets trigger")
        pinlake("run", "--wait", "--timeout", str(int(args.timeout)), settings=settings)
        step(5, "the answers, from the gold tables (DuckDB over the Delta log)")
        print_answers(settings)
        step(6, "data quality")
        print_quality(settings)
        step(7, "audit: every acknowledged event through Kafka, bronze, silver and quarantine")
        pinlake("audit", "--ledger", str(ledger), settings=settings)
    except StepFailed as failed:
        console.print(f"[red]demo failed:[/red] {failed}", highlight=False)
        return 1
    console.print(f"[green]demo done[/green] in {time.monotonic() - began:.0f}s")
    print_next(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
