"""The oracle (tests/oracle.py) on the golden cases, without any service: it and the hand-written
expected rows agree, so that the stack can be compared with both."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests import oracle
from tests.integration.test_golden import lines

pytestmark = pytest.mark.unit
T0 = datetime(2026, 1, 1)


def golden_bronze() -> list[dict]:
    """The golden events as Kafka would order them: run 1, its poison, run 2, then the late version
    (whose timestamp is a day older than everything else)."""
    sent = [(e["type"], json.dumps(e["record"], ensure_ascii=False)) for e in lines("run1.jsonl")]
    sent += [(m["topic"], m["value"]) for m in lines("kafka.jsonl") if m["run"] == 1]
    sent += [(e["type"], json.dumps(e["record"], ensure_ascii=False)) for e in lines("run2.jsonl")]
    late = [(m["topic"], m["value"], m["age_days"]) for m in lines("kafka.jsonl") if m["run"] == 2]
    rows = [{"topic": t, "value": v, "partition": 0, "offset": i, "kafka_timestamp": T0 + timedelta(seconds=i)}
            for i, (t, v) in enumerate(sent)]
    return rows + [{"topic": t, "value": v, "partition": 0, "offset": len(rows) + i,
                    "kafka_timestamp": T0 - timedelta(days=days)} for i, (t, v, days) in enumerate(late)]


def plain(row: dict, drop=("event_id", "received_at", "source_partition", "source_offset", "kafka_timestamp")):
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items() if k not in drop}


def ordered(items):
    return sorted(items, key=lambda r: json.dumps(r, sort_keys=True))


@pytest.mark.parametrize("kind, expected", [("pin", "silver_pins.jsonl"), ("geo", "silver_geo.jsonl"),
                                            ("user", "silver_users.jsonl")])
def test_the_oracle_gives_the_hand_written_silver(kind, expected):
    got = oracle.silver(golden_bronze()).table(kind).values()
    assert ordered([plain(r) for r in got]) == ordered(lines(expected))


def test_the_oracle_gives_the_hand_written_quarantine():
    got = [{"source_topic": q["source_topic"], "reasons": q["reasons"], "raw": q["raw"]}
           for q in oracle.silver(golden_bronze()).quarantine]
    want = [{"source_topic": q["source_topic"], "reasons": q["reasons"],
             "raw": q.get("raw", json.dumps(q.get("record"), ensure_ascii=False))} for q in lines("quarantine.jsonl")]
    assert ordered(got) == ordered(want)


def test_the_oracle_gives_the_hand_written_gold():
    got = {name: sorted(rows, key=repr) for name, rows in oracle.gold(oracle.silver(golden_bronze())).items()}
    assert got == {g["table"]: sorted(map(tuple, g["rows"]), key=repr) for g in lines("gold.jsonl")}


def test_the_oracle_shares_nothing_with_the_pipeline():
    """It imports nothing from the project's packages: a misreading there cannot agree with itself."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(oracle.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names} | {(node.module or "").split(".")[0] for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom)}
    assert not imported & {"ingest", "lakehouse", "quality", "serving", "orchestration", "pinlake", "bench"}
