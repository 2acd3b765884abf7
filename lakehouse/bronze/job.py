"""`pinlake bronze`: the streaming shell around `to_bronze`, Kafka -> Delta bronze, exactly once.

One Structured Streaming query reads the three topics and a foreachBatch function
(lakehouse/bronze/writer.py) appends each micro-batch to the three tables, exactly once (a
batch mark in each commit). See docs/BRONZE.md for the decisions (start offsets, data loss,
bytes).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys

from pyspark.sql import DataFrame, SparkSession

from lakehouse import tables
from lakehouse.bronze.metrics import BronzeMetrics
from lakehouse.bronze.schema import EVENT_TABLES, RAW_BYTES, TOPIC_TABLES
from lakehouse.bronze.state import (
    Offsets,
    checkpoint_batches,
    checkpoint_dir,
    held_from_tables,
    heartbeat_file,
    now_iso,
    offsets_file,
    read_json,
    write_json,
)
from lakehouse.bronze.writer import BatchWriter, write_offsets
from pinlake.settings import Settings

log = logging.getLogger("pinlake.bronze")
HEARTBEAT_SECONDS = 2.0
# Delta rebuilds a table's state with 50 tasks by default (a log replay when the stream starts,
# Spark's reads of a table); on a few cores those tasks dominate a small batch.
SESSION_CONF = {"spark.databricks.delta.snapshotPartitions": "2"}
EARLIEST = -2  # Spark's Kafka source: -2 is the earliest offset, -1 the latest
FETCH_MAX_WAIT_MS = 20


class _StopFlag:
    """Set by SIGTERM or SIGINT; the main loop sees it within one heartbeat.

    Raising from the handler instead would land inside a py4j call and leave the
    gateway half-used; a flag lets the loop stop the query cleanly.
    """

    signal: str | None = None

    def set(self, signum, frame) -> None:
        self.signal = signal.Signals(signum).name


def stream_master(master: str, cores: int | None = None) -> str:
    """The bronze session's Spark master: a local one gets two task threads per core.

    Reading Kafka, a task waits on the broker for most of its time (in the event log of a
    catch-up, its run time was 2.5 times its CPU time), so one thread per core left the cores
    idle. Any other master is kept as it is.
    """
    local = re.fullmatch(r"local\[(\*|\d+)\]", master)
    if not local:
        return master
    threads = (cores or os.cpu_count() or 1) if local.group(1) == "*" else int(local.group(1))
    return f"local[{2 * threads}]"


def ensure_tables(spark: SparkSession, settings: Settings) -> None:
    """Create the bronze tables that do not exist yet; give older ones the properties they lack."""
    for spec in (*EVENT_TABLES.values(), RAW_BYTES):
        tables.ensure(spark, spec, settings.lakehouse)


def kafka_partitions(bootstrap: str, timeout: float = 30.0) -> dict[str, list[int]]:
    """The partitions of each contract topic that exists."""
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=timeout)
    return {name: sorted(meta.partitions) for name, meta in metadata.topics.items() if name in TOPIC_TABLES}


def starting_offsets(held: Offsets, partitions: dict[str, list[int]]) -> str:
    """Where a new checkpoint starts: Kafka's earliest, or just after what bronze holds.

    A new checkpoint over non-empty tables (a lost checkpoint) resumes after bronze's last
    offsets instead of re-reading Kafka, so it neither duplicates nor skips. Spark needs
    every partition of a topic once any is given.
    """
    if not any(held.values()):
        return "earliest"
    spec = {topic: {str(p): held.get(topic, {}).get(str(p), EARLIEST) for p in parts}
            for topic, parts in partitions.items()}
    return json.dumps(spec)


def kafka_stream(spark: SparkSession, settings: Settings, start: str) -> DataFrame:
    """The three topics as one stream, headers included."""
    return (spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", settings.bootstrap)
            .option("subscribe", ",".join(TOPIC_TABLES))
            .option("includeHeaders", "true")
            # A consumer's fetch at the end of a partition waits at the broker for new data, 500 ms
            # by default, and the next read of that consumer waits behind it: catching up, batches
            # spent seconds with the CPU idle. The wait only matters when there is nothing to read.
            .option("kafka.fetch.max.wait.ms", str(FETCH_MAX_WAIT_MS))
            .option("startingOffsets", start)
            .option("failOnDataLoss", str(settings.bronze_fail_on_data_loss).lower())
            .option("maxOffsetsPerTrigger", settings.bronze_max_offsets_per_trigger)
            .load())


def start(spark: SparkSession, settings: Settings, once: bool):
    """Start the query on the durable checkpoint; returns the StreamingQuery."""
    checkpoint = checkpoint_dir(settings)
    held = held_from_tables(settings)
    is_new = not checkpoint_batches(settings)
    begin = "earliest"  # ignored by Spark when the checkpoint exists: it resumes where it stopped
    if is_new:  # Kafka's partitions are needed only to resume after what bronze holds
        begin = starting_offsets(held, kafka_partitions(settings.bootstrap) if any(held.values()) else {})
    log.info("bronze: checkpoint %s, starting offsets %s", checkpoint, begin if is_new else "from the checkpoint")
    previous = read_json(offsets_file(settings)) or {}
    write_offsets(settings, held, last_rows_at=previous.get("last_rows_at", {}),
                   batch_at=previous.get("batch_at"), batch_id=previous.get("batch_id"))
    writer = BatchWriter(settings, held, previous.get("last_rows_at", {}))
    trigger = {"availableNow": True} if once else \
        {"processingTime": f"{int(settings.bronze_trigger_seconds * 1000)} milliseconds"}
    return (kafka_stream(spark, settings, begin)
            .writeStream.queryName("bronze")
            .foreachBatch(writer)
            .option("checkpointLocation", checkpoint)
            .trigger(**trigger)
            .start())


class Heartbeat:
    """Writes heartbeat.json: this driver is alive, and when its query last made progress; hands
    the query's progress reports to the metrics."""

    def __init__(self, settings: Settings, query, metrics: BronzeMetrics | None = None):
        self.settings, self.query, self.metrics = settings, query, metrics
        self.started_at = self.progress_at = now_iso()
        self.last_trigger = None

    def beat(self) -> None:
        """Record the query's state; progress = a new finished trigger, or idle waiting for data."""
        status, progress = self.query.status, self.query.lastProgress
        if self.metrics is not None and progress and progress["batchId"] != self.metrics.last_batch:
            self.metrics.observe(self.query.recentProgress)  # each batch since the last beat
        trigger = (progress["batchId"], progress["timestamp"]) if progress else None
        if trigger != self.last_trigger or status["message"].startswith("Waiting"):
            self.last_trigger, self.progress_at = trigger, now_iso()
        write_json(heartbeat_file(self.settings), {
            "pid": os.getpid(), "query_id": str(self.query.id), "started_at": self.started_at,
            "beat_at": now_iso(), "progress_at": self.progress_at, "active": self.query.isActive,
            "message": status["message"], "ready": progress is not None or status["message"].startswith("Waiting"),
        })


def _stop_quietly(query) -> None:
    # The JVM got the same signal (one process group) and may be gone already; the
    # checkpoint and the idempotent writes make any point of death safe.
    try:
        query.stop()
    except Exception as exc:  # noqa: BLE001
        log.info("bronze: the query was already gone (%s)", type(exc).__name__)


def explain(exc: Exception) -> str:
    """The query's failure as one clear message; a Kafka data loss gets its remedy."""
    text = str(exc)
    if "data may have been lost" in text or "failOnDataLoss" in text:
        return ("Kafka no longer holds offsets that the bronze checkpoint still needs (retention "
                "deleted them before bronze read them). Nothing was written for them. To accept the gap "
                "and go on, run once with PINLAKE_BRONZE_FAIL_ON_DATA_LOSS=false; see docs/BRONZE.md.\n" + text)
    return text


def run(settings: Settings, once: bool = False) -> int:
    """Run the bronze stream until stopped (or, with `once`, until caught up); the exit code."""
    from lakehouse.spark import get_spark

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    # py4j logs at INFO from its connections' finalizers, also while the interpreter exits. When the
    # JVM dies mid-batch, a daemon callback thread may still be logging its error as the interpreter
    # finalizes: frozen there with the log handler's lock held, it leaves any later INFO line (such
    # a finalizer's) waiting for that lock forever, and the driver never exits. Those lines tell a
    # user nothing; py4j's warnings and errors still show.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    stop = _StopFlag()
    signal.signal(signal.SIGTERM, stop.set)
    signal.signal(signal.SIGINT, stop.set)
    master = stream_master(settings.spark_master)
    spark = get_spark("pinlake-bronze", settings.model_copy(update={"spark_master": master}), conf=SESSION_CONF)
    ensure_tables(spark, settings)
    query = start(spark, settings, once)
    metrics = None
    if not once:  # a run to catch up is short, and would compete for the service's port
        metrics = BronzeMetrics(settings)
        metrics.serve(settings.bronze_metrics_host, settings.bronze_metrics_port)
    heart = Heartbeat(settings, query, metrics)
    try:
        while not query.awaitTermination(HEARTBEAT_SECONDS):
            if stop.signal:
                log.info("bronze: %s, stopping the query", stop.signal)
                _stop_quietly(query)
                return 0
            heart.beat()
    except Exception as exc:  # noqa: BLE001 - the query's own failure, reported once, clearly
        if stop.signal:  # the JVM got the signal too and went first
            log.info("bronze: %s, the query stopped with the JVM", stop.signal)
            return 0
        log.error("bronze stream failed: %s", explain(exc))
        return 1
    log.info("bronze: caught up, stopping" if once else "bronze: query ended")
    return 0
