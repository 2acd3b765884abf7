"""Images of the compose test, built here from Debian's packages (Docker Hub is out of reach).

A Debian bookworm base (debootstrap, then `docker import`, once per machine) and, on it, the
stand-ins for the public images the compose file names through variables: `python` (the
project image's base), `kafka` and `postgres` (docker/<name>/Dockerfile). Docker's layer
cache makes a second build take seconds. Users build and run on the public defaults.
"""

from __future__ import annotations

import subprocess
import time

from tests import PROJECT_ROOT

DOCKER_DIR = PROJECT_ROOT / "docker"
BASE = "pinlake-test/debian:bookworm"
STAND_INS = ("python", "kafka", "postgres")
TAG = "compose-test"


def image_name(name: str) -> str:
    """The tag of one stand-in image."""
    return f"pinlake-test/{name}:{TAG}"


def exists(image: str) -> bool:
    """True when the engine holds `image`."""
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def _run(args: list[str], timeout: float) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def build_base(timeout: float = 900) -> None:
    """The Debian base image, made once per machine with debootstrap."""
    if not exists(BASE):
        _run(["sh", str(DOCKER_DIR / "debian-base.sh"), BASE], timeout)


def build_stand_ins(timeout: float = 1800) -> dict[str, float]:
    """Build every stand-in on the base; returns the seconds each build took."""
    build_base(timeout)
    seconds = {}
    for name in STAND_INS:
        started = time.monotonic()
        _run(["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={BASE}", "-t", image_name(name),
              str(DOCKER_DIR / name)], timeout)
        seconds[name] = time.monotonic() - started
    return seconds


def image_size(image: str) -> int:
    """The image's size in bytes, as the engine reports it."""
    out = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", image],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())
