"""`pinlake up`, `status --json` and `down`, as a user runs them, leave nothing behind."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_settings, processes_of

pytestmark = pytest.mark.integration
PINLAKE = [sys.executable, "-m", "pinlake.cli"]


def _run(args, env, timeout=1200):  # `up` starts Kafka, the API, the bronze stream and Airflow
    return subprocess.run(PINLAKE + args, env=env, capture_output=True, text=True, timeout=timeout)


def test_up_status_down_leaves_no_process(tmp_path):
    settings = make_settings(tmp_path / "var")
    env = {**os.environ, **settings.child_env()}
    try:
        first = _run(["up"], env)
        assert first.returncode == 0, first.stdout + first.stderr
        second = _run(["up"], env)
        assert second.returncode == 0 and "already running" in second.stdout

        report = json.loads(_run(["status", "--json"], env).stdout)
        unhealthy = {name: s for name, s in report["services"].items() if not (s["running"] and s["healthy"])}
        assert unhealthy == {}
        kafka = report["services"]["kafka"]
        assert kafka["bootstrap"] == f"127.0.0.1:{settings.kafka_port}"
        assert processes_of(settings.data_root), "up started nothing under this data root"
        assert Path(kafka["log"]).is_file() and Path(kafka["log"]).parent == settings.log_dir
    finally:
        down = _run(["down"], env)
    assert down.returncode == 0, down.stderr
    assert processes_of(settings.data_root) == []
    report = json.loads(_run(["status", "--json"], env).stdout)
    assert report["services"]["kafka"]["running"] is False


def test_stale_pid_file_is_ignored(tmp_path):
    settings = make_settings(tmp_path / "var")
    settings.run_dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (settings.run_dir / "kafka.pid").write_text(json.dumps({"pid": dead.pid, "create_time": 0.0}))
    env = {**os.environ, **settings.child_env()}
    report = json.loads(_run(["status", "--json"], env).stdout)
    assert report["services"]["kafka"]["running"] is False
    assert not (settings.run_dir / "kafka.pid").exists()
