"""What each CI identity may do once it is in: read-only previews, a bounded deploy."""

from __future__ import annotations

import ast
import re
import runpy
from pathlib import Path

import pytest

from tests.bootstrap.cel import admits
from tests.bootstrap.harness import BOOTSTRAP, Run, prod_config, run_bootstrap, stack_file
from tests.kit import (
    BILLING_IAM_MEMBER,
    BUCKET_IAM_MEMBER,
    CUSTOM_ROLE,
    KMS_KEY_IAM_MEMBER,
    PROJECT_IAM_MEMBER,
    SERVICE_ACCOUNT,
    SERVICE_ACCOUNT_IAM_MEMBER,
)

ROOT = Path(__file__).resolve().parents[2]
PROJECT_ID = stack_file("prod")["gcp:project"]
PREVIEW = f"serviceAccount:pulumi-preview@{PROJECT_ID}.iam.gserviceaccount.com"
DEPLOY = f"serviceAccount:pulumi-deploy@{PROJECT_ID}.iam.gserviceaccount.com"
PROJECT_BINDING = PROJECT_IAM_MEMBER
CUSTOM_ROLE = CUSTOM_ROLE
REFRESH_ROLE = f"projects/{PROJECT_ID}/roles/vidgoPreviewRefresh"
# Predefined roles whose name says they only read: ...Viewer, ...reader, securityReviewer,
# browser, and decrypt on a key (which cannot encrypt). A word below anywhere in the role's own
# name is refused as well.
READ_ONLY_ROLE = re.compile(
    r"^roles/(?:[a-z]+\.)?(?:[a-zA-Z]*[vV]iewer|reader|securityReviewer|browser|cryptoKeyDecrypter)$"
)
WRITING_WORDS = {"admin", "editor", "owner", "writer", "user", "creator", "manager", "accessor"}
PERMISSION = re.compile(r"^[a-z]+\.[a-zA-Z]+\.[a-zA-Z]+$")  # service.resource.verb
READ_VERBS = {"get", "list", "getAuthString"}
# Predefined roles that hold secretmanager.versions.access (the payload read).
SECRET_PAYLOAD_ROLES = {
    "roles/owner",
    "roles/editor",
    "roles/viewer",  # not the payload, but every non-private log: no basic role at all
    "roles/secretmanager.admin",
    "roles/secretmanager.secretAccessor",
    "roles/secretmanager.secretVersionManager",
}
BILLING = "0X0X0X-0X0X0X-0X0X0X"
STATE_BUCKET = f"{PROJECT_ID}-pulumi-state"


def preview_member(stack: str) -> str:
    project = stack_file(stack)["gcp:project"]
    return f"serviceAccount:pulumi-preview@{project}.iam.gserviceaccount.com"


def refresh_role(run: Run, stack: str) -> str:
    """The name the custom role's bindings must use: the role the bootstrap declared."""
    role = run.one(CUSTOM_ROLE)
    assert role.inputs["project"] == stack_file(stack)["gcp:project"]
    return f"projects/{role.inputs['project']}/roles/{role.inputs['roleId']}"


def roles_module() -> dict:
    return runpy.run_path(str(BOOTSTRAP / "delivery_roles.py"))


def grants(run: Run, member: str) -> dict[str, set[str]]:
    """Roles held by `member`, by resource type they are granted on."""
    found: dict[str, set[str]] = {}
    for resource in run.resources.values():
        if resource.inputs.get("member") == member:
            found.setdefault(resource.type, set()).add(resource.inputs["role"])
    return found


def test_preview_can_read_what_a_refresh_reads_and_change_nothing(bootstrap_prod):
    assert grants(bootstrap_prod, PREVIEW) == {
        PROJECT_BINDING: {
            "roles/serviceusage.serviceUsageViewer",
            "roles/iam.securityReviewer",
            "roles/browser",
            "roles/compute.viewer",
            "roles/dns.reader",  # the VPC's DNS logging policy
            "roles/cloudsql.viewer",
            "roles/redis.viewer",
            "roles/run.viewer",
            "roles/secretmanager.viewer",
            "roles/artifactregistry.reader",
            "roles/monitoring.viewer",
            "roles/certificatemanager.viewer",
            # What no narrow viewer role holds (Redis AUTH string, the peering, bucket settings).
            REFRESH_ROLE,
        },
        # Reads checkpoints; a preview takes no lock on the gs:// backend.
        BUCKET_IAM_MEMBER: {"roles/storage.objectViewer"},
        # Opens the stack's data key; never encrypts with KMS.
        KMS_KEY_IAM_MEMBER: {"roles/cloudkms.cryptoKeyDecrypter"},
    }


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_predefined_role_of_the_preview_is_a_read_only_one(stack, request):
    run = request.getfixturevalue(f"bootstrap_{stack}")
    held = set().union(*grants(run, preview_member(stack)).values())
    predefined = {role for role in held if role.startswith("roles/")}
    assert predefined, "the preview account holds no predefined role"
    for role in predefined:
        assert READ_ONLY_ROLE.match(role), f"{role} is not a read-only role"
        title = role.rsplit(".", 1)[-1].lower()  # roles/storage.objectViewer -> objectviewer
        assert not [word for word in WRITING_WORDS if word in title], role


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_preview_cannot_read_a_secret_payload(stack, request):
    run = request.getfixturevalue(f"bootstrap_{stack}")
    held = set().union(*grants(run, preview_member(stack)).values())
    assert not held & SECRET_PAYLOAD_ROLES
    assert not held & {"roles/owner", "roles/editor", *roles_module()["ESCALATING_ROLES"]}
    custom = {role for role in held if not role.startswith("roles/")}
    assert custom == {refresh_role(run, stack)}
    permissions = run.one(CUSTOM_ROLE).inputs["permissions"]
    assert not [p for p in permissions if p.startswith("secretmanager.")]
    # Secret and version metadata only.
    touching = {role for role in held if role.startswith("roles/secretmanager.")}
    assert touching == {"roles/secretmanager.viewer"}


def test_the_refresh_role_is_exactly_the_reads_no_viewer_role_holds(bootstrap_prod):
    role = bootstrap_prod.one(CUSTOM_ROLE)
    assert role.inputs["roleId"] == "vidgoPreviewRefresh"
    assert role.inputs["project"] == PROJECT_ID
    assert sorted(role.inputs["permissions"]) == [
        "redis.instances.getAuthString",  # google_redis_instance read with AUTH on
        "servicenetworking.services.get",  # google_service_networking_connection read
        "storage.buckets.get",  # google_storage_bucket read
    ]


def test_every_permission_of_the_refresh_role_ends_in_a_read_verb(bootstrap_prod):
    permissions = bootstrap_prod.one(CUSTOM_ROLE).inputs["permissions"]
    assert permissions
    for permission in permissions:
        assert PERMISSION.match(permission), permission
        assert permission.rsplit(".", 1)[1] in READ_VERBS, f"{permission} is not a read"


def test_only_the_preview_holds_the_refresh_role(bootstrap_prod):
    holders = {
        r.inputs["member"]
        for r in bootstrap_prod.by_type(PROJECT_BINDING)
        if r.inputs["role"] == refresh_role(bootstrap_prod, "prod")
    }
    assert holders == {PREVIEW}


def test_no_ci_identity_holds_a_secret_accessor_grant_or_a_basic_role(bootstrap_prod):
    for member in (PREVIEW, DEPLOY):
        held = set().union(*grants(bootstrap_prod, member).values())
        assert not held & {
            "roles/secretmanager.secretAccessor",
            "roles/owner",
            "roles/editor",
            "roles/viewer",
        }


def test_the_preview_holds_no_admin_role(bootstrap_prod):
    held = set().union(*grants(bootstrap_prod, PREVIEW).values())
    assert not [role for role in held if "admin" in role.lower()]


def test_the_deploy_cannot_edit_the_project_policy(bootstrap_prod):
    """No projectIamAdmin, nor any role holding setIamPolicy on the project: the runtime
    accounts' roles and the audit configs are granted here, by the operator."""
    held = grants(bootstrap_prod, DEPLOY)[PROJECT_BINDING]
    assert not held & {
        "roles/resourcemanager.projectIamAdmin",
        "roles/iam.securityAdmin",
        "roles/owner",
        "roles/editor",
    }


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_no_ci_identity_holds_a_role_for_the_vpc_connector_the_platform_no_longer_has(
    stack, request
):
    run = request.getfixturevalue(f"bootstrap_{stack}")
    project = stack_file(stack)["gcp:project"]
    for account in ("pulumi-preview", "pulumi-deploy"):
        held = set().union(
            *grants(run, f"serviceAccount:{account}@{project}.iam.gserviceaccount.com").values()
        )
        assert not [role for role in held if role.startswith("roles/vpcaccess.")], account


def test_direct_vpc_egress_needs_of_the_deploy_only_run_admin_and_acting_as_the_runtime(
    bootstrap_prod,
):
    """Google's Direct VPC egress page ("Set up IAM permissions"): in the service's own project
    the Cloud Run service agent uses the subnet with the role Google grants it; the deployer
    needs to deploy the service and to act as its identity, no network role for the egress."""
    held = grants(bootstrap_prod, DEPLOY)[PROJECT_BINDING]
    assert "roles/run.admin" in held
    assert not held & {"roles/compute.networkUser", "roles/vpcaccess.admin", "roles/vpcaccess.user"}
    on_accounts = {
        r.inputs["serviceAccountId"].rsplit("/", 1)[1]: r.inputs["role"]
        for r in bootstrap_prod.by_type(SERVICE_ACCOUNT_IAM_MEMBER)
        if r.inputs["member"] == DEPLOY
    }
    assert on_accounts[f"vidgo-api-run@{PROJECT_ID}.iam.gserviceaccount.com"] == (
        "roles/iam.serviceAccountUser"
    )


def test_only_storage_admin_is_conditioned_and_key_access_is_decrypt_only(bootstrap_prod):
    deploy = [r for r in bootstrap_prod.by_type(PROJECT_BINDING) if r.inputs["member"] == DEPLOY]
    conditioned = {r.inputs["role"] for r in deploy if r.inputs.get("condition")}
    assert conditioned == {"roles/storage.admin"}
    assert grants(bootstrap_prod, DEPLOY)[KMS_KEY_IAM_MEMBER] == {
        "roles/cloudkms.cryptoKeyDecrypter"
    }


def runtime_member(account: str) -> str:
    return f"serviceAccount:{account}@{PROJECT_ID}.iam.gserviceaccount.com"


def test_the_runtime_accounts_project_roles_are_granted_here(bootstrap_prod):
    base = {"roles/cloudtrace.agent", "roles/logging.logWriter", "roles/monitoring.metricWriter"}
    assert grants(bootstrap_prod, runtime_member("vidgo-api-run"))[PROJECT_BINDING] == {
        *base,
        "roles/cloudsql.client",  # the API and the migrations job connect to Cloud SQL
    }
    assert grants(bootstrap_prod, runtime_member("vidgo-web-run"))[PROJECT_BINDING] == base


def test_a_runtime_account_listed_without_roles_gets_the_base_ones():
    run = run_bootstrap("prod", prod_config(runtime_accounts=["vidgo-api-run"]))
    assert grants(run, runtime_member("vidgo-api-run"))[PROJECT_BINDING] == {
        "roles/cloudtrace.agent",
        "roles/logging.logWriter",
        "roles/monitoring.metricWriter",
    }


@pytest.mark.parametrize(
    ("resource", "allowed"),
    [
        ({"name": f"projects/_/buckets/{STATE_BUCKET}"}, False),  # its IAM, retention, deletion
        ({"name": f"projects/_/buckets/{STATE_BUCKET}/objects/.pulumi/stacks/x.json"}, False),
        ({"name": "projects/_/buckets/vidgo-media-prod"}, True),  # the platform's media bucket
        ({"name": f"projects/_/buckets/{STATE_BUCKET}-copy"}, True),  # a different bucket
        ({"name": f"projects/{PROJECT_ID}"}, True),  # creating the media bucket
    ],
)
def test_the_deploys_storage_admin_excludes_the_state_bucket(bootstrap_prod, resource, allowed):
    (binding,) = [
        r
        for r in bootstrap_prod.by_type(PROJECT_BINDING)
        if r.inputs["member"] == DEPLOY and r.inputs["role"] == "roles/storage.admin"
    ]
    assert admits(binding.inputs["condition"]["expression"], {}, resource) is allowed


def test_the_deploy_writes_state_objects_only(bootstrap_prod):
    bucket_grants = [
        r for r in bootstrap_prod.by_type(BUCKET_IAM_MEMBER) if r.inputs["member"] == DEPLOY
    ]
    assert [(g.inputs["bucket"], g.inputs["role"]) for g in bucket_grants] == [
        (STATE_BUCKET, "roles/storage.objectUser")
    ]


def test_the_deploy_holds_no_service_account_role_on_the_project(bootstrap_prod):
    held = grants(bootstrap_prod, DEPLOY)[PROJECT_BINDING]
    assert not [role for role in held if role.startswith("roles/iam.")]


def test_the_deploy_acts_as_exactly_the_runtime_accounts(bootstrap_prod):
    on_accounts = [
        r
        for r in bootstrap_prod.by_type(SERVICE_ACCOUNT_IAM_MEMBER)
        if r.inputs["member"] == DEPLOY
    ]
    assert {r.inputs["role"] for r in on_accounts} == {"roles/iam.serviceAccountUser"}
    created = {
        a.inputs["accountId"]
        for a in bootstrap_prod.by_type(SERVICE_ACCOUNT)
        if not a.inputs["accountId"].startswith("pulumi-")
    }
    assert created == {"vidgo-api-run", "vidgo-web-run"}
    assert {r.inputs["serviceAccountId"].rsplit("/", 1)[1] for r in on_accounts} == {
        f"{account}@{PROJECT_ID}.iam.gserviceaccount.com" for account in created
    }
    assert bootstrap_prod.outputs["runtime_service_accounts"] == {
        account: f"{account}@{PROJECT_ID}.iam.gserviceaccount.com" for account in created
    }


@pytest.mark.parametrize("role", ["roles/owner", "roles/iam.serviceAccountTokenCreator"])
def test_a_runtime_role_that_widens_access_is_refused(role):
    accounts = {"vidgo-api-run": ["roles/logging.logWriter", role]}
    with pytest.raises(Exception, match="widen its own access"):
        run_bootstrap("prod", prod_config(runtime_accounts=accounts))


def test_billing_roles_for_both_identities_only_where_a_billing_account_is_named(
    bootstrap_prod,
):
    billing = BILLING_IAM_MEMBER
    consumer = "roles/serviceusage.serviceUsageConsumer"
    assert bootstrap_prod.by_type(billing) == []
    assert consumer not in grants(bootstrap_prod, PREVIEW)[PROJECT_BINDING]
    run = run_bootstrap("prod", prod_config(billing_account=BILLING))
    on_account = {
        (g.inputs["billingAccountId"], g.inputs["member"], g.inputs["role"])
        for g in run.by_type(billing)
    }
    assert on_account == {
        (BILLING, DEPLOY, "roles/billing.costsManager"),
        (BILLING, PREVIEW, "roles/billing.viewer"),  # the budget's refresh
    }
    # The Billing Budget API bills its quota to the project: serviceusage.services.use.
    assert consumer in grants(run, PREVIEW)[PROJECT_BINDING]


def program_gcp_modules() -> set[str]:
    """`pulumi_gcp` modules the main program imports (read from source, never imported)."""
    modules = set()
    for folder in ("components", "infra", "stacks"):
        for path in (ROOT / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module == "pulumi_gcp":
                    modules |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "pulumi_gcp."
                ):
                    modules.add(node.module.split(".")[1])
                elif isinstance(node, ast.Import):
                    modules |= {
                        a.name.split(".")[1] for a in node.names if a.name.startswith("pulumi_gcp.")
                    }
    return modules


def declared_gcp_modules() -> set[str]:
    """`pulumi_gcp` modules of the resource types the committed snapshots declare."""
    modules = set()
    for snapshot in (ROOT / "tests" / "snapshots").glob("*.yaml"):
        modules |= set(re.findall(r"\bgcp:([a-z0-9]+)/", snapshot.read_text()))
    return modules


def test_every_gcp_service_the_program_uses_has_a_preview_role(bootstrap_prod):
    by_module = roles_module()["PREVIEW_ROLES_BY_MODULE"]
    used = program_gcp_modules() | declared_gcp_modules()
    missing = sorted(used - set(by_module))
    assert not missing, f"choose the preview roles for {missing} in bootstrap/delivery_roles.py"
    held = grants(bootstrap_prod, PREVIEW)[PROJECT_BINDING]
    for module in used:
        assert set(by_module[module]) <= held, module


def test_every_gcp_service_the_program_uses_has_a_deploy_role(bootstrap_prod):
    by_module = roles_module()["DEPLOY_ROLES_BY_MODULE"]
    used = program_gcp_modules()
    assert used, "found no pulumi_gcp import in the main program"
    missing = sorted(used - set(by_module))
    assert not missing, f"choose the deploy roles for {missing} in bootstrap/delivery_roles.py"
    held = grants(bootstrap_prod, DEPLOY)[PROJECT_BINDING]
    for module in used:
        assert set(by_module[module]) <= held, module
