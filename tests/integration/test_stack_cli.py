"""`pinlake status` with a pid file whose process is gone; services of a group started and stopped together;
a service that stops its own children (as `airflow standalone` does) signalled alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

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


# A leader that stops its child itself, as `airflow standalone` does: on SIGINT it sends the child
# SIGTERM and waits for it. The child writes down every kind of signal it got before it exits.
LEADER = ("import signal, subprocess, sys\n"
          "child = subprocess.Popen([sys.executable, '-c', sys.argv[2], sys.argv[1]])\n"
          "signal.signal(signal.SIGINT, lambda signum, frame: child.terminate())\n"
          "sys.exit(child.wait())\n")
CHILD = ("import signal, sys, time\n"
         "got, stop = [], []\n"
         "def note(signum, frame):\n"  # only noted here: a handler may run inside another one
         "    got.append(signal.Signals(signum).name)\n"
         "    if signum == signal.SIGTERM: stop.append(True)\n"
         "signal.signal(signal.SIGINT, note); signal.signal(signal.SIGTERM, note)\n"
         "open(sys.argv[1] + '.ready', 'w').close()\n"
         "while not stop: time.sleep(0.01)\n"
         "open(sys.argv[1], 'w').write(' '.join(sorted(set(got))))\n")


@pytest.mark.parametrize("signal_group, child_got", [(False, ["SIGTERM"]), (True, ["SIGINT", "SIGTERM"])])
def test_a_service_that_stops_its_children_itself_is_signalled_alone(tmp_path, signal_group, child_got):
    import signal

    from pinlake.supervisor import Service, Supervisor

    noted = tmp_path / "child-signals"
    leader = Service(name="leader", command=lambda s: [sys.executable, "-c", LEADER, str(noted), CHILD],
                     address=lambda s: "leader", healthy=lambda s: Path(f"{noted}.ready").exists(),
                     stop_signal=signal.SIGINT, signal_group=signal_group, start_timeout=30)
    supervisor = Supervisor(make_settings(tmp_path / "var"), [leader])
    supervisor.up()
    family = [supervisor.process("leader"), *supervisor.process("leader").children(recursive=True)]
    assert supervisor.stop(leader)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family)
    assert noted.read_text().split() == child_got
