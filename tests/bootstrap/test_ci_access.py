"""What each CI identity may do once it is in: read-only previews, a bounded deploy."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import pytest

from tests.bootstrap.harness import BOOTSTRAP, Run, prod_config, run_bootstrap, stack_file

ROOT = Path(__file__).resolve().parents[2]
PROJECT_ID = stack_file("prod")["gcp:project"]
PREVIEW = f"serviceAccount:pulumi-preview@{PROJECT_ID}.iam.gserviceaccount.com"
DEPLOY = f"serviceAccount:pulumi-deploy@{PROJECT_ID}.iam.gserviceaccount.com"
PROJECT_BINDING = "gcp:projects/iAMMember:IAMMember"


def grants(run: Run, member: str) -> dict[str, set[str]]:
    """Roles held by `member`, by resource type they are granted on."""
    found: dict[str, set[str]] = {}
    for resource in run.resources:
        if resource.inputs.get("member") == member:
            found.setdefault(resource.type, set()).add(resource.inputs["role"])
    return found


def test_preview_can_read_everything_and_change_nothing(bootstrap_prod):
    assert grants(bootstrap_prod, PREVIEW) == {
        PROJECT_BINDING: {
            "roles/viewer",
            "roles/iam.securityReviewer",
            "roles/secretmanager.viewer",
        },
        # Reads checkpoints; a preview takes no lock on the gs:// backend.
        "gcp:storage/bucketIAMMember:BucketIAMMember": {"roles/storage.objectViewer"},
        # Opens the stack's data key; never encrypts with KMS.
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": {"roles/cloudkms.cryptoKeyDecrypter"},
    }


def test_no_ci_identity_holds_a_secret_accessor_grant_or_a_basic_role(bootstrap_prod):
    for member in (PREVIEW, DEPLOY):
        held = set().union(*grants(bootstrap_prod, member).values())
        assert not held & {"roles/secretmanager.secretAccessor", "roles/owner", "roles/editor"}


def test_deploy_may_grant_only_the_platforms_own_roles(bootstrap_prod):
    (iam_admin,) = [
        r
        for r in bootstrap_prod.of_type(PROJECT_BINDING)
        if r.inputs["member"] == DEPLOY
        and r.inputs["role"] == "roles/resourcemanager.projectIamAdmin"
    ]
    expression = iam_admin.inputs["condition"]["expression"]
    assert expression == (
        "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(["
        "'roles/cloudsql.client', 'roles/cloudtrace.agent', "
        "'roles/logging.logWriter', 'roles/monitoring.metricWriter'])"
    )


def test_other_deploy_roles_are_unconditional_and_key_access_is_decrypt_only(bootstrap_prod):
    deploy = [r for r in bootstrap_prod.of_type(PROJECT_BINDING) if r.inputs["member"] == DEPLOY]
    conditioned = {r.inputs["role"] for r in deploy if r.inputs.get("condition")}
    assert conditioned == {"roles/resourcemanager.projectIamAdmin"}
    assert grants(bootstrap_prod, DEPLOY)["gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"] == {
        "roles/cloudkms.cryptoKeyDecrypter"
    }


@pytest.mark.parametrize("role", ["roles/owner", "roles/iam.serviceAccountTokenCreator"])
def test_a_grantable_role_that_widens_access_is_refused(role):
    with pytest.raises(Exception, match="widen its own access"):
        run_bootstrap("prod", prod_config(deploy_grantable_roles=["roles/logging.logWriter", role]))


def test_billing_budgets_role_only_where_a_billing_account_is_named(bootstrap_prod):
    billing = "gcp:billing/accountIamMember:AccountIamMember"
    assert bootstrap_prod.of_type(billing) == []
    run = run_bootstrap("prod", prod_config(billing_account="0X0X0X-0X0X0X-0X0X0X"))
    (grant,) = run.of_type(billing)
    assert grant.inputs["billingAccountId"] == "0X0X0X-0X0X0X-0X0X0X"
    assert (grant.inputs["member"], grant.inputs["role"]) == (DEPLOY, "roles/billing.costsManager")


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


def test_every_gcp_service_the_program_uses_has_a_deploy_role(bootstrap_prod):
    by_module = runpy.run_path(str(BOOTSTRAP / "delivery_roles.py"))["DEPLOY_ROLES_BY_MODULE"]
    used = program_gcp_modules()
    assert used, "found no pulumi_gcp import in the main program"
    missing = sorted(used - set(by_module))
    assert not missing, f"choose the deploy roles for {missing} in bootstrap/delivery_roles.py"
    held = grants(bootstrap_prod, DEPLOY)[PROJECT_BINDING]
    for module in used:
        assert set(by_module[module]) <= held, module
