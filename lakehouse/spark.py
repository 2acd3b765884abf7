"""The one Spark session factory: jobs and tests build their sessions here and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

from pinlake import jvm, objectstore
from pinlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

# The batch jobs' conf: Delta rebuilds a table's state with 50 tasks by default; silver's and
# gold's logs are short, and on a few cores those tasks dominate a small run.
BATCH_CONF = {"spark.databricks.delta.snapshotPartitions": "4"}
# What a batch job says when it returned before starting Spark (nothing to do).
NOT_STARTED = "; Spark not started"
# How a run over small data executes its queries: interpreted, planned once. Spark's defaults
# generate and compile Java code for every query and re-plan after each shuffle; on a few
# thousand rows that compiling and re-planning is most of a run's work (the JIT compiling the
# generated classes kept a core busy). The results are the same; only the execution differs.
SMALL_RUN_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


def base_conf(settings: Settings) -> dict[str, str]:
    """Delta, the Kafka source, S3A with Delta's log store for object stores, UTC everywhere, and
    the pinned jars from the JVM cache."""
    return {
        **objectstore.spark_conf(settings),
        "spark.jars": ",".join(str(j) for j in jvm.jars("spark")),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        # Delta's default of 50 tasks per log replay is made for huge tables; ours scale with the rest.
        "spark.databricks.delta.snapshotPartitions": str(settings.spark_shuffle_partitions),
        # VACUUM lists a table's folders with this many tasks; Spark's default of 10,000 kept two
        # cores busy for minutes on a table of a few files.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(settings.spark_shuffle_partitions),
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(settings.data_root / "spark-warehouse"),
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
    }


def get_spark(app_name: str = "pinlake", settings: Settings | None = None,
              conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session with Delta and the Kafka source, on the configured master. With the tables on
    an object store, that store is checked first (ObjectStoreError names a wrong setting)."""
    settings = settings or get_settings()
    objectstore.check(settings)
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    local = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"} \
        if settings.spark_master.startswith("local") else {}  # nobody else needs to reach a local driver
    for key, value in {**base_conf(settings), **local, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


@contextmanager
def sized_for(spark: SparkSession, rows: int | None, settings: Settings) -> Iterator[bool]:
    """Run the block with SMALL_RUN_CONF when its input holds at most `settings.spark_small_run_rows`
    rows (`rows` None: unknown, so not small; a limit of 0: never). The session's own values come
    back afterwards, so a long-lived session (the job server's) sizes each run anew. Yields
    whether the run is small."""
    small = rows is not None and rows <= settings.spark_small_run_rows and settings.spark_small_run_rows > 0
    if small:
        log.info("%d input rows, at most %d: queries interpreted", rows, settings.spark_small_run_rows)
    saved = {key: spark.conf.get(key, None) for key in SMALL_RUN_CONF} if small else {}
    for key, value in SMALL_RUN_CONF.items() if small else ():
        spark.conf.set(key, value)
    try:
        yield small
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
