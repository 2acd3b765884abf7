"""Reliability: faults injected across the running stack, and nothing lost (docs/RELIABILITY.md).

One stack for the module, as `pinlake up` runs it minus Airflow: a Kafka broker, the API
(with a key) and the bronze stream, each a supervised process on 127.0.0.1, with the lakehouse
and bronze's checkpoint on the local object store (the session's SeaweedFS), as a team that
keeps its tables where every worker reaches them runs it. Events go in
through the API while faults are injected; every 200 is written to a ledger, as
`pinlake emit --ledger` writes it. Each fault's test ends as a user would check it: the
bronze stream caught up, the silver job run, and `pinlake audit --ledger` clean (every
acknowledged id in Kafka, every Kafka offset in bronze once, bronze = accepted + quarantined).

The faults, in the order they run:
1. the bronze stream SIGKILLed five times during continuous ingest;
2. the Kafka broker SIGKILLed and restarted during ingest;
3. OPTIMIZE (the maintenance job's step) while bronze streams and DuckDB queries run;
4. API abuse: no key, a wrong key, oversized bodies, 10,001 items, then a schemathesis run;
5. the silver job SIGKILLed in the middle of its MERGEs, re-run, compared with an
   uninterrupted run over a copy of the same lakehouse.
Poison sent straight to Kafka is in tests/integration/test_end_to_end.py, where a DAG run follows.

Each test prints its figures (events acknowledged, faults, what each kill interrupted).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr

from ingest.emulator import generate
from ingest.service import API, api_url, ready
from lakehouse import tables
from lakehouse.bronze.schema import TOPIC_TABLES
from lakehouse.bronze.service import BRONZE
from lakehouse.bronze.state import checkpoint_batches, checkpoint_query_id
from lakehouse.bronze.writer import last_batch
from pinlake import objectstore
from pinlake.demo import wait_for_bronze
from pinlake.http import create_app
from pinlake.kafka import KAFKA, brokers
from pinlake.settings import Settings, get_settings
from pinlake.supervisor import Supervisor, wait_until
from tests.conftest import make_settings, processes_of, s3a_for
from tests.integration.bronze_helpers import in_flight, watermarks
from tests.integration.ingest_helpers import read_since
from tests.integration.test_end_to_end import PINLAKE, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

KEY = "reliability-key-0123456789"
HEADERS = {"X-API-Key": KEY}
BATCH, BATCHES_PER_SECOND = 20, 3  # about 60 events/s through the API while faults land
STREAM = {"bronze_trigger_seconds": 1.0, "bronze_max_offsets_per_trigger": 2000}
SEED = int(os.environ.get("PINLAKE_CHAOS_SEED", time.time_ns() % 10**6))


@dataclass
class Stack:
    settings: Settings
    supervisor: Supervisor
    ledger: Path
    env: dict
    acknowledged: int = 0  # every test adds what it sent



@contextmanager
def running_stack(root: Path, **overrides) -> Iterator[Stack]:
    """Kafka's brokers, the API (with a key) and the bronze stream, as `pinlake up` starts them;
    an empty ledger; nothing left running afterwards."""
    settings = make_settings(root, api_key=SecretStr(KEY), api_delivery_timeout_s=3.0, api_retry_after_s=1,
                             spark_master="local[2]", spark_driver_memory="1g", spark_shuffle_partitions=2,
                             **STREAM, **overrides)
    supervisor = Supervisor(settings, [*brokers(settings), API, BRONZE])
    (root / "ledger.jsonl").parent.mkdir(parents=True, exist_ok=True)
    (root / "ledger.jsonl").touch()
    try:
        supervisor.up()
        yield Stack(settings, supervisor, root / "ledger.jsonl", {**os.environ, **settings.child_env()})
    finally:
        supervisor.down()
    assert not processes_of(settings.data_root), "a process outlived the stack"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, object_store, spark):
    """The stack with its lakehouse in the session's object store (its endpoint given, as a store
    of one's own is); this process and the tests' Spark read the tables there too."""
    print(f"\nreliability seed {SEED}")
    on_store = {"lakehouse_root": f"s3://{object_store.bucket}/reliability", "s3_endpoint": object_store.s3_url}
    with running_stack(tmp_path_factory.mktemp("reliability") / "var", **on_store) as running, \
            pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in running.settings.child_env().items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        s3a_for(spark, running.settings)
        try:
            yield running
        finally:
            get_settings.cache_clear()


class Ingest(threading.Thread):
    """Posts generated postings to /events at a steady rate; every 200 goes to the ledger.

    A 503 (the broker away) is counted and the batch is dropped, as a client that gives up
    would; any other answer, or no answer, is a failure the test reports.
    """

    def __init__(self, stack: Stack, start_posting: int):
        super().__init__(daemon=True)
        self.stack, self.events = stack, generate(10**6, seed=SEED, start=start_posting)
        self.stop, self.lock = threading.Event(), threading.Lock()
        self.acknowledged, self.statuses, self.failures = 0, Counter(), []
        self.answers: list[tuple[float, float, int]] = []  # (sent, answered) monotonic times, status

    def run(self):
        started, sent = time.monotonic(), 0
        with httpx.Client(base_url=api_url(self.stack.settings), headers=HEADERS, timeout=30) as client, \
                open(self.stack.ledger, "a", encoding="utf-8") as ledger:
            while not self.stop.is_set():
                batch = [next(self.events) for _ in range(BATCH)]
                posted = time.monotonic()
                try:
                    answer = client.post("/events", json=batch)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                self.answers.append((posted, time.monotonic(), answer.status_code))
                self.statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    for event, event_id in zip(batch, answer.json()["event_ids"], strict=True):
                        ledger.write(json.dumps({"type": event["type"], "event_id": event_id}) + "\n")
                    ledger.flush()
                    with self.lock:
                        self.acknowledged += len(batch)
                elif answer.status_code != 503:
                    self.failures.append(f"{answer.status_code}: {answer.text[:300]}")
                sent += 1
                time.sleep(max(0.0, started + sent / BATCHES_PER_SECOND - time.monotonic()))  # pacing

    def more_than(self, count: int, timeout: float = 120) -> bool:
        """Wait until more than `count` events have been acknowledged."""
        return wait_until(lambda: self.acknowledged > count or not self.is_alive(), timeout) and self.is_alive()

    def __enter__(self) -> Ingest:
        self.start()
        assert self.more_than(0), f"the API acknowledged nothing: {self.statuses} {self.failures[:3]}"
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.join(60)
        self.stack.acknowledged += self.acknowledged
        print(f"ingest: {self.acknowledged} events acknowledged, answers {dict(self.statuses)}")


def silver_run(spark, settings: Settings) -> list[dict]:
    """The silver job's run (what `pinlake silver` runs), in the tests' warm Spark session."""
    from lakehouse.silver import job

    started = time.monotonic()
    summaries = job.run(spark, settings, f"reliability-{time.time_ns()}")
    print(f"silver: {sum(s['rows'] for s in summaries)} new bronze rows in {time.monotonic() - started:.0f}s")
    return summaries


def audit_clean(stack: Stack, spark) -> list[dict]:
    """Bronze caught up, the silver job, then `pinlake audit --ledger` clean on every topic.

    The silver job runs in the tests' Spark session, not as `pinlake silver`, to spare a JVM
    start per test; the silver test below SIGKILLs a `pinlake silver` process of its own.
    """
    wait_for_bronze(stack.settings, timeout=600)
    silver_run(spark, stack.settings)
    audit = run([*PINLAKE, "audit", "--ledger", str(stack.ledger), "--json"], stack.env, timeout=300)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    reports = json.loads(audit.stdout)
    assert sum(r["acknowledged"] for r in reports) == stack.acknowledged
    for r in reports:
        assert r["clean"] and r["acknowledged"] <= r["kafka"] == r["bronze"] == r["accepted"] + r["quarantined"] \
            and r["pending"] == 0, r
    print("audit clean: " + ", ".join(f"{r['topic']} {r['kafka']} in Kafka and bronze" for r in reports))
    return reports


# -- 1. the bronze stream, SIGKILLed at random points --------------------------------------------

def _log_version(settings: Settings, name: str) -> int:
    """A table's latest Delta version from its log folder (cheap enough to poll), -1 before its first commit."""
    log = f"{tables.table_path(name, settings.lakehouse)}/_delta_log"
    return max((int(f[:20]) for f in objectstore.names(log, settings) if f.endswith(".json")), default=-1)


def _versions(settings: Settings) -> dict[str, int]:
    """Each bronze table's latest Delta version."""
    return {name: _log_version(settings, name) for name in TOPIC_TABLES.values()}


def _window(settings: Settings, kind: str, deadline: float) -> bool:
    """Return at the moment the stream is in the window `kind`: True, or False at the deadline."""
    seen = max(checkpoint_batches(settings), default=-1)
    while time.monotonic() < deadline:
        batch = in_flight(settings)
        if batch is not None and batch > seen:
            if kind == "planned":
                return True
            before = _versions(settings)
            while in_flight(settings) == batch and time.monotonic() < deadline:
                advanced = sum(v > before[t] for t, v in _versions(settings).items())
                if (kind == "partial" and 0 < advanced < 3) or (kind == "committed" and advanced == 3):
                    return True
                time.sleep(0.005)  # polling a few files: the windows last tens of milliseconds
            seen = batch
        time.sleep(0.005)
    return False


# What `_where_it_landed` says of a kill that hit each targeted window.
LANDED = {"planned": "no table written", "partial": "only, checkpoint commit missing",
          "committed": "written to all tables, checkpoint commit missing"}


def _where_it_landed(settings: Settings) -> str:
    """What the kill interrupted, read from the checkpoint and the batch marks of the tables' commits."""
    batch = in_flight(settings)
    if batch is None:
        return "between batches"
    app = f"pinlake-bronze-{checkpoint_query_id(settings)}"
    written = [name for name in TOPIC_TABLES.values()
               if last_batch(name, settings.lakehouse, app) == batch]
    if not written:
        return f"batch {batch} planned, no table written"
    if len(written) < 3:
        return f"batch {batch} written to {written} only, checkpoint commit missing"
    return f"batch {batch} written to all tables, checkpoint commit missing"


def _jvms(proc: psutil.Process) -> list[psutil.Process]:
    """The JVMs under a process (children that exit while they are listed are skipped)."""
    found = []
    for child in proc.children(recursive=True):
        try:
            if "java" in child.name():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _kill(proc: psutil.Process, jvm_only: bool) -> str:
    """SIGKILL the stream's JVM alone (the driver must then exit by itself), or its whole group."""
    jvms = _jvms(proc)
    if jvm_only and jvms:
        for jvm in jvms:
            jvm.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)  # a driver that outlives its JVM would be a hung service
        return "JVM"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    psutil.wait_procs(jvms, timeout=30)
    return "driver+JVM"


def test_bronze_stream_sigkilled_five_times_during_ingest_loses_nothing(stack, spark):
    """Three kills must hit their windows (a batch planned; written to some tables; written to all,
    its checkpoint commit missing): a kill that landed elsewhere is tried again, up to four times,
    and the test fails if a window was never hit. Two kills land at random moments."""
    rng = random.Random(SEED)
    kinds = ["planned", "partial", "committed", "random", "random"]
    began, landed, kills = time.monotonic(), [], 0
    with Ingest(stack, start_posting=0) as ingest:
        for kind in kinds:
            for attempt in range(1 if kind == "random" else 4):
                proc = stack.supervisor.process(BRONZE.name)
                assert proc is not None, stack.supervisor.log_file(BRONZE.name).read_text()[-3000:]
                if kind == "random":
                    time.sleep(rng.uniform(0, 4))  # the random point itself
                else:
                    assert _window(stack.settings, kind, deadline=time.monotonic() + 300), \
                        f"the stream never entered the window {kind!r} within 300 s"
                what = _kill(proc, jvm_only=kills % 2 == 1)
                kills += 1
                where = _where_it_landed(stack.settings)
                landed.append(f"kill {kills} ({kind}, try {attempt + 1}, {what}) at {time.monotonic() - began:.0f}s: "
                              f"{where}")
                print(landed[-1])
                assert stack.supervisor.start(BRONZE)  # back, healthy, past its first trigger
                if kind == "random" or LANDED[kind] in where:
                    break
            else:
                pytest.fail(f"no kill landed in the window {kind!r}: {landed}")
        assert ingest.more_than(ingest.acknowledged)  # traffic still flows after the last restart
    assert not ingest.failures and set(ingest.statuses) == {200}, (ingest.statuses, ingest.failures[:3])
    audit_clean(stack, spark)
    # Beyond the audit's offsets and event ids: every bronze row holds the bytes Kafka holds.
    in_kafka = {(m["topic"], m["partition"], m["offset"]): m["value"].decode()
                for m in read_since(stack.settings.bootstrap, {}, timeout=120)}
    in_bronze = {(r["topic"], r["partition"], r["offset"]): r["value"] for name in TOPIC_TABLES.values()
                 for r in tables.arrow(name, stack.settings.lakehouse).select(["topic", "partition", "offset", "value"])
                 .to_pylist()}
    assert in_bronze == in_kafka
    print(f"{len(in_kafka)} messages, {len(kinds)} SIGKILLs, every value in bronze as Kafka holds it")


# -- 2. the broker, SIGKILLed and restarted ------------------------------------------------------

def test_broker_sigkilled_and_restarted_during_ingest_loses_no_acknowledged_event(stack, spark):
    stream = stack.supervisor.process(BRONZE.name)
    with Ingest(stack, start_posting=200_000) as ingest:
        assert ingest.more_than(600)
        broker = stack.supervisor.process(KAFKA.name)
        os.killpg(broker.pid, signal.SIGKILL)
        psutil.wait_procs([broker], timeout=30)
        down_at = time.monotonic()
        assert wait_until(lambda: ingest.statuses[503] >= 5 and not ready(stack.settings), 120), ingest.statuses
        assert httpx.get(f"{api_url(stack.settings)}/healthz", timeout=10).status_code == 200
        assert stack.supervisor.start(KAFKA)  # same data directory: the broker recovers its log
        # The API becomes ready again by itself, without a restart.
        assert wait_until(lambda: ready(stack.settings), 120)
        answered_503 = ingest.statuses[503]
        print(f"broker down {time.monotonic() - down_at:.0f}s; the API answered 503 {answered_503} times")
        assert ingest.more_than(ingest.acknowledged + 600)
    assert not ingest.failures and set(ingest.statuses) == {200, 503}, (ingest.statuses, ingest.failures[:3])
    still = stack.supervisor.process(BRONZE.name)
    print(f"bronze stream {'kept running' if still and still.pid == stream.pid else 'restarted'}")
    if still is None:
        assert stack.supervisor.start(BRONZE)
    audit_clean(stack, spark)


# -- 3. OPTIMIZE while bronze streams and DuckDB queries -----------------------------------------

class Queries(threading.Thread):
    """`pinlake query`'s engine over the bronze tables, again and again: every answer kept."""

    SQL = ('SELECT count(*), count(DISTINCT ("partition", "offset")) FROM bronze.{}')

    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack, self.stop, self.answers, self.failures = stack, threading.Event(), [], []

    def run(self):
        from serving.engine import Lakehouse

        engine = Lakehouse(self.stack.settings.lakehouse)
        try:
            while not self.stop.is_set():
                for name in ("pin_events", "geo_events", "user_events"):
                    try:
                        rows, distinct = engine.query(self.SQL.format(name)).to_pylist()[0].values()
                        self.answers.append((name, rows, distinct))
                    except Exception as exc:  # noqa: BLE001 - every failed query is reported
                        self.failures.append(f"{name}: {exc!r}")
                time.sleep(0.1)  # pacing
        finally:
            engine.close()


def _operations(settings: Settings, name: str) -> list[str]:
    history = tables.history(name, settings.lakehouse)
    return [h["operation"] for h in sorted(history, key=lambda h: h["version"])]


def _files(settings: Settings, name: str) -> int:
    """How many data files the table's current version has."""
    return len(tables.delta_log(name, settings.lakehouse).file_uris())


def _appended_after_optimize(settings: Settings, name: str) -> bool:
    """Whether the table's log has an append (bronze's batch) after its OPTIMIZE."""
    operations = _operations(settings, name)
    after = operations[operations.index("OPTIMIZE") + 1:] if "OPTIMIZE" in operations else []
    return "STREAMING UPDATE" in after or "WRITE" in after


def test_optimize_while_bronze_streams_and_duckdb_queries_fails_no_query_and_loses_no_row(stack, spark):
    from lakehouse.maintenance import MIN_RETENTION_HOURS, maintain

    stream = stack.supervisor.process(BRONZE.name)
    queries = Queries(stack)
    with Ingest(stack, start_posting=400_000) as ingest:
        # Enough small files for OPTIMIZE to compact, whatever ran before this test.
        assert wait_until(lambda: all(_files(stack.settings, name) >= 3 for name in TOPIC_TABLES.values()), 300)
        queries.start()
        try:
            # The maintenance job's own step (OPTIMIZE, then VACUUM), on the tables being written.
            maintained = [maintain(spark, name, stack.settings.lakehouse, MIN_RETENTION_HOURS)
                          for name in TOPIC_TABLES.values()]
            asked = len(queries.answers)
            assert wait_until(lambda: len(queries.answers) > asked + 6, 120)  # queries after OPTIMIZE too
            assert ingest.more_than(ingest.acknowledged)  # the API still takes events
            # and bronze still appends them, to every table OPTIMIZE rewrote (awaited: its trigger
            # commits a batch some seconds after the API acknowledged the events).
            assert wait_until(lambda: all(_appended_after_optimize(stack.settings, name)
                                          for name in TOPIC_TABLES.values()), 120), \
                {name: _operations(stack.settings, name) for name in TOPIC_TABLES.values()}
        finally:
            queries.stop.set()
            queries.join(60)
    print(f"{len(queries.answers)} queries during OPTIMIZE, {len(queries.failures)} failed")
    print("\n".join(map(str, maintained)))
    assert all(m["files_removed"] > 1 for m in maintained), maintained
    assert not queries.failures, queries.failures[:5]
    assert not ingest.failures and set(ingest.statuses) == {200}, (ingest.statuses, ingest.failures[:3])
    for name in ("pin_events", "geo_events", "user_events"):
        counts = [(rows, distinct) for table, rows, distinct in queries.answers if table == name]
        assert all(rows == distinct for rows, distinct in counts), f"bronze.{name}: a row seen twice"
        assert [rows for rows, _ in counts] == sorted(rows for rows, _ in counts), f"bronze.{name}: rows went away"
    still = stack.supervisor.process(BRONZE.name)
    assert still is not None and still.pid == stream.pid, "the stream failed during OPTIMIZE"
    audit_clean(stack, spark)


# -- 4. API abuse, then a fuzzing run ------------------------------------------------------------

def test_api_abuse_gets_401_413_422_and_reaches_no_topic(stack):
    url, before = api_url(stack.settings), watermarks(stack.settings)
    one = [{"type": "user", "record": {"ind": 1}}]
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/events", json=one).status_code == 401
        assert client.post("/events", json=one, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.post("/pin/", json={"index": 1}, headers={"X-API-Key": KEY[:-1]}).status_code == 401
        big = b'[{"type": "user", "record": {"ind": 1, "pad": "' + b"x" * stack.settings.api_max_body_bytes + b'"}}]'
        answer = client.post("/events", content=big, headers={**HEADERS, "Content-Type": "application/json"})
        assert answer.status_code == 413, answer.text[:300]
        record = {"ind": 1, "pad": "x" * stack.settings.api_max_record_bytes}
        answer = client.post("/user/", json=record, headers=HEADERS)
        assert answer.status_code == 413, answer.text[:300]
        too_many = client.post("/events", json=one * 10_001, headers=HEADERS)
        assert too_many.status_code == 422 and too_many.json()["detail"][0]["type"] == "too_many_items", \
            too_many.text[:300]
        assert client.post("/events", content=b"[{", headers={**HEADERS, "Content-Type": "application/json"}) \
            .status_code == 422
        wrong = client.post("/events", json=[{"type": "board", "record": {}}], headers=HEADERS)
        assert wrong.status_code == 422 and "type" in wrong.text, wrong.text
    assert watermarks(stack.settings) == before, "a refused request reached Kafka"


DOCUMENT = create_app(Settings(_env_file=None, api_key=SecretStr(KEY))).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT).include(path_regex=r"^/(pin|geo|user|events|healthz|readyz|metrics)")


@schema.auth()
class ApiKey:
    """The key, given to schemathesis as the document's security scheme: it also sends requests without it."""

    def get(self, case, context) -> str:
        return KEY

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "X-API-Key": data}


@schema.parametrize()
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzing_the_api_never_makes_it_fail(case, stack):
    response = case.call_and_validate(base_url=api_url(stack.settings))
    assert response.status_code < 500 or response.status_code == 503


def test_after_abuse_and_fuzzing_the_api_is_ready_and_the_audit_clean(stack, spark):
    url = api_url(stack.settings)
    assert httpx.get(f"{url}/openapi.json", timeout=10).json() == DOCUMENT  # the fuzzed document is served
    assert ready(stack.settings)
    audit_clean(stack, spark)


# -- 5. the silver job, SIGKILLed in the middle of its MERGEs ------------------------------------

def _data_files(settings: Settings, name: str) -> set[str]:
    from pyarrow import fs

    store, folder = objectstore.located(tables.table_path(name, settings.lakehouse), settings)
    found = store.get_file_info(fs.FileSelector(folder, recursive=True, allow_not_found=True))
    return {f.path for f in found if f.path.endswith(".parquet")}


SILVER = ("silver.pins", "silver.geo", "silver.users")


def _silver_contents(root: str) -> dict[str, list]:
    """Every silver table's rows, sorted, without the moment a run quarantined a row."""
    out = {}
    for name in (*SILVER, "silver.quarantine"):
        rows = tables.arrow(name, root).drop_columns(["quarantined_at"] if name == "silver.quarantine" else []).to_pylist()
        out[name] = sorted(map(repr, rows))
    return out


def test_silver_sigkilled_mid_merge_then_rerun_equals_an_uninterrupted_run(stack, spark, tmp_path):
    with Ingest(stack, start_posting=600_000) as ingest:
        assert ingest.more_than(1500, timeout=300)
    wait_for_bronze(stack.settings, timeout=600)
    # An uninterrupted run's input: a copy of the lakehouse as it is now (bronze idle, no new events).
    from pyarrow import fs

    reference = stack.settings.model_copy(update={"data_root": tmp_path / "reference",
                                                  "lakehouse_root": f"{stack.settings.lakehouse}-reference"})
    store, source = objectstore.located(stack.settings.lakehouse, stack.settings)
    target = objectstore.located(reference.lakehouse, reference)[1]
    for folder in objectstore.names(stack.settings.lakehouse, stack.settings):
        if folder != "_checkpoints":  # the tables; the stream's checkpoint changes under a copy
            fs.copy_files(f"{source}/{folder}", f"{target}/{folder}", source_filesystem=store,
                          destination_filesystem=store)

    window = random.Random(SEED).choice(["merge writing files", "some merges committed"])
    versions = {name: _log_version(stack.settings, name) for name in (*SILVER, "silver.progress")}
    files = {name: _data_files(stack.settings, name) for name in SILVER}
    with open(tmp_path / "silver.log", "wb") as log:
        job = subprocess.Popen([*PINLAKE, "silver"], env=stack.env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)

    def in_window() -> bool:
        committed = [n for n in SILVER if _log_version(stack.settings, n) > versions[n]]
        writing = [n for n in SILVER if n not in committed and _data_files(stack.settings, n) - files[n]]
        return bool(committed) if window == "some merges committed" else bool(writing or committed)

    try:
        assert wait_until(lambda: in_window() or job.poll() is not None, 600, interval=0.005)
        os.killpg(job.pid, signal.SIGKILL)
    finally:
        job.wait(60)
    committed = [n for n in SILVER if _log_version(stack.settings, n) > versions[n]]
    progress_committed = _log_version(stack.settings, "silver.progress") > versions["silver.progress"]
    print(f"silver killed ({window}): MERGE committed on {committed or 'no table'}, "
          f"progress {'committed' if progress_committed else 'not committed'}")
    assert job.returncode == -signal.SIGKILL and not progress_committed, (tmp_path / "silver.log").read_text()[-3000:]

    rerun = silver_run(spark, stack.settings)  # the re-run (a fresh job run: nothing carried over)
    uninterrupted = silver_run(spark, reference)  # over the copy
    assert sum(s["rows"] for s in rerun) == sum(s["rows"] for s in uninterrupted) > 0
    assert _silver_contents(stack.settings.lakehouse) == _silver_contents(reference.lakehouse)
    audit_clean(stack, spark)
