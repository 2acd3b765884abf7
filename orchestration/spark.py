"""Spark steps of the DAGs: the job on the warm Spark job server, or spark-submit of its file.

When the Spark job server of `pinlake up` answers (`lakehouse/jobserver.py`), a step sends it
the job module and its arguments and waits: the job runs in a Spark session that is already up
and warm, with no JVM start. Otherwise (no server, or `PINLAKE_SPARK_SERVER_URL=none`), each
step is the Spark provider's SparkSubmitOperator with the job module's file as the
application, the Airflow run id as its first argument, the connection `pinlake_spark` as the
master and the pinned jars of `pinlake.jvm.jars("spark")` as `--jars` (shipped to executors,
so a cluster needs nothing pre-installed for the JVM side). The jars and the Spark conf are
resolved when the task runs, not when the DAG file is parsed: parsing stays cheap and a
missing `make jvm` fails the task with a clear message rather than the DAG's import.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from datetime import timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk.exceptions import AirflowSkipException

from lakehouse import jobserver
from orchestration.airflow_home import LAKEHOUSE_POOL, SPARK_CONN_ID, spark_conn_env, spark_connection
from pinlake.settings import get_settings

# A local master keeps the driver on loopback; a cluster's executors must reach it, so only then.
LOCAL_DRIVER_CONF = {"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"}
# Spark's INFO start-up chatter would bury the job's own lines in the task log.
QUIET_CONF = {"spark.log.level": "WARN"}
log = logging.getLogger(__name__)


def job_file(module: str) -> str:
    """`lakehouse.silver.job` -> the absolute path of its file (found, not imported), wherever
    the package is installed."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no job module {module!r}")
    return spec.origin


def launch_conf(conf: dict[str, str], master: str) -> dict[str, str]:
    """The job's Spark conf for spark-submit: jars go as --jars; driver settings before the JVM starts."""
    local = LOCAL_DRIVER_CONF if master.startswith("local") else {}
    return {**{k: v for k, v in conf.items() if k != "spark.jars"}, **QUIET_CONF, **local}


class LakehouseSparkSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator with pinlake's pinned jars and Spark conf, resolved at run time."""

    def __init__(self, *, module: str, guard=None, up_to_date=None, **kwargs):
        # arguments that render empty (a templated flag that is off) are dropped at run time
        super().__init__(**kwargs)
        self.module = module
        self.guard = guard
        self.up_to_date = up_to_date
        self._server: str | None = None

    def execute(self, context):
        """Check the guard; unless the job has nothing to do, run it on the job server, or fill
        in jars, conf and the connection and spark-submit."""
        from lakehouse.spark import base_conf
        from pinlake import jvm

        if self.guard is not None:
            self.guard(context)
        self.application_args = [arg for arg in self.application_args or [] if arg]
        if self.up_to_date is not None and self.up_to_date(context):
            # Read from the Delta logs: an idle scheduled run costs no JVM start.
            self.log.info("%s is up to date, nothing to do: spark-submit not run", self.task_id)
            raise AirflowSkipException(f"{self.task_id} is up to date: nothing to do")
        settings = get_settings()
        if self._lineage_datasets() is not None:  # only the jobs that report lineage take its parent ids
            self.application_args = [*self.application_args, *lineage_args(context["ti"], settings)]
        if jobserver.answers(settings.spark_server):
            return self._on_server(settings.spark_server)
        self.log.info("no Spark job server answers (%s): spark-submit", settings.spark_server or "none set")
        # The connection follows PINLAKE_SPARK_MASTER unless one is defined outside pinlake.
        os.environ.setdefault(spark_conn_env(), spark_connection(settings.spark_master))
        self.jars = ",".join(str(jar) for jar in jvm.jars("spark"))
        self.conf = {**launch_conf(base_conf(settings), settings.spark_master), **(self.conf or {})}
        self._hook = None  # a hook built before these changes would submit without them
        return super().execute(context)

    def get_openlineage_facets_on_start(self):
        """OpenLineage's view of the step as it starts: the tables it reads, at their current
        versions, and the tables it writes (Airflow's OpenLineage provider calls this)."""
        return self._lineage(None, complete=False)

    def get_openlineage_facets_on_complete(self, task_instance):
        """The step once it ended: its inputs at the versions read, its outputs at their new
        versions with schema, column lineage and the gate's assertions under this run id."""
        return self._lineage(task_instance.run_id, complete=True)

    def _lineage(self, run_id: str | None, complete: bool):
        from airflow.providers.openlineage.extractors import OperatorLineage

        datasets = self._lineage_datasets()
        if datasets is None:  # a job that writes no table of its own (maintenance)
            return OperatorLineage()
        inputs, outputs = datasets(get_settings(), run_id or "", complete)
        return OperatorLineage(inputs=inputs, outputs=outputs)

    def _lineage_datasets(self):
        """The job module's `lineage_datasets(settings, run_id, complete)`, or None for a job that
        reports no lineage of its own (and takes no `--lineage-parent`)."""
        return getattr(importlib.import_module(self.module), "lineage_datasets", None)

    def _on_server(self, server: str) -> None:
        """The job on the warm session of the job server; its output into the task log."""
        self._server = server
        self.log.info("running %s on the Spark job server %s: no spark-submit", self.module, server)
        timeout = self.execution_timeout.total_seconds() if self.execution_timeout else 24 * 3600
        try:
            output = jobserver.submit(
                server, self.module, list(self.application_args or []), timeout,
                on_busy=lambda what: self.log.warning("the Spark job server is %s: waiting", what))
        except jobserver.JobFailed as exc:
            self.log.error("%s", exc.output)
            raise RuntimeError(f"{self.task_id} failed on the Spark job server: {exc}") from None
        for line in output.splitlines():
            self.log.info("%s", line)
        return None

    def on_kill(self) -> None:
        """A killed or timed-out task cancels its job: on the server, or spark-submit's."""
        if self._server:
            self.log.info("cancelling %s on the Spark job server", self.module)
            try:
                jobserver.cancel(self._server)
            except OSError as exc:  # the server is gone, and its job with it
                self.log.warning("the Spark job server did not answer the cancel: %s", exc)
            return
        super().on_kill()


def lineage_args(task_instance, settings) -> list[str]:
    """The job's `--lineage-parent` and `--lineage-root`: the task's OpenLineage run and its DAG
    run's, from the provider's macros, so that the job's own events name their parent; none
    when lineage is off or the provider cannot say (the job then runs without a parent)."""
    if not settings.lineage_enabled:
        return []
    try:
        from airflow.providers.openlineage.plugins.macros import lineage_parent_id, lineage_root_parent_id

        return ["--lineage-parent", lineage_parent_id(task_instance),
                "--lineage-root", lineage_root_parent_id(task_instance)]
    except Exception as exc:  # noqa: BLE001 - lineage never fails a step
        log.warning("no OpenLineage parent run for the job: %s", exc)
        return []


def spark_step(task_id: str, module: str, timeout: timedelta, args: list[str] | None = None,
               **kwargs) -> LakehouseSparkSubmitOperator:
    """One table-writing Spark job: in the lakehouse pool, the run id as its first argument.

    `up_to_date`, a callable of the task's context, says when the job has nothing to do; the
    step then ends skipped without submitting it.
    """
    return LakehouseSparkSubmitOperator(
        task_id=task_id,
        module=module,
        application=job_file(module),
        application_args=["{{ run_id }}", *(args or [])],
        conn_id=SPARK_CONN_ID,
        name=f"pinlake-{task_id}",
        pool=LAKEHOUSE_POOL,
        execution_timeout=timeout,
        **kwargs,
    )
