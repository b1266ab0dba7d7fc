"""The bootstrap's settings, and the GitHub token subjects and condition they imply."""

from __future__ import annotations

import re
from dataclasses import dataclass

import delivery_roles as roles
import pulumi

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
WORKFLOW = re.compile(r"^\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml$")
ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
MAIN = "refs/heads/main"


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    project: str
    region: str
    github_repository: str  # owner/name, exactly as GitHub spells it (token claims are exact)
    # Both required: a deleted and re-created repository (or owner) of the same name gets new
    # ids, so it inherits no trust.
    github_repository_id: str
    github_repository_owner_id: str
    # The GitHub environment whose jobs deploy (`staging`, `production`): its protection rules
    # (deployment branch main, reviewers, its own secrets) apply to every deploy.
    deploy_environment: str
    # True only where a pull request may preview (staging): the preview identity then belongs
    # to `pull_request` runs. Otherwise it belongs to `preview_environment` jobs of the deploy
    # workflow on main, before the deploy's approval.
    pull_request_previews: bool = False
    preview_environment: str | None = None
    deploy_workflow: str = ".github/workflows/deploy.yml"
    state_bucket: str
    state_location: str
    kms: bool = True
    grantable_roles: tuple[str, ...] = roles.DEFAULT_GRANTABLE_ROLES
    billing_account: str | None = None
    # The platform's runtime identities (the Cloud Run services, the migrations job): created
    # here so the deploy identity needs actAs on exactly these and no service-account admin.
    runtime_accounts: tuple[str, ...] = roles.DEFAULT_RUNTIME_ACCOUNTS
    # The main program's APIs (platform_apis.py), enabled here before its first `pulumi up`.
    platform_apis: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not REPOSITORY.match(self.github_repository):
            raise pulumi.RunError(
                f"github_repository must be owner/name, got {self.github_repository!r}"
            )
        for key in ("github_repository_id", "github_repository_owner_id"):
            value = getattr(self, key)
            if not (value and value.isdigit()):
                raise pulumi.RunError(
                    f"{key} must be GitHub's numeric id, got {value!r} "
                    "(gh api repos/OWNER/NAME --jq '.id, .owner.id')"
                )
        for key in ("deploy_environment", "preview_environment"):
            value = getattr(self, key)
            if value is not None and not ENVIRONMENT.match(value):
                raise pulumi.RunError(f"{key} must be a GitHub environment name, got {value!r}")
        if self.pull_request_previews and self.preview_environment:
            raise pulumi.RunError(
                "preview_environment and pull_request_previews exclude each other: the preview "
                "identity belongs to pull requests or to one environment's jobs, not both"
            )
        if self.preview_environment == self.deploy_environment:
            raise pulumi.RunError("preview_environment must differ from deploy_environment")
        if not WORKFLOW.match(self.deploy_workflow):
            raise pulumi.RunError(
                f"deploy_workflow must be .github/workflows/NAME.yml, got {self.deploy_workflow!r}"
            )
        bad = [a for a in self.runtime_accounts if not ACCOUNT_ID.match(a)]
        if bad or not self.runtime_accounts:
            raise pulumi.RunError(f"runtime_accounts must be service account ids, got {bad}")
        escalating = sorted(set(self.grantable_roles) & roles.ESCALATING_ROLES)
        if escalating:
            raise pulumi.RunError(
                "deploy_grantable_roles would let the deploy identity widen its own access: "
                + ", ".join(escalating)
            )

    @property
    def preview_environment_name(self) -> str | None:
        if self.pull_request_previews:
            return None
        return self.preview_environment or f"{self.deploy_environment}-preview"

    def _subject(self, suffix: str) -> str:
        return f"repo:{self.github_repository}:{suffix}"

    @property
    def preview_subject(self) -> str:
        if self.pull_request_previews:
            return self._subject("pull_request")
        return self._subject(f"environment:{self.preview_environment_name}")

    @property
    def deploy_subject(self) -> str:
        return self._subject(f"environment:{self.deploy_environment}")

    @property
    def deploy_workflow_ref(self) -> str:
        """GitHub's `workflow_ref` claim of the deploy workflow's runs on main."""
        return f"{self.github_repository}/{self.deploy_workflow}@{MAIN}"

    @property
    def attribute_condition(self) -> str:
        """Which tokens the provider accepts at all; the bindings then pick the account.

        Every token must come from this repository, by name and by both ids. Beyond that,
        exactly two shapes get in: a `push` run of the deploy workflow on main whose job runs in
        one of this project's environments, and (where previews of pull requests are allowed)
        a `pull_request` run without an environment. `pull_request_target`, `issue_comment`,
        `schedule`, `workflow_dispatch` and any other workflow on main are refused here, even
        though their subject can be `ref:refs/heads/main`.
        """
        on_main = [self.deploy_subject]
        if not self.pull_request_previews:
            on_main.append(self.preview_subject)
        subjects = " || ".join(f"assertion.sub == '{s}'" for s in on_main)
        deploy_runs = (
            f"assertion.event_name == 'push' && assertion.ref == '{MAIN}' && "
            f"assertion.workflow_ref == '{self.deploy_workflow_ref}' && ({subjects})"
        )
        admitted = f"({deploy_runs})"
        if self.pull_request_previews:
            admitted = (
                f"({admitted} || (assertion.event_name == 'pull_request' && "
                f"assertion.sub == '{self.preview_subject}'))"
            )
        return (
            f"assertion.repository == '{self.github_repository}' && "
            f"assertion.repository_id == '{self.github_repository_id}' && "
            f"assertion.repository_owner_id == '{self.github_repository_owner_id}' && " + admitted
        )
