"""A wheel of pinlake, installed into a new venv away from the checkout, runs: its command line,
the JVM artifact pins, the DAG files Airflow parses and the dashboard page are package data.

The new venv gets its dependencies from the project's venv (a .pth line), not from the package
index, so the test stays offline; `pip check` then holds what pyproject.toml declares against
what is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

import pytest

from tests import PROJECT_ROOT
from tests.unit.test_dag_integrity import load_dags

pytestmark = pytest.mark.integration



def packages() -> list[str]:
    """The top-level packages pyproject.toml builds."""
    found = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    return [pattern.rstrip("*") for pattern in found["include"]]
PACKAGE_DATA = ["pinlake/artifacts.txt", "pinlake/web_assets.txt", "orchestration/dags/medallion.py", "orchestration/dags/maintenance.py",
                "serving/static/dashboard.html"]

WHERE = r"""
import json
from pinlake import jvm, web
from orchestration.airflow_home import DAGS_FOLDER
from orchestration.spark import job_file
from serving.api import STATIC
import pinlake
print(json.dumps({"package": pinlake.__file__, "pins": sorted(jvm.pinned_sets()), "assets": len(web.pinned()),
                  "dags": str(DAGS_FOLDER), "job": job_file("lakehouse.silver.job"),
                  "page": str(STATIC / "dashboard.html")}))
"""


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the new venv, the wheel) after `pip install --no-deps <wheel>` into it."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"  # a copy, so that the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    for package in packages():
        shutil.copytree(PROJECT_ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", tmp / "dist", source])
    [wheel] = (tmp / "dist").glob("pinlake-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps",
         "--no-index", wheel])
    return venv, wheel


def test_the_wheel_carries_the_package_data(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGE_DATA) <= names, set(PACKAGE_DATA) - names
    assert not any(name.startswith("tests/") for name in names)


def test_the_installed_command_runs_from_anywhere(installed, tmp_path):
    venv, _ = installed
    version = run([venv / "bin" / "pinlake", "--version"], cwd=tmp_path).stdout
    assert version.strip() == "pinlake 0.1.0"
    where = json.loads(run([venv / "bin" / "python", "-c", WHERE], cwd=tmp_path).stdout)
    for key in ("package", "dags", "job", "page"):
        assert where[key].startswith(str(venv)), f"{key} resolves to {where[key]}, not into the installed package"
    assert where["pins"] == ["broker", "spark"] and where["assets"] > 0


def test_the_installed_dependencies_satisfy_the_declared_ones(installed):
    venv, _ = installed
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "check"])


def test_airflow_parses_the_installed_dags(installed, tmp_path):
    venv, _ = installed
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    bag = load_dags(tmp_path, python=str(venv / "bin" / "python"), folder=site / "orchestration" / "dags")
    assert bag["import_errors"] == {}
    assert set(bag["dags"]) == {"medallion", "publish", "maintenance"}
    applications = {t["application"] for dag in bag["dags"].values() for t in dag["tasks"].values()} - {None}
    assert applications and all(a.startswith(str(site)) for a in applications), applications
