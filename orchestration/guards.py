"""Checks a task makes before it touches the lakehouse."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException


class MedallionRunning(AirflowException):
    """A medallion run is in progress: maintenance must wait (the task is retried later)."""


def medallion_idle(context) -> None:
    """Raise when a medallion run is running (maintenance holds the lakehouse pool when it asks)."""
    running = context["ti"].get_dr_count(dag_id="medallion", states=["running"])
    if running:
        raise MedallionRunning(f"{running} medallion run(s) in progress; maintenance will retry later")
