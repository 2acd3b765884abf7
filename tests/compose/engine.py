"""The Docker engine of the compose test: used when it runs, else started here and stopped after.

`make docker` installs Debian's docker.io (dockerd, containerd, runc) and the Compose v2
plugin; this module only starts `dockerd` as root (overlay2, the default data root, so the
image layer cache outlives a run) and stops exactly the daemon it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from pinlake.supervisor import wait_until

START_TIMEOUT = 60.0


def engine_answers() -> bool:
    """True when `docker info` reaches a running engine."""
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def compose_available() -> bool:
    """True when the docker CLI has the Compose v2 plugin."""
    return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0


class Engine:
    """A running Docker engine; `started` says whether this process started it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def started(self) -> bool:
        """True when this object started the daemon (and so will stop it)."""
        return self.process is not None

    def ensure(self) -> None:
        """Use the running engine, or start `dockerd` and wait until it answers."""
        if engine_answers():
            return
        missing = [tool for tool in ("dockerd", "docker", "debootstrap") if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} not installed: run `make docker` (it installs docker.io)")
        if os.geteuid() != 0:
            raise RuntimeError("dockerd runs as root here; run the compose test as root")
        log = open(self.workdir / "dockerd.log", "ab")
        self.process = subprocess.Popen(["dockerd", "--pidfile", str(self.workdir / "dockerd.pid")],
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(lambda: self.process.poll() is None and engine_answers(), START_TIMEOUT, 1.0):
            self.stop()
            raise RuntimeError(f"dockerd did not answer within {START_TIMEOUT:.0f}s; see {self.workdir / 'dockerd.log'}")

    def stop(self) -> None:
        """Stop the daemon this object started (it stops its own containerd), nothing else."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
