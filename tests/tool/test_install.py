"""The tool as users install it: a wheel with only `vidgo_infra`, acting on the project where it
runs (not where it is installed), and ending quietly when its reader goes away."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.kit import ROOT

# Builds a wheel and installs it: a developer may skip these with `-m "not slow"`; `make test`
# and CI run them.
pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent


def copy_project(where: Path) -> Path:
    """A second checkout of the project (the program and stack files, no tool)."""
    where.mkdir()
    for name in ("infra", "stacks", "components"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, where / path.name)
    return where


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel .` of the project, built from a copy so nothing is written into the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "vidgo_infra", source / "vidgo_infra", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-q", "-w", str(dist), str(source)], check=True, timeout=300)
    (built,) = dist.glob("*.whl")
    return built


def test_the_wheel_installs_only_the_tool(wheel):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"vidgo_infra"}
    assert "vidgo_infra/prices.yaml" in zipfile.ZipFile(wheel).namelist()  # tool data


def test_the_wheel_holds_the_provider_rules_but_not_their_go_reader(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "vidgo_infra/provider_rules/rules.json" in names
    assert "vidgo_infra/provider_rules/check.py" in names
    assert [n for n in names if "goschema" in n or "scripts/" in n] == []  # scripts/ only


def test_an_installed_tool_plans_the_project_where_it_runs(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
        check=True,
        timeout=300,
    )
    clone = copy_project(tmp_path / "clone")
    stack_file = clone / "Pulumi.staging.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("tier: db-f1-micro", "tier: db-custom-1-3840")
    )
    config = clone / "stacks" / "config.py"  # the clone's program, not the installed tool's
    config.write_text(config.read_text().replace('"vidgo-redis"', '"clone-redis"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PYTHONPATH"] = str(site)
    # -P: no current folder on sys.path, as a console script; only the installed wheel is there.
    tool = [
        sys.executable,
        "-P",
        "-c",
        "import sys; from vidgo_infra.cli import main; sys.exit(main())",
    ]
    where = [sys.executable, "-P", "-c", "import vidgo_infra; print(vidgo_infra.__file__)"]
    assert subprocess.run(where, env=env, capture_output=True, text=True).stdout.startswith(
        str(site)
    )

    done = subprocess.run(
        [*tool, "plan", "staging"], cwd=clone, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"Project {clone}, stack file Pulumi.staging.yaml." in done.stdout
    assert "tier=db-custom-1-3840" in done.stdout
    assert "name=clone-redis" in done.stdout

    before = (ROOT / "tests" / "snapshots" / "staging.yaml").read_text()
    done = subprocess.run(
        [*tool, "-C", str(clone), "snapshot", "staging"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "db-custom-1-3840" in (clone / "tests" / "snapshots" / "staging.yaml").read_text()
    assert (ROOT / "tests" / "snapshots" / "staging.yaml").read_text() == before


def test_a_closed_pipe_ends_quietly():
    # `vidgo-infra plan prod --json | head -c 100`: far more than a pipe holds, reader gone early.
    process = subprocess.Popen(
        [str(VENV_BIN / "vidgo-infra"), "plan", "prod", "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.read(100)
    process.stdout.close()
    err = process.stderr.read().decode()
    process.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err, err
