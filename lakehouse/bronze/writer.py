"""One micro-batch into the bronze Delta tables, exactly once (a batch mark in each commit).

Spark writes a batch's offset range to the checkpoint before running it and replays the
same range (same batch id) after a crash. Each Delta commit here carries, as its commit's
`userMetadata`, the stream's app id (from the checkpoint's query id) and the batch id; Spark
replays only the first batch a query runs, so before that batch the writer reads, per table,
the last batch the app committed from the Delta log, and skips every table that holds it
already: each Kafka offset lands once, whenever the process dies.

Delta's own idempotent writes (txnAppId/txnVersion) did the same, but Delta 4.4 answers their
version lookup with a rebuild of the table's state: about a second of Spark jobs per table and
batch. The mark is read once per table and process.

Checkpoints are written off the commit path: Spark's commits to bronze never checkpoint (the
tables' `delta.checkpointInterval` is out of reach), and after a batch a background thread has
`deltalake` write one for each table that went ten commits without. Spark's own checkpoint ran
inside the tenth commit, a few seconds of Spark jobs that stalled the batch.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from functools import partial

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse import tables
from lakehouse.bronze.schema import RAW_BYTES, TOPIC_TABLES
from lakehouse.bronze.state import (
    Offsets,
    checkpoint_dir,
    checkpoint_query_id,
    merge_offsets,
    now_iso,
    offsets_file,
    write_json,
)
from lakehouse.bronze.transform import to_bronze, to_raw_bytes, undecodable
from pinlake.settings import Settings

log = logging.getLogger("pinlake.bronze")
CHECKPOINT_EVERY = 10  # commits between two checkpoints of a bronze table, Delta's default interval


def query_id(settings: Settings) -> str:
    """The stream's id, stable for the life of its checkpoint (Spark's `metadata` file)."""
    found = checkpoint_query_id(settings)
    if found is None:
        raise RuntimeError(f"the bronze checkpoint {checkpoint_dir(settings)} has no metadata: the stream has not started")
    return found


def marked_append(df: DataFrame, name: str, settings: Settings, app_id: str, batch_id: int) -> None:
    """Append in one Delta commit whose userMetadata marks it as (app_id, batch_id)."""
    # one file per table and batch: bronze batches are small
    tables.append(df.coalesce(1), name, settings.lakehouse, user_metadata=json.dumps({"app": app_id, "batch": batch_id}))


def last_batch(name: str, root: str, app_id: str) -> int:
    """The last batch id `app_id` committed to the table, -1 for none.

    Read newest commit first through the log (`deltalake`, no Spark), in growing pages: the
    stream's own commits are the newest ones but for a few of maintenance (OPTIMIZE, VACUUM).
    """
    limit = 16
    while True:
        commits = tables.history(name, root, limit)
        for commit in commits:
            mark = batch_mark(commit.get("userMetadata"))
            if mark is not None and mark[0] == app_id:
                return mark[1]
        if len(commits) < limit:
            return -1
        limit *= 8


def batch_mark(user_metadata: str | None) -> tuple[str, int] | None:
    """(app id, batch id) from a bronze commit's userMetadata; None for any other commit."""
    try:
        mark = json.loads(user_metadata or "")
        return str(mark["app"]), int(mark["batch"])
    except (ValueError, TypeError, KeyError):
        return None


def checkpoint_if_due(name: str, root: str, every: int = CHECKPOINT_EVERY) -> int | None:
    """Checkpoint the table's latest version when `every` commits have passed since the last
    checkpoint; the version checkpointed, or None."""
    if (tables.version(name, root) or 0) - tables.last_checkpoint(name, root) < every:
        return None
    return tables.checkpoint(name, root)


class Checkpoints:
    """Checkpoints of the bronze tables, written by one background thread after the batches."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bronze-checkpoint")
        self._pending: dict[str, Future] = {}

    def after_commit(self, name: str, root: str) -> None:
        """A batch committed to table `name`: checkpoint it if it is due (at most one queued)."""
        if name in self._pending and not self._pending[name].done():
            return
        self._pending[name] = self._pool.submit(self._checkpoint, name, root)

    @staticmethod
    def _checkpoint(name: str, root: str) -> None:
        try:
            version = checkpoint_if_due(name, root)
        except Exception as exc:  # noqa: BLE001 - a missed checkpoint costs readers time, never data
            log.warning("bronze: no checkpoint of %s this time: %s", name, exc)
            return
        if version is not None:
            log.info("bronze: checkpoint of %s at version %d", name, version)


class BatchWriter:
    """The foreachBatch function: Kafka rows of one micro-batch -> the bronze tables."""

    def __init__(self, settings: Settings, held: Offsets, last_rows_at: dict[str, str]):
        self.settings = settings
        self.offsets = held
        self.last_rows_at = dict(last_rows_at)
        self._app_id: str | None = None
        self._committed: dict[str, int] = {}  # table -> last batch this app committed to it
        self.checkpoints = Checkpoints()

    def committed(self, table: str) -> int:
        """The last batch this app committed to `table`: read from the log once, then kept."""
        if table not in self._committed:
            self._committed[table] = last_batch(table, self.settings.lakehouse, self.app_id())
        return self._committed[table]

    def app_id(self) -> str:
        """The app id of the batch marks: a new checkpoint gets a new one, so its batch 0 is written."""
        if self._app_id is None:
            self._app_id = f"pinlake-bronze-{query_id(self.settings)}"
        return self._app_id

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        # One timestamp for every table of the batch, also when a replay writes only some.
        ingested_at = F.lit(datetime.now(timezone.utc))
        source = batch.persist()
        try:
            stats = (source.groupBy("topic", "partition")
                     .agg(F.count(F.lit(1)).alias("rows"), F.max("offset").alias("last"),
                          F.count_if(undecodable()).alias("undecodable"))
                     .collect())
            read = time.monotonic()
            self._write(source, stats, ingested_at, batch_id)
        finally:
            source.unpersist()
        self._record(batch_id, stats)
        log.info("batch %d: %d rows, read %.1fs, written in %.1fs", batch_id, sum(s.rows for s in stats),
                 read - started, time.monotonic() - read)

    def _write(self, source: DataFrame, stats: list, ingested_at, batch_id: int) -> None:
        bronze = to_bronze(source, ingested_at, all_utf8=not any(s.undecodable for s in stats))
        topics = {s.topic for s in stats}
        appends = [(bronze.where(F.col("topic") == topic), table) for topic, table in TOPIC_TABLES.items()
                   if topic in topics]  # an empty append would still add a Delta version
        if any(s.undecodable for s in stats):
            appends.append((to_raw_bytes(source, ingested_at), RAW_BYTES.name))
        appends = [(df, table) for df, table in appends if batch_id > self.committed(table)]  # a replay
        if not appends:  # an empty micro-batch, or a replay every table holds
            return
        # Each append is mostly fixed cost on the driver (log replay, commit), little data:
        # run them side by side. Each is its own commit, so the order never mattered; the
        # first failure fails the batch, and Spark replays it whole.
        tables.side_by_side([partial(self._append, df, table, batch_id) for df, table in appends],
                            "bronze-append")

    def _append(self, df: DataFrame, table: str, batch_id: int) -> None:
        self._committed.pop(table, None)  # unknown until the commit is known to be in
        marked_append(df, table, self.settings, self.app_id(), batch_id)
        self._committed[table] = batch_id
        self.checkpoints.after_commit(table, self.settings.lakehouse)

    def _record(self, batch_id: int, stats: list) -> None:
        at = now_iso()
        batch_offsets: Offsets = {}
        batch_rows: dict[str, int] = {}
        for s in stats:
            batch_offsets.setdefault(s.topic, {})[str(s.partition)] = s.last + 1
            batch_rows[s.topic] = batch_rows.get(s.topic, 0) + s.rows
        self.offsets = merge_offsets(self.offsets, batch_offsets)
        self.last_rows_at.update({topic: at for topic in batch_rows})
        write_offsets(self.settings, self.offsets, batch_id=batch_id, batch_at=at,
                       batch_rows=batch_rows, last_rows_at=self.last_rows_at)


def write_offsets(settings: Settings, offsets: Offsets, **fields) -> None:
    """Record what bronze holds (offsets.json): the next offset per topic partition."""
    write_json(offsets_file(settings), {"offsets": offsets, "written_at": now_iso(), **fields})
