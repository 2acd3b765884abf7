"""Headless Chromium (Debian's package) to look at pages as a person would."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# No network beyond this machine: every request but those to 127.0.0.1 goes to a proxy that is
# not there (loopback bypasses a proxy), so a page that needs the internet shows it; and no
# background traffic.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--proxy-server=http://127.0.0.1:9", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars", "--window-size=1400,2400"]


def chromium() -> str:
    """The chromium executable; `make test` installs it."""
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not installed: run `make test` (it installs Debian's chromium)")
    return found


def _run(url: str, *args: str, budget_ms: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", *args, url],
            capture_output=True, text=True, timeout=120, check=True,
        )


def dom_after_scripts(url: str, budget_ms: int = 20_000) -> str:
    """The page's DOM once its scripts have run (virtual time lets fetches and charts finish)."""
    return _run(url, "--dump-dom", budget_ms=budget_ms).stdout


def screenshot(url: str, name: str, budget_ms: int = 20_000) -> Path:
    """Save a PNG of the page under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    _run(url, f"--screenshot={target}", budget_ms=budget_ms)
    assert target.exists() and target.stat().st_size > 10_000, f"no screenshot at {target}"
    return target
