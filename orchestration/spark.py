"""Spark steps of the DAGs: spark-submit of a job file, as a Spark standalone cluster accepts it unchanged.

Each step is the Spark provider's SparkSubmitOperator with the job module's file as the
application, the Airflow run id as its first argument, the connection `pinlake_spark` as the
master and the pinned jars of `pinlake.jvm.jars("spark")` as `--jars` (shipped to executors,
so a cluster needs nothing pre-installed for the JVM side). The jars and the Spark conf are
resolved when the task runs, not when the DAG file is parsed: parsing stays cheap and a
missing `make jvm` fails the task with a clear message rather than the DAG's import.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from orchestration.airflow_home import LAKEHOUSE_POOL, SPARK_CONN_ID, spark_conn_env, spark_connection
from pinlake.settings import PROJECT_ROOT, get_settings

# A local master keeps the driver on loopback; a cluster's executors must reach it, so only then.
LOCAL_DRIVER_CONF = {"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"}
# Spark's INFO start-up chatter would bury the job's own lines in the task log.
QUIET_CONF = {"spark.log.level": "WARN"}


def job_file(module: str) -> str:
    """`lakehouse.silver.job` -> the absolute path of its file (without importing it)."""
    return str(PROJECT_ROOT.joinpath(*module.split(".")).with_suffix(".py"))


def launch_conf(conf: dict[str, str], master: str) -> dict[str, str]:
    """The job's Spark conf for spark-submit: jars go as --jars; driver settings before the JVM starts."""
    local = LOCAL_DRIVER_CONF if master.startswith("local") else {}
    return {**{k: v for k, v in conf.items() if k != "spark.jars"}, **QUIET_CONF, **local}


class LakehouseSparkSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator with pinlake's pinned jars and Spark conf, resolved at run time."""

    def __init__(self, *, guard=None, up_to_date=None, **kwargs):
        super().__init__(**kwargs)
        self.guard = guard
        self.up_to_date = up_to_date

    def execute(self, context):
        """Check the guard; unless the job has nothing to do, fill in jars, conf and the
        connection, then spark-submit."""
        from lakehouse.spark import base_conf
        from pinlake import jvm

        if self.guard is not None:
            self.guard(context)
        if self.up_to_date is not None and self.up_to_date():
            # Read from the Delta logs: an idle scheduled run costs no JVM start.
            self.log.info("%s is up to date, nothing to do: spark-submit not run", self.task_id)
            return None
        settings = get_settings()
        # The connection follows PINLAKE_SPARK_MASTER unless one is defined outside pinlake.
        os.environ.setdefault(spark_conn_env(), spark_connection(settings.spark_master))
        self.jars = ",".join(str(jar) for jar in jvm.jars("spark"))
        self.conf = {**launch_conf(base_conf(settings), settings.spark_master), **(self.conf or {})}
        self._hook = None  # a hook built before these changes would submit without them
        return super().execute(context)


def spark_step(task_id: str, module: str, timeout: timedelta, args: list[str] | None = None,
               **kwargs) -> LakehouseSparkSubmitOperator:
    """One table-writing Spark job: in the lakehouse pool, the run id as its first argument.

    `up_to_date`, a callable, says when the job has nothing to do; the step then succeeds
    without submitting it.
    """
    return LakehouseSparkSubmitOperator(
        task_id=task_id,
        application=job_file(module),
        application_args=["{{ run_id }}", *(args or [])],
        conn_id=SPARK_CONN_ID,
        name=f"pinlake-{task_id}",
        pool=LAKEHOUSE_POOL,
        execution_timeout=timeout,
        **kwargs,
    )
