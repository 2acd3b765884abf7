"""The bronze stream's small state files under the data root (never inside the checkpoint).

- `checkpoints/bronze/`: Spark's checkpoint (offset and commit logs), or `<root>/_checkpoints/bronze`
  beside the tables on an object store. pinlake never deletes it.
- `bronze/offsets.json`: written after each micro-batch's Delta commits: the next offset
  bronze expects per topic partition (= max offset held + 1), rows held, batch times.
- `bronze/heartbeat.json`: written every few seconds by the stream's driver: pid, query
  state. Health and `pinlake status` read these two files instead of scanning the tables.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from lakehouse import tables
from lakehouse.bronze.schema import TOPIC_TABLES
from pinlake.settings import Settings

Offsets = dict[str, dict[str, int]]  # topic -> partition (as text, JSON keys) -> next offset


def checkpoint_dir(settings: Settings) -> str:
    """The stream's durable checkpoint; deleting it would re-read Kafka from the start. Beside the
    tables on an object store (`<root>/_checkpoints/bronze`: a driver on any machine resumes from
    it), under the data root on a disk."""
    if settings.on_s3:
        return f"{settings.lakehouse.rstrip('/')}/_checkpoints/bronze"
    return str(settings.data_root / "checkpoints" / "bronze")


def checkpoint_batches(settings: Settings, log: str = "offsets") -> set[int]:
    """The batch ids in one of the checkpoint's logs: `offsets` (planned) or `commits` (done)."""
    from pinlake import objectstore

    return {int(n) for n in objectstore.names(f"{checkpoint_dir(settings)}/{log}", settings) if n.isdigit()}


def checkpoint_query_id(settings: Settings) -> str | None:
    """The stream's id, stable for the life of its checkpoint (Spark's `metadata` file), if any."""
    from pinlake import objectstore

    text = objectstore.read_text(f"{checkpoint_dir(settings)}/metadata", settings)
    return json.loads(text)["id"] if text else None


def state_dir(settings: Settings) -> Path:
    """Where the offsets and heartbeat files live."""
    return settings.data_root / "bronze"


def offsets_file(settings: Settings) -> Path:
    """What bronze holds after the last micro-batch."""
    return state_dir(settings) / "offsets.json"


def heartbeat_file(settings: Settings) -> Path:
    """The stream driver's heartbeat."""
    return state_dir(settings) / "heartbeat.json"


def now_iso() -> str:
    """The current UTC time, RFC 3339."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def write_json(path: Path, record: dict) -> None:
    """Replace a JSON file atomically, so a reader (or a crash) never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    """A JSON state file, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def merge_offsets(held: Offsets, batch: Offsets) -> Offsets:
    """Per partition, the larger next offset of the two."""
    merged = {topic: dict(parts) for topic, parts in held.items()}
    for topic, parts in batch.items():
        for partition, nxt in parts.items():
            current = merged.setdefault(topic, {}).get(partition, 0)
            merged[topic][partition] = max(current, nxt)
    return merged


def held_from_tables(settings: Settings) -> Offsets:
    """The next offset per topic partition (max offset + 1), read from the bronze Delta tables."""
    held: Offsets = {}
    for topic, name in TOPIC_TABLES.items():
        data = tables.arrow(name, settings.lakehouse, columns=["partition", "offset"])
        if data is None:
            continue
        for row in data.group_by("partition").aggregate([("offset", "max")]).to_pylist():
            held.setdefault(topic, {})[str(row["partition"])] = row["offset_max"] + 1
    return held
