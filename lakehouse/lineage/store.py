"""Every OpenLineage event in the Delta table `quality.lineage`, through a transport of our own.

`DeltaTransport` is an openlineage-python transport: Airflow's OpenLineage provider names it in
its `[openlineage] transport` setting and the Spark jobs hand it to their client, so both land
in one table that `pinlake query` and DuckDB read. It appends one row per event with the
`deltalake` package (no Spark): the event's time and type, job, run, parent run, the lakehouse
tables it read and wrote with their versions, and the whole event as JSON.

Several processes write at once (Airflow's task processes and scheduler, the Spark job server,
a `pinlake silver` from the command line). Each append is one atomic Delta commit; a commit
that loses the race (another took its version, or created the table first) is tried again. A
lineage write never fails a pipeline step: what cannot be written is logged and dropped.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import attr
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport
from pyspark.sql import types as T

from lakehouse import tables
from lakehouse.lineage.table import LINEAGE, LINEAGE_SCHEMA, table_name

log = logging.getLogger(__name__)

ATTEMPTS = 8  # commits tried per event before it is dropped


def _dataset(entry: dict) -> dict:
    version = ((entry.get("facets") or {}).get("version") or {}).get("datasetVersion")
    return {"table": table_name(entry), "namespace": entry.get("namespace"), "name": entry.get("name"),
            "version": None if version is None else str(version)}


def event_row(event: dict) -> dict | None:
    """One row of quality.lineage from an event's JSON; None for an event without a run
    (OpenLineage's dataset and job events describe no run)."""
    run, job = event.get("run") or {}, event.get("job") or {}
    if not run.get("runId") or not job.get("name"):
        return None
    parent = (run.get("facets") or {}).get("parent") or {}
    return {
        "event_time": datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")).astimezone(timezone.utc),
        "event_type": event.get("eventType"),
        "job_namespace": job.get("namespace") or "",
        "job_name": job["name"],
        "run_id": run["runId"],
        "parent_job_name": (parent.get("job") or {}).get("name"),
        "parent_run_id": (parent.get("run") or {}).get("runId"),
        "inputs": [_dataset(d) for d in event.get("inputs") or []],
        "outputs": [_dataset(d) for d in event.get("outputs") or []],
        "event": json.dumps(event, sort_keys=True),
    }


def arrow_type(data_type: T.DataType):
    """A Spark type as Arrow (the types of LINEAGE_SCHEMA; a StructType at the top: a schema)."""
    import pyarrow as pa

    if data_type is LINEAGE_SCHEMA:
        return pa.schema([pa.field(f.name, arrow_type(f.dataType), f.nullable) for f in data_type.fields])
    if isinstance(data_type, T.ArrayType):
        return pa.list_(arrow_type(data_type.elementType))
    if isinstance(data_type, T.StructType):
        return pa.struct([pa.field(f.name, arrow_type(f.dataType), f.nullable) for f in data_type.fields])
    return {T.StringType(): pa.string(), T.TimestampType(): pa.timestamp("us", tz="UTC")}[data_type]


def append_events(rows: list[dict], root: str, attempts: int = ATTEMPTS) -> None:
    """Append rows in one Delta commit; a commit lost to a concurrent writer is tried again."""
    import pyarrow as pa
    from deltalake.exceptions import CommitFailedError, DeltaError

    data = pa.Table.from_pylist(rows, schema=arrow_type(LINEAGE_SCHEMA))
    for attempt in range(1, attempts + 1):
        try:
            tables.append_rows(data, LINEAGE.name, root)
            return
        except (CommitFailedError, DeltaError) as exc:
            if attempt == attempts:
                raise
            log.info("lineage: commit %d of %d lost to another writer (%s); again", attempt, attempts, exc)
            time.sleep(0.05 * attempt)  # back off: the other writer's commit is already done


def write_event(event, root: str | None) -> bool:
    """Store one event (an openlineage-python event object); False, logged, when it could not be.
    Never raises: lineage must not fail a pipeline step."""
    try:
        row = event_row(json.loads(Serde.to_json(event)))
        if row is not None:
            append_events([row], root or _default_root())
        return True
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - deltalake's Rust panics are BaseExceptions
        log.warning("lineage: an OpenLineage event was not stored in %s: %s", LINEAGE.name, exc)
        return False


def _default_root() -> str:
    from pinlake.settings import get_settings

    return get_settings().lakehouse


@attr.define
class DeltaConfig(Config):
    """The transport's settings: the lakehouse root (default: PINLAKE_LAKEHOUSE_ROOT's)."""

    root: str | None = None

    @classmethod
    def from_dict(cls, params: dict) -> DeltaConfig:
        """From the `transport` setting, e.g. `{"type": "lakehouse.lineage.store.DeltaTransport"}`."""
        return cls(root=params.get("root"))


class DeltaTransport(Transport):
    """An OpenLineage transport that appends each event to quality.lineage (works offline)."""

    kind = "pinlake_delta"
    config_class = DeltaConfig

    def __init__(self, config: DeltaConfig) -> None:
        self.root = config.root

    def emit(self, event) -> bool:
        """Store the event, unless PINLAKE_LINEAGE_ENABLED is false; never raises."""
        from pinlake.settings import get_settings

        return write_event(event, self.root) if get_settings().lineage_enabled else False


def read_events(root: str, columns: list[str] | None = None) -> list[dict]:
    """Every stored event's row (`columns` only), oldest first; [] before the first event."""
    rows = tables.arrow(LINEAGE.name, root, columns=columns)
    if rows is None:
        return []
    found = rows.to_pylist()
    return sorted(found, key=lambda r: r["event_time"]) if "event_time" in (columns or ["event_time"]) else found
