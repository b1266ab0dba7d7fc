"""Who may do what: every IAM grant the program makes, member by member, against the list of
what each identity needs. A role widened to an admin role, a grant moved from one secret to the
whole project (or to the database password), or a new member anywhere fails here, whatever the
snapshot says. The services' own identities are in test_serving.py."""

from __future__ import annotations

import pytest

from tests.kit import SEED_APP_SECRETS, STACKS, secret_of
from vidgo_infra.offline import Resource, Run

PROJECT_NUMBER = "123456789012"  # what the mocks answer for getProject (vidgo_infra/offline.py)
PROJECTS = {"prod": "vidgo-ai-prod", "staging": "vidgo-ai-staging"}
BUCKETS = {"prod": "vidgo-media-prod", "staging": "vidgo-media-staging"}
# Project-wide roles (logs, metrics, traces, the Cloud SQL client) are granted by the bootstrap
# (tests/bootstrap/test_ci_access.py): the program grants on what it creates only.
# The secrets the API reads: the application's, and the connections the platform writes.
API_SECRETS = {*SEED_APP_SECRETS, "DATABASE_URL", "REDIS_URL", "REDIS_CA_CERT"}
API_SECRETS |= {"MEDIA_URL_SIGNING_KEY"}


def is_grant(resource: Resource) -> bool:
    kind = resource.type.split(":")[-1].lower()
    return any(word in kind for word in ("iammember", "iambinding", "iampolicy"))


def grants(run: Run) -> dict[str, set[tuple[str, str, str]]]:
    """member → {(scope kind, scope, role)} for every grant in the stack."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for resource in run.resources.values():
        if not is_grant(resource):
            continue
        inputs = resource.inputs
        assert "policyData" not in inputs, f"{resource.name}: a whole IAM policy"
        members = inputs.get("members") or [inputs["member"]]
        if "secretId" in inputs:  # the secret's resource id: find which secret it is
            scope = ("secret", secret_of(run, inputs["secretId"]))
        elif "bucket" in inputs:
            scope = ("bucket", inputs["bucket"])
        elif resource.type.startswith("gcp:projects/"):
            scope = ("project", inputs["project"])
        else:
            scope = (resource.type, str(inputs))
        for member in members:
            found.setdefault(member, set()).add((*scope, inputs["role"]))
    return found


def expected(stack: str) -> dict[str, set[tuple[str, str, str]]]:
    project, bucket = PROJECTS[stack], BUCKETS[stack]

    def account(name: str) -> str:
        return f"serviceAccount:{name}@{project}.iam.gserviceaccount.com"

    api = {("secret", s, "roles/secretmanager.secretAccessor") for s in API_SECRETS}
    api |= {("bucket", bucket, "roles/storage.objectUser")}
    return {
        account("vidgo-api-run"): api,
        # Google's CDN fill account reads media objects for signed URLs, and nothing else.
        f"serviceAccount:service-{PROJECT_NUMBER}@cloud-cdn-fill.iam.gserviceaccount.com": {
            ("bucket", bucket, "roles/storage.objectViewer")
        },
    }


@pytest.mark.parametrize("stack", STACKS)
def test_each_identity_holds_exactly_these_roles(stack, request):
    # Exactly: so no project-wide grant (those are the bootstrap's), nothing for the web
    # service's identity, and no role wider than listed.
    assert grants(request.getfixturevalue(stack)) == expected(stack)
