"""The `pinlake` command line: the user's surface over the local stack and the pipeline."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from pinlake.exits import Exit
from pinlake.settings import get_settings

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    epilog="Exit codes: " + ", ".join(f"{code.value} {code.name.lower()}" for code in Exit) + " (README: Exit codes).",
)
console = Console()
err = Console(stderr=True)


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version

        typer.echo(f"pinlake {version('pinlake')}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print pinlake's version and exit."),
) -> None:
    """pinlake: Pinterest-style events -> Kafka -> Delta bronze/silver/gold -> DuckDB."""


def _supervisor():
    from pinlake.services import all_services
    from pinlake.supervisor import Supervisor

    settings = get_settings()
    return Supervisor(settings, all_services(settings))


def _say(name: str, what: str) -> None:
    console.print(f"[bold]{name}[/bold]: {what}")


@app.command()
def up() -> None:
    """Start the local stack (the object store of an s3:// lakehouse without an endpoint, Kafka's
    brokers, ...) and wait until each service is healthy."""
    from pinlake import objectstore
    from pinlake.gotools import ToolMissing
    from pinlake.jvm import JvmArtifactsMissing
    from pinlake.kafka import ClusterChanged
    from pinlake.supervisor import ServiceFailed

    try:
        if not get_settings().local_object_store:
            objectstore.check(get_settings())  # a store of one's own: reachable, the bucket there (run() reports)
        _supervisor().up(on_event=_say)
    except (ServiceFailed, JvmArtifactsMissing, ClusterChanged, ToolMissing) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(Exit.FAILED) from exc
    console.print(f"stack is up; data under {get_settings().data_root}. `pinlake status` shows it.")


@app.command()
def down() -> None:
    """Stop every local service that `pinlake up` started."""
    _supervisor().down(on_event=_say)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print the status as JSON.")) -> None:
    """Show each local service: pid, address, health, log file; each Kafka partition's leader and
    in-sync replicas; the bronze stream's progress. Exit 3 unless all services are healthy."""
    from lakehouse.bronze.status import bronze_status, status_table

    settings = get_settings()
    report = _supervisor().status()
    partitions = kafka_partitions(settings) if any(e["running"] for e in report.values()) else []
    bronze = bronze_status(settings)
    down = [name for name, entry in report.items() if not (entry["running"] and entry["healthy"])]
    if as_json:
        typer.echo(json.dumps({"data_root": str(settings.data_root), "services": report,
                               "kafka_partitions": partitions, "bronze": bronze}, indent=2))
    else:
        console.print(services_table(report))
        if partitions:
            console.print(partitions_table(partitions, settings.min_insync_replicas))
        console.print(status_table(bronze))
        if down:
            err.print(f"not healthy: {', '.join(down)} (`pinlake up` starts what is stopped; "
                      "a service's log says why it is unhealthy)")
    if down:
        raise typer.Exit(Exit.UNREACHABLE)


def services_table(report: dict[str, dict]) -> Table:
    """The services' states; the name, state and pid never cut, paths folded rather than cut."""
    table = Table("service", "state", "pid")
    for column in table.columns:
        column.no_wrap = True
    table.add_column("address", overflow="fold")
    table.add_column("log", overflow="fold")
    for name, entry in report.items():
        state = ("[green]healthy[/green]" if entry["healthy"] else "[yellow]unhealthy[/yellow]") \
            if entry["running"] else "[dim]stopped[/dim]"
        table.add_row(name, state, str(entry["pid"] or "-"), entry["address"], entry["log"])
    return table


def kafka_partitions(settings) -> list[dict]:
    """Each contract topic partition's leader and in-sync replicas; none while no broker answers."""
    from pinlake.kafka import partitions

    try:
        return partitions(settings.bootstrap, timeout=3.0)
    except Exception:  # noqa: BLE001 - no broker answering: the services table says so
        return []


def partitions_table(partitions: list[dict], min_insync: int) -> Table:
    """One row per topic partition: leader, replicas, in-sync replicas; a partition that takes no
    acknowledged write (no leader, or fewer in sync than min.insync.replicas) in red."""
    table = Table("topic", "partition", "leader", "replicas", "in sync", title="Kafka partitions")
    for p in partitions:
        writable = p["leader"] is not None and len(p["isr"]) >= min_insync
        isr = ",".join(map(str, p["isr"]))
        table.add_row(p["topic"], str(p["partition"]), str(p["leader"] or "[red]none[/red]"),
                      ",".join(map(str, p["replicas"])), isr if writable else f"[red]{isr or '-'}[/red]")
    return table


# Each area keeps its commands in its own module, with a `register(app)` that adds them.
# Keep heavy imports (pyspark, fastapi, ...) inside the command functions.

from ingest.commands import register as _register_ingest  # noqa: E402
_register_ingest(app)
from pinlake.http import register as _register_http  # noqa: E402
_register_http(app)
from serving.commands import register as _register_serving  # noqa: E402
_register_serving(app)
from quality.commands import register as _register_quality  # noqa: E402
_register_quality(app)

from lakehouse.silver.commands import register as _register_silver  # noqa: E402
_register_silver(app)
from lakehouse.gold.commands import register as _register_gold  # noqa: E402
_register_gold(app)
from lakehouse.bronze.commands import register as _register_bronze  # noqa: E402
_register_bronze(app)
from orchestration.commands import register as _register_orchestration  # noqa: E402
_register_orchestration(app)
from lakehouse.commands import register as _register_lakehouse  # noqa: E402
_register_lakehouse(app)


def run() -> None:
    """The `pinlake` command: the app, with an object store that cannot serve the lakehouse (a
    wrong endpoint, credentials or bucket) reported as one line naming the setting, from any command."""
    import sys

    from pinlake.objectstore import ObjectStoreError

    try:
        app()
    except ObjectStoreError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(exc.exit)


if __name__ == "__main__":
    run()
