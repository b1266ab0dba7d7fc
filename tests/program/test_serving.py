"""The two Cloud Run services as declared: sizes from the seed, identities with least privilege,
secrets from Secret Manager, and no way in except through the load balancer."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.config import PLACEHOLDER_IMAGE
from tests.kit import (
    CLOUD_RUN_SERVICE,
    SECRET,
    SECRET_IAM_MEMBER,
    SECRET_VERSION,
    SEED_APP_SECRETS,
    SERVICE_ACCOUNT,
    SQL_INSTANCE,
    SUBNET,
    VPC,
    run_with,
    strings,
)
from vidgo_infra.offline import Resource, Run
from vidgo_infra.provider_rules.check import lookup

SERVICE = CLOUD_RUN_SERVICE
ACCOUNT = SERVICE_ACCOUNT
VERSION = SECRET_VERSION
SECRET_MEMBER = SECRET_IAM_MEMBER
SQL = SQL_INSTANCE

API, WEB = "vidgo-api", "vidgo-web"  # the seed's service names (section 3.3)
# Seed, section 3.2 step 5, handed to the API by `--set-secrets` in section 3.3 ...
SEED_SECRETS = SEED_APP_SECRETS
# ... and the connection secrets the platform writes for it.
CONNECTION_SECRETS = ("DATABASE_URL", "REDIS_URL", "REDIS_CA_CERT")
ACCESSOR = "roles/secretmanager.secretAccessor"
PIPELINE_IMAGE = "asia-east1-docker.pkg.dev/vidgo-ai-prod/vidgo/api:2026-11-01"


@pytest.fixture(scope="module")
def changed() -> Run:
    """Prod with an image set in config."""
    return run_with("prod", {"vidgo-infra:services": {"api": {"image": PIPELINE_IMAGE}}})


def service(run: Run, name: str) -> Resource:
    found = [r for r in run.by_type(SERVICE) if r.inputs["name"] == name]
    assert len(found) == 1, f"{len(found)} Cloud Run services named {name}"
    return found[0]


def container(run: Run, name: str) -> dict[str, Any]:
    containers = service(run, name).inputs["template"]["containers"]
    assert len(containers) == 1
    return containers[0]


def identity(run: Run, name: str) -> str:
    """The email of the service account the service runs as."""
    return service(run, name).inputs["template"]["serviceAccount"]


def member(run: Run, name: str) -> str:
    return f"serviceAccount:{identity(run, name)}"


def grants(run: Run, who: str) -> list[Resource]:
    """Every IAM binding, of any kind and at any level, that names `who`."""
    return [
        r
        for r in run.resources.values()
        if r.inputs.get("member") == who or who in (r.inputs.get("members") or [])
    ]


def secret_env(run: Run, name: str) -> dict[str, dict[str, Any]]:
    """Environment variable → its secretKeyRef, for the variables read from Secret Manager."""
    return {
        env["name"]: env["valueSource"]["secretKeyRef"]
        for env in container(run, name).get("envs") or []
        if "valueSource" in env
    }


def secret_by_id(run: Run, secret_id: str) -> Resource:
    found = [s for s in run.by_type(SECRET) if s.inputs["secretId"] == secret_id]
    assert len(found) == 1, f"{len(found)} secrets with id {secret_id}"
    return found[0]


def declares(run: Run, secret_id: str) -> bool:
    return any(s.inputs["secretId"] == secret_id for s in run.by_type(SECRET))


def secret_name(run: Run, secret_id: str) -> str:
    """What an IAM binding on the secret names: the program's secret, or the bootstrap's (an
    application key, `projects/PROJECT/secrets/ID`)."""
    if declares(run, secret_id):
        return secret_by_id(run, secret_id).id
    return f"projects/{service(run, API).inputs['project']}/secrets/{secret_id}"


# --- identities and IAM -----------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_each_service_runs_as_its_own_bootstrap_made_account(stack, request):
    run = request.getfixturevalue(stack)
    project = service(run, API).inputs["project"]
    assert len(run.by_type(SERVICE)) == 2
    # The bootstrap's runtime_accounts, named by default from the service and the project.
    assert {identity(run, name) for name in (API, WEB)} == {
        f"{name}-run@{project}.iam.gserviceaccount.com" for name in (API, WEB)
    }
    # The program creates no account: the deploy identity needs no service-account admin.
    assert run.by_type(ACCOUNT) == []


def test_a_stack_can_name_the_services_accounts():
    account = "api-runtime@vidgo-ai-prod.iam.gserviceaccount.com"
    run = run_with("prod", {"vidgo-infra:services": {"api": {"service_account": account}}})
    assert identity(run, API) == account
    assert member(run, API) in {g.inputs.get("member") for g in run.by_type(SECRET_MEMBER)}


def test_api_reads_exactly_the_secrets_its_environment_references(prod):
    api = member(prod, API)
    used = {secret_name(prod, ref["secret"]) for ref in secret_env(prod, API).values()}
    bound = set()
    for binding in grants(prod, api):
        if binding.type == SECRET_MEMBER:
            assert binding.inputs["role"] == ACCESSOR
            bound.add(binding.inputs["secretId"])
    assert bound == used
    # Not vacuous: the stack holds secrets the API does not use (the database password).
    assert {s.id for s in prod.by_type(SECRET)} - used


@pytest.mark.parametrize("name", [API])
def test_service_waits_for_every_binding_of_its_identity(prod, name):
    bindings = grants(prod, member(prod, name))
    assert bindings
    missing = [b.name for b in bindings if b.urn not in service(prod, name).dependencies]
    assert not missing, f"{name} may start before these bindings exist: {missing}"


def test_nobody_is_granted_to_all_users_anywhere(prod, staging):
    for run in (prod, staging):
        public = [
            r.name
            for r in run.resources.values()
            if {"allUsers", "allAuthenticatedUsers"} & set(strings(r.inputs))
        ]
        assert not public


# --- the seed's sizes and settings ------------------------------------------------------------


def test_prod_api_is_sized_as_the_seed(prod):
    template = service(prod, API).inputs["template"]
    limits = container(prod, API)["resources"]["limits"]
    assert limits == {"cpu": "2", "memory": "2Gi"}
    assert template["scaling"]["minInstanceCount"] == 1
    assert template["scaling"]["maxInstanceCount"] == 10
    assert template["maxInstanceRequestConcurrency"] == 100
    assert template["timeout"] == "300s"


def test_prod_web_is_sized_as_the_seed(prod):
    template = service(prod, WEB).inputs["template"]
    limits = container(prod, WEB)["resources"]["limits"]
    assert limits == {"cpu": "1", "memory": "512Mi"}
    assert template["scaling"].get("minInstanceCount", 0) == 0
    assert template["scaling"]["maxInstanceCount"] == 5
    assert template["maxInstanceRequestConcurrency"] == 200


def test_prod_api_environment(prod):
    plain = {e["name"]: e.get("value") for e in container(prod, API)["envs"] if "value" in e}
    assert plain["ENVIRONMENT"] == "production"


def test_api_reads_every_app_and_connection_secret_from_secret_manager(prod):
    refs = secret_env(prod, API)
    for name in (*SEED_SECRETS, *CONNECTION_SECRETS):
        assert name in refs, f"{name} is not an environment variable from Secret Manager"
        # The secret it points at has the name the seed gives it.
        assert refs[name]["secret"] == name
    # The connection secrets are the program's; the application keys the bootstrap's
    # (tests/bootstrap/test_app_secrets.py: they exist, filled, before the first `up`).
    assert all(declares(prod, name) for name in CONNECTION_SECRETS)
    assert not [name for name in SEED_SECRETS if declares(prod, name)]
    plain = {e["name"] for e in container(prod, API)["envs"] if "value" in e}
    assert not plain & set(refs), "a variable is both plain and from Secret Manager"


def test_api_mounts_the_cloud_sql_instance(prod):
    instance = prod.one(SQL)
    connection = ":".join(instance.inputs[k] for k in ("project", "region", "name"))
    # Seed 3.3: --add-cloudsql-instances=vidgo-ai-prod:asia-east1:vidgo-db
    assert connection == "vidgo-ai-prod:asia-east1:vidgo-db"
    volumes = {
        v["name"]: v
        for v in service(prod, API).inputs["template"]["volumes"]
        if "cloudSqlInstance" in v
    }
    assert [v["cloudSqlInstance"]["instances"] for v in volumes.values()] == [[connection]]
    mounts = {m["name"]: m["mountPath"] for m in container(prod, API)["volumeMounts"]}
    assert [mounts[name] for name in volumes] == ["/cloudsql"]


@pytest.mark.parametrize("name", [API, WEB])
def test_services_reach_private_ranges_by_direct_vpc_egress_on_the_subnet(prod, name):
    access = service(prod, name).inputs["template"]["vpcAccess"]
    # Only private ranges (Cloud SQL, Redis) enter the VPC; the AI providers are reached direct.
    assert access["egress"] == "PRIVATE_RANGES_ONLY"
    assert access["networkInterfaces"] == [
        {"network": prod.one(VPC).id, "subnetwork": prod.one(SUBNET).id}
    ]
    assert "connector" not in access


def test_no_vpc_connector_is_declared(prod, staging):
    for run in (prod, staging):
        assert not [r for r in run.resources.values() if r.type.startswith("gcp:vpcaccess/")]


def test_api_takes_traffic_only_once_its_data_services_answer(prod):
    # /health/ready answers 200 only when Cloud SQL and Redis are reachable; Direct VPC egress
    # may take a minute or more to connect, so the probe waits up to two minutes.
    startup = container(prod, API)["startupProbe"]
    assert startup["httpGet"]["path"] == "/health/ready"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    # ... and within the window Cloud Run allows a service's startup probe (failureThreshold x
    # periodSeconds, capped at 240 s): beyond it the revision is refused, and a release whose
    # instances never reach the data services should fail in minutes, not hold a deploy open.
    assert startup["periodSeconds"] * startup["failureThreshold"] <= 240
    assert startup["timeoutSeconds"] < startup["periodSeconds"]
    # Liveness does not check the data services: a database blip must not restart every instance.
    assert container(prod, API)["livenessProbe"]["httpGet"]["path"] == "/health"


def test_api_is_told_its_share_of_the_connection_budgets(prod):
    env = {e["name"]: e.get("value") for e in container(prod, API)["envs"]}
    # db-g1-small's 50 - 3 reserved - 2 migrations - 5 margin = 40, over 10 max instances.
    assert env["DB_POOL_SIZE"] == "4"
    assert env["DB_MAX_OVERFLOW"] == "0"
    assert env["REDIS_MAX_CONNECTIONS"] == "50"


def test_web_probes_health(prod):
    web = container(prod, WEB)
    probes = [web.get(p) for p in ("startupProbe", "livenessProbe") if web.get(p)]
    assert probes
    assert all(p["httpGet"]["path"] == "/health" for p in probes)


# --- reachable only through the load balancer -------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
@pytest.mark.parametrize("name", [API, WEB])
def test_only_the_load_balancer_reaches_the_service(stack, name, request):
    inputs = service(request.getfixturevalue(stack), name).inputs
    assert inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert inputs["defaultUriDisabled"] is True
    # Anyone may invoke through the load balancer (the seed's --allow-unauthenticated).
    assert inputs["invokerIamDisabled"] is True


@pytest.mark.parametrize("name", [API, WEB])
def test_prod_services_are_protected_and_staging_ones_are_not(prod, staging, name):
    assert service(prod, name).inputs["deletionProtection"] is True
    assert service(prod, name).protect
    assert service(staging, name).inputs["deletionProtection"] is False
    assert not service(staging, name).protect


# --- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [API, WEB])
def test_first_up_runs_the_placeholder_image(prod, name):
    image = container(prod, name)["image"]
    assert image == PLACEHOLDER_IMAGE
    # The project's own registry is empty before the first up.
    assert not image.startswith(prod.outputs["registry_path"])


def test_image_comes_from_config(changed):
    assert container(changed, API)["image"] == PIPELINE_IMAGE
    assert container(changed, WEB)["image"] == PLACEHOLDER_IMAGE


@pytest.mark.parametrize("name", [API, WEB])
def test_a_pipeline_deployed_image_is_not_rolled_back(prod, name):
    resource = service(prod, name)
    assert "template.containers[0].image" in resource.ignore_changes
    # Every ignored path names a property the service really has (a typo would ignore nothing),
    # except gcloud's client fields, which only the pipeline's deploys set.
    for path in resource.ignore_changes:
        if path not in ("client", "clientVersion"):
            assert lookup(resource.inputs, path) is not None, path


# --- secret versions --------------------------------------------------------------------------


def test_the_application_keys_are_read_at_the_operators_latest_version(prod):
    refs = secret_env(prod, API)
    assert {name: refs[name]["version"] for name in SEED_SECRETS} == dict.fromkeys(
        SEED_SECRETS, "latest"
    )


@pytest.mark.parametrize("stack", ["prod", "changed"])
def test_secrets_pulumi_writes_are_pinned_and_others_float(stack, request):
    run = request.getfixturevalue(stack)
    for env_name, ref in secret_env(run, API).items():
        owned = declares(run, ref["secret"])
        secret = secret_by_id(run, ref["secret"]) if owned else None
        versions = [c for c in run.children(secret) if c.type == VERSION] if secret else []
        if versions:
            assert ref["version"].isdigit(), env_name
        else:
            assert ref["version"] == "latest", env_name
