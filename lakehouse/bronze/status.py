"""Health and lag of the bronze stream, cheap enough for `pinlake status` (no Spark).

`python -m lakehouse.bronze.status` is the stream's healthcheck (compose's `bronze` service):
exit 0 when `healthy`, 1 when not, in a fraction of a second and without asking Kafka.

Lag per topic = Kafka's end offsets minus the next offsets bronze holds, summed over the
topic's partitions. What bronze holds comes from offsets.json (written after each
micro-batch's Delta commits); without it, from the Delta tables themselves (deltalake).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone

import psutil

from lakehouse.bronze.state import (
    Offsets,
    checkpoint_dir,
    heartbeat_file,
    held_from_tables,
    offsets_file,
    read_json,
)
from lakehouse.bronze.schema import TOPIC_TABLES
from pinlake.kafka import QUIET
from pinlake.settings import Settings


def stale_after(settings: Settings) -> float:
    """Seconds after which a heartbeat no longer counts as alive."""
    return max(30.0, 3 * settings.bronze_trigger_seconds)


def _age(iso: str | None) -> float | None:
    if not iso:
        return None
    return (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds()


def stalled_after(settings: Settings) -> float:
    """Seconds without a finished trigger (while not idle) after which the stream counts as stuck."""
    return max(300.0, 20 * settings.bronze_trigger_seconds)


def healthy(settings: Settings) -> bool:
    """The stream's driver is alive, its query active, past its first trigger and not stuck in one."""
    beat = read_json(heartbeat_file(settings))
    if not beat or not beat.get("active") or not beat.get("ready"):
        return False
    age, progress_age = _age(beat.get("beat_at")), _age(beat.get("progress_at"))
    return (age is not None and age < stale_after(settings) and _alive(beat.get("pid"))
            and progress_age is not None and progress_age < stalled_after(settings))


def _alive(pid: int | None) -> bool:
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kafka_end_offsets(bootstrap: str, timeout: float = 2.0) -> Offsets | None:
    """The end (high watermark) of every partition of the contract topics; None if Kafka is down."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"pinlake-status-{os.getpid()}",
                         "enable.auto.commit": False, "log_level": QUIET, "socket.timeout.ms": int(timeout * 1000)})
    try:
        metadata = consumer.list_topics(timeout=timeout)
        ends: Offsets = {}
        for topic in TOPIC_TABLES:
            for partition in sorted((metadata.topics.get(topic) or _NoTopic).partitions):
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
                ends.setdefault(topic, {})[str(partition)] = high
        return ends
    except KafkaException:
        return None
    finally:
        consumer.close()


class _NoTopic:
    partitions: dict = {}


def positions(settings: Settings) -> tuple[dict | None, Offsets, Offsets | None]:
    """offsets.json (None before the first batch), the next offset bronze holds per topic
    partition (from that file, else from the tables), and Kafka's end offsets (None if down)."""
    progress = read_json(offsets_file(settings))
    held = progress["offsets"] if progress else held_from_tables(settings)
    return progress, held, kafka_end_offsets(settings.bootstrap)


def partition_lags(held: Offsets, ends: Offsets) -> Offsets:
    """Per topic and partition: Kafka's end minus the next offset bronze holds."""
    return {topic: {p: max(0, end - held.get(topic, {}).get(p, 0)) for p, end in partitions.items()}
            for topic, partitions in ends.items()}


def bronze_status(settings: Settings) -> dict:
    """Per topic: Kafka's end, bronze's end (offsets summed over partitions), the lag; the last batch's time."""
    progress, held, ends = positions(settings)
    lags = None if ends is None else partition_lags(held, ends)
    topics = {}
    for topic, name in TOPIC_TABLES.items():
        bronze_end = sum(held.get(topic, {}).values())
        lag = None if lags is None else sum(lags.get(topic, {}).values())
        topics[topic] = {"table": name, "kafka_end": None if ends is None else sum(ends.get(topic, {}).values()),
                         "bronze_end": bronze_end, "lag": lag,
                         "last_rows_at": (progress or {}).get("last_rows_at", {}).get(topic)}
    beat = read_json(heartbeat_file(settings)) or {}
    return {"healthy": healthy(settings), "checkpoint": str(checkpoint_dir(settings)),
            "last_batch_at": (progress or {}).get("batch_at"), "last_batch_id": (progress or {}).get("batch_id"),
            "heartbeat_at": beat.get("beat_at"), "topics": topics}


def status_table(report: dict):
    """The bronze part of `pinlake status` as a rich Table."""
    from rich.table import Table

    batch = _short(report["last_batch_at"]) or "never"
    table = Table("topic", "table", "kafka end", "bronze end", "lag", "last rows at",
                  title=f"bronze stream: last micro-batch {batch} (batch {report['last_batch_id']})")
    for topic, entry in report["topics"].items():
        lag = "?" if entry["lag"] is None else str(entry["lag"])
        end = "?" if entry["kafka_end"] is None else str(entry["kafka_end"])
        table.add_row(topic, entry["table"], end, str(entry["bronze_end"]), lag, _short(entry["last_rows_at"]) or "-")
    return table


def _short(iso: str | None) -> str | None:
    """`2026-11-25T22:18:46.681+00:00` -> `2026-11-25 22:18:46 UTC`."""
    return f"{iso[:19].replace('T', ' ')} UTC" if iso else None


def main() -> int:
    """The healthcheck: 0 when the stream is healthy (see `healthy`), 1 when it is not."""
    from pinlake.settings import get_settings

    ok = healthy(get_settings())
    print("bronze stream healthy" if ok else "bronze stream not healthy: no recent heartbeat, not ready or stuck")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
