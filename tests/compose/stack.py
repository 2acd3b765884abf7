"""One compose project of the test: its own name, free host ports, secrets and images.

Compose reads only the env file written here (never a developer's `.env`) and a minimal
process environment, so the project runs the same on any machine and never clashes with
another stack: the name prefixes its containers, network and volumes.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

from pinlake.settings import Settings
from tests import PROJECT_ROOT
from pinlake.supervisor import wait_until
from tests.compose.images import image_name
from tests.conftest import free_port

# Services that keep running (each has a healthcheck) and the ones that run once and exit 0.
LONG_RUNNING = ("kafka", "api", "bronze", "spark-server", "postgres", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-triggerer")
CLUSTER = ("spark-master", "spark-worker")
ONE_SHOT = ("kafka-topics", "airflow-init")


PREFIX = "pinlake-test-"


def remove_leftovers() -> list[str]:
    """Remove the projects of compose tests whose process is gone (killed before its teardown;
    the engine restarts their containers, which then take the machine's cores): their
    containers, networks and volumes. Returns their names."""
    listed = subprocess.run(["docker", "ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}'],
                            capture_output=True, text=True, check=True).stdout.split()
    stale = sorted({name for name in listed if name.startswith(PREFIX) and not _alive(name)})
    for name in stale:
        label = ["--filter", f"label=com.docker.compose.project={name}"]
        for kind, remove in ((["ps", "-aq"], ["rm", "-f"]), (["network", "ls", "-q"], ["network", "rm"]),
                             (["volume", "ls", "-q"], ["volume", "rm", "-f"])):
            ids = subprocess.run(["docker", *kind, *label], capture_output=True, text=True, check=True).stdout.split()
            if ids:
                subprocess.run(["docker", *remove, *ids], capture_output=True, check=True)
    return stale


def _alive(name: str) -> bool:
    """Whether the test process named in project `name` still runs (names without one count as gone)."""
    pid = name[len(PREFIX):].split("-", 1)[0]
    return pid.isdigit() and Path(f"/proc/{pid}").exists()


class ComposeProject:
    """`docker compose` on the repository's compose file, as one isolated project."""

    def __init__(self, workdir: Path, **settings: str):
        # the test process's pid in the name: a project whose process is gone is a leftover
        self.name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.workdir = workdir
        self.env_file = workdir / "compose.env"
        self.values = {
            "PINLAKE_IMAGE": image_name("pinlake"), "PYTHON_IMAGE": image_name("python"),
            "KAFKA_IMAGE": image_name("kafka"), "POSTGRES_IMAGE": image_name("postgres"),
            "KAFKA_HOST_PORT": str(free_port()), "API_HOST_PORT": str(free_port()),
            "AIRFLOW_HOST_PORT": str(free_port()), "SPARK_UI_HOST_PORT": str(free_port()),
            "PINLAKE_API_KEY": secrets.token_urlsafe(18), "POSTGRES_PASSWORD": secrets.token_urlsafe(18),
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(18), "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(24),
            "AIRFLOW_FERNET_KEY": _fernet_key(),
            **settings,
        }
        self.write_env()

    def write_env(self, **changes: str) -> None:
        """(Re)write the env file, with `changes` applied."""
        self.values.update(changes)
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.values.items()))

    def port(self, name: str) -> int:
        """A published host port, by its variable (API_HOST_PORT, ...)."""
        return int(self.values[name])

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """Run `docker compose <args>` for this project; output captured, failure raised."""
        command = ["docker", "compose", "-p", self.name, "-f", str(PROJECT_ROOT / "docker-compose.yml"),
                   "--env-file", str(self.env_file), *args]
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=self.workdir)
        if check and done.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return done

    def containers(self) -> dict[str, dict]:
        """Each service's container: State, Health, ExitCode (`docker compose ps -a`)."""
        out = self.compose("--profile", "cluster", "ps", "-a", "--format", "json").stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return {row["Service"]: row for row in rows}

    def ready(self, long_running=LONG_RUNNING, one_shot=ONE_SHOT) -> bool:
        """Every long-running service healthy and every one-shot service exited 0."""
        found = self.containers()
        return (all(found.get(s, {}).get("Health") == "healthy" for s in long_running)
                and all(found.get(s, {}).get("State") == "exited" and found[s].get("ExitCode") == 0
                        for s in one_shot))

    def wait_ready(self, timeout: float, long_running=LONG_RUNNING, one_shot=ONE_SHOT) -> float:
        """Wait until `ready`; returns the seconds it took. Fails naming what is not ready."""
        started = time.monotonic()
        if not wait_until(lambda: self.ready(long_running, one_shot), timeout, 5.0):
            report = {s: (c.get("State"), c.get("Health"), c.get("ExitCode")) for s, c in self.containers().items()}
            raise AssertionError(f"not ready within {timeout:.0f}s: {report}\n{self.logs()}")
        return time.monotonic() - started

    def logs(self, *services: str, tail: int = 40) -> str:
        """The last lines of the services' logs (for failure messages)."""
        return self.compose("--profile", "cluster", "logs", "--no-color", "--tail", str(tail), *services,
                            check=False).stdout[-12000:]

    def volume(self, name: str) -> Path:
        """Where a named volume of the project lives on the host."""
        out = subprocess.run(["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", f"{self.name}_{name}"],
                             capture_output=True, text=True, check=True).stdout
        return Path(out.strip())

    def host_settings(self) -> Settings:
        """pinlake's settings on the host: Kafka and Airflow through the published ports, the
        lakehouse volume read in place."""
        return Settings(_env_file=None, data_root=self.volume("lakehouse"),
                        kafka_bootstrap=f"127.0.0.1:{self.port('KAFKA_HOST_PORT')}",
                        airflow_url=f"http://127.0.0.1:{self.port('AIRFLOW_HOST_PORT')}",
                        airflow_password=self.values["AIRFLOW_ADMIN_PASSWORD"],
                        api_key=self.values["PINLAKE_API_KEY"])

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, networks and volumes of this project that still exist."""
        label = f"label=com.docker.compose.project={self.name}"
        found = {}
        for kind, args in (("containers", ["ps", "-a"]), ("networks", ["network", "ls"]),
                           ("volumes", ["volume", "ls"])):
            out = subprocess.run(["docker", *args, "--filter", label, "--format", "{{.Names}}" if kind == "containers"
                                  else "{{.Name}}"], capture_output=True, text=True, check=True).stdout
            found[kind] = out.split()
        return found


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
