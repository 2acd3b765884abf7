"""The audit's reconciliations on inline rows: each kind of gap is found and named."""

import json

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


def counts(**changes):
    base = {"topic": "pinterest.pin", "bronze_rows": 10, "pending_rows": 0, "accepted_rows": 8,
            "quarantine_rows": 2, "quarantine_duplicates": 0}
    return {**base, **changes}


def test_bronze_equal_to_accepted_plus_quarantine_is_clean():
    assert bronze_to_silver(counts()) == []


def test_pending_rows_are_named_as_such():
    (gap,) = bronze_to_silver(counts(bronze_rows=13, pending_rows=3))
    assert gap.count == 3 and "not processed by silver yet" in gap.what and "pinlake run" in gap.what


def test_rows_that_disappeared_in_silver_are_a_gap():
    (gap,) = bronze_to_silver(counts(accepted_rows=7))
    assert gap.count == 1 and "10 processed bronze rows but 7 accepted + 2 quarantined = 9" in gap.what


def test_a_row_quarantined_twice_is_a_gap():
    (gap,) = bronze_to_silver(counts(quarantine_duplicates=1))
    assert "quarantined more than once" in gap.what


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
