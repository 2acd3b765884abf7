"""How fresh each layer is, and the latest quality status, for the dashboard."""

from __future__ import annotations

from datetime import datetime, timezone

from lakehouse import catalog, tables
from lakehouse.bronze.schema import TOPIC_TABLES
from quality.results import RESULTS
from serving.engine import Lakehouse


def _names(layer: str) -> list[str]:
    return [spec.name for spec in catalog.layer(layer)]


def last_commit(name: str, root: str) -> str | None:
    """RFC 3339 time of a Delta table's latest commit."""
    history = tables.history(name, root, 1)
    if not history:
        return None
    return datetime.fromtimestamp(history[0]["timestamp"] / 1000, timezone.utc).isoformat()


def _latest(values: list[str | None]) -> str | None:
    present = [v for v in values if v]
    return max(present) if present else None


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def latest_bronze_event(lakehouse: Lakehouse, present: dict[str, str]) -> str | None:
    """The newest `received_at` in any bronze event table."""
    events = [t for t in TOPIC_TABLES.values() if t in present]
    if not events:
        return None
    union = " UNION ALL ".join(f"SELECT max(received_at) AS at FROM {t}" for t in events)
    return _iso(lakehouse.query(f"SELECT max(at) AS at FROM ({union})").column("at")[0].as_py())


def quality_status(lakehouse: Lakehouse, present: dict[str, str]) -> dict:
    """The latest validation run: when, and how many critical and warning failures."""
    if RESULTS.name not in present:
        return {"status": "no runs yet"}
    rows = lakehouse.query("""
        WITH latest AS (SELECT run_id FROM quality.results ORDER BY validated_at DESC LIMIT 1)
        SELECT r.run_id, max(r.validated_at) AS validated_at,
               count(*) FILTER (WHERE NOT r.success AND r.severity = 'critical') AS critical_failures,
               count(*) FILTER (WHERE NOT r.success AND r.severity = 'warning') AS warnings,
               count(*) AS expectations
        FROM quality.results r JOIN latest USING (run_id) GROUP BY r.run_id
    """).to_pylist()
    if not rows:
        return {"status": "no runs yet"}
    run = rows[0]
    run["validated_at"] = _iso(run["validated_at"])
    run["status"] = "failed" if run["critical_failures"] else "passed"
    return run


def status(lakehouse: Lakehouse) -> dict:
    """Freshness of bronze, silver and gold, and the latest quality status."""
    present = lakehouse.tables()
    commits = {name: last_commit(name, lakehouse.root) for name in present}
    return {
        "bronze": {"latest_event": latest_bronze_event(lakehouse, present),
                   "latest_commit": _latest([commits.get(t) for t in _names("bronze")])},
        "silver": {"latest_publication": _latest([commits.get(t) for t in _names("silver")])},
        "gold": {"latest_publication": _latest([commits.get(t) for t in _names("gold")]),
                 "tables": {t: commits.get(t) for t in _names("gold")}},
        "quality": quality_status(lakehouse, present),
    }
