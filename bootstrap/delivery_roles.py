"""Which roles each CI identity holds, and why: the one place to review the blast radius.

The deploy identity's roles follow from the `pulumi_gcp` modules the main program uses
(components/, infra/, stacks/). A test reads those imports, so a new module in the program
fails the tests until its role is chosen here, instead of failing the first deploy on GCP.
"""

from __future__ import annotations

# APIs the bootstrap itself needs before the main program can run; the program enables the
# platform's own APIs (through serviceusage, which therefore has to be on first).
BOOTSTRAP_APIS = (
    "serviceusage.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",  # the auth action impersonates the service accounts
    "sts.googleapis.com",  # Workload Identity Federation exchanges GitHub's token here
    "cloudkms.googleapis.com",
    "storage.googleapis.com",
)

# `pulumi preview` (with the project's `refresh: always`) reads every declared resource and
# its IAM policy: no role here, nor the custom role below, can change anything.
PREVIEW_PROJECT_ROLES = (
    "roles/viewer",  # get/list on every service the program uses, for refresh and diff
    "roles/iam.securityReviewer",  # getIamPolicy on project, secrets, buckets, services
    "roles/secretmanager.viewer",  # secret and version metadata; payloads need versions.access
)

# The two reads of a refresh that no predefined read-only role grants. The Google provider's
# read of a SecretVersion that holds `secret_data` also fetches the payload (GET
# .../versions/N:access), and its read of a Memorystore instance with AUTH on fetches the AUTH
# string (GET .../instances/NAME/authString). roles/viewer and roles/secretmanager.viewer stop at
# metadata. Only roles that also write hold getAuthString (redis.admin, editor, owner), and
# secretAccessor would be a second grant to review: one custom role holds exactly these two.
#
# Why this is acceptable: the preview account can already decrypt the stack's state and secret
# config (cryptoKeyDecrypter on the key, objectViewer on the state bucket), and the state holds
# these same values (every version Pulumi wrote, the AUTH string, the generated passwords). The
# trust boundary is push access to the repository: fork pull requests get no credentials at
# all. One widening remains (docs/delivery.md): the grant is project-wide, so it also reaches
# versions added outside Pulumi (`gcloud secrets versions add`), which are not in the state.
PREVIEW_REFRESH_ROLE_ID = "vidgoPreviewRefresh"
PREVIEW_REFRESH_PERMISSIONS = (
    "redis.instances.getAuthString",  # redis.Instance, auth_enabled=True
    "secretmanager.versions.access",  # secretmanager.SecretVersion with secret_data
)

# Checkpoints are read-only for previews: the DIY (gs://) backend takes its lock only for
# update, refresh, destroy and import, never for preview (pkg/backend/diy, Preview -> apply).
PREVIEW_STATE_BUCKET_ROLE = "roles/storage.objectViewer"

# Both identities open the stack's data key; Pulumi then encrypts and decrypts locally with
# it, so KMS Encrypt is only ever called by the operator at `pulumi stack init`.
CI_KEY_ROLE = "roles/cloudkms.cryptoKeyDecrypter"

DEPLOY_ROLES_BY_MODULE: dict[str, tuple[str, ...]] = {
    # Service identities for Cloud Run, and deploying revisions that run as them (actAs).
    # serviceAccountUser is project-wide because those accounts do not exist at bootstrap.
    "serviceaccount": ("roles/iam.serviceAccountAdmin", "roles/iam.serviceAccountUser"),
    # projects.Service enables APIs; projects.IAMMember and IAMAuditConfig edit the project
    # policy, limited to the grantable roles below by a condition on the binding.
    "projects": ("roles/serviceusage.serviceUsageAdmin", "roles/resourcemanager.projectIamAdmin"),
    # organizations.get_project reads the project number.
    "organizations": ("roles/browser",),
    # VPC, subnet, PSA range and the static IP (networkAdmin); NEGs, backend services and
    # buckets, URL maps, proxies, rules, managed certificates (loadBalancerAdmin); the Cloud
    # Armor and SSL policies, which neither of the two covers (securityAdmin).
    "compute": (
        "roles/compute.networkAdmin",
        "roles/compute.loadBalancerAdmin",
        "roles/compute.securityAdmin",
    ),
    "servicenetworking": ("roles/servicenetworking.networksAdmin",),  # PSA peering
    "vpcaccess": ("roles/vpcaccess.admin",),  # the Serverless VPC Access connector
    "sql": ("roles/cloudsql.admin",),  # instance, databases, users
    "redis": ("roles/redis.admin",),  # instance; refresh also reads its AUTH string
    "cloudrunv2": ("roles/run.admin",),  # services and their invoker bindings
    "secretmanager": ("roles/secretmanager.admin",),  # secrets, versions, accessor bindings
    # The media bucket and its IAM; also writes the checkpoints and lock in the state bucket.
    "storage": ("roles/storage.admin",),
    "artifactregistry": ("roles/artifactregistry.admin",),  # repository and cleanup policies
    # Channels, alert policies, uptime checks, the dashboard and the metric descriptor.
    "monitoring": ("roles/monitoring.editor",),
    # The Cloud Billing budget lives on the billing account, not in the project: no project
    # role; BILLING_BUDGET_ROLE below is granted there when the bootstrap names the account.
    "billing": (),
}

# Not granted, on purpose: roles/logging.configWriter (the program declares no sinks,
# exclusions or log-based metrics; backend request logging is a compute setting) and any basic
# role (owner, editor), which would make every line above moot.


def deploy_project_roles() -> tuple[str, ...]:
    return tuple(sorted({role for roles in DEPLOY_ROLES_BY_MODULE.values() for role in roles}))


# The project-level roles the program grants to its own service accounts (components/service.py).
# projectIamAdmin is conditioned on these, so a compromised deploy cannot grant itself Owner.
DEFAULT_GRANTABLE_ROLES = (
    "roles/cloudsql.client",
    "roles/cloudtrace.agent",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
)

# Roles that would let whoever holds them widen their own access; never grantable by the deploy.
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
# budget (cost issue) is created there, outside the project.
BILLING_BUDGET_ROLE = "roles/billing.costsManager"


def grantable_condition(roles: tuple[str, ...]) -> str:
    """IAM condition that lets projectIamAdmin add or remove bindings of `roles` only."""
    listed = ", ".join(f"'{role}'" for role in roles)
    return f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{listed}])"
