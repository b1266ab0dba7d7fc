"""The test kit: the resource types by name, running the program with changed config, and one way
to find a resource. Every subject file imports from here; conftest.py holds the fixtures only.

Runs: the session fixtures `prod` and `staging` are the stack files as written; `planned()` is a
stack with changed config, run once per worker and shared by every test that asks for the same
change (the tests only read a run); `run_with()` runs afresh, for tests that capture what a run
logs or patch the program first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.loader import ConfigError
from vidgo_infra.offline import Resource, Run, run_program, stack_config

# This checkout. The tool acts on the project in the current directory, as `pulumi` does, and
# the tests run from here (`make test`).
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
STACKS = ("prod", "staging")

# --- resource types (Pulumi type tokens), by building block ---------------------------------------

# project
API_SERVICE = "gcp:projects/service:Service"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
PROJECT_AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
SERVICE_ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
BILLING_BUDGET = "gcp:billing/budget:Budget"
BILLING_IAM_MEMBER = "gcp:billing/accountIamMember:AccountIamMember"
# network
VPC = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"
DNS_POLICY = "gcp:dns/policy:Policy"
GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
PEERING = "gcp:servicenetworking/connection:Connection"
CONNECTOR = "gcp:vpcaccess/connector:Connector"
VM = "gcp:compute/instance:Instance"
# data
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_DATABASE = "gcp:sql/database:Database"
SQL_USER = "gcp:sql/user:User"
REDIS = "gcp:redis/instance:Instance"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SECRET_IAM_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
PASSWORD = "random:index/randomPassword:RandomPassword"
BACKUP_VAULT = "gcp:backupdisasterrecovery/backupVault:BackupVault"
BACKUP_PLAN = "gcp:backupdisasterrecovery/backupPlan:BackupPlan"
BACKUP_PLAN_ASSOCIATION = "gcp:backupdisasterrecovery/backupPlanAssociation:BackupPlanAssociation"
KMS_KEY_RING = "gcp:kms/keyRing:KeyRing"
KMS_KEY = "gcp:kms/cryptoKey:CryptoKey"
KMS_KEY_IAM_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
# serving
CLOUD_RUN_SERVICE = "gcp:cloudrunv2/service:Service"
CLOUD_RUN_JOB = "gcp:cloudrunv2/job:Job"
# edge
FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
URL_MAP = "gcp:compute/uRLMap:URLMap"
BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
BACKEND_BUCKET = "gcp:compute/backendBucket:BackendBucket"
SIGNED_URL_KEY = "gcp:compute/backendBucketSignedUrlKey:BackendBucketSignedUrlKey"
SERVERLESS_NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
ARMOR_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
CLASSIC_CERTIFICATE = "gcp:compute/managedSslCertificate:ManagedSslCertificate"
CERTIFICATE = "gcp:certificatemanager/certificate:Certificate"
DNS_AUTHORIZATION = "gcp:certificatemanager/dnsAuthorization:DnsAuthorization"
CERTIFICATE_MAP = "gcp:certificatemanager/certificateMap:CertificateMap"
CERTIFICATE_MAP_ENTRY = "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry"
# monitoring
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
METRIC_DESCRIPTOR = "gcp:monitoring/metricDescriptor:MetricDescriptor"
UPTIME_CHECK = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"
MONITORED_SERVICE = "gcp:monitoring/customService:CustomService"
SLO = "gcp:monitoring/slo:Slo"
# bootstrap-only
WORKLOAD_IDENTITY_POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
WORKLOAD_IDENTITY_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
# Pulumi's own
STACK = "pulumi:pulumi:Stack"
GCP_PROVIDER = "pulumi:providers:gcp"

# The seed's application secrets (section 3.2, step 5), handed to the API in section 3.3.
SEED_APP_SECRETS = (
    "SECRET_KEY",
    "PIAPI_API_KEY",
    "POLLO_API_KEY",
    "A2E_API_KEY",
    "GEMINI_API_KEY",
    "PADDLE_API_KEY",
    "PADDLE_WEBHOOK_SECRET",
    "SENDGRID_API_KEY",
)

# A budget with a billing account: the one config that declares the Cloud Billing budget (and
# its API). Tests that need the budget share this run.
BUDGETED = {
    "vidgo-infra:budget": {
        "monthly_usd": 400.5,
        "billing_account": "012345-6789AB-CDEF01",
        "alert_thresholds": [0.5, 0.9, 1.0],
    }
}

# --- finding resources ----------------------------------------------------------------------------


def find(run: Run, type_: str, **inputs: Any) -> list[Resource]:
    """The resources of `type_` whose inputs hold every given value (secretId="REDIS_URL")."""
    return [
        r
        for r in run.by_type(type_)
        if all(r.inputs.get(key, _MISSING) == value for key, value in inputs.items())
    ]


def the(run: Run, type_: str, **inputs: Any) -> Resource:
    """The one resource of `type_` with those inputs; fails naming how many there were."""
    found = find(run, type_, **inputs)
    assert len(found) == 1, f"{len(found)} {type_} with {inputs or 'any inputs'}"
    return found[0]


_MISSING = object()


def secret_of(run: Run, resource_id: str) -> str:
    """The secret id an IAM binding names: a secret of the program's (by its resource id), or
    an application key's, which the bootstrap declares (`projects/PROJECT/secrets/ID`)."""
    found = [r for r in run.resources.values() if r.custom and r.id == resource_id]
    if found:
        return found[0].inputs["secretId"]
    project, _, secret_id = resource_id.removeprefix("projects/").partition("/secrets/")
    assert project and secret_id, resource_id
    return secret_id


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in nested inputs or outputs."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


# --- running the program with changed config ------------------------------------------------------


def deep_merge(base: Any, change: Any) -> Any:
    if isinstance(base, dict) and isinstance(change, dict):
        return {k: deep_merge(base.get(k), v) for k, v in change.items()} | {
            k: v for k, v in base.items() if k not in change
        }
    return change


def config_with(stack: str, changes: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The stack file's config with `changes` (full keys → values, objects deep-merged).

    A value of None removes the key.
    """
    config, secret_keys = stack_config(stack)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(value, dict) and current is not None:
            value = deep_merge(json.loads(current), value)
        config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


def run_with(stack: str, changes: dict[str, Any], secrets: dict[str, str] | None = None) -> Run:
    """Run `stack` with changed config, afresh; `secrets` adds secret config values (name →
    value). For a run a test only reads, `planned()` shares it."""
    config, secret_keys = config_with(stack, changes)
    for name, value in (secrets or {}).items():
        config[f"vidgo-infra:{name}"] = value
        secret_keys.append(f"vidgo-infra:{name}")
    return run_program(stack, config, secret_keys)


def planned(stack: str, changes: dict[str, Any], secrets: dict[str, str] | None = None) -> Run:
    """`run_with`, run once per worker for each distinct change and shared: read it, never
    change it. Not for a test that patches the program or captures what a run logs."""
    key = json.dumps([changes, secrets or {}], sort_keys=True)
    return _planned(stack, key)


@cache
def _planned(stack: str, key: str) -> Run:
    changes, secrets = json.loads(key)
    return run_with(stack, changes, secrets)


def refused(stack: str, changes: dict[str, Any]) -> list[str]:
    """The problems the config check names for `stack` with `changes` (it must refuse them)."""
    with pytest.raises(ConfigError) as error:
        run_with(stack, changes)
    return error.value.problems


def linked_project(where: Path, **stack_files: str) -> Path:
    """A project folder with its own stack files (name → text) and this checkout's program,
    linked, so this process (which imported the program already) may act on it."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for package in ("infra", "stacks", "components"):
        (where / package).symlink_to(ROOT / package)
    for stack, text in stack_files.items():
        (where / f"Pulumi.{stack}.yaml").write_text(text)
    return where


def stack_file_text(config: dict[str, str]) -> str:
    """Config as `config_with` returns it (objects as JSON) → the text of a stack file."""

    def value(text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    return yaml.safe_dump({"config": {key: value(text) for key, text in config.items()}})
