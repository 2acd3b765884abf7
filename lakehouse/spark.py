"""The one Spark session factory: jobs and tests build their sessions here and nowhere else."""

from __future__ import annotations

from pyspark.sql import SparkSession

from pinlake import jvm
from pinlake.settings import Settings, get_settings

# The batch jobs' conf: Delta rebuilds a table's state with 50 tasks by default; silver's and
# gold's logs are short, and on a few cores those tasks dominate a small run.
BATCH_CONF = {"spark.databricks.delta.snapshotPartitions": "4"}
# What a batch job says when it returned before starting Spark (nothing to do).
NOT_STARTED = "; Spark not started"
def base_conf(settings: Settings) -> dict[str, str]:
    """Delta, the Kafka source, UTC everywhere, and the pinned jars from the JVM cache."""
    return {
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
    """A Spark session with Delta and the Kafka source, on the configured master."""
    settings = settings or get_settings()
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    local = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"} \
        if settings.spark_master.startswith("local") else {}  # nobody else needs to reach a local driver
    for key, value in {**base_conf(settings), **local, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
