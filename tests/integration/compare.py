"""Comparing what the pipeline published with the oracle (tests/oracle.py), the contract written again.

The published tables are read through the Delta log; the oracle is fed either the events a
client sent (gold only: the sending order stands in for Kafka's) or the bronze rows themselves
(every silver row with its provenance, the quarantine, and gold).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from lakehouse import catalog, tables
from tests import oracle

PROVENANCE = ("event_id", "received_at", "source_partition", "source_offset", "kafka_timestamp")
SILVER = {"pin": "silver.pins", "geo": "silver.geo", "user": "silver.users"}


def plain(value):
    """An instant as naive UTC ISO text (how the oracle's rows and the expected files hold it)."""
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value).isoformat()
    return value


def ordered(items: list[dict]) -> list[dict]:
    """Rows in a stable order (the order of rows in files is no content)."""
    return sorted(items, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def rows(root: str, name: str, drop=()) -> list[dict]:
    """A table's rows as JSON-like dicts, sorted, without the columns in `drop`."""
    return ordered([{k: plain(v) for k, v in r.items() if k not in drop} for r in tables.arrow(name, root).to_pylist()])


def published_gold(root: str) -> dict[str, list[tuple]]:
    """Every gold table as published, rows as tuples in column order, sorted."""
    out = {}
    for spec in catalog.layer("gold"):
        data = tables.arrow(spec.name, root)
        out[spec.name] = sorted(zip(*[data.column(c).to_pylist() for c in data.column_names]), key=repr)
    return out


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    """Equal rows; doubles equal to the last few bits (one exact median, two ways of computing it)."""
    if len(got) != len(want):
        return False
    for a_row, b_row in zip(got, want):
        for a, b in zip(a_row, b_row, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9):
                    return False
            elif a != b:
                return False
    return True


def assert_gold(got: dict[str, list[tuple]], want: dict[str, list[tuple]], every_table_has_rows: bool = True) -> None:
    """Every gold table equal to the oracle's."""
    assert set(got) == set(want), (sorted(got), sorted(want))
    for table, expected in want.items():
        expected = sorted(expected, key=repr)
        assert expected or not every_table_has_rows, f"{table}: the data should reach every gold table"
        assert same_rows(got[table], expected), f"{table}:\npublished {got[table]}\noracle    {expected}"


def gold_of_events(events: list[dict]) -> dict[str, list[tuple]]:
    """The oracle's gold for the `{"type", "record"}` events a client sent, in sending order."""
    return oracle.gold(oracle.silver(oracle.from_events(events)))


def bronze_rows(root: str) -> list[dict]:
    """Every bronze row of the three topics, instants as the oracle's rows hold them."""
    return [{**r, "kafka_timestamp": plain(r["kafka_timestamp"]), "received_at": plain(r["received_at"])}
            for name in ("bronze.pin_events", "bronze.geo_events", "bronze.user_events")
            for r in (tables.arrow(name, root).to_pylist() if tables.exists(name, root) else [])]


def assert_oracle_agrees(root: str) -> None:
    """Silver (provenance included), the quarantine and gold are the oracle's, from the same bronze."""
    want = oracle.silver(bronze_rows(root))
    for kind, table in SILVER.items():
        expected = ordered([{k: plain(v) for k, v in r.items()} for r in want.table(kind).values()])
        assert rows(root, table) == expected, f"{table} differs from the oracle"
    assert rows(root, "silver.quarantine", drop=("quarantined_at",)) == ordered(want.quarantine)
    assert_gold(published_gold(root), oracle.gold(want), every_table_has_rows=False)
