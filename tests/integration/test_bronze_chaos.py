"""Chaos: SIGKILL the bronze stream again and again while events flow; nothing is lost or doubled.

The stream runs as a user runs it (`pinlake bronze`, its own process group, Spark's JVM as
its child). Each kill lands in one of the windows that matter for exactly-once: a batch
planned in the checkpoint but not written; written to some bronze tables but not all;
written to all tables but not yet committed in the checkpoint (PINLAKE_CHAOS_KILLS=N adds N
kills at random moments). After the last kill `pinlake bronze --once` catches up, and for
every partition bronze must hold exactly the offsets Kafka holds, each once, with the bytes
that were sent.
"""

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone

import psutil
import pytest
from confluent_kafka import Producer
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse import tables
from lakehouse.bronze.progress import checkpoint_dir, heartbeat_file, read_json
from lakehouse.bronze.schema import RAW_BYTES_TABLE, TOPIC_TABLES
from pinlake.supervisor import wait_until
from tests.integration.bronze_helpers import PINLAKE, env_of, expected_offsets, fresh_stack, read_bronze, \
    run_bronze, watermarks

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

# Each kill costs a stream restart (a Spark JVM); three cover the windows that matter, each
# reached at a random moment of a random batch. PINLAKE_CHAOS_KILLS adds random-moment kills.
KILLS = ["planned", "partial", "committed"] + ["random"] * int(os.environ.get("PINLAKE_CHAOS_KILLS", "0"))
RATE = 60  # messages per second while the stream is being killed
MIN_MESSAGES, MAX_MESSAGES = 3000, 20000
STREAM_ENV = {"PINLAKE_BRONZE_TRIGGER_SECONDS": "1", "PINLAKE_BRONZE_MAX_OFFSETS_PER_TRIGGER": "500"}


class Traffic(threading.Thread):
    """Produces JSON, plain text and non-UTF-8 messages at a steady rate until stopped."""

    def __init__(self, bootstrap: str, rng: random.Random):
        super().__init__(daemon=True)
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                                  "linger.ms": 5})
        self.rng, self.stop, self.sent, self.errors = rng, threading.Event(), [], []
        self.failure: BaseException | None = None

    def _value(self, i: int) -> bytes:
        roll = self.rng.random()
        if roll < 0.03:
            return bytes([0xFF, 0xC3]) + self.rng.randbytes(8)  # never valid UTF-8
        if roll < 0.10:
            return f"plain text #{i}, not JSON".encode()
        return f'{{"ind": {i}, "note": "caf\u00e9"}}'.encode()

    def _delivered(self, err, msg, event_id: str):
        if err is not None:
            self.errors.append(err)
        else:
            self.sent.append((event_id, msg.topic(), msg.partition(), msg.offset(), msg.value()))

    def run(self):
        try:
            self._produce()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failure = exc
        finally:
            self.producer = None  # closes the producer: no reconnect attempts after the broker stops

    def _produce(self):
        started, i = time.monotonic(), 0
        while not self.stop.is_set() and i < MAX_MESSAGES:
            topic = self.rng.choice(list(TOPIC_TABLES))
            received = datetime.now(timezone.utc).isoformat().encode()
            event_id = str(uuid.uuid4())
            self.producer.produce(topic, key=str(self.rng.randrange(500)).encode(), value=self._value(i),
                                  headers=[("event_id", event_id.encode()), ("received_at", received)],
                                  on_delivery=lambda err, msg, e=event_id: self._delivered(err, msg, e))
            self.producer.poll(0)
            i += 1
            time.sleep(max(0.0, started + i / RATE - time.monotonic()))  # pacing, not awaiting
        self.producer.flush(60)


def _ids(folder) -> set[int]:
    return {int(p.name) for p in folder.glob("[0-9]*")} if folder.is_dir() else set()


def _versions(settings) -> dict[str, int]:
    """Each bronze table's latest Delta version, from its log folder (cheap enough to poll)."""
    out = {}
    for name in TOPIC_TABLES.values():
        log = os.path.join(tables.table_path(name, settings.lakehouse), "_delta_log")
        out[name] = max(int(f[:20]) for f in os.listdir(log) if f.endswith(".json"))
    return out


def _in_flight(settings) -> int | None:
    """The batch planned in the checkpoint but not committed there, if any."""
    cp = checkpoint_dir(settings)
    pending = _ids(cp / "offsets") - _ids(cp / "commits")
    return max(pending) if pending else None


def _window(settings, kind: str, deadline: float) -> None:
    """Return at the moment the stream is in the window `kind` (or at the deadline)."""
    if kind == "random":
        return
    seen = max(_ids(checkpoint_dir(settings) / "offsets"), default=-1)
    while time.monotonic() < deadline:
        batch = _in_flight(settings)
        if batch is not None and batch > seen:
            if kind == "planned":
                return
            before = _versions(settings)
            while _in_flight(settings) == batch and time.monotonic() < deadline:
                advanced = sum(v > before[t] for t, v in _versions(settings).items())
                if (kind == "partial" and 0 < advanced < 3) or (kind == "committed" and advanced == 3):
                    return
                time.sleep(0.005)
            seen = batch
        time.sleep(0.005)


def _where_it_landed(settings) -> str:
    """What the kill interrupted, read from the checkpoint and the tables' Delta transactions."""
    from deltalake import DeltaTable

    batch = _in_flight(settings)
    if batch is None:
        return "between batches"
    app = "pinlake-bronze-" + read_json(checkpoint_dir(settings) / "metadata")["id"]
    written = [name for name in TOPIC_TABLES.values()
               if DeltaTable(tables.table_path(name, settings.lakehouse)).transaction_version(app) == batch]
    if not written:
        return f"batch {batch} planned, no table written"
    if len(written) < 3:
        return f"batch {batch} written to {written} only, checkpoint commit missing"
    return f"batch {batch} written to all tables, checkpoint commit missing"


def _kill(proc: subprocess.Popen, jvm_only: bool) -> str:
    """SIGKILL the stream's JVM alone (the driver must then exit by itself), or its whole group."""
    jvms = [c for c in psutil.Process(proc.pid).children(recursive=True) if "java" in c.name()]
    if jvm_only and jvms:
        for jvm in jvms:
            jvm.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)  # a driver that outlives its JVM would be a hung service
        return "JVM"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    psutil.wait_procs(jvms, timeout=30)
    return "driver+JVM"


def _stream(settings, log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([*PINLAKE, "bronze"], env=env_of(settings, **STREAM_ENV), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _ready(settings, pid: int) -> bool:
    beat = read_json(heartbeat_file(settings)) or {}
    return beat.get("pid") == pid and bool(beat.get("ready"))


def test_sigkill_at_random_points_loses_and_duplicates_nothing(spark, tmp_path):
    seed = int(os.environ.get("PINLAKE_CHAOS_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    began = time.monotonic()
    with fresh_stack(tmp_path / "var") as settings:
        traffic = Traffic(settings.bootstrap, random.Random(seed + 1))
        traffic.start()
        landed = []
        for i, kind in enumerate(KILLS):
            proc = _stream(settings, tmp_path / "stream.log")
            assert wait_until(lambda: _ready(settings, proc.pid) or proc.poll() is not None, 600)
            assert proc.poll() is None, (tmp_path / "stream.log").read_text()[-3000:]
            _window(settings, kind, deadline=time.monotonic() + 300)
            if kind == "random":
                time.sleep(rng.uniform(0, 4))  # the random point itself
            what = _kill(proc, jvm_only=i % 2 == 1)
            landed.append(f"kill {i + 1} ({kind}, {what}) at {time.monotonic() - began:.0f}s: "
                          f"{_where_it_landed(settings)}")
            print(landed[-1])
        assert wait_until(lambda: len(traffic.sent) >= MIN_MESSAGES or not traffic.is_alive(), 300), landed
        traffic.stop.set()
        traffic.join(120)
        assert traffic.failure is None and len(traffic.sent) >= MIN_MESSAGES, (traffic.failure, landed)
        caught_up = run_bronze(settings, "--once", **STREAM_ENV)
        assert caught_up.returncode == 0, caught_up.stderr[-3000:]
        print(f"\nchaos seed {seed}: {len(traffic.sent)} messages, {len(KILLS)} SIGKILLs, caught up after "
              f"{time.monotonic() - began:.0f}s\n" + "\n".join(landed))

        assert not traffic.errors
        assert any("checkpoint commit missing" in line or "no table written" in line for line in landed), landed
        bronze = read_bronze(spark, settings)
        # Every offset Kafka holds, once: compared set-wise per partition, duplicates included.
        assertDataFrameEqual(bronze.select("topic", "partition", "offset"),
                             expected_offsets(spark, watermarks(settings)))
        sent = spark.createDataFrame(
            [(e, t, p, o, v.decode("utf-8", errors="replace")) for e, t, p, o, v in traffic.sent],
            "event_id string, topic string, partition int, offset bigint, value string")
        assertDataFrameEqual(bronze.select("event_id", "topic", "partition", "offset", "value"), sent)
        raw = [(t, p, o, bytearray(v)) for _, t, p, o, v in traffic.sent if not _utf8(v)]
        assertDataFrameEqual(
            tables.read(spark, RAW_BYTES_TABLE, settings.lakehouse).select("topic", "partition", "offset", "value"),
            spark.createDataFrame(raw, "topic string, partition int, offset bigint, value binary"))
        assert bronze.where(F.col("ingest_date").isNull()).count() == 0


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
