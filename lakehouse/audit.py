"""`pinlake audit`: nothing lost, nothing doubled, from the client's acknowledgement to silver.

Per topic, three reconciliations, each read from the system of record itself:

1. ledger -> Kafka: every event id the API acknowledged to `pinlake emit --ledger` is in a
   Kafka message's `event_id` header (only when a ledger is given);
2. Kafka -> bronze: every offset Kafka holds is in bronze once, with the same event id; no
   bronze row claims an offset Kafka never had (section 4's invariant). Offsets that Kafka's
   retention has already dropped may stay in bronze;
3. bronze -> silver, from silver's own tables (section 5): every bronze row silver has
   processed is either quarantined or accepted, and an accepted row's entity is in the silver
   table with that version or a newer one; every silver row points at an accepted bronze row of
   its own entity; every quarantine row points at a bronze row, once. Bronze rows no silver run
   has processed yet (above `silver.progress`'s offsets) are reported as pending.

An accepted row's entity key is read from the bronze value itself (its `unique_id` in canonical
lower case, or its integer `ind`), not from anything silver computed. The tables are read
through the Delta log (deltalake -> Arrow) and compared in DuckDB; no Spark session is started.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse import catalog, tables
from lakehouse.bronze.schema import TOPIC_TABLES
from lakehouse.silver.common import WHITESPACE
from lakehouse.silver.progress import PROGRESS
from lakehouse.silver.quarantine import QUARANTINE
from lakehouse.spec import SilverTable
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
    accepted: int  # processed bronze rows accepted into silver, superseded versions included
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


# Each silver entity's key, read from a bronze value: the JSON field of the same name, as silver
# keeps it (a UUID in lower case, an integer).
_WS = "'" + WHITESPACE.replace("'", "''") + "'"
_KEY_SQL = {
    "string": f"lower(trim(json_extract_string(trim(b.value, {_WS}), '$.{{key}}'), {_WS}))",
    "bigint": f"TRY_CAST(regexp_extract(trim(json_extract_string(trim(b.value, {_WS}), '$.{{key}}'), {_WS}), "
              "'^[+-]?[0-9]+') AS BIGINT)",
}


def _entity(topic: str) -> SilverTable:
    return next(spec for spec in catalog.layer("silver") if isinstance(spec, SilverTable) and spec.topic == topic)


def _marks(root: str, topic: str) -> pa.Table:
    """Per partition, the last bronze offset a silver run processed (silver.progress)."""
    done = tables.arrow(PROGRESS.name, root, columns=["source_topic", "source_partition", "last_offset"])
    marks: dict[int, int] = {}
    for row in (done.to_pylist() if done is not None else []):
        if row["source_topic"] == topic:
            marks[row["source_partition"]] = max(marks.get(row["source_partition"], -1), row["last_offset"])
    return pa.table({"partition": pa.array(list(marks), pa.int32()), "mark": pa.array(list(marks.values()), pa.int64())})


def _key_type(entity: SilverTable) -> str:
    return "string" if entity.schema[entity.keys[0]].dataType.typeName() == "string" else "bigint"


def _empty(**columns: pa.DataType) -> pa.Table:
    return pa.table({name: pa.array([], kind) for name, kind in columns.items()})


def silver_sources(root: str, topic: str) -> dict:
    """What the bronze -> silver check of one topic reads: bronze, the processed offsets, the
    quarantine and the silver table, as Arrow (empty ones for tables that do not exist yet)."""
    entity = _entity(topic)
    key = entity.keys[0]
    bronze = tables.dataset(TOPIC_TABLES[topic], root)
    quarantine = tables.arrow(QUARANTINE.name, root, columns=["source_topic", "source_partition", "source_offset",
                                                              "raw"])
    silver = tables.arrow(entity.name, root, columns=[key, "source_partition", "source_offset", "kafka_timestamp"])
    at = pa.timestamp("us", "UTC")
    if quarantine is not None:
        quarantine = quarantine.filter(pc.equal(quarantine["source_topic"], topic))
    return {
        "b": bronze if bronze is not None else _empty(
            partition=pa.int32(), offset=pa.int64(), kafka_timestamp=at, value=pa.string()),
        "marks": _marks(root, topic),
        "q": quarantine if quarantine is not None else _empty(
            source_topic=pa.string(), source_partition=pa.int32(), source_offset=pa.int64(), raw=pa.string()),
        "s": silver if silver is not None else _empty(**{
            key: pa.string() if _key_type(entity) == "string" else pa.int64(),
            "source_partition": pa.int32(), "source_offset": pa.int64(), "kafka_timestamp": at}),
    }


def bronze_to_silver(con: duckdb.DuckDBPyConnection, sources: dict, topic: str) -> tuple[dict, list[Gap]]:
    """Section 5 from silver's own tables: the topic's counts and every gap, each in a sentence."""
    entity = _entity(topic)
    key, table = entity.keys[0], entity.name
    for name, relation in sources.items():
        con.register(name, relation)
    key_sql = _KEY_SQL[_key_type(entity)].format(key=key)
    # The processed rows' coordinates, and the accepted ones with their entity key (the only pass
    # that reads the values): small tables, so that the checks below do not scan bronze again.
    con.execute("""CREATE OR REPLACE TEMP TABLE processed AS SELECT b."partition", b."offset"
        FROM b JOIN marks USING ("partition") WHERE b."offset" <= marks.mark""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE accepted AS
        SELECT b."partition", b."offset", b.kafka_timestamp, {key_sql} AS k FROM b JOIN marks USING ("partition")
        ANTI JOIN q ON q.source_partition = b."partition" AND q.source_offset = b."offset"
        WHERE b."offset" <= marks.mark""")
    count = lambda sql: con.sql(sql).fetchone()[0]  # noqa: E731
    counts = {"bronze_rows": count("SELECT count(*) FROM b"), "processed_rows": count("SELECT count(*) FROM processed"),
              "quarantine_rows": count("SELECT count(*) FROM q"), "silver_rows": count("SELECT count(*) FROM s")}
    counts["accepted_rows"] = count("SELECT count(*) FROM accepted")
    counts["pending_rows"] = counts["bronze_rows"] - counts["processed_rows"]
    newer = '(a.kafka_timestamp, a."partition", a."offset") > (s.kafka_timestamp, s.source_partition, s.source_offset)'
    checks = [
        ("bronze rows not processed by silver yet (run the medallion DAG: pinlake run --wait)",
         'SELECT "partition", "offset" FROM b ANTI JOIN processed USING ("partition", "offset")'),
        (f"accepted bronze rows whose entity is not in {table}",
         f'SELECT a."partition", a."offset" FROM accepted a ANTI JOIN s ON s.{key} = a.k'),
        (f"accepted bronze rows newer than the version {table} holds of their entity",
         f'SELECT a."partition", a."offset" FROM accepted a JOIN s ON s.{key} = a.k WHERE {newer}'),
        (f"{table} rows that point at no bronze row",
         'SELECT s.source_partition, s.source_offset FROM s ANTI JOIN b '
         'ON b."partition" = s.source_partition AND b."offset" = s.source_offset'),
        (f"{table} rows that point at a quarantined bronze row",
         "SELECT s.source_partition, s.source_offset FROM s JOIN q USING (source_partition, source_offset)"),
        (f"{table} rows that differ from their bronze row's entity or time",
         f'SELECT s.source_partition, s.source_offset FROM s JOIN accepted a ON a."partition" = s.source_partition '
         f'AND a."offset" = s.source_offset WHERE a.k IS DISTINCT FROM s.{key} '
         "OR a.kafka_timestamp IS DISTINCT FROM s.kafka_timestamp"),
        ("quarantine rows that point at no bronze row, or whose raw text is not the bronze value",
         'SELECT q.source_partition, q.source_offset FROM q LEFT JOIN b ON b."partition" = q.source_partition '
         'AND b."offset" = q.source_offset WHERE b.value IS DISTINCT FROM q.raw'),
        ("bronze rows quarantined more than once",
         "SELECT source_partition, source_offset FROM q GROUP BY ALL HAVING count(*) > 1"),
    ]
    gaps = []
    for what, sql in checks:
        found = con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").fetchall()
        if found:
            gaps.append(Gap("bronze -> silver", f"{len(found)} {what} (partition:offset {_examples(found)})",
                            len(found)))
    return counts, gaps


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
        counts, silver_gaps = bronze_to_silver(duckdb.connect(), silver_sources(root, topic), topic)
        gaps = ledger_to_kafka(acknowledged[topic], kafka) if acknowledged is not None else []
        gaps += kafka_to_bronze(duckdb.connect(), kafka, first_held, bronze) + silver_gaps
        reports.append(TopicAudit(
            topic=topic, acknowledged=None if acknowledged is None else len(acknowledged[topic]),
            kafka=kafka.num_rows, bronze=counts["bronze_rows"], accepted=counts["accepted_rows"],
            quarantined=counts["quarantine_rows"], pending=counts["pending_rows"], gaps=gaps))
    return reports


def as_json(reports: list[TopicAudit]) -> str:
    return json.dumps([{**asdict(r), "clean": r.clean} for r in reports], indent=2)
