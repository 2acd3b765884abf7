"""`pinlake bronze --once` against a real broker: columns, headers, any bytes, data loss; and
the batch writer's replay of a batch that reached only some tables."""

import json
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from lakehouse import tables
from lakehouse.bronze.schema import BRONZE_SCHEMA, RAW_BYTES
from lakehouse.bronze.status import bronze_status
from tests.integration.bronze_helpers import (
    PINLAKE,
    env_of,
    expected_offsets,
    fresh_stack,
    produce,
    read_bronze,
    run_bronze,
    watermarks,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
UTC = timezone.utc


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


# Kafka timestamps within the broker's retention (older records would be deleted at once),
# around a UTC midnight: ingest_date is the UTC date of the Kafka timestamp.
MIDNIGHT = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
T1 = MIDNIGHT - timedelta(hours=14) + timedelta(milliseconds=123)
T2 = MIDNIGHT - timedelta(milliseconds=1)
T3 = MIDNIGHT
PIN_V1 = b'{"index": 1, "unique_id": "U-1", "title": "  t  ", "not_in_contract": {"kept": true}}'
PIN_V2 = b'{"index": 1, "unique_id": "U-1", "title": "v2"}'
NOT_UTF8 = b"\xff\xfe\x00 binary \x80"
UNICODE = "ünïcödé \U0001f642".encode()

# (topic, partition, key, value, headers, kafka timestamp ms)
MESSAGES = [
    ("pinterest.pin", 0, b"U-1", PIN_V1, [("event_id", b"e-1"), ("received_at", b"2026-11-03T10:00:00.120Z")], _ms(T1)),
    ("pinterest.pin", 0, b"U-1", PIN_V2, [("event_id", b"e-2"), ("received_at", b"2026-11-03T10:00:01Z")], _ms(T2)),
    ("pinterest.geo", 1, b"7", b"this is not JSON {", [("event_id", b"e-3"),
                                                       ("received_at", b"2026-11-04T01:00:00+01:00")], _ms(T3)),
    ("pinterest.geo", 1, b"8", NOT_UTF8, [("event_id", b"e-4")], _ms(T3)),
    ("pinterest.user", 2, None, b"", [], _ms(T1)),
    ("pinterest.user", 2, b"9", UNICODE, [("event_id", b"e-6"), ("received_at", b"not a time")], _ms(T2)),
]


def _expected(spark, delivered):
    """The bronze rows MESSAGES must become (without ingested_at, checked apart)."""
    rows = []
    for (topic, _, key, value, headers, ts), (_, partition, offset) in zip(MESSAGES, delivered):
        h = dict(headers)
        received = h.get("received_at")
        rows.append((
            h["event_id"].decode() if "event_id" in h else None,
            _RECEIVED.get(received),
            None if key is None else key.decode(),
            value.decode("utf-8", errors="replace"),
            topic, partition, offset,
            datetime.fromtimestamp(ts / 1000, UTC),
            datetime.fromtimestamp(ts / 1000, UTC).date(),
        ))
    schema = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in BRONZE_SCHEMA if f.name != "ingested_at")
    return spark.createDataFrame(rows, schema)


_RECEIVED = {
    b"2026-11-03T10:00:00.120Z": datetime(2026, 11, 3, 10, 0, 0, 120000, tzinfo=UTC),
    b"2026-11-03T10:00:01Z": datetime(2026, 11, 3, 10, 0, 1, tzinfo=UTC),
    b"2026-11-04T01:00:00+01:00": datetime(2026, 11, 4, 0, 0, 0, tzinfo=UTC),
}


def test_once_lands_every_message_unchanged_exactly_once(spark, tmp_path):
    with fresh_stack(tmp_path / "var") as settings:
        delivered = produce(settings, MESSAGES)
        before = datetime.now(UTC)
        first = run_bronze(settings, "--once")
        assert first.returncode == 0, first.stderr[-3000:]
        after = datetime.now(UTC)

        bronze = read_bronze(spark, settings)
        assert [(f.name, f.dataType) for f in bronze.schema] == [(f.name, f.dataType) for f in BRONZE_SCHEMA]
        assertDataFrameEqual(bronze.drop("ingested_at"), _expected(spark, delivered))
        stamps = {r.ingested_at.astimezone(UTC) for r in bronze.select("ingested_at").collect()}
        assert all(before <= s <= after for s in stamps), (before, stamps, after)
        # Valid UTF-8, JSON or not, is stored byte for byte; the exact bytes of the rest are kept.
        stored = {(r.topic, r.partition, r.offset): bytes(r.value) for r in bronze
                  .select("topic", "partition", "offset", F.col("value").cast("binary").alias("value")).collect()}
        sent = {where: m[3] for m, where in zip(MESSAGES, delivered) if m[3] != NOT_UTF8}
        assert {where: stored[where] for where in sent} == sent
        assertDataFrameEqual(
            tables.read(spark, RAW_BYTES.name, settings.lakehouse).select("topic", "partition", "offset", "key",
                                                                            "value", "ingest_date"),
            spark.createDataFrame([("pinterest.geo", 1, delivered[3][2], bytearray(b"8"), bytearray(NOT_UTF8),
                                    T3.date())],
                                  "topic string, partition int, offset bigint, key binary, value binary, "
                                  "ingest_date date"))

        # A second run reads only what is new: no duplicate, no gap.
        more = produce(settings, [("pinterest.geo", 0, b"1", b'{"ind": 1}', [("event_id", b"e-7")], _ms(T3))])
        again = run_bronze(settings, "--once")
        assert again.returncode == 0, again.stderr[-3000:]
        assertDataFrameEqual(read_bronze(spark, settings).select("topic", "partition", "offset"),
                             expected_offsets(spark, watermarks(settings)))
        assert more == [("pinterest.geo", 0, 0)]

        report = bronze_status(settings)
        assert {t: e["lag"] for t, e in report["topics"].items()} == \
            {"pinterest.pin": 0, "pinterest.geo": 0, "pinterest.user": 0}
        assert report["topics"]["pinterest.geo"]["bronze_end"] == 3 and report["last_batch_at"]
        shown = subprocess.run([*PINLAKE, "status", "--json"], env=env_of(settings), capture_output=True,
                               text=True, timeout=120)
        assert json.loads(shown.stdout)["bronze"]["topics"]["pinterest.pin"]["lag"] == 0, shown.stderr


def test_data_loss_stops_the_stream_until_accepted(spark, tmp_path):
    topic, partition = "pinterest.user", 1
    with fresh_stack(tmp_path / "var") as settings:
        def messages(start, n):
            return [(topic, partition, b"k", f'{{"ind": {i}}}'.encode(), [("event_id", f"e{i}".encode())], 0)
                    for i in range(start, start + n)]

        produce(settings, messages(0, 10))
        assert run_bronze(settings, "--once").returncode == 0
        produce(settings, messages(10, 10))
        # Retention (here: an explicit delete) drops offsets 10..14 before bronze has read them.
        admin = AdminClient({"bootstrap.servers": settings.bootstrap})
        for future in admin.delete_records([TopicPartition(topic, partition, 15)]).values():
            future.result(30)

        failed = run_bronze(settings, "--once")
        assert failed.returncode == 1
        assert "Kafka no longer holds offsets that the bronze checkpoint still needs" in failed.stderr
        held = read_bronze(spark, settings).where(F.col("partition") == partition).where(F.col("topic") == topic)
        assert sorted(r.offset for r in held.select("offset").collect()) == list(range(10))

        accepted = run_bronze(settings, "--once", PINLAKE_BRONZE_FAIL_ON_DATA_LOSS="false")
        assert accepted.returncode == 0, accepted.stderr[-3000:]
        held = read_bronze(spark, settings).where(F.col("partition") == partition).where(F.col("topic") == topic)
        assert sorted(r.offset for r in held.select("offset").collect()) == [*range(10), *range(15, 20)]


def test_a_replayed_batch_is_written_only_to_the_tables_that_miss_it(spark, tmp_path):
    """The writer a restarted stream builds skips, per table, a batch the table's log marks as
    written: a replay after a kill between some tables' commits writes each offset once."""
    from lakehouse.bronze.job import ensure_tables
    from lakehouse.bronze.schema import KAFKA_SOURCE_SCHEMA, TOPIC_TABLES
    from lakehouse.bronze.state import checkpoint_dir
    from lakehouse.bronze.writer import BatchWriter, last_batch
    from pinlake.settings import Settings

    settings = Settings(data_root=tmp_path)
    root = settings.lakehouse
    Path(checkpoint_dir(settings)).mkdir(parents=True)
    (Path(checkpoint_dir(settings)) / "metadata").write_text(json.dumps({"id": "q-1"}))
    ensure_tables(spark, settings)
    paths = {topic: tables.table_path(name, root) for topic, name in TOPIC_TABLES.items()}

    def batch(first_offset: int, topics=tuple(TOPIC_TABLES)):
        rows = [(b"k", b'{"n": %d}' % o, topic, 0, o, T1, 0, [("event_id", f"{topic}-{o}".encode())])
                for topic in topics for o in range(first_offset, first_offset + 2)]
        return spark.createDataFrame(rows, KAFKA_SOURCE_SCHEMA)

    def offsets(topic):
        return sorted(r.offset for r in spark.read.format("delta").load(paths[topic]).collect())

    first = BatchWriter(settings, {}, {})
    first(batch(0), 0)
    # The kill: batch 1 reached the pin table only.
    first(batch(2, topics=("pinterest.pin",)), 1)
    assert {t: last_batch(name, root, "pinlake-bronze-q-1") for t, name in TOPIC_TABLES.items()} == \
        {"pinterest.pin": 1, "pinterest.geo": 0, "pinterest.user": 0}
    assert last_batch(TOPIC_TABLES["pinterest.pin"], root, "pinlake-bronze-other") == -1

    restarted = BatchWriter(settings, {}, {})
    restarted(batch(2), 1)  # Spark's replay: the whole batch again
    restarted(batch(4), 2)
    for topic in TOPIC_TABLES:
        assert offsets(topic) == [0, 1, 2, 3, 4, 5], topic


def test_the_writer_checkpoints_each_table_every_tenth_commit_instead_of_spark(spark, tmp_path):
    """Spark's commits to bronze never checkpoint; the writer's background thread writes one
    (with deltalake) once a table went ten commits without, and Spark reads the table from it.
    A table made before (Spark's default interval of 10, so Spark checkpointed it, its
    checksum file beside) gets the bronze properties first, and deltalake's checkpoints after."""
    from delta.tables import DeltaTable

    from lakehouse.bronze.job import ensure_tables
    from lakehouse.bronze.schema import KAFKA_SOURCE_SCHEMA, PROPERTIES, TOPIC_TABLES
    from lakehouse.bronze.state import checkpoint_dir
    from lakehouse.bronze.writer import BatchWriter
    from pinlake.settings import Settings
    from pinlake.supervisor import wait_until

    settings = Settings(data_root=tmp_path)
    root = settings.lakehouse
    Path(checkpoint_dir(settings)).mkdir(parents=True)
    (Path(checkpoint_dir(settings)) / "metadata").write_text(json.dumps({"id": "q-1"}))
    paths = {topic: tables.table_path(name, root) for topic, name in TOPIC_TABLES.items()}
    old = paths["pinterest.pin"]  # as an earlier pinlake made it: append-only, nothing else
    (DeltaTable.createIfNotExists(spark).location(old).addColumns(BRONZE_SCHEMA).partitionedBy("ingest_date")
     .property("delta.appendOnly", "true").execute())
    for n in range(10):  # versions 1 to 10, one row each (partition 9): Spark checkpoints version 10 itself
        row = (f"old-{n}", T1, "k", "{}", "pinterest.pin", 9, n, T1, T1, T1.date())
        spark.createDataFrame([row], BRONZE_SCHEMA).write.format("delta").mode("append").save(old)
    assert (Path(old) / "_delta_log" / "._last_checkpoint.crc").exists()
    ensure_tables(spark, settings)
    for path in paths.values():
        properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
        assert {k: properties.get(k) for k in PROPERTIES} == PROPERTIES, path

    writer = BatchWriter(settings, {}, {})
    for batch_id in range(12):
        rows = [(b"k", b"{}", topic, 0, 2 * batch_id + i, T1, 0, [("event_id", b"e")])
                for topic in TOPIC_TABLES for i in range(2)]
        writer(spark.createDataFrame(rows, KAFKA_SOURCE_SCHEMA), batch_id)
    # Creation is version 0, then ten commits and a checkpoint (Spark would have made its own at
    # version 10); the old table: Spark's checkpoint of 10, its property change 11, then ten commits.
    expected = {topic: [10, 20] if path == old else [9] for topic, path in paths.items()}
    assert wait_until(lambda: all(tables.last_checkpoint(TOPIC_TABLES[t], root) == want[-1]
                                  for t, want in expected.items()), 60)

    jvm = spark.sparkContext._jvm
    jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    for topic, path in paths.items():
        log = Path(path) / "_delta_log"
        written = sorted(int(f.name[:20]) for f in log.glob("*.checkpoint.parquet"))
        assert written == expected[topic], (topic, written)
        spark_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
        # Spark reads the _last_checkpoint that deltalake wrote, also over one Spark wrote before.
        assert spark_log.unsafeLoadMetadataFromFile().version() == expected[topic][-1]
        assert spark_log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty()) \
            .logSegment().checkpointProvider().version() == expected[topic][-1]
        written = spark.read.format("delta").load(path).where(F.col("partition") == 0)
        assert sorted(r.offset for r in written.collect()) == list(range(24))


def _keep_producing(settings, stop: threading.Event) -> None:
    """Messages to the three topics until `stop`, so that the stream always has a batch to write."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": settings.bootstrap, "linger.ms": 5})
    n = 0
    while not stop.is_set():
        for topic in ("pinterest.pin", "pinterest.geo", "pinterest.user"):
            for _ in range(50):
                n += 1
                producer.produce(topic, value=b'{"ind": %d}' % n, key=b"%d" % n)
        producer.poll(0)
        stop.wait(0.05)  # pacing: about 3,000 messages a second
    producer.flush(30)


def test_a_stream_whose_jvm_dies_mid_batch_exits_by_itself(tmp_path):
    """SIGKILL the stream's JVM while a batch is in flight, three times: each time the driver logs
    the failure and exits 1 by itself (a driver that outlives its JVM would be a hung service)."""
    from lakehouse.bronze.service import BRONZE
    from pinlake.supervisor import Supervisor, wait_until
    from tests.integration.bronze_helpers import in_flight

    with fresh_stack(tmp_path / "var", bronze_trigger_seconds=0.5) as settings:
        supervisor, stop = Supervisor(settings, [BRONZE]), threading.Event()
        sender = threading.Thread(target=_keep_producing, args=(settings, stop), daemon=True)
        sender.start()
        try:
            for attempt in range(3):
                assert supervisor.start(BRONZE)
                proc = supervisor.process(BRONZE.name)
                assert wait_until(lambda: in_flight(settings) is not None, 120, interval=0.005)
                for child in proc.children(recursive=True):
                    try:
                        if "java" in child.name():
                            child.kill()
                    except psutil.NoSuchProcess:  # a short-lived child that has gone already
                        continue
                assert proc.wait(timeout=90) == 1, f"attempt {attempt + 1}: the driver did not exit 1"
                assert "bronze stream failed" in supervisor.log_file(BRONZE.name).read_text()
                supervisor.stop(BRONZE)  # forgets the exited process
        finally:
            stop.set()
            sender.join(60)
            supervisor.down()
