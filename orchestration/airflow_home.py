"""The local Airflow: its home under the data root, its configuration, its generated admin password.

Every Airflow setting of the local stack is an `AIRFLOW__*` environment variable computed here
from pinlake's settings, so `pinlake up`, `airflow dags test` in tests and any `airflow ...`
command a user runs through `airflow_command` see the same configuration.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from pinlake.settings import Settings

DAGS_FOLDER = Path(__file__).resolve().parent / "dags"  # package data
# One slot: the table-writing tasks of `medallion` and `maintenance` never run at once.
LAKEHOUSE_POOL = "pinlake_lakehouse"
SPARK_CONN_ID = "pinlake_spark"
OPENLINEAGE_NAMESPACE = "pinlake"
OPENLINEAGE_TRANSPORT = "lakehouse.lineage.store.DeltaTransport"  # appends each event to quality.lineage
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def airflow_home(settings: Settings) -> Path:
    """AIRFLOW_HOME of the local stack: `<data_root>/airflow`."""
    return settings.data_root / "airflow"


def passwords_file(settings: Settings) -> Path:
    """The simple auth manager's passwords file (generated, mode 0600, never committed)."""
    return airflow_home(settings) / "passwords.json"


def api_url(settings: Settings) -> str:
    """Where clients reach Airflow's API server (a wildcard bind is reached on loopback)."""
    if settings.airflow_url:
        return settings.airflow_url.rstrip("/")
    host = "127.0.0.1" if settings.airflow_host in ("0.0.0.0", "::", "") else settings.airflow_host
    return f"http://{host}:{settings.airflow_port}"


def spark_connection(master: str) -> str:
    """The Spark connection as Airflow's JSON form: the master URL as host (`local[*]`, `spark://h:7077`)."""
    return json.dumps({"conn_type": "spark", "host": master})


def spark_conn_env() -> str:
    """The variable that defines the Spark connection."""
    return f"AIRFLOW_CONN_{SPARK_CONN_ID.upper()}"


def bin_dir() -> Path:
    """The venv's bin folder: `airflow standalone` starts `airflow`, the jobs `spark-submit`, from PATH."""
    return Path(sys.executable).parent


def openlineage_env(settings: Settings) -> dict[str, str]:
    """Airflow's OpenLineage provider: namespace `pinlake`, every event into quality.lineage
    through pinlake's own transport (no lineage server needed, works offline)."""
    return {
        "AIRFLOW__OPENLINEAGE__DISABLED": str(not settings.lineage_enabled),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": OPENLINEAGE_NAMESPACE,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": OPENLINEAGE_TRANSPORT}),
        # In a thread, not a forked child: the task process has already used `deltalake` (the
        # up-to-date checks), and a multi-threaded runtime is not safe to use after a fork.
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }


def airflow_env(settings: Settings) -> dict[str, str]:
    """The AIRFLOW_* variables of the local stack (plus PATH with the venv's bin first)."""
    home = airflow_home(settings)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow_parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.airflow_username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
        # Tasks report to the API server's execution API; its default assumes port 8080.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url(settings)}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__HOST": settings.airflow_host,
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        # Log servers on configured ports, so that two stacks (or tests) on one machine do not clash.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.airflow_log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.airflow_trigger_log_port),
        # On a busy two-core machine the API server (SQLite behind it) can take seconds to answer
        # a task's start: wait longer than the default 5 s before a try counts as failed.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        # Airflow's metrics go to the StatsD exporter of `pinlake up` (orchestration/metrics.py).
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(settings.airflow_statsd_port),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        # Tags (dag_id, task_id, pool_name, ...) as InfluxDB-style tags, which the exporter turns into labels.
        "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
        **openlineage_env(settings),
        spark_conn_env(): spark_connection(settings.spark_master),
        "PATH": f"{bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def prepare(settings: Settings) -> None:
    """Create the home and, the first time, a random admin password (never a default one)."""
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    path = passwords_file(settings)
    if path.exists() and settings.airflow_username in _passwords(path):
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({settings.airflow_username: secrets.token_urlsafe(18)}, out)


def _passwords(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}


def admin_password(settings: Settings) -> str | None:
    """The admin password: the configured one, else the one the local stack generated."""
    if settings.airflow_password is not None:
        return settings.airflow_password.get_secret_value()
    return _passwords(passwords_file(settings)).get(settings.airflow_username)


def airflow_command(settings: Settings, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `airflow <args>` against the local stack's home and configuration; output captured.

    On a timeout the whole process tree is killed (a task's spark-submit included), then
    TimeoutExpired is raised: nothing outlives the command.
    """
    env = {**os.environ, **settings.child_env(), **airflow_env(settings)}
    command = [str(bin_dir() / "airflow"), *args]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant (some leave its process group)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)
