"""What both pinlake DAGs share: default task arguments and the schedule setting's meaning."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_ARGS = {
    "owner": "pinlake",
    # Transient failures (a busy machine, a JVM that could not start) deserve another try;
    # every step is idempotent, so a retry is safe.
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=1),
}


def schedule(value: str) -> str | None:
    """The DAG's `schedule` from a PINLAKE_*_SCHEDULE value: `none` means manual runs only."""
    return None if value.strip().lower() in ("", "none", "null") else value.strip()
