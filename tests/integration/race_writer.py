"""A second writer for the object-store tests: its own Spark JVM appending to one table.

`python -m tests.integration.race_writer TABLE COMMITS [LOG_STORE]` reads its settings from the
environment (PINLAKE_*), appends COMMITS one-row commits tagged `spark-<i>` to TABLE, each in
its own Delta commit, and prints `ready` once its session runs (so the other writer can start
at the same moment) and `done` at the end. LOG_STORE replaces Delta's log store for s3:// paths
(to see what happens without pinlake's).
"""

from __future__ import annotations

import sys

from lakehouse import tables
from lakehouse.spark import get_spark


def main(table: str, commits: int, log_store: str | None = None) -> None:
    conf = {"spark.delta.logStore.s3.impl": log_store} if log_store else {}
    spark = get_spark("race-writer", conf={"spark.ui.enabled": "false", **conf})
    tables.append(spark.createDataFrame([("spark-warmup",)], "tag string"), table)
    print("ready", flush=True)
    for i in range(commits):
        tables.append(spark.createDataFrame([(f"spark-{i}",)], "tag string"), table)
    print("done", flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
