"""The bootstrap's settings, and the GitHub token subjects and condition they imply."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

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
    # The workflow whose `pull_request` runs preview, where pull_request_previews is on.
    pull_request_workflow: str = ".github/workflows/pull-request.yml"
    # The bootstrap's stack (`prod`, `staging`): previews of pull requests are refused in prod.
    stack: str = "staging"
    state_bucket: str
    state_location: str
    kms: bool = True
    billing_account: str | None = None
    # The platform's runtime identities (the Cloud Run services, the migrations job) and their
    # project roles: created and granted here, so the deploy identity needs actAs on exactly
    # these accounts, no service-account admin and no right to edit the project's policy.
    runtime_accounts: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(roles.DEFAULT_RUNTIME_ACCOUNTS)
    )
    # Where the IAM-change alerts go (email addresses).
    security_alert_emails: tuple[str, ...] = ()
    # Days a backup in the vault is kept, which nobody can shorten once the vault is locked.
    backup_retention_days: int = roles.BACKUP_MINIMUM_RETENTION_DAYS
    # Cloud SQL instance names to back up into the vault: set after the main stack's first `up`
    # created them (docs/delivery.md, "Backups out of the deploy's reach").
    backup_sql_instances: tuple[str, ...] = ()
    # The main program's APIs (platform_apis.py), enabled here before its first `pulumi up`.
    platform_apis: tuple[str, ...] = ()
    # The main stack's application keys (app_secrets.py): their secrets, for the operator to fill
    # before the main stack's first `pulumi up`.
    app_secrets: tuple[str, ...] = ()

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
        if self.pull_request_previews and self.production:
            raise pulumi.RunError(
                "pull_request_previews is refused for a production project: whoever can push a "
                "branch would decrypt prod's state; prod is previewed on main "
                "(preview_environment)"
            )
        for key in ("deploy_workflow", "pull_request_workflow"):
            if not WORKFLOW.match(getattr(self, key)):
                raise pulumi.RunError(
                    f"{key} must be .github/workflows/NAME.yml, got {getattr(self, key)!r}"
                )
        bad = [a for a in self.runtime_accounts if not ACCOUNT_ID.match(a)]
        if bad or not self.runtime_accounts:
            raise pulumi.RunError(f"runtime_accounts must be service account ids, got {bad}")
        granted = {role for held in self.runtime_accounts.values() for role in held}
        escalating = sorted(granted & roles.ESCALATING_ROLES)
        if escalating:
            raise pulumi.RunError(
                "runtime_accounts would let code running on the platform widen its own access: "
                + ", ".join(escalating)
            )
        if self.backup_retention_days < roles.BACKUP_MINIMUM_RETENTION_DAYS:
            raise pulumi.RunError(
                f"backup_retention_days must be at least {roles.BACKUP_MINIMUM_RETENTION_DAYS}, "
                f"got {self.backup_retention_days}"
            )

    @property
    def production(self) -> bool:
        """A production project: the `prod` stack, or one whose deploys need `production`."""
        return self.stack == "prod" or self.deploy_environment in {"production", "prod"}

    @property
    def preview_environment_name(self) -> str | None:
        if self.pull_request_previews:
            return None
        return self.preview_environment or f"{self.deploy_environment}-preview"

    @property
    def preview_target(self) -> str:
        """The `attribute.target` value of the tokens that may become the preview account."""
        if self.pull_request_previews:
            return "pull_request"
        return f"environment:{self.preview_environment_name}"

    @property
    def deploy_target(self) -> str:
        return f"environment:{self.deploy_environment}"

    def _workflow(self, path: str) -> str:
        return f"{self.github_repository}/{path}"

    @property
    def deploy_workflow_ref(self) -> str:
        """GitHub's `workflow_ref` (and `job_workflow_ref`) of the deploy workflow on main."""
        return f"{self._workflow(self.deploy_workflow)}@{MAIN}"

    @property
    def attribute_condition(self) -> str:
        """Which tokens the provider accepts at all; the bindings then pick the account.

        Every token must come from this repository, by name and by both ids. Beyond that,
        exactly two shapes get in: a `push` run of the deploy workflow on main whose job runs in
        one of this project's environments, and (where previews of pull requests are allowed)
        a `pull_request` run of the pull-request workflow without an environment. Both the
        calling workflow (`workflow_ref`) and the one the job's steps come from
        (`job_workflow_ref`) are pinned, so a reusable workflow called from deploy.yml gets
        nothing. `pull_request_target`, `issue_comment`, `schedule`, `workflow_dispatch` and any
        other workflow on main are refused here. Nothing reads `sub`, whose layout GitHub
        changes (`repo:OWNER/NAME:…` or `repo:OWNER@ID/NAME@ID:…`).
        """
        environments = [self.deploy_environment]
        if (preview := self.preview_environment_name) is not None:
            environments.append(preview)
        in_environment = " || ".join(f"assertion.environment == '{e}'" for e in environments)
        deploy_ref = self.deploy_workflow_ref
        deploy_runs = (
            f"assertion.event_name == 'push' && assertion.ref == '{MAIN}' && "
            f"assertion.workflow_ref == '{deploy_ref}' && "
            f"assertion.job_workflow_ref == '{deploy_ref}' && "
            f"has(assertion.environment) && ({in_environment})"
        )
        admitted = f"({deploy_runs})"
        if self.pull_request_previews:
            pr_workflow = f"{self._workflow(self.pull_request_workflow)}@refs/pull/"
            admitted = (
                f"({admitted} || (assertion.event_name == 'pull_request' && "
                f"assertion.workflow_ref.startsWith('{pr_workflow}') && "
                f"assertion.job_workflow_ref.startsWith('{pr_workflow}') && "
                "!has(assertion.environment)))"
            )
        return (
            f"assertion.repository == '{self.github_repository}' && "
            f"assertion.repository_id == '{self.github_repository_id}' && "
            f"assertion.repository_owner_id == '{self.github_repository_owner_id}' && " + admitted
        )


# What the provider maps from GitHub's token: the claims the condition checks, for audit logs,
# and `target`, which the account bindings name. `target` is built from claims, not from `sub`:
# `environment:NAME` for a job in a GitHub environment, else the event name (`pull_request`).
# A claim a token may lack (environment) is read behind has(): an unguarded read of a missing
# claim fails the exchange.
TARGET = (
    "(has(assertion.environment) ? 'environment:' + assertion.environment : assertion.event_name)"
)
ATTRIBUTE_MAPPING = {
    # Not `sub`: Google refuses a subject over 127 bytes, which GitHub's immutable format
    # (`repo:OWNER@ID/NAME@ID:…`) reaches with long names. The ids and the target name the same
    # run's identity in audit logs, in a few dozen bytes.
    "google.subject": (
        "'repo:' + assertion.repository_owner_id + '/' + assertion.repository_id + ':' + " + TARGET
    ),
    "attribute.repository": "assertion.repository",
    "attribute.repository_id": "assertion.repository_id",
    "attribute.repository_owner_id": "assertion.repository_owner_id",
    "attribute.event_name": "assertion.event_name",
    "attribute.ref": "assertion.ref",
    "attribute.workflow_ref": "assertion.workflow_ref",
    "attribute.job_workflow_ref": "assertion.job_workflow_ref",
    "attribute.environment": "has(assertion.environment) ? assertion.environment : ''",
    "attribute.target": (
        "has(assertion.environment) ? 'environment:' + assertion.environment : assertion.event_name"
    ),
}
