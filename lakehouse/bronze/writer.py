"""One micro-batch into the bronze Delta tables, exactly once (Delta idempotent writes).

Spark writes a batch's offset range to the checkpoint before running it and replays the
same range (same batch id) after a crash. Each Delta commit here carries the Delta
transaction id (txnAppId = the checkpoint's query id, txnVersion = the batch id), so a
replayed batch is skipped by every table that already committed it and written to every
table that did not: each Kafka offset lands once, whenever the process dies.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from functools import partial

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse import tables
from lakehouse.bronze.progress import Offsets, checkpoint_dir, merge_offsets, now_iso, progress_file, write_json
from lakehouse.bronze.schema import RAW_BYTES_TABLE, TOPIC_TABLES
from lakehouse.bronze.transform import to_bronze, to_raw_bytes, undecodable
from pinlake.settings import Settings

log = logging.getLogger("pinlake.bronze")


def query_id(settings: Settings) -> str:
    """The stream's id, stable for the life of its checkpoint (Spark's `metadata` file)."""
    return json.loads((checkpoint_dir(settings) / "metadata").read_text())["id"]


def idempotent_append(df: DataFrame, name: str, settings: Settings, app_id: str, version: int) -> None:
    """Append in one Delta commit, skipped when (app_id, version) was committed already."""
    (df.coalesce(1)  # one file per table and batch: bronze batches are small
     .write.format("delta").mode("append")
     .option("txnAppId", app_id).option("txnVersion", version)
     .save(tables.table_path(name, settings.lakehouse)))


class BatchWriter:
    """The foreachBatch function: Kafka rows of one micro-batch -> the bronze tables."""

    def __init__(self, settings: Settings, held: Offsets, last_rows_at: dict[str, str]):
        self.settings = settings
        self.offsets = held
        self.last_rows_at = dict(last_rows_at)
        self._app_id: str | None = None

    def app_id(self) -> str:
        """The Delta transaction app id: a new checkpoint gets a new one, so its batch 0 is written."""
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
        bronze = to_bronze(source, ingested_at)
        topics = {s.topic for s in stats}
        appends = [(bronze.where(F.col("topic") == topic), table) for topic, table in TOPIC_TABLES.items()
                   if topic in topics]  # an empty append would still add a Delta version
        if any(s.undecodable for s in stats):
            appends.append((to_raw_bytes(source, ingested_at), RAW_BYTES_TABLE))
        if not appends:  # an empty micro-batch
            return
        app_id = self.app_id()
        # Each append is mostly fixed cost on the driver (log replay, commit), little data:
        # run them side by side. Each is its own idempotent commit, so the order never mattered;
        # the first failure fails the batch, and Spark replays it whole.
        tables.side_by_side([partial(idempotent_append, df, table, self.settings, app_id, batch_id)
                             for df, table in appends], "bronze-append")

    def _record(self, batch_id: int, stats: list) -> None:
        at = now_iso()
        batch_offsets: Offsets = {}
        batch_rows: dict[str, int] = {}
        for s in stats:
            batch_offsets.setdefault(s.topic, {})[str(s.partition)] = s.last + 1
            batch_rows[s.topic] = batch_rows.get(s.topic, 0) + s.rows
        self.offsets = merge_offsets(self.offsets, batch_offsets)
        self.last_rows_at.update({topic: at for topic in batch_rows})
        write_progress(self.settings, self.offsets, batch_id=batch_id, batch_at=at,
                       batch_rows=batch_rows, last_rows_at=self.last_rows_at)


def write_progress(settings: Settings, offsets: Offsets, **fields) -> None:
    """Record what bronze holds (progress.json): the next offset per topic partition."""
    write_json(progress_file(settings), {"offsets": offsets, "written_at": now_iso(), **fields})
