"""Which GitHub Actions tokens can become which service account, per project.

A token gets through when the provider's attribute condition admits its claims *and* a
workloadIdentityUser binding names its subject. Both halves are read from what the bootstrap
declares, and the condition is evaluated, not string-matched.
"""

from __future__ import annotations

import pytest

from tests.bootstrap.cel import admits
from tests.bootstrap.harness import REPO, Run, prod_config, run_bootstrap

PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
SA_BINDING = "gcp:serviceaccount/iAMMember:IAMMember"


def token(sub_suffix: str, ref: str, repository: str = REPO, repository_id: str = "42") -> dict:
    return {
        "sub": f"repo:{repository}:{sub_suffix}",
        "repository": repository,
        "repository_id": repository_id,
        "ref": ref,
    }


PULL_REQUEST = token("pull_request", "refs/pull/7/merge")
PUSH_MAIN = token("ref:refs/heads/main", "refs/heads/main")
PRODUCTION_FROM_MAIN = token("environment:production", "refs/heads/main")
# A pull request whose (edited) workflow names the production environment: what a branch
# would try in order to deploy before its review.
PRODUCTION_FROM_PULL_REQUEST = token("environment:production", "refs/pull/7/merge")
PUSH_BRANCH = token("ref:refs/heads/feature", "refs/heads/feature")
OTHER_REPO_PR = token("pull_request", "refs/pull/1/merge", repository="someone/vidgo-infra")


def accounts_reachable(run: Run, claims: dict) -> set[str]:
    """The service accounts (by account id) a token with these claims can impersonate."""
    provider = run.one(PROVIDER).inputs
    if not admits(provider["attributeCondition"], claims):
        return set()
    return {
        binding.inputs["serviceAccountId"].split("/")[-1].split("@")[0]
        for binding in run.by_type(SA_BINDING)
        if binding.inputs["role"] == "roles/iam.workloadIdentityUser"
        and binding.inputs["member"].endswith(f"/subject/{claims['sub']}")
    }


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (PULL_REQUEST, {"pulumi-preview"}),
        (PRODUCTION_FROM_MAIN, {"pulumi-deploy"}),
        (PUSH_MAIN, set()),  # prod deploys only through the reviewed environment
        (PRODUCTION_FROM_PULL_REQUEST, set()),
        (PUSH_BRANCH, set()),
        (OTHER_REPO_PR, set()),
    ],
)
def test_prod_project_admits_previews_and_the_production_environment_only(
    bootstrap_prod, claims, expected
):
    assert accounts_reachable(bootstrap_prod, claims) == expected


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (PULL_REQUEST, {"pulumi-preview"}),
        (PUSH_MAIN, {"pulumi-deploy"}),
        (PRODUCTION_FROM_MAIN, set()),
        (PUSH_BRANCH, set()),
        (OTHER_REPO_PR, set()),
    ],
)
def test_staging_project_admits_previews_and_pushes_to_main_only(
    bootstrap_staging, claims, expected
):
    assert accounts_reachable(bootstrap_staging, claims) == expected


def test_bindings_name_one_exact_subject_never_a_principal_set(bootstrap_prod, bootstrap_staging):
    for run in (bootstrap_prod, bootstrap_staging):
        members = [b.inputs["member"] for b in run.by_type(SA_BINDING)]
        assert len(members) == 2
        assert all(m.startswith("principal://iam.googleapis.com/projects/") for m in members)


def test_provider_trusts_githubs_issuer_only(bootstrap_prod):
    oidc = bootstrap_prod.one(PROVIDER).inputs["oidc"]
    assert oidc == {"issuerUri": "https://token.actions.githubusercontent.com"}


def test_repository_id_pins_the_repository_across_a_rename():
    run = run_bootstrap("prod", prod_config(github_repository_id="42"))
    assert accounts_reachable(run, PRODUCTION_FROM_MAIN) == {"pulumi-deploy"}
    recreated = token("environment:production", "refs/heads/main", repository_id="99")
    assert accounts_reachable(run, recreated) == set()


@pytest.mark.parametrize("repository", ["vidgo-infra", "vidgo-ai/vidgo-infra' || true || '"])
def test_a_malformed_repository_is_refused_before_anything_is_declared(repository):
    with pytest.raises(Exception, match="github_repository must be owner/name"):
        run_bootstrap("prod", prod_config(github_repository=repository))


def test_the_cel_reader_refuses_what_it_does_not_understand():
    with pytest.raises(ValueError, match="unsupported CEL"):
        admits("assertion.ref.startsWith('refs/heads/')", PUSH_MAIN)
