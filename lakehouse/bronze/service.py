"""The bronze stream as a local service of `pinlake up`."""

from __future__ import annotations

import sys

from lakehouse.bronze.metrics import metrics_url
from lakehouse.bronze.state import checkpoint_dir
from lakehouse.bronze.status import healthy
from pinlake.supervisor import Service


def command(settings) -> list[str]:
    """`pinlake bronze`, run by this interpreter."""
    return [sys.executable, "-m", "pinlake.cli", "bronze"]


BRONZE = Service(
    name="bronze",
    command=command,
    address=lambda s: f"{s.lakehouse}/bronze",
    healthy=healthy,
    # Healthy after Spark's start and the first trigger: tens of seconds, more on a busy machine.
    start_timeout=300.0,
    extra=lambda s: {"checkpoint": str(checkpoint_dir(s)), "trigger_seconds": s.bronze_trigger_seconds,
                     "metrics": metrics_url(s)},
)
