"""Which roles each CI identity holds, and why: the one place to review the blast radius.

The deploy identity's roles follow from the `pulumi_gcp` modules the main program uses
(components/, infra/, stacks/). A test reads those imports, so a new module in the program
fails the tests until its role is chosen here, instead of failing the first deploy on GCP.
"""

from __future__ import annotations

# APIs the bootstrap itself needs before the main program can run. The bootstrap also enables
# the platform's own (components/project_services.py PLATFORM_APIS, read by platform_apis.py),
# which the program declares as well, so a project without this bootstrap still works.
BOOTSTRAP_APIS = (
    "serviceusage.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",  # the auth action impersonates the service accounts
    "sts.googleapis.com",  # Workload Identity Federation exchanges GitHub's token here
    "cloudkms.googleapis.com",
    "storage.googleapis.com",
    "logging.googleapis.com",  # the IAM-change metrics
    "monitoring.googleapis.com",  # their alert policies and the email channel
    "backupdr.googleapis.com",  # the backup vault the deploy identity cannot reach
    "secretmanager.googleapis.com",  # the application keys' secrets (app_secrets.py)
)

# `pulumi preview` (with the project's `refresh: always`) reads every declared resource and its
# IAM policy. One read-only role per `pulumi_gcp` module the program uses, chosen like the deploy
# roles below (a test fails when the program starts using a module that has none), instead of
# the basic roles/viewer, which also reads every non-private log and every other service.
PREVIEW_ROLES_BY_MODULE: dict[str, tuple[str, ...]] = {
    # Enabled services; the project policy and audit config (IAMMember, IAMAuditConfig).
    "projects": ("roles/serviceusage.serviceUsageViewer", "roles/iam.securityReviewer"),
    "organizations": ("roles/browser",),  # get_project: the project number
    "compute": ("roles/compute.viewer",),  # network, addresses, the load balancer, Cloud Armor
    "servicenetworking": (),  # the peering: servicenetworking.services.get, refresh role below
    "dns": ("roles/dns.reader",),  # the VPC's DNS server policy
    "sql": ("roles/cloudsql.viewer",),  # instance, databases, users (never a password)
    "redis": ("roles/redis.viewer",),  # metadata; the AUTH string is the refresh role's
    "cloudrunv2": ("roles/run.viewer",),
    "secretmanager": ("roles/secretmanager.viewer",),  # metadata only: no payload
    "storage": (),  # the media bucket's metadata: storage.buckets.get, refresh role below
    "artifactregistry": ("roles/artifactregistry.reader",),
    "monitoring": ("roles/monitoring.viewer",),
    # DNS authorizations, certificates, the certificate map and its entries.
    "certificatemanager": ("roles/certificatemanager.viewer",),
    # The budget lives on the billing account: BILLING_PREVIEW_ROLES, granted there.
    "billing": (),
}

# IAM policies of secrets, buckets and services are read through securityReviewer (above).
# What no predefined read-only role narrower than roles/viewer grants, as one custom role.
# Not here, on purpose: secretmanager.versions.access. Every version the program writes takes
# its value through the write-only `secret_data_wo`, so a refresh reads version metadata only
# and never calls `:access` (components/secrets.py; tests/program/test_secrets_write_only.py).
PREVIEW_REFRESH_ROLE_ID = "vidgoPreviewRefresh"
PREVIEW_REFRESH_PERMISSIONS = (
    # The Google provider's read of a Memorystore instance with AUTH on also fetches the AUTH
    # string; only roles that also write (redis.admin, editor) hold it. It cannot be narrowed
    # to one instance: Memorystore does not evaluate IAM conditions on resource names. The
    # value is in the stack's state too (the instance's `auth_string` output), which the
    # preview identity decrypts anyway, and the project has one instance.
    "redis.instances.getAuthString",
    "servicenetworking.services.get",  # servicenetworking.Connection: the peering's read
    "storage.buckets.get",  # storage.Bucket: the media bucket's settings
)

# Only where the bootstrap names a billing account, which is also what lets the program declare
# a budget: its refresh reads the budget on the billing account and bills the Billing Budget
# API's quota to the project (serviceusage.services.use).
BILLING_PREVIEW_ROLE = "roles/billing.viewer"
BILLING_PREVIEW_PROJECT_ROLE = "roles/serviceusage.serviceUsageConsumer"

# Checkpoints are read-only for previews: the DIY (gs://) backend takes its lock only for
# update, refresh, destroy and import, never for preview (pkg/backend/diy, Preview -> apply).
PREVIEW_STATE_BUCKET_ROLE = "roles/storage.objectViewer"
# The deploy writes checkpoints and its lock and deletes the lock: objects only. Its project
# storage role excludes the state bucket by a condition, so it can neither change the bucket's
# IAM or retention nor delete it; soft delete keeps what it deletes.
DEPLOY_STATE_BUCKET_ROLE = "roles/storage.objectUser"
STATE_SOFT_DELETE_SECONDS = 90 * 24 * 3600  # the longest soft delete Cloud Storage allows

# Both identities open the stack's data key; Pulumi then encrypts and decrypts locally with
# it, so KMS Encrypt is only ever called by the operator at `pulumi stack init`.
CI_KEY_ROLE = "roles/cloudkms.cryptoKeyDecrypter"

DEPLOY_ROLES_BY_MODULE: dict[str, tuple[str, ...]] = {
    # projects.Service: in a bootstrapped project the platform's APIs are already on, and the
    # provider's create then only lists the enabled services (serviceusage.services.list, no
    # enable). serviceUsageAdmin stays for what the bootstrap does not enable: the Billing
    # Budget API of a stack with a budget, and an API added to PLATFORM_APIS before the next
    # `boot up`. No projectIamAdmin: the program declares no project IAM binding and no audit
    # config (both are here, RUNTIME_ACCOUNT_PROJECT_ROLES and AUDITED_SERVICES), so the deploy
    # cannot edit the project's policy, its own roles or the audit logs that record it.
    "projects": ("roles/serviceusage.serviceUsageAdmin",),
    # organizations.get_project reads the project number.
    "organizations": ("roles/browser",),
    # VPC, subnet, PSA range and the static IP (networkAdmin); NEGs, backend services and
    # buckets, URL maps, proxies, rules, managed certificates (loadBalancerAdmin); the Cloud
    # Armor and SSL policies and the VPC's firewall rules, which neither of the two covers
    # (securityAdmin).
    "compute": (
        "roles/compute.networkAdmin",
        "roles/compute.loadBalancerAdmin",
        "roles/compute.securityAdmin",
    ),
    "servicenetworking": ("roles/servicenetworking.networksAdmin",),  # PSA peering
    "dns": ("roles/dns.admin",),  # the VPC's DNS server policy (query logging)
    "sql": ("roles/cloudsql.admin",),  # instance, databases, users
    "redis": ("roles/redis.admin",),  # instance; refresh also reads its AUTH string
    # Services and jobs, and their invoker settings. Their Direct VPC egress (an interface in
    # the program's subnet) needs no role of the deployer's beyond this and actAs on the runtime
    # account: in the service's own project, the Cloud Run service agent uses the subnet, with
    # the Cloud Run Service Agent role Google grants it (compute.networks.get,
    # compute.subnetworks.get/use, compute.addresses.get/list): Google's Direct VPC egress page,
    # "Set up IAM permissions" (https://cloud.google.com/functions/docs/running/direct-vpc, the
    # Cloud Run functions page, which defers to run/docs/configuring/vpc-direct-vpc). Only a
    # Shared VPC in another project needs grants there (run/docs/configuring/shared-vpc-direct-vpc).
    # No Serverless VPC Access role: the platform has no connector.
    "cloudrunv2": ("roles/run.admin",),
    "secretmanager": ("roles/secretmanager.admin",),  # secrets, versions, accessor bindings
    # The media bucket and its IAM; conditioned to exclude the state bucket (below).
    "storage": ("roles/storage.admin",),
    "artifactregistry": ("roles/artifactregistry.admin",),  # repository and cleanup policies
    # Channels, alert policies, uptime checks, the dashboard and the metric descriptor.
    "monitoring": ("roles/monitoring.editor",),
    # DNS authorizations, certificates, the map and its entries, and attaching the map to the
    # proxy (certmaps.use). Owner, not editor: editor holds no delete, and Pulumi deletes a
    # replaced certificate or map entry once its successor serves.
    "certificatemanager": ("roles/certificatemanager.owner",),
    # The Cloud Billing budget lives on the billing account, not in the project: no project
    # role; BILLING_BUDGET_ROLE below is granted there when the bootstrap names the account.
    "billing": (),
}

# Not granted, on purpose: any service-account role on the project. The runtime accounts are
# the bootstrap's (RUNTIME_ACCOUNT_ROLE on each, below), so the deploy identity can neither run
# code as another account of the project (the Compute Engine default account often holds
# Editor) nor change any account's IAM, its own trust included.
# Nor roles/logging.configWriter (the program declares no sinks,
# exclusions or log-based metrics; backend request logging is a compute setting) and any basic
# role (owner, editor), which would make every line above moot.


# Deploying a revision or job that runs as a runtime account is actAs on that account.
RUNTIME_ACCOUNT_ROLE = "roles/iam.serviceAccountUser"
# Every service writes its own logs, metrics and traces: project-wide, the only way they exist.
RUNTIME_BASE_ROLES = (
    "roles/cloudtrace.agent",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
)
# The API's identity (also the migrations job's) and the web's, with their project roles; the
# platform's stack config names them (services.*.service_account, default
# ACCOUNT@PROJECT.iam.gserviceaccount.com). Granted here, not by the program: the deploy then
# needs no projectIamAdmin. Resource-level grants (each secret's accessor, the media bucket)
# stay in the program, on resources it creates. The API connects to Cloud SQL, whose client
# role exists only at project level.
DEFAULT_RUNTIME_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "vidgo-api-run": (*RUNTIME_BASE_ROLES, "roles/cloudsql.client"),
    "vidgo-web-run": RUNTIME_BASE_ROLES,
}

# Data Access audit logs (Admin Activity logs are always on): who read a secret, an object, the
# database's settings, who exchanged a GitHub token (STS) or minted a service account's token
# (IAM credentials), who used the state key (Cloud KMS). Declared here, so the deploy identity,
# which cannot edit the project policy, cannot turn them off.
AUDITED_SERVICES = (
    "cloudkms.googleapis.com",
    "cloudsql.googleapis.com",
    "iamcredentials.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
)
AUDIT_LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")

# The least a backup in the vault is kept; the vault's enforced retention, which nobody can
# shorten after the lock, deploy identity and project owners included.
BACKUP_MINIMUM_RETENTION_DAYS = 30
# What the Backup and DR vault's service agent needs on the project to back up Cloud SQL.
BACKUP_VAULT_AGENT_ROLE = "roles/backupdr.cloudSqlOperator"


def deploy_project_roles() -> tuple[str, ...]:
    return tuple(sorted({role for roles in DEPLOY_ROLES_BY_MODULE.values() for role in roles}))


# Roles that would let whoever holds them widen their own access: never a runtime role.
ESCALATING_ROLES = frozenset(
    {
        "roles/owner",
        "roles/editor",
        "roles/resourcemanager.projectIamAdmin",
        "roles/iam.securityAdmin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.workloadIdentityUser",
        "roles/iam.roleAdmin",
        "roles/secretmanager.admin",
        "roles/secretmanager.secretAccessor",
        "roles/cloudkms.admin",
        "roles/storage.admin",
    }
)

# Granted on the billing account, only when the stack names one: the program's Cloud Billing
# budget (`budget.monthly_usd`) is created there, outside the project.
BILLING_BUDGET_ROLE = "roles/billing.costsManager"


def preview_project_roles() -> tuple[str, ...]:
    return tuple(sorted({role for roles in PREVIEW_ROLES_BY_MODULE.values() for role in roles}))


def outside_bucket_condition(bucket: str) -> str:
    """IAM condition true for every resource except the bucket `bucket` and its objects."""
    name = f"projects/_/buckets/{bucket}"
    return f"resource.name != '{name}' && !resource.name.startsWith('{name}/')"
