"""The bootstrap program, once per GCP project: stacks `staging` and `prod` (docs/delivery.md)."""

import re

import delivery_roles
import pulumi
from app_secrets import app_secret_names
from delivery_foundation import DeliveryFoundation
from delivery_settings import DeliverySettings
from platform_apis import platform_apis

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
region = pulumi.Config("gcp").get("region") or "asia-east1"
runtime_accounts = config.get_object("runtime_accounts")
if isinstance(runtime_accounts, list):  # ids only: each gets the base runtime roles
    runtime_accounts = {account: delivery_roles.RUNTIME_BASE_ROLES for account in runtime_accounts}

settings = DeliverySettings(
    project=project,
    region=region,
    github_repository=config.require("github_repository"),
    github_repository_id=config.require("github_repository_id"),
    github_repository_owner_id=config.require("github_repository_owner_id"),
    deploy_environment=config.require("deploy_environment"),
    pull_request_previews=config.get_bool("pull_request_previews") is True,
    preview_environment=config.get("preview_environment"),
    deploy_workflow=config.get("deploy_workflow") or ".github/workflows/deploy.yml",
    pull_request_workflow=config.get("pull_request_workflow")
    or ".github/workflows/pull-request.yml",
    stack=pulumi.get_stack(),
    state_bucket=config.get("state_bucket") or f"{project}-pulumi-state",
    state_location=config.get("state_location") or region.upper(),
    kms=config.get_bool("kms") is not False,
    billing_account=config.get("billing_account"),
    runtime_accounts={a: tuple(r) for a, r in runtime_accounts.items()}
    if runtime_accounts
    else dict(delivery_roles.DEFAULT_RUNTIME_ACCOUNTS),
    security_alert_emails=tuple(config.get_object("security_alert_emails") or ()),
    backup_retention_days=config.get_int("backup_retention_days")
    or delivery_roles.BACKUP_MINIMUM_RETENTION_DAYS,
    backup_sql_instances=tuple(config.get_object("backup_sql_instances") or ()),
    platform_apis=platform_apis(),
    app_secrets=app_secret_names(config.get_object("app_secrets")),
)
delivery = DeliveryFoundation("delivery", settings)

# The names the workflows read (`vars.NAME`), one set per main stack, which shares this
# bootstrap stack's name: `pulumi stack output github_variables` is what to enter in GitHub.
suffix = re.sub(r"[^A-Z0-9]+", "_", pulumi.get_stack().upper())
github_variables = {
    f"GCP_WORKLOAD_IDENTITY_PROVIDER_{suffix}": delivery.workload_identity_provider,
    f"GCP_PREVIEW_SERVICE_ACCOUNT_{suffix}": delivery.preview_service_account,
    f"GCP_DEPLOY_SERVICE_ACCOUNT_{suffix}": delivery.deploy_service_account,
    f"PULUMI_BACKEND_URL_{suffix}": delivery.backend_url,
}

pulumi.export("backend_url", delivery.backend_url)
pulumi.export("secrets_provider", delivery.secrets_provider)
pulumi.export("workload_identity_provider", delivery.workload_identity_provider)
pulumi.export("preview_service_account", delivery.preview_service_account)
pulumi.export("deploy_service_account", delivery.deploy_service_account)
pulumi.export("github_variables", github_variables)
# The platform's stack config names these (services.*.service_account); the defaults match.
pulumi.export("runtime_service_accounts", delivery.runtime_service_accounts)
pulumi.export("github_environments", delivery.github_environments)
# The secrets to fill before the main stack's first `pulumi up` (docs/delivery.md, section 5).
pulumi.export("app_secrets", delivery.app_secrets)
