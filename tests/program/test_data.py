"""The data as declared: the database, the cache, the media bucket, the secrets and the image
registry; what a destroy or a mistaken change leaves behind, and how clients reach each store.
A stack weakens any of it only by naming the choice (accept_weaker), and the plan then warns."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from pulumi.runtime import MockResourceArgs, rpc

from tests.kit import (
    BUCKET,
    PASSWORD,
    PEERING,
    REDIS,
    REPOSITORY,
    SECRET,
    SECRET_IAM_MEMBER,
    SECRET_VERSION,
    SEED_APP_SECRETS,
    SQL_DATABASE,
    SQL_INSTANCE,
    SQL_USER,
    STACKS,
    VPC,
    planned,
    refused,
    run_with,
    the,
)
from vidgo_infra.inventory import dump, inventory
from vidgo_infra.offline import COMPUTED, PlatformMocks, Resource, Run

STATEFUL = (SQL_INSTANCE, SQL_DATABASE, SQL_USER, BUCKET, SECRET, REDIS)

# Secrets the platform generates and writes itself (DB_PASSWORD is for operators; the API
# gets the password only inside DATABASE_URL).
GENERATED_SECRETS = ("DATABASE_URL", "DB_PASSWORD", "REDIS_URL", "REDIS_CA_CERT")

# The seed's cors.json; staging's is the same rule on its own hosts.
SEED_CORS = {
    "origins": ["https://vidgo.ai", "https://www.vidgo.ai", "https://api.vidgo.ai"],
    "methods": ["GET", "PUT", "POST", "DELETE"],
    "responseHeaders": ["Content-Type"],
    "maxAgeSeconds": 3600,
}
STAGING_CORS = SEED_CORS | {"origins": ["https://staging.vidgo.ai", "https://api.staging.vidgo.ai"]}


@pytest.fixture(params=STACKS)
def run(request) -> Run:
    return request.getfixturevalue(request.param)


def secret(run: Run, secret_id: str) -> Resource:
    return the(run, SECRET, secretId=secret_id)


def versions(run: Run, of: Resource) -> list[Resource]:
    """The versions written to a secret (a version references its secret's id)."""
    return [v for v in run.by_type(SECRET_VERSION) if of.urn in v.dependencies]


def flags(instance: Resource) -> dict[str, str]:
    return {f["name"]: f["value"] for f in instance.inputs["settings"]["databaseFlags"]}


def mock_value(type_: str, output: str) -> str:
    """The stand-in the offline mocks give a provider-computed output (so the test can look for
    it in plain text without copying it)."""
    args = MockResourceArgs(typ=type_, name="probe", inputs={})
    return PlatformMocks("project", "region").new_resource(args)[1][output]


# --- database -------------------------------------------------------------------------------


def test_database_has_a_private_address_only_and_waits_for_the_peering(run):
    instance = run.one(SQL_INSTANCE)
    ip = instance.inputs["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"]
    assert run.one(VPC).urn in instance.dependencies
    assert run.one(PEERING).urn in instance.dependencies


def test_database_accepts_only_encrypted_connections(run):
    ip = run.one(SQL_INSTANCE).inputs["settings"]["ipConfiguration"]
    # Encrypted, and from a client certificate Cloud SQL trusts (the /cloudsql connector's).
    assert ip["sslMode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"


def test_database_backups_allow_point_in_time_recovery(run):
    backups = run.one(SQL_INSTANCE).inputs["settings"]["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["pointInTimeRecoveryEnabled"] is True
    assert 1 <= backups["transactionLogRetentionDays"] <= 7


def test_prod_keeps_seven_backups(prod):
    retention = prod.one(SQL_INSTANCE).inputs["settings"]["backupConfiguration"][
        "backupRetentionSettings"
    ]
    assert retention == {"retainedBackups": 7, "retentionUnit": "COUNT"}


def test_database_has_the_cis_flags_and_audits_ddl_role_changes_lock_waits_and_checkpoints(run):
    found = flags(run.one(SQL_INSTANCE))
    assert found["log_connections"] == "on"
    assert found["log_disconnections"] == "on"
    assert found["log_statement"] == "ddl"
    assert found["log_min_messages"] in {"warning", "error", "log", "fatal", "panic"}
    assert found["log_min_error_statement"] in {"error", "log", "fatal", "panic"}
    assert found["log_min_duration_statement"] == "-1"
    assert found["cloudsql.enable_pgaudit"] == "on"
    assert set(found["pgaudit.log"].split(",")) == {"ddl", "role"}
    assert found["log_lock_waits"] == "on"
    assert found["log_checkpoints"] == "on"


def test_database_edition_maintenance_and_insights_without_client_addresses(run):
    settings = run.one(SQL_INSTANCE).inputs["settings"]
    # Shared-core tiers exist only on ENTERPRISE.
    assert settings["edition"] == "ENTERPRISE"
    assert 1 <= settings["maintenanceWindow"]["day"] <= 7
    assert 0 <= settings["maintenanceWindow"]["hour"] <= 23
    assert settings["insightsConfig"]["queryInsightsEnabled"] is True
    assert settings["insightsConfig"]["recordClientAddress"] is False


@pytest.mark.parametrize(("stack", "guarded"), [("prod", True), ("staging", False)])
def test_both_cloud_sql_deletion_guards_follow_the_stack(stack, guarded, request):
    instance = request.getfixturevalue(stack).one(SQL_INSTANCE).inputs
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
    assert run.one(PEERING).urn in redis.dependencies


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
    versions = prod.by_type(SECRET_VERSION)
    assert versions
    assert not [v.name for v in versions if v.protect]
    assert {v.inputs["deletionPolicy"] for v in versions} == {"DISABLE"}


def test_an_autoresized_disk_is_not_shrunk_back(prod, staging):
    # Cloud SQL grows the disk itself; reverting diskSize would replace the instance.
    for run in (prod, staging):
        assert "settings.diskSize" in run.one(SQL_INSTANCE).ignore_changes
    fixed = planned("staging", {"vidgo-infra:database": {"disk_autoresize": False}})
    assert fixed.one(SQL_INSTANCE).ignore_changes == []


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


def test_the_seeds_app_secrets_are_read_but_never_written_by_the_program(run):
    """The bootstrap declares them and the operator fills them (tests/bootstrap/
    test_app_secrets.py): the program neither creates one nor holds a value of one."""
    declared = {s.inputs["secretId"] for s in run.by_type(SECRET)}
    assert not declared & set(SEED_APP_SECRETS)
    read = {
        binding.inputs["secretId"].rsplit("/", 1)[-1] for binding in run.by_type(SECRET_IAM_MEMBER)
    }
    assert set(SEED_APP_SECRETS) <= read


# --- registry -------------------------------------------------------------------------------


def test_registry_is_the_seeds_docker_repository(prod):
    repository = prod.one(REPOSITORY).inputs
    assert repository["repositoryId"] == "vidgo"
    assert repository["format"] == "DOCKER"
    assert repository["location"] == "asia-east1"
    assert prod.outputs["registry_path"] == "asia-east1-docker.pkg.dev/vidgo-ai-prod/vidgo"


def test_registry_cleanup_keeps_the_recent_versions_and_deletes_only_old_untagged(run):
    repository = run.one(REPOSITORY).inputs
    assert repository["cleanupPolicyDryRun"] is False  # a dry run deletes nothing
    policies = repository["cleanupPolicies"]
    # KEEP wins over DELETE in Artifact Registry: the most recent versions survive any rule.
    (kept,) = [p for p in policies if p["action"] == "KEEP"]
    assert kept["mostRecentVersions"]["keepCount"] >= 1
    (deleted,) = [p for p in policies if p["action"] == "DELETE"]
    assert deleted["condition"]["tagState"] == "UNTAGGED"
    assert int(deleted["condition"]["olderThan"].removesuffix("s")) >= 86400


def test_registry_is_protected_in_prod_only(prod, staging):
    assert prod.one(REPOSITORY).protect
    assert not staging.one(REPOSITORY).protect


def test_staging_registry_path_is_in_staging_project(staging):
    assert staging.outputs["registry_path"] == "asia-east1-docker.pkg.dev/vidgo-ai-staging/vidgo"


def secret_value(run: Run, secret_id: str) -> str:
    """The value the program writes to a secret (the mocks' stand-ins for Google's values)."""
    (version,) = versions(run, secret(run, secret_id))
    data = version.inputs.get("secretDataWo") or version.inputs["secretData"]  # write-only first
    return data["value"]


@pytest.mark.parametrize("type_", [SQL_DATABASE, SQL_USER])
def test_the_database_and_its_user_are_abandoned_not_dropped_on_destroy(run, type_):
    # Dropping a database or a role that owns objects fails, and Pulumi should not drop data
    # anyway: they go with the instance.
    assert run.one(type_).inputs["deletionPolicy"] == "ABANDON"


def test_the_api_reaches_redis_over_tls_with_the_auth_string(run):
    url = urlsplit(secret_value(run, "REDIS_URL"))
    assert url.scheme == "rediss"  # TLS; redis:// would be refused by the instance
    assert url.password == COMPUTED[REDIS]["authString"]


def test_the_api_reaches_the_database_over_the_cloud_sql_socket(run):
    url = urlsplit(secret_value(run, "DATABASE_URL"))
    assert url.scheme == "postgresql"
    assert not url.hostname  # no TCP host: the connection goes through /cloudsql
    instance = run.one(SQL_INSTANCE).inputs
    assert url.query == f"host=/cloudsql/{instance['project']}:asia-east1:{instance['name']}"


# --- Redis: persistence and maintenance ----------------------------------------------------------


def test_redis_snapshots_every_hour_and_has_a_maintenance_window(run):
    redis = run.one(REDIS).inputs
    assert redis["persistenceConfig"] == {"persistenceMode": "RDB", "rdbSnapshotPeriod": "ONE_HOUR"}
    (window,) = redis["maintenancePolicy"]["weeklyMaintenanceWindows"]
    assert window["day"] == "SUNDAY"
    assert window["startTime"]["hours"] == 5  # UTC, the hour after Cloud SQL's window


def test_redis_without_persistence_is_a_named_choice(warnings):
    off = {"vidgo-infra:redis": {"rdb_snapshot_period": "DISABLED"}}
    (problem,) = refused("prod", off)
    assert "vidgo-infra:redis.rdb_snapshot_period" in problem
    run = run_with("prod", {**off, "vidgo-infra:accept_weaker": ["no-redis-persistence"]})
    assert run.one(REDIS).inputs["persistenceConfig"]["persistenceMode"] == "DISABLED"
    assert [w for w in warnings if "no-redis-persistence" in w] != []


# --- Cloud SQL: a deleted instance, a changed version, a weaker connection -----------------------


def test_deleting_the_database_keeps_its_backups_and_takes_a_final_one(run):
    instance = run.one(SQL_INSTANCE).inputs
    settings = instance["settings"]
    assert settings["retainBackupsOnDelete"] is True
    assert settings["finalBackupConfig"] == {"enabled": True, "retentionDays": 30}
    assert "vidgo-db" in instance["finalBackupDescription"]


def test_no_final_backup_sends_no_retention():
    # Cloud SQL rejects a retention on a disabled final backup.
    run = planned(
        "staging",
        {
            "vidgo-infra:database": {"final_backup_retention_days": 0},
            "vidgo-infra:accept_weaker": ["unprotected", "owasp-preview", "no-retained-backups"],
        },
    )
    instance = run.one(SQL_INSTANCE).inputs
    assert instance["settings"]["finalBackupConfig"] == {"enabled": False}
    assert "finalBackupDescription" not in instance


def test_a_major_version_change_is_refused_without_the_acknowledgement():
    problems = refused("prod", {"vidgo-infra:database": {"version": "POSTGRES_16"}})
    assert len(problems) == 1 and "\n" not in problems[0]
    (problem,) = problems
    assert problem.startswith("Pulumi.prod.yaml: vidgo-infra:database.version: ")
    assert "POSTGRES_15 -> POSTGRES_16" in problem
    assert "take a backup first" in problem
    assert "database.allow_major_upgrade_from: POSTGRES_15" in problem


def test_an_acknowledged_major_upgrade_is_declared():
    change = {"version": "POSTGRES_16", "allow_major_upgrade_from": "POSTGRES_15"}
    run = planned("prod", {"vidgo-infra:database": change})
    assert run.one(SQL_INSTANCE).inputs["databaseVersion"] == "POSTGRES_16"


def test_an_acknowledgement_for_another_version_does_not_count():
    change = {"version": "POSTGRES_17", "allow_major_upgrade_from": "POSTGRES_14"}
    (problem,) = refused("prod", {"vidgo-infra:database": change})
    assert "take a backup first" in problem


def test_a_downgrade_is_refused():
    (problem,) = refused("prod", {"vidgo-infra:database": {"version": "POSTGRES_14"}})
    assert "vidgo-infra:database.version" in problem and "cannot downgrade" in problem


def test_the_deployed_version_is_recorded_in_both_stacks(prod, staging):
    # The guard compares with this record; without it a version change would go unnoticed.
    for run in (prod, staging):
        assert run.one(SQL_INSTANCE).inputs["databaseVersion"] == "POSTGRES_15"
    assert refused("staging", {"vidgo-infra:database": {"version": "POSTGRES_16"}})


def test_clients_without_a_trusted_certificate_are_a_named_choice():
    change = {"vidgo-infra:database": {"ssl_mode": "ENCRYPTED_ONLY"}}
    (problem,) = refused("prod", change)
    assert "vidgo-infra:database.ssl_mode" in problem and "no-client-certificates" in problem
