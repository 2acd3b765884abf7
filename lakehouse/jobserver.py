"""A warm Spark for the DAGs' steps: one long-lived driver that runs the batch jobs on request.

A `spark-submit` of a batch job pays a JVM start, jar loading, cold Delta logs and a cold JIT
before it reads its first row, which is most of a small run. `pinlake up` starts this server
(the service `spark`); the DAGs' Spark steps send it their job and wait for its answer, and the
job runs in the server's session, already warm. The job is the same entry point spark-submit
runs (`main(argv)` of its module), so a step gives the same tables either way; where no server
answers, the steps spark-submit as before.

One job at a time: the Airflow pool already makes it so, and a second request meanwhile is
refused (409). `POST /cancel` cancels the running job's Spark jobs (a killed or timed-out
Airflow task sends it); the job then fails with Spark's cancellation error.

    GET  /health                               -> 200 {"running": <module or null>, "jobs": [...]}
    POST /jobs {"module": ..., "args": [...]}  -> 200 {"output"} | 400 | 409 | 500 {"error", "output"}
    POST /cancel                               -> 200 {"cancelled": <module or null>}

    python -m lakehouse.jobserver     # as `pinlake up` runs it; PINLAKE_SPARK_SERVER_PORT
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pinlake.settings import Settings, get_settings
from pinlake.supervisor import Service, wait_until

# The jobs a DAG step may send: module -> what it is (the spark-submit applications of the DAGs).
JOBS = {
    "lakehouse.silver.job": "bronze -> silver",
    "lakehouse.gold.job": "silver -> gold",
    "lakehouse.maintenance": "OPTIMIZE and VACUUM of every table",
}
log = logging.getLogger("pinlake.jobserver")


def job_request(body: bytes) -> tuple[str, list[str]]:
    """The module and arguments of a job request; ValueError naming the field that is wrong."""
    try:
        request = json.loads(body or b"{}")
    except ValueError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise ValueError("the body must be a JSON object")
    module, args = request.get("module"), request.get("args", [])
    if module not in JOBS:
        raise ValueError(f"module: {module!r} is not a job of this server ({', '.join(JOBS)})")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError("args: must be a list of strings")
    return module, args


class _Capture(logging.Handler):
    """Log records of the running job, in its output."""

    def __init__(self, out: io.StringIO):
        super().__init__(logging.INFO)
        self.out = out
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != log.name:  # the server's own lines (requests meanwhile) stay in its log
            self.out.write(self.format(record) + "\n")


class JobServer(ThreadingHTTPServer):
    """The HTTP server holding the warm Spark session and the one-job lock."""

    daemon_threads = True

    def __init__(self, settings: Settings):
        from lakehouse.spark import get_spark

        self.settings = settings
        self.spark = get_spark("pinlake-jobs", settings)
        self.lock = threading.Lock()
        self.running: str | None = None
        super().__init__((settings.spark_server_host, settings.spark_server_port), Handler)

    def run_job(self, module: str, args: list[str]) -> tuple[bool, str]:
        """Run one job's `main(args)` in the warm session: (succeeded, its output and log)."""
        out = io.StringIO()
        capture = _Capture(out)
        logging.getLogger().addHandler(capture)
        try:
            with contextlib.redirect_stdout(out):
                importlib.import_module(module).main(args)
            return True, out.getvalue()
        except BaseException:  # noqa: BLE001 - a failed job is an answer, never the server's end
            return False, out.getvalue() + traceback.format_exc()
        finally:
            logging.getLogger().removeHandler(capture)
            self.spark.catalog.clearCache()  # nothing a job cached outlives it


class Handler(BaseHTTPRequestHandler):
    server: JobServer

    def _answer(self, status: HTTPStatus, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path != "/health":
            self._answer(HTTPStatus.NOT_FOUND, {"error": f"no such path: {self.path}"})
            return
        self._answer(HTTPStatus.OK, {"running": self.server.running, "jobs": list(JOBS)})

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/cancel":
            running = self.server.running
            if running:
                self.server.spark.sparkContext.cancelAllJobs()
            self._answer(HTTPStatus.OK, {"cancelled": running})
            return
        if self.path != "/jobs":
            self._answer(HTTPStatus.NOT_FOUND, {"error": f"no such path: {self.path}"})
            return
        try:
            module, args = job_request(body)
        except ValueError as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        if not self.server.lock.acquire(blocking=False):
            self._answer(HTTPStatus.CONFLICT, {"error": f"busy: {self.server.running} is running"})
            return
        try:
            self.server.running = module
            log.info("%s %s: started", module, " ".join(args))
            ok, output = self.server.run_job(module, args)
            log.info("%s %s: %s", module, " ".join(args), "succeeded" if ok else "failed")
        finally:
            self.server.running = None
            self.server.lock.release()
        if ok:
            self._answer(HTTPStatus.OK, {"output": output})
        else:
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": output.rstrip().splitlines()[-1], "output": output})

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the http.server API
        log.info("%s %s", self.address_string(), format % args)


# --- the client side: the DAGs' steps ---------------------------------------------------------


class JobFailed(RuntimeError):
    """The server ran the job and it failed; `output` is the job's output and traceback."""

    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


def call(url: str, path: str, body: dict | None, timeout: float) -> tuple[int, dict]:
    """One request to the server: (HTTP status, JSON body); GET when `body` is None."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def answers(url: str | None, timeout: float = 3.0) -> bool:
    """True when a job server answers at `url` (never raises)."""
    if not url:
        return False
    try:
        return call(url, "/health", None, timeout)[0] == HTTPStatus.OK
    except (OSError, ValueError):
        return False


def submit(url: str, module: str, args: list[str], timeout: float,
           on_busy: Callable[[str], None] | None = None) -> str:
    """Run a job on the server and wait for it; its output. JobFailed when the job failed,
    RuntimeError when the server refused it.

    A server busy with another job (one the pool did not count: the job of an earlier try of a
    task killed without cancelling it) is waited for, within the timeout, and `on_busy` told
    what it runs; the job then starts.
    """
    deadline = time.monotonic() + timeout
    status, body = call(url, "/jobs", {"module": module, "args": args}, timeout)
    while status == HTTPStatus.CONFLICT and time.monotonic() < deadline:
        if on_busy is not None:
            on_busy(body.get("error", "busy"))
        wait_until(lambda: call(url, "/health", None, 30)[1].get("running") is None,
                   max(deadline - time.monotonic(), 0.0), interval=2.0)
        status, body = call(url, "/jobs", {"module": module, "args": args}, max(deadline - time.monotonic(), 1.0))
    if status == HTTPStatus.OK:
        return body["output"]
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        raise JobFailed(body["error"], body.get("output", ""))
    raise RuntimeError(f"the Spark job server refused {module}: {status} {body.get('error')}")


def cancel(url: str) -> str | None:
    """Cancel the running job's Spark jobs; the module that was running, if any."""
    return call(url, "/cancel", {}, 30)[1].get("cancelled")


# --- the service of `pinlake up` ---------------------------------------------------------------

SPARK_SERVER = Service(
    name="spark",
    command=lambda s: [sys.executable, "-m", "lakehouse.jobserver"],
    address=lambda s: s.spark_server or "-",
    healthy=lambda s: answers(s.spark_server),
    # Healthy once the session is up: a JVM start, seconds to tens of seconds on a busy machine.
    start_timeout=300.0,
)


def main() -> None:
    """Start the session, then serve until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    server = JobServer(settings)
    log.info("Spark job server on %s:%s, master %s", *server.server_address, settings.spark_master)
    try:
        server.serve_forever()
    finally:
        server.spark.stop()


if __name__ == "__main__":
    main()
