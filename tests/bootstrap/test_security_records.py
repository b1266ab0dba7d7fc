"""What a compromised deploy cannot undo: audit configs, IAM-change alerts, the backup vault."""

from __future__ import annotations

import runpy

import pytest

from tests.bootstrap.harness import BOOTSTRAP, prod_config, run_bootstrap
from tests.kit import (
    ALERT_POLICY,
    API_SERVICE,
    BACKUP_PLAN,
    BACKUP_PLAN_ASSOCIATION,
    BACKUP_VAULT,
    NOTIFICATION_CHANNEL,
    PROJECT_AUDIT_CONFIG,
)

AUDIT = PROJECT_AUDIT_CONFIG
ALERT = ALERT_POLICY
CHANNEL = NOTIFICATION_CHANNEL
VAULT = BACKUP_VAULT
PLAN = BACKUP_PLAN
ASSOCIATION = BACKUP_PLAN_ASSOCIATION


@pytest.fixture(params=["bootstrap_prod", "bootstrap_staging"])
def bootstrap(request):
    return request.getfixturevalue(request.param)


def test_data_access_logs_for_every_service_that_holds_or_opens_data(bootstrap):
    configs = {c.inputs["service"]: c.inputs for c in bootstrap.by_type(AUDIT)}
    assert set(configs) == {
        "secretmanager.googleapis.com",
        "storage.googleapis.com",
        "cloudsql.googleapis.com",
        "sts.googleapis.com",  # each GitHub token exchanged
        "iamcredentials.googleapis.com",  # each CI account token minted
        "cloudkms.googleapis.com",  # each use of the state key
    }
    for config in configs.values():
        logged = {c["logType"] for c in config["auditLogConfigs"]}
        assert logged == {"ADMIN_READ", "DATA_READ", "DATA_WRITE"}
        assert not [c for c in config["auditLogConfigs"] if c.get("exemptedMembers")]


def test_the_main_program_declares_no_audit_config(prod, staging):
    for run in (prod, staging):
        assert run.by_type(AUDIT) == []


def watched(bootstrap) -> str:
    (policy,) = bootstrap.by_type(ALERT)
    (condition,) = policy.inputs["conditions"]
    return condition["conditionMatchedLog"]["filter"]


@pytest.mark.parametrize(
    "change",
    [
        'protoPayload.serviceName="cloudresourcemanager.googleapis.com"',  # project policy
        'protoPayload.methodName="SetIamPolicy"',  # ... and audit configs (auditConfigDeltas)
        'protoPayload.serviceName="secretmanager.googleapis.com"',
        'protoPayload.methodName="storage.setIamPermissions"',
        'protoPayload.methodName:"WorkloadIdentityPool"',
        'protoPayload.methodName="google.iam.admin.v1.SetIAMPolicy"',
        'protoPayload.resourceName:"/cryptoKeys/stack-secrets"',
        'protoPayload.serviceName="backupdr.googleapis.com"',
    ],
)
def test_one_alert_watches_every_access_and_audit_change(bootstrap, change):
    assert change in watched(bootstrap)


def test_the_alert_reads_admin_activity_mails_the_team_and_says_who(bootstrap):
    (policy,) = bootstrap.by_type(ALERT)
    assert watched(bootstrap).startswith('logName:"cloudaudit.googleapis.com%2Factivity" AND (')
    (condition,) = policy.inputs["conditions"]
    extracted = condition["conditionMatchedLog"]["labelExtractors"]
    assert set(extracted) == {"method", "principal", "resource"}
    # Log-match conditions require a notification rate limit.
    assert policy.inputs["alertStrategy"]["notificationRateLimit"] == {"period": "300s"}
    emails = {c.inputs["labels"]["email_address"] for c in bootstrap.by_type(CHANNEL)}
    assert emails == {"ops@vidgo.ai"}
    assert len(policy.inputs["notificationChannels"]) == 1


def test_a_vault_with_enforced_retention_backs_up_cloud_sql_daily(bootstrap_prod):
    vault = bootstrap_prod.one(VAULT)
    days = runpy.run_path(str(BOOTSTRAP / "delivery_roles.py"))["BACKUP_MINIMUM_RETENTION_DAYS"]
    assert vault.inputs["backupMinimumEnforcedRetentionDuration"] == f"{days * 86400}s"
    assert vault.inputs["accessRestriction"] == "WITHIN_PROJECT"
    assert vault.protect
    plan = bootstrap_prod.one(PLAN)
    assert plan.inputs["resourceType"] == "sqladmin.googleapis.com/Instance"
    (rule,) = plan.inputs["backupRules"]
    assert rule["backupRetentionDays"] >= days  # the plan may not keep less than the vault
    assert rule["standardSchedule"]["recurrenceType"] == "DAILY"


def test_an_instance_is_associated_only_once_named():
    """The instance is the main program's: it exists only after that stack's first `up`."""
    assert run_bootstrap("prod", prod_config()).by_type(ASSOCIATION) == []
    run = run_bootstrap("prod", prod_config(backup_sql_instances=["vidgo-db"]))
    (association,) = run.by_type(ASSOCIATION)
    assert association.inputs["resource"] == "projects/vidgo-ai-prod/instances/vidgo-db"
    assert association.inputs["resourceType"] == "sqladmin.googleapis.com/Instance"


def test_a_retention_below_the_minimum_is_refused():
    with pytest.raises(Exception, match="backup_retention_days must be at least"):
        run_bootstrap("prod", prod_config(backup_retention_days=3))


def test_the_deploy_holds_no_backup_or_logging_configuration_role(bootstrap_prod):
    deploy = "serviceAccount:pulumi-deploy@vidgo-ai-prod.iam.gserviceaccount.com"
    held = {
        r.inputs["role"]
        for r in bootstrap_prod.resources.values()
        if r.inputs.get("member") == deploy
    }
    assert not [r for r in held if r.startswith(("roles/backupdr.", "roles/logging."))]


@pytest.mark.parametrize(
    ("kind", "api"),
    [
        (VAULT, "backupdr.googleapis.com"),
        (PLAN, "backupdr.googleapis.com"),
        (ALERT, "monitoring.googleapis.com"),
        (CHANNEL, "monitoring.googleapis.com"),
        (AUDIT, "cloudresourcemanager.googleapis.com"),
    ],
)
def test_each_record_waits_for_its_api(bootstrap_prod, kind, api):
    (service,) = [r for r in bootstrap_prod.by_type(API_SERVICE) if r.inputs["service"] == api]
    for resource in bootstrap_prod.by_type(kind):
        assert service.urn in resource.dependencies, resource.name
