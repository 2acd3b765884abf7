"""`pinlake status` with a pid file whose process is gone."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import make_settings

pytestmark = pytest.mark.integration
PINLAKE = [sys.executable, "-m", "pinlake.cli"]


def _run(args, env, timeout=120):
    return subprocess.run(PINLAKE + args, env=env, capture_output=True, text=True, timeout=timeout)


# `pinlake up`, `status` and `down` over the whole stack: tests/integration/test_end_to_end.py.
def test_stale_pid_file_is_ignored(tmp_path):
    settings = make_settings(tmp_path / "var")
    settings.run_dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (settings.run_dir / "kafka.pid").write_text(json.dumps({"pid": dead.pid, "create_time": 0.0}))
    env = {**os.environ, **settings.child_env()}
    shown = _run(["status", "--json"], env)
    report = json.loads(shown.stdout)
    assert report["services"]["kafka"]["running"] is False and shown.returncode == 3  # not every service up
    assert not (settings.run_dir / "kafka.pid").exists()
