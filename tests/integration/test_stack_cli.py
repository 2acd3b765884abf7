"""`pinlake status` with a pid file whose process is gone; services of a group started and stopped together."""

import json
import os
import subprocess
import sys

import psutil
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


# Each waits for its peer's file before it writes its own "ready" file: neither is healthy alone,
# as a broker of a three-controller quorum is not until a majority of the quorum runs.
PEER = ("import pathlib, sys, time\n"
        "me, peer = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])\n"
        "me.with_suffix('.started').touch()\n"
        "while not peer.with_suffix('.started').exists(): time.sleep(0.05)\n"
        "me.with_suffix('.ready').touch()\n"
        "time.sleep(600)\n")


def _peers(folder) -> list:
    from pinlake.supervisor import Service

    def peer(name, other):
        return Service(name=name, command=lambda s: [sys.executable, "-c", PEER, str(folder / name),
                                                     str(folder / other)],
                       address=lambda s: name, healthy=lambda s: (folder / f"{name}.ready").exists(),
                       start_timeout=10, group="pair")
    return [peer("left", "right"), peer("right", "left")]


def test_a_group_starts_together_and_stops_together(tmp_path):
    from pinlake.supervisor import Supervisor, ServiceFailed

    settings = make_settings(tmp_path / "var")
    left, right = _peers(tmp_path)
    with pytest.raises(ServiceFailed, match="left did not become healthy"):
        Supervisor(settings, [left, right]).start(left)  # alone it never becomes healthy
    assert not (tmp_path / "left.ready").exists()
    (tmp_path / "left.started").unlink()
    supervisor = Supervisor(settings, [left, right])
    events = []
    supervisor.up(on_event=lambda name, what: events.append((name, what)))
    assert events == [("left", "starting"), ("right", "starting"), ("left", "started"), ("right", "started")]
    pids = [supervisor.process(name).pid for name in ("left", "right")]
    supervisor.down(on_event=lambda name, what: events.append((name, what)))
    assert events[-2:] == [("right", "stopped"), ("left", "stopped")]
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)
