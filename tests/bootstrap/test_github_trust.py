"""Which GitHub Actions tokens can become which service account, in which project.

A token gets through when the provider's attribute condition admits its claims, its
attribute mapping evaluates, *and* a workloadIdentityUser binding names one of the mapped
attributes. All three are read from what the bootstrap declares, and evaluated
(tests/bootstrap/cel.py), not string-matched.

Each row is a token shape, built as the strongest attempt of its kind: where a shape can name
a GitHub environment or run the deploy workflow file, it does (a pull request can edit any
workflow; an `issue_comment` or `schedule` trigger can be added to deploy.yml on a branch).
Every shape is tried with both subject formats GitHub issues: `repo:OWNER/NAME:…` and, for
repositories created (renamed, transferred) after its April 2026 change,
`repo:OWNER@OWNER_ID/NAME@REPO_ID:…`.
"""

from __future__ import annotations

import pytest

from tests.bootstrap.cel import admits, mapped
from tests.bootstrap.harness import (
    OWNER_ID,
    PROJECT_NUMBER,
    REPO,
    REPOSITORY_ID,
    Run,
    prod_config,
    run_bootstrap,
    staging_config,
)
from tests.kit import SERVICE_ACCOUNT_IAM_MEMBER, WORKLOAD_IDENTITY_POOL, WORKLOAD_IDENTITY_PROVIDER

PROVIDER = WORKLOAD_IDENTITY_PROVIDER
SA_BINDING = SERVICE_ACCOUNT_IAM_MEMBER
MAIN = "refs/heads/main"
PR_REF = "refs/pull/7/merge"


FORMATS = ("name", "immutable")


def token(
    event: str,
    subject: str,
    ref: str,
    workflow: str = "deploy.yml",
    *,
    job_workflow: str | None = None,
    repository: str = REPO,
    repository_id: str = REPOSITORY_ID,
    owner_id: str = OWNER_ID,
    subject_format: str = "name",
) -> dict[str, str]:
    """The claims GitHub puts in a job's OIDC token.

    `subject` is the subject's tail (`environment:NAME`, `pull_request`, `ref:REF`); a job in an
    environment also carries the `environment` claim. `job_workflow` is the reusable workflow
    a job's steps come from (`OWNER/NAME/.github/workflows/FILE@REF`), by default the caller.
    """
    owner, name = repository.split("/")
    prefix = {"name": repository, "immutable": f"{owner}@{owner_id}/{name}@{repository_id}"}
    calling = f"{repository}/.github/workflows/{workflow}@{ref}"
    claims = {
        "sub": f"repo:{prefix[subject_format]}:{subject}",
        "repository": repository,
        "repository_owner": owner,
        "repository_id": repository_id,
        "repository_owner_id": owner_id,
        "event_name": event,
        "ref": ref,
        "workflow_ref": calling,
        "job_workflow_ref": job_workflow or calling,
    }
    if subject.startswith("environment:"):
        claims["environment"] = subject.removeprefix("environment:")
    return claims


PREVIEW, DEPLOY = "pulumi-preview", "pulumi-deploy"
NOTHING: set[str] = set()

# (token shape, what it reaches in staging, what it reaches in prod)
CELLS = {
    # The pull-request workflow's preview job: staging's read-only preview, nothing in prod.
    "pull_request from a branch": (
        token("pull_request", "pull_request", PR_REF, "pull-request.yml"),
        {PREVIEW},
        NOTHING,
    ),
    # GitHub issues no OIDC token to a fork's pull_request run and the workflow skips forks;
    # were one issued, its claims would equal a branch's: staging's preview at most, never prod.
    "pull_request from a fork": (
        token("pull_request", "pull_request", "refs/pull/8/merge", "pull-request.yml"),
        {PREVIEW},
        NOTHING,
    ),
    # A branch whose edited workflow names an environment, to skip its review.
    "pull_request naming production": (
        token("pull_request", "environment:production", PR_REF),
        NOTHING,
        NOTHING,
    ),
    "pull_request naming production-preview": (
        token("pull_request", "environment:production-preview", PR_REF),
        NOTHING,
        NOTHING,
    ),
    "pull_request naming staging": (
        token("pull_request", "environment:staging", PR_REF),
        NOTHING,
        NOTHING,
    ),
    # Runs in the base branch's context: subject and ref can look exactly like main's.
    "pull_request_target": (
        token("pull_request_target", f"ref:{MAIN}", MAIN, "pull-request.yml"),
        NOTHING,
        NOTHING,
    ),
    "pull_request_target in production": (
        token("pull_request_target", "environment:production", MAIN),
        NOTHING,
        NOTHING,
    ),
    "issue_comment on main": (
        token("issue_comment", "environment:production", MAIN),
        NOTHING,
        NOTHING,
    ),
    "schedule on main": (
        token("schedule", "environment:production", MAIN),
        NOTHING,
        NOTHING,
    ),
    "workflow_dispatch of deploy.yml on main": (
        token("workflow_dispatch", "environment:production", MAIN),
        NOTHING,
        NOTHING,
    ),
    "workflow_dispatch in staging": (
        token("workflow_dispatch", "environment:staging", MAIN),
        NOTHING,
        NOTHING,
    ),
    # The deploy workflow on a push to main: each environment's jobs get that environment's
    # identity, in its own project only.
    "push to main, deploy.yml, staging": (
        token("push", "environment:staging", MAIN),
        {DEPLOY},
        NOTHING,
    ),
    "push to main, deploy.yml, production-preview": (
        token("push", "environment:production-preview", MAIN),
        NOTHING,
        {PREVIEW},
    ),
    "push to main, deploy.yml, production": (
        token("push", "environment:production", MAIN),
        NOTHING,
        {DEPLOY},
    ),
    "push to main, deploy.yml, no environment": (
        token("push", f"ref:{MAIN}", MAIN),
        NOTHING,
        NOTHING,
    ),
    "push to main, another workflow, production": (
        token("push", "environment:production", MAIN, "release.yml"),
        NOTHING,
        NOTHING,
    ),
    "push to main, another workflow, staging": (
        token("push", "environment:staging", MAIN, "release.yml"),
        NOTHING,
        NOTHING,
    ),
    "push to a branch, deploy.yml, production": (
        token("push", "environment:production", "refs/heads/feature"),
        NOTHING,
        NOTHING,
    ),
    # A deleted and re-created repository, or a new owner account, under the same name.
    "same name, another repository id": (
        token("push", "environment:production", MAIN, repository_id="100043"),
        NOTHING,
        NOTHING,
    ),
    "same name, another owner id": (
        token("push", "environment:production", MAIN, owner_id="200008"),
        NOTHING,
        NOTHING,
    ),
    "same name, another id, pull request": (
        token("pull_request", "pull_request", PR_REF, "pull-request.yml", repository_id="1"),
        NOTHING,
        NOTHING,
    ),
    "a fork's own repository": (
        token("push", "environment:production", MAIN, repository="someone/vidgo-infra"),
        NOTHING,
        NOTHING,
    ),
    # deploy.yml on main calls a reusable workflow whose job runs in the environment: the
    # calling workflow is right, the steps are another file's (job_workflow_ref).
    "reusable workflow of this repository, called from deploy.yml, production": (
        token(
            "push",
            "environment:production",
            MAIN,
            job_workflow=f"{REPO}/.github/workflows/release.yml@{MAIN}",
        ),
        NOTHING,
        NOTHING,
    ),
    "reusable workflow of this repository, called from deploy.yml, staging": (
        token(
            "push",
            "environment:staging",
            MAIN,
            job_workflow=f"{REPO}/.github/workflows/release.yml@{MAIN}",
        ),
        NOTHING,
        NOTHING,
    ),
    "reusable workflow of another repository, called from deploy.yml": (
        token(
            "push",
            "environment:production",
            MAIN,
            job_workflow="someone/actions/.github/workflows/deploy.yml@refs/heads/main",
        ),
        NOTHING,
        NOTHING,
    ),
    "reusable workflow called from the pull-request workflow": (
        token(
            "pull_request",
            "pull_request",
            PR_REF,
            "pull-request.yml",
            job_workflow=f"{REPO}/.github/workflows/deploy.yml@{PR_REF}",
        ),
        NOTHING,
        NOTHING,
    ),
    # A branch's pull request whose edited workflow file is named like the deploy's.
    "pull_request running deploy.yml": (
        token("pull_request", "pull_request", PR_REF, "deploy.yml"),
        NOTHING,
        NOTHING,
    ),
}


def in_format(claims: dict[str, str], subject_format: str) -> dict[str, str]:
    """The same token with the subject in `subject_format`."""
    repository = claims["repository"]
    owner, name = repository.split("/")
    tail = claims["sub"].split(":", 2)[2]  # repo:PREFIX:tail; PREFIX holds no colon
    prefix = {
        "name": repository,
        "immutable": f"{owner}@{claims['repository_owner_id']}/{name}@{claims['repository_id']}",
    }
    return {**claims, "sub": f"repo:{prefix[subject_format]}:{tail}"}


def members_of(attributes: dict[str, str], pool: str) -> set[str]:
    """The IAM principals a federated token with these attributes is."""
    prefix = f"iam.googleapis.com/{pool}"
    found = {f"principal://{prefix}/subject/{attributes['google.subject']}"}
    for name, value in attributes.items():
        if name.startswith("attribute."):
            found.add(f"principalSet://{prefix}/{name}/{value}")
    return found | {f"principalSet://{prefix}/*"}


def accounts_reachable(run: Run, claims: dict) -> set[str]:
    """The service accounts (by account id) a token with these claims can impersonate."""
    provider = run.one(PROVIDER).inputs
    if not admits(provider["attributeCondition"], claims):
        return set()
    attributes = mapped(provider["attributeMapping"], claims)
    if attributes is None:  # a mapping that fails to evaluate fails the exchange
        return set()
    pool_id = run.one(WORKLOAD_IDENTITY_POOL).inputs
    pool = (
        f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
        f"{pool_id['workloadIdentityPoolId']}"
    )
    principals = members_of(attributes, pool)
    return {
        binding.inputs["serviceAccountId"].split("/")[-1].split("@")[0]
        for binding in run.by_type(SA_BINDING)
        if binding.inputs["role"] == "roles/iam.workloadIdentityUser"
        and binding.inputs["member"] in principals
    }


@pytest.mark.parametrize("subject_format", FORMATS)
@pytest.mark.parametrize("shape", CELLS)
def test_each_token_shape_reaches_only_its_intended_identities(
    shape, subject_format, bootstrap_staging, bootstrap_prod
):
    claims, in_staging, in_prod = CELLS[shape]
    claims = in_format(claims, subject_format)
    assert accounts_reachable(bootstrap_staging, claims) == in_staging
    assert accounts_reachable(bootstrap_prod, claims) == in_prod


def test_both_subject_formats_are_really_different_tokens():
    """Guards the table: the immutable format's subject names both ids."""
    claims = token("push", "environment:production", MAIN, subject_format="immutable")
    owner, name = REPO.split("/")
    assert claims["sub"] == f"repo:{owner}@{OWNER_ID}/{name}@{REPOSITORY_ID}:environment:production"
    assert in_format(claims, "name")["sub"] == f"repo:{REPO}:environment:production"


def test_a_token_without_an_environment_still_maps(bootstrap_staging):
    """`environment` is an optional claim: read unguarded, it would fail every pull request's
    exchange. The mapping gives such a token an empty environment and the event as target."""
    mapping = bootstrap_staging.one(PROVIDER).inputs["attributeMapping"]
    claims = token("pull_request", "pull_request", PR_REF, "pull-request.yml")
    assert "environment" not in claims
    attributes = mapped(mapping, claims)
    assert attributes is not None
    assert attributes["attribute.environment"] == ""
    assert attributes["attribute.target"] == "pull_request"
    unguarded = {**mapping, "attribute.environment": "assertion.environment"}
    assert mapped(unguarded, claims) is None


def test_no_pull_request_event_reaches_any_identity_of_prod(bootstrap_prod):
    pull_request_shapes = [c for c, _, _ in CELLS.values() if c["event_name"].startswith("pull")]
    assert len(pull_request_shapes) >= 5
    for claims in pull_request_shapes:
        assert accounts_reachable(bootstrap_prod, claims) == set(), claims


def test_the_table_reaches_every_identity_somewhere(bootstrap_staging, bootstrap_prod):
    """Guards against a table (or a condition) under which nothing at all gets through."""
    for run, cell in ((bootstrap_staging, 1), (bootstrap_prod, 2)):
        reached = set().union(*(accounts_reachable(run, row[0]) for row in CELLS.values()))
        expected = set().union(*(row[cell] for row in CELLS.values()))
        assert reached == expected == {PREVIEW, DEPLOY}


def test_prod_preview_follows_the_preview_environment_setting():
    run = run_bootstrap("prod", prod_config(preview_environment="prod-plan"))
    assert accounts_reachable(run, token("push", "environment:prod-plan", MAIN)) == {PREVIEW}
    assert accounts_reachable(run, token("push", "environment:production-preview", MAIN)) == set()


def test_the_condition_names_the_mapped_attributes_and_never_the_subject(bootstrap_prod):
    provider = bootstrap_prod.one(PROVIDER).inputs
    mapping = provider["attributeMapping"]
    claims = (
        "repository_id",
        "repository_owner_id",
        "event_name",
        "workflow_ref",
        "job_workflow_ref",
    )
    for claim in claims:
        assert mapping[f"attribute.{claim}"] == f"assertion.{claim}"
        assert f"assertion.{claim} ==" in provider["attributeCondition"]
    assert "assertion.sub" not in provider["attributeCondition"]
    assert "assertion.sub" not in str(mapping)
    assert len(provider["attributeCondition"]) <= 4096  # Google's limit


@pytest.mark.parametrize("subject_format", FORMATS)
def test_the_subject_fits_googles_127_bytes_whatever_the_names(bootstrap_prod, subject_format):
    """GitHub's immutable format makes `sub` longer; the mapped subject is built from the ids."""
    mapping = bootstrap_prod.one(PROVIDER).inputs["attributeMapping"]
    long_repository = f"{'o' * 39}/{'n' * 100}"  # GitHub's longest owner and repository names
    claims = token(
        "push",
        "environment:production-preview",
        MAIN,
        repository=long_repository,
        repository_id="9" * 12,
        owner_id="8" * 12,
        subject_format=subject_format,
    )
    assert len(claims["sub"].encode()) > 127  # the claim itself would not fit
    subject = mapped(mapping, claims)["google.subject"]
    assert subject == f"repo:{'8' * 12}/{'9' * 12}:environment:production-preview"
    assert len(subject.encode()) <= 127


def test_bindings_name_one_target_never_the_whole_pool(bootstrap_prod, bootstrap_staging):
    for run in (bootstrap_prod, bootstrap_staging):
        members = sorted(
            b.inputs["member"]
            for b in run.by_type(SA_BINDING)
            if b.inputs["role"] == "roles/iam.workloadIdentityUser"
        )
        assert len(members) == 2
        for member in members:
            assert member.startswith("principalSet://iam.googleapis.com/projects/")
            assert "/attribute.target/" in member
            assert not member.endswith("/*")
    targets = {
        m.rsplit("/attribute.target/", 1)[1]
        for m in (b.inputs["member"] for b in bootstrap_staging.by_type(SA_BINDING))
        if "/attribute.target/" in m
    }
    assert targets == {"pull_request", "environment:staging"}


def test_pull_request_previews_are_refused_for_production():
    with pytest.raises(Exception, match="pull_request_previews is refused for a production"):
        run_bootstrap("prod", prod_config(pull_request_previews=True))
    # By the environment too, whatever the stack is called.
    with pytest.raises(Exception, match="pull_request_previews is refused for a production"):
        run_bootstrap(
            "staging", staging_config(deploy_environment="production", pull_request_previews=True)
        )


def test_provider_trusts_githubs_issuer_only(bootstrap_prod):
    oidc = bootstrap_prod.one(PROVIDER).inputs["oidc"]
    assert oidc == {"issuerUri": "https://token.actions.githubusercontent.com"}


@pytest.mark.parametrize("missing", ["github_repository_id", "github_repository_owner_id"])
def test_both_ids_are_required(missing):
    config = prod_config()
    del config[f"vidgo-bootstrap:{missing}"]
    with pytest.raises(Exception, match=missing):
        run_bootstrap("prod", config)


@pytest.mark.parametrize("value", ["vidgo-ai", "42' || true || '", ""])
def test_an_id_that_is_not_a_number_is_refused(value):
    with pytest.raises(Exception, match="numeric id"):
        run_bootstrap("prod", prod_config(github_repository_id=value))


@pytest.mark.parametrize("repository", ["vidgo-infra", "vidgo-ai/vidgo-infra' || true || '"])
def test_a_malformed_repository_is_refused_before_anything_is_declared(repository):
    with pytest.raises(Exception, match="github_repository must be owner/name"):
        run_bootstrap("prod", prod_config(github_repository=repository))


def test_previews_of_pull_requests_and_a_preview_environment_exclude_each_other():
    with pytest.raises(Exception, match="exclude each other"):
        run_bootstrap("staging", staging_config(preview_environment="staging-preview"))


def test_the_cel_reader_refuses_what_it_does_not_understand():
    with pytest.raises(ValueError, match="unsupported CEL"):
        admits("assertion.ref.endsWith('/main')", {"ref": MAIN})
