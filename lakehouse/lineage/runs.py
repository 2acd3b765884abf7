"""A Spark job's own OpenLineage events: START when it begins, COMPLETE or FAIL when it ends.

The OpenLineage Spark listener would report Spark's plans; pinlake's jobs instead say what they
read and wrote in the lakehouse's terms (each job module's `lineage_datasets`): the input tables
at the versions read, the output tables at their new versions with schema, column lineage and
the quality gate's assertions. Run by Airflow, the job's run points at the task's OpenLineage
run (ParentRunFacet, from the provider's `lineage_parent_id` and `lineage_root_parent_id`
macros, passed as `--lineage-parent` and `--lineage-root`); from the command line it has none.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, job_type_job, parent_run
from openlineage.client.uuid import generate_new_uuid

log = logging.getLogger(__name__)

JOB_NAMESPACE = "pinlake"  # the namespace of the jobs' own events (Airflow's tasks use the same)
PRODUCER = "urn:pinlake:lakehouse.lineage"  # who produced the event (a URI, as OpenLineage asks)
# (inputs, outputs) of a job: called with complete=False at START, True at the end
Datasets = Callable[[bool], tuple[list, list]]


def parse_parent(parent: str | None, root: str | None = None) -> parent_run.ParentRunFacet | None:
    """The ParentRunFacet of `namespace/job_name/run_id` (the provider's `lineage_parent_id`),
    with its root run when given the same way; None without a parent."""
    if not parent:
        return None
    namespace, name, run_id = parent.rsplit("/", 2)
    facet = parent_run.ParentRunFacet(run=parent_run.Run(runId=run_id),
                                      job=parent_run.Job(namespace=namespace, name=name))
    if root:
        root_namespace, root_name, root_run = root.rsplit("/", 2)
        facet.root = parent_run.Root(run=parent_run.RootRun(runId=root_run),
                                     job=parent_run.RootJob(namespace=root_namespace, name=root_name))
    return facet


def run_event(state: RunState, job: str, run_id: str, inputs: list, outputs: list,
              parent: parent_run.ParentRunFacet | None = None, error: BaseException | None = None) -> RunEvent:
    """One RunEvent of a pinlake Spark job (pure)."""
    run_facets: dict = {}
    if parent is not None:
        run_facets["parent"] = parent
    if error is not None:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=str(error) or type(error).__name__, programmingLanguage="python",
            stackTrace="".join(traceback.format_exception(error))[-4000:])
    job_facets = {"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="SPARK", jobType="JOB")}
    return RunEvent(eventType=state, eventTime=datetime.now(timezone.utc).isoformat(), producer=PRODUCER,
                    run=Run(runId=run_id, facets=run_facets), job=Job(namespace=JOB_NAMESPACE, name=job,
                                                                      facets=job_facets),
                    inputs=inputs, outputs=outputs)


def _datasets(datasets: Datasets, complete: bool) -> tuple[list, list]:
    try:
        return datasets(complete)
    except Exception as exc:  # noqa: BLE001 - an event without datasets beats no event
        log.warning("lineage: the job's datasets could not be read: %s", exc)
        return [], []


@contextmanager
def job_run(job: str, root: str, datasets: Datasets, parent: str | None = None, parent_root: str | None = None,
            enabled: bool = True) -> Iterator[str]:
    """Emit START, run the block, then COMPLETE (or FAIL, and the error raised again); yields
    the OpenLineage run id. Lineage never fails the job: events that cannot be built or stored
    are logged."""
    from lakehouse.lineage.store import write_event

    run_id = str(generate_new_uuid())
    if not enabled:
        yield run_id
        return
    try:
        facet = parse_parent(parent, parent_root)
    except ValueError:
        log.warning("lineage: not a parent run id (namespace/job/run): %r", parent)
        facet = None

    def emit(state: RunState, complete: bool, error: BaseException | None = None) -> None:
        write_event(run_event(state, job, run_id, *_datasets(datasets, complete), parent=facet, error=error), root)

    emit(RunState.START, False)
    try:
        yield run_id
    except BaseException as exc:
        emit(RunState.FAIL, False, exc)
        raise
    emit(RunState.COMPLETE, True)
