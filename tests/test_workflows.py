"""The GitHub workflows: both linters, and the delivery rules they must keep (issue 5).

A broken or unsafe workflow fails here, before GitHub ever runs it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$")
STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def action(step: dict[str, Any]) -> str:
    return step.get("uses", "").split("@")[0]


def tool(name: str) -> str:
    """An installed linter binary: the project's venv first, then PATH. Missing is a failure."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [tool("actionlint"), "-no-color", f"-shellcheck={tool('shellcheck')}"]
    return subprocess.run(
        [*command, *map(str, paths)], capture_output=True, text=True, cwd=ROOT, check=False
    )


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    # Offline: the online audits ask GitHub's API, which neither CI nor a laptop may need.
    command = [tool("zizmor"), "--offline", "--no-progress", "--color=never"]
    return subprocess.run(
        [*command, *map(str, paths)], capture_output=True, text=True, cwd=ROOT, check=False
    )


def has_credentials(job: dict[str, Any]) -> bool:
    """Can this job reach a secret or a cloud identity?"""
    permissions = job.get("permissions") or {}
    return (
        (isinstance(permissions, dict) and permissions.get("id-token") == "write")
        or "secrets." in yaml.safe_dump(job)
        or any(action(s) in {"google-github-actions/auth", "pulumi/actions"} for s in steps(job))
    )


def skipped_for_forks(job: dict[str, Any]) -> bool:
    """The job's condition requires the same-repository test (a conjunction, no `||`)."""
    condition = " ".join(str(job.get("if", "")).split())
    return SAME_REPO in condition and "||" not in condition


def unsafe_for_forks(workflow: dict[str, Any]) -> list[str]:
    if not triggers(workflow) & {"pull_request", "pull_request_target"}:
        return []
    return [
        name
        for name, job in workflow["jobs"].items()
        if has_credentials(job) and not skipped_for_forks(job)
    ]


@pytest.fixture(scope="module")
def pull_request() -> dict[str, Any]:
    return load(PULL_REQUEST)


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load(DEPLOY)


ALL = [PULL_REQUEST, DEPLOY]


# --- the linters ---------------------------------------------------------------------------


def test_actionlint_passes():
    result = actionlint(*ALL)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_passes():
    result = zizmor(*ALL)
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_linters_fail_a_workflow_that_injects_pull_request_input(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    assert actionlint(bad).returncode != 0
    assert zizmor(bad).returncode != 0


# --- rules for every workflow -------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_pull_request_target(path):
    assert "pull_request_target" not in triggers(load(path))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_permissions_are_empty_at_the_top_and_declared_per_job(path):
    workflow = load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{name} declares no permissions"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_noted(path):
    for line in path.read_text().splitlines():
        match = USES_LINE.match(line)
        if match:
            reference, rest = match.groups()
            assert PINNED.match(reference), f"not pinned to a full commit SHA: {reference}"
            assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+\s*", rest), f"no '# vX.Y.Z' on: {line}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_checkout_keeps_no_credentials(path):
    for job in load(path)["jobs"].values():
        for step in steps(job):
            if action(step) == "actions/checkout":
                assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_scripts_expand_no_expression_inline(path):
    # Values reach scripts through `env:`; an inline ${{ }} is pasted into the shell as code.
    for job in load(path)["jobs"].values():
        for step in steps(job):
            assert "${{" not in step.get("run", ""), step.get("name", step["run"])


# --- pull requests ------------------------------------------------------------------------


def test_no_job_with_credentials_runs_for_a_fork(pull_request):
    assert unsafe_for_forks(pull_request) == []
    credentialed = [n for n, j in pull_request["jobs"].items() if has_credentials(j)]
    assert credentialed == ["preview"]


def test_the_fork_rule_catches_an_unguarded_credentialed_job():
    workflow = {
        "on": {"pull_request": None},
        "jobs": {
            "oidc": {"permissions": {"id-token": "write"}},
            "secret": {"steps": [{"run": "x", "env": {"T": "${{ secrets.T }}"}}]},
            "guarded": {"if": SAME_REPO, "permissions": {"id-token": "write"}},
            "or": {"if": f"always() || {SAME_REPO}", "steps": [{"uses": "pulumi/actions@x"}]},
            "plain": {"permissions": {"contents": "read"}, "steps": [{"run": "make test"}]},
        },
    }
    assert unsafe_for_forks(workflow) == ["oidc", "secret", "or"]


def test_every_pull_request_runs_the_tests_and_plans_every_stack(pull_request):
    jobs = pull_request["jobs"]
    assert triggers(pull_request) == {"pull_request"}
    assert any(s.get("run") == "make test" for s in steps(jobs["checks"]))
    assert sorted(jobs["plan"]["strategy"]["matrix"]["stack"]) == STACKS
    plan_steps = [s.get("run", "") for s in steps(jobs["plan"])]
    assert any("GITHUB_STEP_SUMMARY" in run and "vidgo-infra cost" in run for run in plan_steps)
    # Against the base branch's snapshot: the pull request's own one must equal its program.
    assert any("HEAD^1:tests/snapshots/" in run and "vidgo-infra diff" in run for run in plan_steps)


def test_preview_runs_each_stack_with_its_venv_identity_and_comment(pull_request):
    job = pull_request["jobs"]["preview"]
    assert sorted(e["stack"] for e in job["strategy"]["matrix"]["include"]) == STACKS
    order = [action(s) or s.get("run", "") for s in steps(job)]
    venv = next(i for i, s in enumerate(order) if "python -m venv .venv" in s)
    auth = order.index("google-github-actions/auth")
    pulumi = order.index("pulumi/actions")
    assert venv < pulumi and auth < pulumi
    auth_inputs = steps(job)[auth]["with"]
    assert "credentials_json" not in auth_inputs  # keyless only
    assert "GCP_PREVIEW_SERVICE_ACCOUNT" in str(job["strategy"]["matrix"])
    preview = steps(job)[pulumi]["with"]
    assert preview["command"] == "preview"
    assert preview["comment-on-pr"] is True
    assert preview["cloud-url"] == "${{ matrix.backend_url }}"
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }


# --- deploys ------------------------------------------------------------------------------


def test_deploys_run_on_pushes_to_main_only(deploy):
    assert deploy["on"] == {"push": {"branches": ["main"]}}


def test_prod_waits_for_staging_and_a_production_reviewer(deploy):
    prod = deploy["jobs"]["prod"]
    environment = prod["environment"]
    assert (environment if isinstance(environment, str) else environment["name"]) == "production"
    needs = prod["needs"]
    assert "staging" in ([needs] if isinstance(needs, str) else needs)
    assert "environment" not in deploy["jobs"]["staging"]


def test_one_uncancelled_update_per_stack(deploy):
    groups = {}
    for name, job in deploy["jobs"].items():
        assert job["concurrency"]["cancel-in-progress"] is False, name
        groups[job["concurrency"]["group"]] = name
    assert len(groups) == len(deploy["jobs"]) == len(STACKS)


def test_each_stack_is_deployed_as_its_own_deploy_identity(deploy):
    deployed = []
    for job in deploy["jobs"].values():
        by_action = {action(s): s for s in steps(job)}
        up = by_action["pulumi/actions"]["with"]
        assert up["command"] == "up"
        suffix = up["stack-name"].upper()
        auth = by_action["google-github-actions/auth"]["with"]
        assert auth["service_account"] == f"${{{{ vars.GCP_DEPLOY_SERVICE_ACCOUNT_{suffix} }}}}"
        deployed.append(up["stack-name"])
    assert sorted(deployed) == STACKS


def test_after_up_the_dns_outputs_go_to_the_summary(deploy):
    for job in deploy["jobs"].values():
        script = steps(job)[-1]["run"]
        assert "GITHUB_STEP_SUMMARY" in script
        assert "static_ip" in script and "dns_records" in script
