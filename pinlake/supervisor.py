"""The local process supervisor behind `pinlake up`, `status` and `down`.

Each service runs in its own process group (its own session), logs to
`<data_root>/logs/<name>.log` and is tracked by `<data_root>/run/<name>.pid`, a JSON file
holding the pid and the process's start time, so that a pid file left behind by a crash
(or a pid reused by another process) is recognised as stale.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from pinlake.settings import Settings


@dataclass(frozen=True)
class Service:
    """How to run, check and stop one local service."""

    name: str
    command: Callable[[Settings], list[str]]
    address: Callable[[Settings], str]
    healthy: Callable[[Settings], bool]
    prepare: Callable[[Settings], None] = lambda s: None
    after_start: Callable[[Settings], None] = lambda s: None
    stop_signal: int = signal.SIGTERM
    # Who gets stop_signal: the whole process group, or only the service's own process where it
    # stops its children itself (a child signalled beside it may be left half shut down).
    signal_group: bool = True
    start_timeout: float = 90.0
    extra: Callable[[Settings], dict] = field(default=lambda s: {})
    group: str | None = None  # services of one group start together: none is healthy until enough of them run


class ServiceFailed(RuntimeError):
    """A service did not become healthy; the message names it and its log."""


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class Supervisor:
    """Starts, inspects and stops the local services of one data root."""

    def __init__(self, settings: Settings, services: list[Service]):
        self.settings = settings
        self.services = services
        self._children: dict[str, subprocess.Popen] = {}

    def _pid_file(self, name: str) -> Path:
        return self.settings.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        """The log file of one service."""
        return self.settings.log_dir / f"{name}.log"

    def process(self, name: str) -> psutil.Process | None:
        """The running process of a service, or None (a stale pid file is removed)."""
        path = self._pid_file(name)
        try:
            record = json.loads(path.read_text())
            proc = psutil.Process(record["pid"])
            if abs(proc.create_time() - record["create_time"]) < 0.5 and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except FileNotFoundError:
            return None
        except (psutil.NoSuchProcess, ValueError, KeyError, json.JSONDecodeError):
            pass
        path.unlink(missing_ok=True)
        return None

    def start(self, service: Service) -> bool:
        """Start one service unless it runs already; wait until it is healthy."""
        return bool(self.start_together([service]))

    def start_together(self, services: list[Service]) -> list[Service]:
        """Start those of `services` that are not running, all at once; wait until each is healthy.

        Returns the services started. A service that does not become healthy is stopped with
        the others started here, and ServiceFailed names it and its log.
        """
        launched: dict[str, tuple[Service, subprocess.Popen]] = {}
        for folder in (self.settings.run_dir, self.settings.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        for service in services:
            if self.process(service.name):
                continue
            service.prepare(self.settings)
            env = {**os.environ, **self.settings.child_env()}
            with open(self.log_file(service.name), "ab") as log:
                child = subprocess.Popen(
                    service.command(self.settings), stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                )
            self._children[service.name] = child
            launched[service.name] = (service, child)
            record = {"pid": child.pid, "create_time": psutil.Process(child.pid).create_time(),
                      "address": service.address(self.settings)}
            self._pid_file(service.name).write_text(json.dumps(record))
        for service, child in launched.values():
            if not wait_until(lambda: child.poll() is not None or service.healthy(self.settings),
                              service.start_timeout) or child.poll() is not None:
                self.stop_together([other for other, _ in launched.values()])
                raise ServiceFailed(
                    f"{service.name} did not become healthy within {service.start_timeout:.0f}s; "
                    f"see {self.log_file(service.name)}"
                )
        for service, _ in launched.values():
            service.after_start(self.settings)
        return [service for service, _ in launched.values()]

    def up(self, on_event: Callable[[str, str], None] = lambda name, what: None) -> None:
        """Start every service in order; the services of a group together."""
        for group in self._groups():
            for service in group:
                on_event(service.name, "starting")
            started = {service.name for service in self.start_together(group)}
            for service in group:
                on_event(service.name, "started" if service.name in started else "already running")

    def stop(self, service: Service, timeout: float = 30.0) -> bool:
        """Stop a service's whole process group; SIGKILL what outlives `timeout`."""
        return bool(self.stop_together([service], timeout))

    def stop_together(self, services: list[Service], timeout: float = 30.0) -> list[str]:
        """Stop the running ones of `services` at once (each its whole process group, or its own
        process where it stops its children itself); SIGKILL what outlives `timeout`, the whole
        group. Returns the names of those stopped."""
        running = {}
        for service in services:
            proc = self.process(service.name)
            if proc is None:
                continue
            try:
                running[service.name] = (service, proc, [proc, *proc.children(recursive=True)])
            except psutil.NoSuchProcess:
                running[service.name] = (service, proc, [proc])
        waiting = dict(running)
        for kill in (False, True):
            for service, proc, family in waiting.values():
                sig = signal.SIGKILL if kill else service.stop_signal
                if not (kill or service.signal_group):
                    try:
                        proc.send_signal(sig)
                    except psutil.NoSuchProcess:
                        pass
                    continue
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
                for member in family:  # members that left the group are signalled one by one
                    try:
                        member.send_signal(sig)
                    except psutil.NoSuchProcess:
                        pass
            members = [member for _, _, family in waiting.values() for member in family]
            _, alive = psutil.wait_procs(members, timeout=10 if kill else timeout)
            for name in list(waiting):
                child = self._children.get(name)
                if child is not None:
                    child.poll()
                if not any(member in alive for member in waiting[name][2]):
                    del waiting[name]
            if not waiting:
                break
        for name in running:
            self._children.pop(name, None)
            self._pid_file(name).unlink(missing_ok=True)
        return list(running)

    def _groups(self) -> list[list[Service]]:
        """The services in start order, consecutive services of one group together."""
        groups: list[list[Service]] = []
        for service in self.services:
            if groups and service.group and groups[-1][0].group == service.group:
                groups[-1].append(service)
            else:
                groups.append([service])
        return groups

    def down(self, on_event: Callable[[str, str], None] = lambda name, what: None) -> None:
        """Stop every service, in reverse start order; the services of a group together."""
        for group in reversed(self._groups()):
            stopped = self.stop_together(group)
            for service in reversed(group):
                on_event(service.name, "stopped" if service.name in stopped else "not running")

    def status(self) -> dict[str, dict]:
        """Each service's pid, address, state and health."""
        report = {}
        for service in self.services:
            proc = self.process(service.name)
            report[service.name] = {
                "running": proc is not None,
                "pid": proc.pid if proc else None,
                "address": service.address(self.settings),
                "healthy": bool(proc) and service.healthy(self.settings),
                "log": str(self.log_file(service.name)),
                **service.extra(self.settings),
            }
        return report
