"""The audit's reconciliations on inline rows: each kind of gap is found and named."""

import json
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest

from lakehouse.audit import bronze_to_silver, kafka_to_bronze, ledger_to_kafka, read_ledger

pytestmark = pytest.mark.unit


def records(*rows):
    """(partition, offset, event_id) rows as the audit reads them from Kafka or bronze."""
    return pa.table({"partition": pa.array([r[0] for r in rows], pa.int32()),
                     "offset": pa.array([r[1] for r in rows], pa.int64()),
                     "event_id": pa.array([r[2] for r in rows], pa.string())})


KAFKA = records((0, 0, "a"), (0, 1, "b"), (1, 0, "c"), (1, 1, "d"))


def gaps(kafka, bronze, first_held=None):
    return kafka_to_bronze(duckdb.connect(), kafka, first_held or {0: 0, 1: 0}, bronze)


def test_bronze_equal_to_kafka_is_clean():
    assert gaps(KAFKA, records((1, 1, "d"), (0, 0, "a"), (1, 0, "c"), (0, 1, "b"))) == []


def test_a_missing_offset_is_named():
    (gap,) = gaps(KAFKA, records((0, 0, "a"), (1, 0, "c"), (1, 1, "d")))
    assert (gap.stage, gap.count) == ("kafka -> bronze", 1)
    assert "1 Kafka offsets not in bronze (partition:offset 0:1)" in gap.what


def test_no_bronze_table_means_every_offset_is_missing():
    (gap,) = gaps(KAFKA, None)
    assert gap.count == 4 and "not in bronze" in gap.what


def test_a_duplicate_is_named():
    (gap,) = gaps(KAFKA, records((0, 0, "a"), (0, 1, "b"), (0, 1, "b"), (1, 0, "c"), (1, 1, "d")))
    assert gap.count == 1 and "duplicate bronze rows (partition:offset 0:1)" in gap.what


def test_an_offset_kafka_never_held_is_named_but_retention_is_not_a_gap():
    bronze = records((0, 0, "a"), (0, 1, "b"), (1, 0, "c"), (1, 1, "d"), (0, 7, "x"))
    (gap,) = gaps(KAFKA, bronze)
    assert gap.count == 1 and "offsets Kafka never held (partition:offset 0:7)" in gap.what
    # Kafka dropped partition 0's offsets below 1; bronze still holding offset 0 is fine.
    assert gaps(records((0, 1, "b"), (1, 0, "c"), (1, 1, "d")), bronze.slice(0, 4), {0: 1, 1: 0}) == []


def test_a_changed_event_id_is_named():
    (gap,) = gaps(KAFKA, records((0, 0, "a"), (0, 1, "B"), (1, 0, "c"), (1, 1, "d")))
    assert gap.count == 1 and "event_id differs" in gap.what


T = datetime(2024, 5, 1, tzinfo=timezone.utc)
A, B = "0a1b2c3d-0000-4000-8000-00000000000a", "0a1b2c3d-0000-4000-8000-00000000000b"


def bronze_rows(*rows):
    """(offset, value) rows of partition 0, one second apart."""
    return pa.table({"partition": pa.array([0] * len(rows), pa.int32()),
                     "offset": pa.array([r[0] for r in rows], pa.int64()),
                     "kafka_timestamp": pa.array([T + timedelta(seconds=r[0]) for r in rows], pa.timestamp("us", "UTC")),
                     "value": pa.array([r[1] for r in rows], pa.string())})


def silver_rows(key: str, *rows, kind=pa.string()):
    """(key, offset) rows of a silver table, provenance pointing at partition 0."""
    return pa.table({key: pa.array([r[0] for r in rows], kind), "source_partition": pa.array([0] * len(rows), pa.int32()),
                     "source_offset": pa.array([r[1] for r in rows], pa.int64()),
                     "kafka_timestamp": pa.array([T + timedelta(seconds=r[1]) for r in rows], pa.timestamp("us", "UTC"))})


def quarantined(topic, *rows):
    """(offset, raw) quarantine rows of partition 0."""
    return pa.table({"source_topic": pa.array([topic] * len(rows), pa.string()),
                     "source_partition": pa.array([0] * len(rows), pa.int32()),
                     "source_offset": pa.array([r[0] for r in rows], pa.int64()),
                     "raw": pa.array([r[1] for r in rows], pa.string())})


def marks(last: int):
    return pa.table({"partition": pa.array([0], pa.int32()), "mark": pa.array([last], pa.int64())})


# Two versions of pin A (offsets 0, 1; the upper-case padded id is A too), pin B, and poison.
PINS = bronze_rows((0, json.dumps({"unique_id": f" {A.upper()} "})), (1, json.dumps({"unique_id": A, "v": 2})),
                   (2, json.dumps({"unique_id": B})), (3, "{not json"))


def check(b=PINS, q=None, s=None, last=3, topic="pinterest.pin"):
    """The bronze -> silver gaps of one topic, as sentences."""
    sources = {"b": b, "marks": marks(last), "q": q if q is not None else quarantined(topic, (3, "{not json")),
               "s": s if s is not None else silver_rows("unique_id", (A, 1), (B, 2))}
    counts, gaps = bronze_to_silver(duckdb.connect(), sources, topic)
    return counts, [g.what for g in gaps]


def test_silver_that_holds_every_accepted_entity_at_its_latest_version_is_clean():
    counts, gaps = check()
    assert gaps == []
    assert counts == {"bronze_rows": 4, "processed_rows": 4, "quarantine_rows": 1, "silver_rows": 2,
                      "accepted_rows": 3, "pending_rows": 0}


def test_pending_rows_are_named_as_such():
    counts, gaps = check(last=2)
    assert counts["pending_rows"] == 1
    assert gaps == ["1 bronze rows not processed by silver yet (run the medallion DAG: pinlake run --wait) "
                    "(partition:offset 0:3)"]


def test_a_silver_row_deleted_behind_the_pipelines_back_is_named():
    _, gaps = check(s=silver_rows("unique_id", (A, 1)))
    assert gaps == ["1 accepted bronze rows whose entity is not in silver.pins (partition:offset 0:2)"]


def test_a_silver_row_rewritten_to_an_older_version_is_named():
    _, gaps = check(s=silver_rows("unique_id", (A, 0), (B, 2)))
    assert gaps == ["1 accepted bronze rows newer than the version silver.pins holds of their entity "
                    "(partition:offset 0:1)"]


def test_silver_rows_that_point_at_no_bronze_row_a_quarantined_one_or_another_entity_are_named():
    _, gaps = check(s=silver_rows("unique_id", (A, 1), (B, 2), (B, 9), ("x", 3)))
    assert gaps == ["1 silver.pins rows that point at no bronze row (partition:offset 0:9)",
                    "1 silver.pins rows that point at a quarantined bronze row (partition:offset 0:3)"]
    _, gaps = check(s=silver_rows("unique_id", (A, 2), (B, 2)))
    assert "1 silver.pins rows that differ from their bronze row's entity or time (partition:offset 0:2)" in gaps


def test_quarantine_rows_without_their_bronze_row_changed_or_twice_are_named():
    _, gaps = check(q=quarantined("pinterest.pin", (3, "{not json"), (3, "{not json"), (7, "x")))
    assert gaps == ["1 quarantine rows that point at no bronze row, or whose raw text is not the bronze value "
                    "(partition:offset 0:7)", "1 bronze rows quarantined more than once (partition:offset 0:3)"]
    _, gaps = check(q=quarantined("pinterest.pin", (3, "{not json}")))
    assert gaps == ["1 quarantine rows that point at no bronze row, or whose raw text is not the bronze value "
                    "(partition:offset 0:3)"]


def test_an_integer_key_is_read_as_silver_keeps_it():
    geo = bronze_rows((0, '{"ind": "+12"}'), (1, '{"ind": 12.0, "x": 1}'), (2, '{"ind": 13}'))
    s = silver_rows("ind", (12, 1), (13, 2), kind=pa.int64())
    counts, gaps = check(b=geo, q=quarantined("pinterest.geo"), s=s, last=2, topic="pinterest.geo")
    assert gaps == [] and counts["accepted_rows"] == 3


def test_ledger_ids_missing_from_kafka_are_named(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("\n".join(json.dumps({"type": t, "event_id": e})
                                for t, e in [("pin", "a"), ("pin", "z"), ("geo", "g")]) + "\n")
    acknowledged = read_ledger(ledger)
    assert acknowledged["pinterest.pin"] == {"a", "z"} and acknowledged["pinterest.geo"] == {"g"}
    (gap,) = ledger_to_kafka(acknowledged["pinterest.pin"], KAFKA)
    assert (gap.stage, gap.count) == ("ledger -> kafka", 1) and "(z)" in gap.what
    assert ledger_to_kafka({"a", "b"}, KAFKA) == []


def test_a_malformed_ledger_line_is_named(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text('{"type": "pin", "event_id": "a"}\n{"type": "posting"}\n')
    with pytest.raises(ValueError, match=r"ledger.jsonl:2: not a ledger line"):
        read_ledger(ledger)
