"""The data plane as declared: what a user relies on in the network, database, cache, bucket,
secrets, registry, APIs and audit logs of both stacks."""

from __future__ import annotations

import re

import pytest
from pulumi.runtime import MockResourceArgs, rpc

from tests.kit import SEED_APP_SECRETS, run_with
from vidgo_infra.inventory import dump, inventory
from vidgo_infra.offline import COMPUTED, PlatformMocks, Resource, Run

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_DATABASE = "gcp:sql/database:Database"
SQL_USER = "gcp:sql/user:User"
REDIS = "gcp:redis/instance:Instance"
BUCKET = "gcp:storage/bucket:Bucket"
SECRET = "gcp:secretmanager/secret:Secret"
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
VPC = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
PSA = "gcp:servicenetworking/connection:Connection"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
API = "gcp:projects/service:Service"
PASSWORD = "random:index/randomPassword:RandomPassword"

STATEFUL = (SQL, SQL_DATABASE, SQL_USER, BUCKET, SECRET, REDIS)

APP_SECRETS = SEED_APP_SECRETS
# Secrets the platform generates and writes itself (DB_PASSWORD is for operators; the API
# gets the password only inside DATABASE_URL).
GENERATED_SECRETS = ("DATABASE_URL", "DB_PASSWORD", "REDIS_URL", "REDIS_CA_CERT")

# Seed, section 3.1 ...
SEED_APIS = {
    "run.googleapis.com",
    "sql-component.googleapis.com",
    "sqladmin.googleapis.com",
    "redis.googleapis.com",
    "storage.googleapis.com",
    "compute.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "secretmanager.googleapis.com",
    "monitoring.googleapis.com",
    "logging.googleapis.com",
}
# ... and what the seed's own resources need that it forgot.
FORGOTTEN_APIS = {
    "servicenetworking.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
}
# The API each provider module calls. A gcp: module not listed here must still wait for at
# least one API (test_every_google_resource_waits_for_its_api).
MODULE_API = {
    "sql": "sqladmin.googleapis.com",
    "redis": "redis.googleapis.com",
    "storage": "storage.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "compute": "compute.googleapis.com",
    "vpcaccess": "vpcaccess.googleapis.com",
    "dns": "dns.googleapis.com",
    "servicenetworking": "servicenetworking.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "projects": "cloudresourcemanager.googleapis.com",
    "cloudrunv2": "run.googleapis.com",
    "monitoring": "monitoring.googleapis.com",
    "logging": "logging.googleapis.com",
}

# The seed's cors.json; staging's is the same rule on its own hosts.
SEED_CORS = {
    "origins": ["https://vidgo.ai", "https://www.vidgo.ai", "https://api.vidgo.ai"],
    "methods": ["GET", "PUT", "POST", "DELETE"],
    "responseHeaders": ["Content-Type"],
    "maxAgeSeconds": 3600,
}
STAGING_CORS = SEED_CORS | {"origins": ["https://staging.vidgo.ai", "https://api.staging.vidgo.ai"]}

STACKS = ["prod", "staging"]


@pytest.fixture(params=STACKS)
def run(request) -> Run:
    return request.getfixturevalue(request.param)


def secret(run: Run, secret_id: str) -> Resource:
    found = [r for r in run.by_type(SECRET) if r.inputs["secretId"] == secret_id]
    assert len(found) == 1, f"{len(found)} secrets with id {secret_id}"
    return found[0]


def versions(run: Run, of: Resource) -> list[Resource]:
    """The versions written to a secret (a version references its secret's id)."""
    return [v for v in run.by_type(VERSION) if of.urn in v.dependencies]


def flags(instance: Resource) -> dict[str, str]:
    return {f["name"]: f["value"] for f in instance.inputs["settings"]["databaseFlags"]}


def api_urns(run: Run) -> dict[str, str]:
    return {r.inputs["service"]: r.urn for r in run.by_type(API)}


def mock_value(type_: str, output: str) -> str:
    """The stand-in the offline mocks give a provider-computed output (so the test can look for
    it in plain text without copying it)."""
    args = MockResourceArgs(typ=type_, name="probe", inputs={})
    return PlatformMocks("project", "region").new_resource(args)[1][output]


# --- network --------------------------------------------------------------------------------


def test_vpc_is_custom_mode_with_regional_routing(run):
    vpc = run.one(VPC).inputs
    assert vpc["autoCreateSubnetworks"] is False
    assert vpc["routingMode"] == "REGIONAL"


def test_every_subnet_has_flow_logs(run):
    subnets = run.by_type(SUBNET)
    assert subnets
    for subnet in subnets:
        assert subnet.inputs["logConfig"]["flowSampling"] > 0, subnet.name


def test_no_connector_and_no_connector_api(run):
    # Cloud Run egresses into the subnet directly; the connector's VMs and API are gone.
    assert not [r for r in run.resources.values() if r.type.startswith("gcp:vpcaccess/")]
    apis = {r.inputs["service"] for r in run.by_type("gcp:projects/service:Service")}
    assert "vpcaccess.googleapis.com" not in apis


def test_private_services_access_is_an_internal_peering_range_that_is_abandoned(run):
    connection = run.one(PSA)
    assert connection.inputs["service"] == "servicenetworking.googleapis.com"
    [reserved] = connection.inputs["reservedPeeringRanges"]
    [psa_range] = [r for r in run.by_type(ADDRESS) if r.inputs["name"] == reserved]
    assert psa_range.urn in connection.dependencies
    assert psa_range.inputs["purpose"] == "VPC_PEERING"
    assert psa_range.inputs["addressType"] == "INTERNAL"
    # Deleting the peering fails while Cloud SQL still holds an address in it.
    assert connection.inputs["deletionPolicy"] == "ABANDON"


# --- database -------------------------------------------------------------------------------


def test_database_has_a_private_address_only_and_waits_for_the_peering(run):
    instance = run.one(SQL)
    ip = instance.inputs["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"]
    assert run.one(VPC).urn in instance.dependencies
    assert run.one(PSA).urn in instance.dependencies


def test_database_accepts_only_encrypted_connections(run):
    ip = run.one(SQL).inputs["settings"]["ipConfiguration"]
    # Encrypted, and from a client certificate Cloud SQL trusts (the /cloudsql connector's).
    assert ip["sslMode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"


def test_database_backups_allow_point_in_time_recovery(run):
    backups = run.one(SQL).inputs["settings"]["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["pointInTimeRecoveryEnabled"] is True
    assert backups["transactionLogRetentionDays"] >= 1


def test_prod_keeps_seven_backups(prod):
    retention = prod.one(SQL).inputs["settings"]["backupConfiguration"]["backupRetentionSettings"]
    assert retention == {"retainedBackups": 7, "retentionUnit": "COUNT"}


def test_database_has_the_cis_flags(run):
    found = flags(run.one(SQL))
    assert found["log_connections"] == "on"
    assert found["log_disconnections"] == "on"
    assert found["log_statement"] == "ddl"
    assert found["log_min_messages"] in {"warning", "error", "log", "fatal", "panic"}
    assert found["log_min_error_statement"] in {"error", "log", "fatal", "panic"}
    assert found["log_min_duration_statement"] == "-1"
    assert found["cloudsql.enable_pgaudit"] == "on"


def test_database_edition_maintenance_and_insights(run):
    settings = run.one(SQL).inputs["settings"]
    # Shared-core tiers exist only on ENTERPRISE.
    assert settings["edition"] == "ENTERPRISE"
    assert 1 <= settings["maintenanceWindow"]["day"] <= 7
    assert 0 <= settings["maintenanceWindow"]["hour"] <= 23
    assert settings["insightsConfig"]["queryInsightsEnabled"] is True


@pytest.mark.parametrize(("stack", "guarded"), [("prod", True), ("staging", False)])
def test_both_cloud_sql_deletion_guards_follow_the_stack(stack, guarded, request):
    instance = request.getfixturevalue(stack).one(SQL).inputs
    assert instance["deletionProtection"] is guarded
    assert instance["settings"]["deletionProtectionEnabled"] is guarded


def test_database_password_is_generated_and_never_plain(run):
    password = run.one(PASSWORD)
    assert password.inputs["length"] == 32
    assert password.inputs["special"] is False  # it goes into DATABASE_URL unescaped
    user = run.one(SQL_USER)
    assert password.urn in user.dependencies
    assert rpc.is_rpc_secret(user.inputs["passwordWo"])
    assert mock_value(PASSWORD, "result") not in dump(inventory(run))


@pytest.mark.parametrize("secret_id", GENERATED_SECRETS)
def test_generated_credentials_are_stored_as_secret_versions(run, secret_id):
    [version] = versions(run, secret(run, secret_id))
    assert rpc.is_rpc_secret(version.inputs["secretDataWo"])


# --- cache ----------------------------------------------------------------------------------


def test_redis_has_auth_and_tls_on_private_service_access(run):
    redis = run.one(REDIS)
    assert redis.inputs["authEnabled"] is True
    assert redis.inputs["transitEncryptionMode"] == "SERVER_AUTHENTICATION"
    assert redis.inputs["connectMode"] == "PRIVATE_SERVICE_ACCESS"
    assert redis.inputs["authorizedNetwork"]
    assert run.one(PSA).urn in redis.dependencies


def test_redis_auth_string_is_never_plain(run):
    auth = COMPUTED[REDIS]["authString"]
    assert auth not in dump(inventory(run))


# --- media bucket ---------------------------------------------------------------------------


def test_bucket_is_never_public(run):
    bucket = run.one(BUCKET).inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"


@pytest.mark.parametrize(("stack", "cors"), [("prod", SEED_CORS), ("staging", STAGING_CORS)])
def test_bucket_cors_is_the_seeds_rule_on_the_stacks_hosts(stack, cors, request):
    assert request.getfixturevalue(stack).one(BUCKET).inputs["cors"] == [cors]


def test_bucket_website_pages_are_the_seeds(run):
    website = run.one(BUCKET).inputs["website"]
    assert website == {"mainPageSuffix": "index.html", "notFoundPage": "404.html"}


def test_prod_bucket_keeps_deleted_objects_for_seven_days(prod):
    bucket = prod.one(BUCKET).inputs
    assert bucket["softDeletePolicy"]["retentionDurationSeconds"] == 7 * 24 * 3600
    assert bucket["forceDestroy"] is False


# --- what survives a destroy ----------------------------------------------------------------


def test_prod_stateful_resources_are_protected(prod):
    for type_ in STATEFUL:
        resources = prod.by_type(type_)
        assert resources, f"prod declares no {type_}"
        unprotected = [r.name for r in resources if not r.protect]
        assert not unprotected, f"not protected in prod: {unprotected}"


def test_secret_versions_can_be_replaced_and_old_ones_are_kept(prod):
    # A new value replaces a version (they are immutable), so a protected version would make
    # every rotation fail; the old one is disabled, not destroyed, so it can be restored.
    versions = prod.by_type(VERSION)
    assert versions
    assert not [v.name for v in versions if v.protect]
    assert {v.inputs["deletionPolicy"] for v in versions} == {"DISABLE"}


def test_an_autoresized_disk_is_not_shrunk_back(prod, staging):
    # Cloud SQL grows the disk itself; reverting diskSize would replace the instance.
    for run in (prod, staging):
        assert "settings.diskSize" in run.one(SQL).ignore_changes
    fixed = run_with("staging", {"vidgo-infra:database": {"disk_autoresize": False}})
    assert fixed.one(SQL).ignore_changes == []


def test_prod_services_guard_their_own_deletion(prod):
    assert prod.one(REDIS).inputs["deletionProtection"] is True
    unguarded = [s.name for s in prod.by_type(SECRET) if s.inputs["deletionProtection"] is not True]
    assert not unguarded


def test_nothing_is_protected_in_staging(staging):
    assert not [r.name for r in staging.resources.values() if r.protect]
    assert staging.one(REDIS).inputs["deletionProtection"] is False
    assert staging.one(BUCKET).inputs["forceDestroy"] is True
    assert not [s.name for s in staging.by_type(SECRET) if s.inputs["deletionProtection"]]


# --- secrets --------------------------------------------------------------------------------


def test_the_seeds_app_secrets_exist(run):
    for secret_id in APP_SECRETS:
        secret(run, secret_id)


def test_no_app_secret_version_without_a_value(run):
    written = {s: versions(run, secret(run, s)) for s in APP_SECRETS}
    assert not {s: [v.name for v in vs] for s, vs in written.items() if vs}


PLAIN = "SG.plain-text-value-for-the-test"


@pytest.fixture(scope="module")
def with_sendgrid() -> Run:
    return run_with("staging", {}, secrets={"SENDGRID_API_KEY": PLAIN})


def test_a_secret_value_set_in_config_becomes_a_secret_version_of_that_secret(with_sendgrid):
    written = {s for s in APP_SECRETS if versions(with_sendgrid, secret(with_sendgrid, s))}
    assert written == {"SENDGRID_API_KEY"}
    [version] = versions(with_sendgrid, secret(with_sendgrid, "SENDGRID_API_KEY"))
    assert rpc.is_rpc_secret(version.inputs["secretDataWo"])


def test_a_secret_value_never_appears_in_plain_text(with_sendgrid):
    assert PLAIN not in dump(inventory(with_sendgrid))


# --- registry -------------------------------------------------------------------------------


def test_registry_is_the_seeds_docker_repository_with_cleanup(prod):
    repository = prod.one(REPOSITORY).inputs
    assert repository["repositoryId"] == "vidgo"
    assert repository["format"] == "DOCKER"
    assert repository["location"] == "asia-east1"
    assert {p["action"] for p in repository["cleanupPolicies"]} == {"KEEP", "DELETE"}
    assert repository["cleanupPolicyDryRun"] is False  # a dry run deletes nothing
    assert prod.outputs["registry_path"] == "asia-east1-docker.pkg.dev/vidgo-ai-prod/vidgo"


def test_staging_registry_path_is_in_staging_project(staging):
    assert staging.outputs["registry_path"] == "asia-east1-docker.pkg.dev/vidgo-ai-staging/vidgo"


# --- project APIs ---------------------------------------------------------------------------


def test_every_needed_api_is_enabled_and_never_disabled(run):
    services = run.by_type(API)
    assert {s.inputs["service"] for s in services} >= SEED_APIS | FORGOTTEN_APIS
    # The provider's default is to disable the API on destroy.
    assert not [s.name for s in services if s.inputs.get("disableOnDestroy") is not False]


def test_every_google_resource_waits_for_its_api(run):
    apis = api_urns(run)
    any_api = set(apis.values())
    late = []
    for resource in run.resources.values():
        if not resource.type.startswith("gcp:") or resource.type == API:
            continue
        module = resource.type.split(":")[1].split("/")[0]
        needed = {apis.get(MODULE_API[module])} if module in MODULE_API else any_api
        if not needed & set(resource.dependencies):
            late.append(f"{resource.name} ({MODULE_API.get(module, 'any API')})")
    assert not late, f"may be created before its API is enabled: {late}"


# --- structure ------------------------------------------------------------------------------

COMPONENT_TYPE = re.compile(r"vidgo:platform:[A-Z][A-Za-z0-9]*")


def test_every_component_has_a_platform_type_token(run):
    components = [r for r in run.resources.values() if not r.custom]
    assert components
    bad = [r.type for r in components if not COMPONENT_TYPE.fullmatch(r.type)]
    assert not bad


def test_every_resource_belongs_to_a_platform_component(run):
    orphans = []
    for resource in run.resources.values():
        if not resource.custom:
            continue
        parent = run.resources.get(resource.parent or "")
        while parent is not None and not COMPONENT_TYPE.fullmatch(parent.type):
            parent = run.resources.get(parent.parent or "")
        if parent is None:
            orphans.append(resource.name)
    assert not orphans, f"not under a vidgo:platform component: {orphans}"
