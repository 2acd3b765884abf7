"""The ingest API as a local service of `pinlake up`: `pinlake api` under the supervisor."""

from __future__ import annotations

import sys

import httpx

from pinlake.settings import Settings
from pinlake.supervisor import Service


def api_url(settings: Settings) -> str:
    """Where clients on this machine reach the API (a wildcard bind is reached on loopback)."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    return f"http://{host}:{settings.api_port}"


def healthy(settings: Settings, timeout: float = 2.0) -> bool:
    """True when GET /healthz answers 200."""
    try:
        return httpx.get(f"{api_url(settings)}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


API = Service(
    name="api",
    command=lambda s: [sys.executable, "-m", "pinlake.cli", "api"],
    address=api_url,
    healthy=healthy,
    start_timeout=60.0,
    extra=lambda s: {"url": api_url(s), "docs": f"{api_url(s)}/docs"},
)


def ready(settings: Settings, timeout: float = 3.0) -> bool:
    """True when GET /readyz answers 200 (Kafka reachable, topics there)."""
    try:
        return httpx.get(f"{api_url(settings)}/readyz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
