"""The migrations job: `vidgo-migrate` runs the API's image as the API, with its secrets, the
Cloud SQL socket and Direct VPC egress on the subnet, its own share of the connection budget, and
its command from config."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.config import PLACEHOLDER_IMAGE
from stacks.loader import ConfigError
from tests.kit import (
    CLOUD_RUN_JOB,
    CLOUD_RUN_SERVICE,
    PROJECT_IAM_MEMBER,
    SECRET_IAM_MEMBER,
    SQL_INSTANCE,
    STACKS,
    SUBNET,
    planned,
    run_with,
    secret_of,
)
from vidgo_infra.offline import Resource, Run
from vidgo_infra.provider_rules.check import lookup

ACCESSOR = "roles/secretmanager.secretAccessor"


@pytest.fixture(params=STACKS)
def run(request) -> Run:
    return request.getfixturevalue(request.param)


def job(run: Run) -> Resource:
    [found] = [r for r in run.by_type(CLOUD_RUN_JOB) if r.inputs["name"] == "vidgo-migrate"]
    return found


def task(run: Run) -> dict[str, Any]:
    return job(run).inputs["template"]["template"]


def api(run: Run) -> dict[str, Any]:
    [found] = [r for r in run.by_type(CLOUD_RUN_SERVICE) if r.inputs["name"] == "vidgo-api"]
    return found.inputs["template"]


def secret_refs(container: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        env["name"]: env["valueSource"]["secretKeyRef"]
        for env in container["envs"]
        if "valueSource" in env
    }


def plain_env(container: dict[str, Any]) -> dict[str, str]:
    return {env["name"]: env["value"] for env in container["envs"] if "value" in env}


def test_the_job_runs_as_the_api_identity(run):
    assert task(run)["serviceAccount"] == api(run)["serviceAccount"]
    assert run.outputs["migrations_job"] == "vidgo-migrate"


POOL_ENV = {"DB_POOL_SIZE", "DB_MAX_OVERFLOW", "REDIS_MAX_CONNECTIONS"}


def test_the_job_gets_every_secret_and_setting_the_api_gets(run):
    [container] = task(run)["containers"]
    [api_container] = api(run)["containers"]
    assert secret_refs(container) == secret_refs(api_container)
    shared = {k: v for k, v in plain_env(container).items() if k not in POOL_ENV}
    assert shared == {k: v for k, v in plain_env(api_container).items() if k not in POOL_ENV}
    assert {"DATABASE_URL", "REDIS_URL"} <= secret_refs(container).keys()


def test_the_job_opens_only_the_connections_the_budget_gives_it(run):
    # The budget counts the job as `pool.migrations` connections: it must not open an API pool.
    [container] = task(run)["containers"]
    env = plain_env(container)
    assert env["DB_POOL_SIZE"] == "2" and env["REDIS_MAX_CONNECTIONS"] == "2"
    assert env["DB_MAX_OVERFLOW"] == "0"


def test_the_identity_may_read_every_secret_the_job_reads(run):
    identity = task(run)["serviceAccount"]
    readable = set()
    for grant in run.by_type(SECRET_IAM_MEMBER):
        if grant.inputs["role"] == ACCESSOR and grant.inputs["member"].endswith(identity):
            readable.add(secret_of(run, grant.inputs["secretId"]))
    [container] = task(run)["containers"]
    assert {ref["secret"] for ref in secret_refs(container).values()} <= readable


def test_the_job_waits_for_the_grants_it_needs_but_not_for_the_service(run):
    waits = {run.resources[urn].name for urn in job(run).dependencies}
    grants = [
        r.name
        for r in run.by_type(SECRET_IAM_MEMBER) + run.by_type(PROJECT_IAM_MEMBER)
        if r.name.startswith("api-")
    ]
    assert grants and set(grants) <= waits
    assert "api-service" not in waits


def test_the_job_reaches_cloud_sql_by_its_socket_and_private_ranges_on_the_subnet(run):
    [instance] = run.by_type(SQL_INSTANCE)
    connection = f"{instance.inputs['project']}:asia-east1:{instance.inputs['name']}"
    [volume] = task(run)["volumes"]
    assert volume["cloudSqlInstance"]["instances"] == [connection]
    [container] = task(run)["containers"]
    assert container["volumeMounts"] == [{"mountPath": "/cloudsql", "name": volume["name"]}]
    assert task(run)["vpcAccess"] == api(run)["vpcAccess"]
    assert task(run)["vpcAccess"]["egress"] == "PRIVATE_RANGES_ONLY"
    [subnet] = run.by_type(SUBNET)
    [interface] = task(run)["vpcAccess"]["networkInterfaces"]
    assert interface["subnetwork"] == subnet.id
    assert "connector" not in task(run)["vpcAccess"]


def test_alembic_upgrade_head_by_default_once_and_never_retried(run):
    [container] = task(run)["containers"]
    assert container["commands"] == ["alembic", "upgrade", "head"]
    assert task(run)["maxRetries"] == 0
    assert job(run).inputs["template"]["taskCount"] == 1


def test_the_command_is_config():
    changed = planned("staging", {"vidgo-infra:migrations": {"command": ["python", "-m", "m"]}})
    [container] = task(changed)["containers"]
    assert container["commands"] == ["python", "-m", "m"]


def test_an_empty_command_is_rejected_naming_the_key():
    with pytest.raises(ConfigError) as caught:
        run_with("staging", {"vidgo-infra:migrations": {"command": []}})
    assert "Pulumi.staging.yaml: vidgo-infra:migrations.command" in str(caught.value)


def test_the_pipeline_owns_the_image_after_creation(run):
    [container] = task(run)["containers"]
    assert container["image"] == PLACEHOLDER_IMAGE == api(run)["containers"][0]["image"]
    resource = job(run)
    assert "template.template.containers[0].image" in resource.ignore_changes
    for path in resource.ignore_changes:
        if path not in ("client", "clientVersion"):
            assert lookup(resource.inputs, path) is not None, path


def test_prod_guards_the_job_against_deletion_and_staging_does_not(prod, staging):
    assert job(prod).inputs["deletionProtection"] is True
    assert job(staging).inputs["deletionProtection"] is False


def test_the_cost_estimate_prices_the_job_while_it_runs(prod):
    from stacks.usage import UsageProfile
    from vidgo_infra.cost import estimate
    from vidgo_infra.inventory import inventory

    usage = UsageProfile(job_runs=100, job_run_seconds=120, free_tier=False)
    lines = [
        line for line in estimate(inventory(prod), usage).lines if line.resource == "migrate-job"
    ]
    by_sku = {line.sku: line for line in lines}
    seconds = 100 * 120
    # The API's shape: 2 vCPU, 2 GiB, at the instance-based rates ($0.000018, $0.000002).
    assert by_sku["cloud_run.instance.cpu"].quantity == 2 * seconds
    assert by_sku["cloud_run.instance.memory"].quantity == 2 * seconds
    assert sum(line.monthly_usd for line in lines) == pytest.approx(
        2 * seconds * 0.000018 + 2 * seconds * 0.000002
    )
