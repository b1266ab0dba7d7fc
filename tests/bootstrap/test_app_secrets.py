"""A fresh project's first `pulumi up` can end green: every secret the API reads exists, with a
version, before the program declares the API.

The order, read from the two programs' inventories: `boot up` declares the application keys'
secrets (no version: the operator's `gcloud secrets versions add` comes next); the main
program creates none of them, and every other secret the API reads is the program's own, with
a version the API waits for. A Cloud Run revision that reads a secret with no version does not
start, so a secret of neither kind would fail the first `up`.
"""

from __future__ import annotations

import runpy

import pytest
import yaml
from pulumi import RunError

from stacks.config import PlatformConfig
from tests.bootstrap.harness import BOOTSTRAP, Run, prod_config, run_bootstrap, stack_file
from tests.kit import ROOT, SECRET, SECRET_IAM_MEMBER, SECRET_VERSION
from vidgo_infra.offline import Resource

SECRET = SECRET
VERSION = SECRET_VERSION
SECRET_MEMBER = SECRET_IAM_MEMBER
SERVICE = "gcp:cloudrunv2/service:Service"
APP_KEYS = tuple(PlatformConfig.model_fields["app_secrets"].default)


def api(run: Run) -> Resource:
    (found,) = [s for s in run.by_type(SERVICE) if s.inputs["name"] == "vidgo-api"]
    return found


def secret_env(run: Run) -> dict[str, dict]:
    """The API's environment variable -> the secret and version it reads."""
    envs = api(run).inputs["template"]["containers"][0]["envs"]
    return {e["name"]: e["valueSource"]["secretKeyRef"] for e in envs if "valueSource" in e}


def waits_for(run: Run, resource: Resource) -> set[str]:
    """Every URN `resource` waits for: its dependencies and theirs, and its parents'."""
    seen: set[str] = set()
    todo = [resource.urn]
    while todo:
        current = run.resources.get(todo.pop())
        if current is None:
            continue
        for urn in [*current.dependencies, *([current.parent] if current.parent else [])]:
            if urn not in seen:
                seen.add(urn)
                todo.append(urn)
    return seen


def bootstrap_secrets(run: Run) -> dict[str, Resource]:
    return {s.inputs["secretId"]: s for s in run.by_type(SECRET)}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_secret_the_api_reads_has_a_version_before_the_api_is_declared(stack, request):
    program: Run = request.getfixturevalue(stack)
    booted: Run = request.getfixturevalue(f"bootstrap_{stack}")
    project = stack_file(stack)["gcp:project"]
    own = {s.inputs["secretId"]: s for s in program.by_type(SECRET)}
    before_boot = bootstrap_secrets(booted)
    waited = waits_for(program, api(program))
    reads = secret_env(program)
    assert set(APP_KEYS) <= set(reads), "the API reads the seed's application keys"
    for env_name, ref in reads.items():
        secret_id = ref["secret"]
        if secret_id in own:
            # The program's own: created with a version in the same `up`, before the API.
            versions = [v for v in program.children(own[secret_id]) if v.type == VERSION]
            assert len(versions) == 1, env_name
            assert versions[0].urn in waited, f"the API does not wait for {env_name}'s version"
        else:
            # The bootstrap's: exists before the program's first `up`, filled by the operator.
            assert secret_id in before_boot, f"{env_name}: no one declares secret {secret_id}"
            declared = before_boot[secret_id]
            assert declared.inputs["project"] == project
            assert not booted.children(declared), "the bootstrap writes no value"
            assert not booted.by_type(VERSION)
            assert ref["version"] == "latest", "the revision reads the operator's version"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_application_keys_are_the_bootstraps_and_never_the_programs(stack, request):
    program: Run = request.getfixturevalue(stack)
    booted: Run = request.getfixturevalue(f"bootstrap_{stack}")
    in_program = {s.inputs["secretId"] for s in program.by_type(SECRET)}
    in_bootstrap = set(bootstrap_secrets(booted))
    assert in_bootstrap == set(APP_KEYS)
    # Declared twice, the second create would fail with 409 ALREADY_EXISTS.
    assert not in_program & in_bootstrap
    # Guarded in every stack, staging too: the value exists nowhere else.
    for secret in bootstrap_secrets(booted).values():
        assert secret.protect and secret.inputs["deletionProtection"] is True
    assert booted.outputs["app_secrets"].keys() == set(APP_KEYS)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_api_waits_for_its_access_to_each_key_and_only_its_identity_gets_it(stack, request):
    program: Run = request.getfixturevalue(stack)
    project = stack_file(stack)["gcp:project"]
    service = api(program)
    member = f"serviceAccount:{service.inputs['template']['serviceAccount']}"
    waited = waits_for(program, service)
    for key in APP_KEYS:
        bindings = [
            b
            for b in program.by_type(SECRET_MEMBER)
            if b.inputs["secretId"] == f"projects/{project}/secrets/{key}"
        ]
        assert [(b.inputs["member"], b.inputs["role"]) for b in bindings] == [
            (member, "roles/secretmanager.secretAccessor")
        ], key
        assert bindings[0].urn in waited, f"the API may start before it can read {key}"


def test_no_committed_stack_file_holds_an_application_key():
    """The path through Pulumi config is retired (program/test_secret_config.py refuses it)."""
    for stack in ("prod", "staging"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert not [k for k in config if k.partition(":")[2] in APP_KEYS], stack


def test_the_committed_bootstrap_stacks_list_the_main_stacks_keys():
    for stack in ("prod", "staging"):
        main = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        wanted = main.get("vidgo-infra:app_secrets", list(APP_KEYS))
        listed = stack_file(stack).get("vidgo-bootstrap:app_secrets", list(APP_KEYS))
        assert listed == wanted, f"bootstrap/Pulumi.{stack}.yaml: app_secrets"


def test_a_configured_list_replaces_the_default():
    run = run_bootstrap("prod", prod_config(app_secrets=["OPENAI_API_KEY"]))
    assert set(bootstrap_secrets(run)) == {"OPENAI_API_KEY"}


def test_the_default_is_read_from_the_program_and_a_bad_list_stops_the_bootstrap(tmp_path):
    read = runpy.run_path(str(BOOTSTRAP / "app_secrets.py"))["app_secret_names"]
    assert read() == APP_KEYS
    with pytest.raises(RunError, match="unique"):
        read(["SENDGRID_API_KEY", "SENDGRID_API_KEY"])
    with pytest.raises(RunError, match="unique"):
        read(["not/an/id"])
    computed = tmp_path / "config.py"
    computed.write_text("class PlatformConfig:\n    app_secrets: list = sorted(OTHER)\n")
    with pytest.raises(RunError, match="must be a list of secret ids"):
        read(None, computed)
