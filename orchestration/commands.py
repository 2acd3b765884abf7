"""The `pinlake run` command: trigger `medallion` through Airflow's REST API and follow it, and
the `publish` run its gold assets trigger."""

from __future__ import annotations

import time
from collections.abc import Callable

import typer

from pinlake.exits import Exit

DAG_ID = "medallion"
PUBLISH_DAG_ID = "publish"  # scheduled on the gold assets (orchestration/dags/publish.py)
LOG_TAIL_LINES = 40


def follow(client, dag_id: str, run_id: str, on_change: Callable[[str, str, int], None],
           timeout: float, interval: float = 2.0) -> dict:
    """Poll the run until it ends (or `timeout`); report each task's state when it changes."""
    from orchestration.client import TERMINAL_RUN_STATES, AirflowUnreachable

    seen: dict[str, tuple[str, int]] = {}
    deadline = time.monotonic() + timeout
    run: dict = {"state": "unknown"}
    while True:
        try:
            run = client.dag_run(dag_id, run_id)
            instances = client.task_instances(dag_id, run_id)
        except AirflowUnreachable:  # a busy API server: ask again at the next poll
            instances = []
        for ti in sorted(instances, key=lambda t: t.get("start_date") or "~"):
            state = (ti["state"] or "none", ti["try_number"])
            if seen.get(ti["task_id"]) != state:
                seen[ti["task_id"]] = state
                on_change(ti["task_id"], *state)
        if run["state"] in TERMINAL_RUN_STATES or time.monotonic() >= deadline:
            return run
        time.sleep(interval)


def triggered_run(client, dag_id: str, run_id: str, target: str, timeout: float, interval: float = 2.0) -> str | None:
    """The run of `target` that the asset events of `dag_id`'s run `run_id` created, once the
    scheduler has created it (None when it has not within `timeout`)."""
    from orchestration.client import AirflowError, AirflowUnreachable
    from pinlake.supervisor import wait_until

    found: list[str] = []
    errors: list[AirflowError] = []

    def created() -> bool:
        try:
            events = client.asset_events(dag_id, run_id)
        except AirflowUnreachable:
            return False
        except AirflowError as exc:
            # Airflow 3.3 answers 500 while a run the events created is queued with no start date
            # yet (apache/airflow#71360, fixed in a later release): the next answer has it.
            if exc.status != 500:
                raise
            errors[:] = [exc]
            return False
        errors.clear()
        found[:] = sorted({r["run_id"] for e in events for r in e["created_dagruns"] if r["dag_id"] == target})
        return bool(found)

    if wait_until(created, timeout, interval):
        return found[-1]
    if errors:  # still failing at the timeout: say what Airflow said
        raise errors[-1]
    return None


def failed_tasks(client, dag_id: str, run_id: str) -> list[dict]:
    """The run's task instances that failed (upstream_failed ones are only their consequence)."""
    return [ti for ti in client.task_instances(dag_id, run_id) if ti["state"] == "failed"]


def register(app: typer.Typer) -> None:
    """Add `pinlake run` and `pinlake airflow` to the command line."""
    _airflow_command(app)

    @app.command()
    def run(
        wait: bool = typer.Option(False, "--wait", help="Follow the run to its end; exit 1 when it fails."),
        timeout: float = typer.Option(3600.0, help="With --wait: give up after this many seconds (exit 4)."),
        full_refresh: bool = typer.Option(False, "--full-refresh",
                                          help="Rebuild silver and the quarantine from all of bronze (after a "
                                               "cleaning rule changed); gold follows."),
    ) -> None:
        """Trigger the `medallion` DAG (silver -> gold) through Airflow's REST API; with --wait, follow
        it and then the `publish` run (Data Docs, DuckDB file) that its gold assets trigger."""
        import httpx
        from rich.console import Console

        from orchestration.client import AirflowClient, AirflowError, AirflowRefused, AirflowUnreachable
        from pinlake.settings import get_settings

        out, err = Console(), Console(stderr=True)
        settings = get_settings()
        try:
            with AirflowClient.from_settings(settings) as client:
                dag_run = client.trigger(DAG_ID, conf={"full_refresh": full_refresh},
                                         note="pinlake run --full-refresh" if full_refresh else "pinlake run")
                run_id = dag_run["dag_run_id"]
                out.print(f"triggered [bold]{DAG_ID}[/bold] run [bold]{run_id}[/bold] ({dag_run['state']})")
                if not wait:
                    out.print(f"follow it in {client.base_url} or with `pinlake run --wait` next time")
                    return
                deadline = time.monotonic() + timeout
                _follow_and_report(client, DAG_ID, run_id, deadline, out, err)
                gold = {ti["task_id"]: ti["state"] for ti in client.task_instances(DAG_ID, run_id)}.get("gold")
                if gold != "success":
                    out.print(f"gold {gold}: nothing new to publish")
                    return
                out.print(f"waiting for the [bold]{PUBLISH_DAG_ID}[/bold] run that the gold assets trigger")
                published = triggered_run(client, DAG_ID, run_id, PUBLISH_DAG_ID,
                                          timeout=max(deadline - time.monotonic(), 0.0))
                if published is None:
                    err.print(f"[yellow]no {PUBLISH_DAG_ID} run was triggered by the gold assets of {run_id} "
                              f"at the timeout; is the {PUBLISH_DAG_ID} DAG paused?[/yellow]")
                    raise typer.Exit(Exit.TIMEOUT)
                _follow_and_report(client, PUBLISH_DAG_ID, published, deadline, out, err)
        except (AirflowUnreachable, httpx.HTTPError) as exc:
            err.print(f"[red]error:[/red] Airflow is not reachable ({exc!r}); is the stack up (`pinlake up`)?")
            raise typer.Exit(Exit.UNREACHABLE) from exc
        except AirflowError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(Exit.REFUSED if isinstance(exc, AirflowRefused) else Exit.FAILED) from exc


def _airflow_command(app: typer.Typer) -> None:
    @app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def airflow(ctx: typer.Context) -> None:
        """Run an `airflow` command with the local stack's configuration, e.g. `pinlake airflow dags list`."""
        import os

        from orchestration.airflow_home import airflow_env, bin_dir
        from pinlake.settings import get_settings

        settings = get_settings()
        env = {**os.environ, **settings.child_env(), **airflow_env(settings)}
        os.execve(str(bin_dir() / "airflow"), ["airflow", *ctx.args], env)


def _follow_and_report(client, dag_id: str, run_id: str, deadline: float, out, err) -> None:
    """Follow one run to its end, printing each task's state as it changes, and say how it ended:
    exit 1 with the failed task's log tail, 4 when it did not end by the deadline."""
    final = follow(client, dag_id, run_id, timeout=max(deadline - time.monotonic(), 0.0),
                   on_change=lambda task, state, tries: out.print(
                       f"  {task}: {state}" + (f" (try {tries})" if tries > 1 else "")))
    state = final["state"]
    if state == "success":
        out.print(f"[green]{dag_id} run {run_id} succeeded[/green]")
        return
    if state != "failed":
        err.print(f"[yellow]{dag_id} run {run_id} still {state} at the timeout[/yellow]")
        raise typer.Exit(Exit.TIMEOUT)
    err.print(f"[red]{dag_id} run {run_id} failed[/red]")
    for ti in failed_tasks(client, dag_id, run_id):
        lines = client.task_log(dag_id, run_id, ti["task_id"], ti["try_number"])
        err.print(f"[red]failed task: {ti['task_id']}[/red] (try {ti['try_number']}); "
                  f"last {LOG_TAIL_LINES} lines of its log:")
        err.print("\n".join(lines[-LOG_TAIL_LINES:]), markup=False, highlight=False)
    raise typer.Exit(Exit.FAILED)
