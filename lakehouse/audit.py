"""`pinlake audit`: nothing lost, nothing doubled, from the client's acknowledgement to silver.

Per topic, three reconciliations, each read from the system of record itself:

1. ledger -> Kafka: every event id the API acknowledged to `pinlake emit --ledger` is in a
   Kafka message's `event_id` header (only when a ledger is given);
2. Kafka -> bronze: every offset Kafka holds is in bronze once, with the same event id; no
   bronze row claims an offset Kafka never had (section 4's invariant). Offsets that Kafka's
   retention has already dropped may stay in bronze;
3. bronze -> silver: bronze rows = rows silver accepted (superseded versions included, as
   counted in `silver.progress`) + quarantine rows (section 5's invariant). Bronze rows that
   no silver run has processed yet are reported as pending, a gap until the next run.

The tables are read through the Delta log (deltalake -> Arrow) and compared in DuckDB; no
Spark session is started, so an audit takes seconds on a demo-sized lakehouse.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from lakehouse import tables
from lakehouse.bronze.schema import TOPIC_TABLES
from lakehouse.silver.progress import PROGRESS
from lakehouse.silver.quarantine import QUARANTINE
from pinlake.settings import TOPICS, Settings

EXAMPLES = 5  # offsets or ids quoted per gap


@dataclass
class Gap:
    """One way in which a topic's data does not add up; `what` says it in a sentence."""

    stage: str  # "ledger -> kafka", "kafka -> bronze" or "bronze -> silver"
    what: str
    count: int


@dataclass
class TopicAudit:
    topic: str
    acknowledged: int | None  # event ids in the ledger (None: no ledger given)
    kafka: int  # messages Kafka holds now
    bronze: int
    accepted: int  # accepted into silver, superseded versions included
    quarantined: int
    pending: int  # bronze rows no silver run has processed yet
    gaps: list[Gap] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.gaps


def read_ledger(path: Path) -> dict[str, set[str]]:
    """Acknowledged event ids per topic, from `pinlake emit --ledger` lines {type, event_id}."""
    acknowledged: dict[str, set[str]] = {topic: set() for topic in TOPICS.values()}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                acknowledged[TOPICS[entry["type"]]].add(entry["event_id"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a ledger line {{\"type\", \"event_id\"}}: {line.strip()[:80]}"
                                 ) from exc
    return acknowledged


def kafka_records(bootstrap: str, topic: str, timeout: float = 30.0) -> tuple[pa.Table, dict[int, int]]:
    """Every message Kafka holds for `topic` when the audit starts: (partition, offset, event_id
    header), and each partition's first offset still held (retention may have dropped older ones)."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from pinlake.kafka import QUIET

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"pinlake-audit-{uuid.uuid4()}",
                         "enable.auto.commit": False, "enable.partition.eof": True, "log_level": QUIET})
    columns: dict[str, list] = {"partition": [], "offset": [], "event_id": []}
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise LookupError(f"Kafka at {bootstrap} has no topic {topic}")
        marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
                 for p in metadata.partitions}
        ends = {p: high for p, (low, high) in marks.items() if high > low}
        consumer.assign([TopicPartition(topic, p, marks[p][0]) for p in ends])
        reading, last_read = set(ends), time.monotonic()
        while reading:
            # consume() waits until it has num_messages or its timeout passed: keep it short.
            batch = consumer.consume(num_messages=10_000, timeout=0.5)
            if batch:
                last_read = time.monotonic()
            elif time.monotonic() - last_read > timeout:
                raise TimeoutError(f"Kafka at {bootstrap} stopped answering while the audit read {topic}")
            for message in batch:
                partition, offset, error = message.partition(), message.offset(), message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    raise ConnectionError(f"reading {topic} from Kafka: {error}")
                if error is None and offset < ends[partition]:  # later messages are after the audit began
                    event_id = dict(message.headers() or []).get("event_id")
                    columns["partition"].append(partition)
                    columns["offset"].append(offset)
                    columns["event_id"].append(None if event_id is None else event_id.decode("utf-8", "replace"))
                if offset >= ends[partition] - (error is None):
                    reading.discard(partition)
    finally:
        consumer.close()
    records = pa.table({"partition": pa.array(columns["partition"], pa.int32()),
                        "offset": pa.array(columns["offset"], pa.int64()),
                        "event_id": pa.array(columns["event_id"], pa.string())})
    return records, {p: low for p, (low, _) in marks.items()}


def _examples(rows: list[tuple]) -> str:
    shown = ", ".join(f"{row[0]}:{row[1]}" for row in rows[:EXAMPLES])
    return shown + (", ..." if len(rows) > EXAMPLES else "")


def kafka_to_bronze(con: duckdb.DuckDBPyConnection, kafka: pa.Table, first_held: dict[int, int],
                    bronze) -> list[Gap]:
    """Section 4: each offset Kafka holds is in bronze exactly once, with the event id Kafka has."""
    stage = "kafka -> bronze"
    con.register("k", kafka)
    con.register("b", bronze if bronze is not None else kafka.schema.empty_table())
    con.register("held", pa.table({"partition": pa.array(list(first_held), pa.int32()),
                                   "low": pa.array(list(first_held.values()), pa.int64())}))
    gaps = []
    missing = con.sql('SELECT "partition", "offset" FROM k ANTI JOIN b USING ("partition", "offset") '
                      "ORDER BY ALL").fetchall()
    if missing:
        gaps.append(Gap(stage, f"{len(missing)} Kafka offsets not in bronze (partition:offset {_examples(missing)})",
                        len(missing)))
    doubled = con.sql('SELECT "partition", "offset", count(*) - 1 FROM b GROUP BY ALL HAVING count(*) > 1 '
                      "ORDER BY ALL").fetchall()
    if doubled:
        extra = sum(row[2] for row in doubled)
        gaps.append(Gap(stage, f"{extra} duplicate bronze rows (partition:offset {_examples(doubled)})", extra))
    # Offsets below a partition's first held one were dropped by retention after bronze took them.
    unknown = con.sql('SELECT b."partition", b."offset" FROM b LEFT JOIN held USING ("partition") '
                      'ANTI JOIN k USING ("partition", "offset") '
                      'WHERE held.low IS NULL OR b."offset" >= held.low ORDER BY ALL').fetchall()
    if unknown:
        gaps.append(Gap(stage, f"{len(unknown)} bronze rows at offsets Kafka never held "
                               f"(partition:offset {_examples(unknown)})", len(unknown)))
    changed = con.sql('SELECT "partition", "offset" FROM k JOIN b USING ("partition", "offset") '
                      "WHERE k.event_id IS DISTINCT FROM b.event_id ORDER BY ALL").fetchall()
    if changed:
        gaps.append(Gap(stage, f"{len(changed)} bronze rows whose event_id differs from Kafka's header "
                               f"(partition:offset {_examples(changed)})", len(changed)))
    return gaps


def silver_counts(root: str, topic: str) -> dict:
    """Counts behind section 5's invariant for one topic, read through the Delta log.

    `holds`: bronze rows = accepted (superseded versions included) + quarantine rows.
    `consistent`: what silver.progress says it processed is exactly what bronze holds up to its
    watermarks, and all of that was either accepted or quarantined.
    """
    con = duckdb.connect()
    bronze = tables.arrow(TOPIC_TABLES[topic], root, columns=["partition", "offset"])
    progress = tables.arrow(PROGRESS.name, root)
    quarantine = tables.arrow(QUARANTINE.name, root, columns=["source_topic", "source_partition", "source_offset"])
    empty = {"rows": 0, "accepted": 0, "quarantined": 0}
    marks: dict[int, int] = {}
    if progress is not None:
        con.register("progress", progress)
        done = con.sql("SELECT coalesce(sum(rows), 0), coalesce(sum(accepted), 0), coalesce(sum(quarantined), 0) "
                       "FROM progress WHERE source_topic = $t", params={"t": topic}).fetchone()
        empty = dict(zip(empty, done))
        marks = dict(con.sql("SELECT source_partition, max(last_offset) FROM progress WHERE source_topic = $t "
                             "GROUP BY ALL", params={"t": topic}).fetchall())
    bronze_rows = covered = 0
    if bronze is not None:
        con.register("b", bronze)
        con.register("marks", pa.table({"partition": pa.array(list(marks), pa.int32()),
                                        "mark": pa.array(list(marks.values()), pa.int64())}))
        bronze_rows, covered = con.sql('SELECT count(*), count(*) FILTER (b."offset" <= marks.mark) '
                                       'FROM b LEFT JOIN marks USING ("partition")').fetchone()
    q_rows = q_doubled = 0
    if quarantine is not None:
        con.register("q", quarantine)
        q_rows, q_distinct = con.sql("SELECT count(*), count(DISTINCT (source_partition, source_offset)) FROM q "
                                     "WHERE source_topic = $t", params={"t": topic}).fetchone()
        q_doubled = q_rows - q_distinct
    report = {"topic": topic, "bronze_rows": bronze_rows, "processed_rows": int(empty["rows"]),
              "pending_rows": bronze_rows - covered, "accepted_rows": int(empty["accepted"]),
              "quarantine_rows": q_rows, "quarantine_duplicates": q_doubled}
    report["consistent"] = covered == report["processed_rows"] == report["accepted_rows"] + q_rows
    report["holds"] = bronze_rows == report["accepted_rows"] + q_rows and not q_doubled
    return report


def bronze_to_silver(counts: dict) -> list[Gap]:
    """Section 5's invariant as gaps, the rows not yet processed named as such."""
    stage, gaps = "bronze -> silver", []
    if counts["pending_rows"]:
        gaps.append(Gap(stage, f"{counts['pending_rows']} bronze rows not processed by silver yet "
                               "(run the medallion DAG: pinlake run --wait)", counts["pending_rows"]))
    processed = counts["bronze_rows"] - counts["pending_rows"]
    accounted = counts["accepted_rows"] + counts["quarantine_rows"]
    if processed != accounted:
        gaps.append(Gap(stage, f"{processed} processed bronze rows but {counts['accepted_rows']} accepted + "
                               f"{counts['quarantine_rows']} quarantined = {accounted}", abs(processed - accounted)))
    if counts["quarantine_duplicates"]:
        gaps.append(Gap(stage, f"{counts['quarantine_duplicates']} bronze rows quarantined more than once",
                        counts["quarantine_duplicates"]))
    return gaps


def ledger_to_kafka(acknowledged: set[str], kafka: pa.Table) -> list[Gap]:
    """Every event id the API acknowledged is in Kafka."""
    in_kafka = set(kafka.column("event_id").to_pylist())
    lost = sorted(acknowledged - in_kafka)
    if not lost:
        return []
    shown = ", ".join(lost[:EXAMPLES]) + (", ..." if len(lost) > EXAMPLES else "")
    return [Gap("ledger -> kafka", f"{len(lost)} acknowledged event ids not in Kafka ({shown})", len(lost))]


def audit(settings: Settings, ledger: Path | None = None) -> list[TopicAudit]:
    """Every topic's three reconciliations (the ledger one only with a ledger)."""
    acknowledged = read_ledger(ledger) if ledger else None
    root, reports = settings.lakehouse, []
    for topic in TOPICS.values():
        kafka, first_held = kafka_records(settings.bootstrap, topic)
        bronze = tables.arrow(TOPIC_TABLES[topic], root, columns=["partition", "offset", "event_id"])
        counts = silver_counts(root, topic)
        gaps = ledger_to_kafka(acknowledged[topic], kafka) if acknowledged is not None else []
        gaps += kafka_to_bronze(duckdb.connect(), kafka, first_held, bronze) + bronze_to_silver(counts)
        reports.append(TopicAudit(
            topic=topic, acknowledged=None if acknowledged is None else len(acknowledged[topic]),
            kafka=kafka.num_rows, bronze=counts["bronze_rows"], accepted=counts["accepted_rows"],
            quarantined=counts["quarantine_rows"], pending=counts["pending_rows"], gaps=gaps))
    return reports


def as_json(reports: list[TopicAudit]) -> str:
    return json.dumps([{**asdict(r), "clean": r.clean} for r in reports], indent=2)
