"""The bootstrap's settings, and the GitHub token subjects and condition they imply."""

from __future__ import annotations

import re
from dataclasses import dataclass

import delivery_roles as roles
import pulumi

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    project: str
    region: str
    github_repository: str  # owner/name, exactly as GitHub spells it (token claims are exact)
    github_repository_id: str | None = None  # pins the repo across a rename or re-creation
    # GitHub environment whose jobs deploy; None means pushes to main deploy directly.
    deploy_environment: str | None = None
    state_bucket: str
    state_location: str
    kms: bool = True
    grantable_roles: tuple[str, ...] = roles.DEFAULT_GRANTABLE_ROLES
    billing_account: str | None = None

    def __post_init__(self) -> None:
        if not REPOSITORY.match(self.github_repository):
            raise pulumi.RunError(
                f"github_repository must be owner/name, got {self.github_repository!r}"
            )
        if self.github_repository_id is not None and not self.github_repository_id.isdigit():
            raise pulumi.RunError("github_repository_id must be the numeric repository id")
        escalating = sorted(set(self.grantable_roles) & roles.ESCALATING_ROLES)
        if escalating:
            raise pulumi.RunError(
                "deploy_grantable_roles would let the deploy identity widen its own access: "
                + ", ".join(escalating)
            )

    @property
    def preview_subject(self) -> str:
        return f"repo:{self.github_repository}:pull_request"

    @property
    def deploy_subject(self) -> str:
        if self.deploy_environment:
            return f"repo:{self.github_repository}:environment:{self.deploy_environment}"
        return f"repo:{self.github_repository}:ref:refs/heads/main"

    @property
    def attribute_condition(self) -> str:
        """Admits tokens of this repository from main, or from a pull request's own subject.

        A pull-request job that names an environment has another subject and is refused, so a
        branch cannot claim the deploy environment's identity before its review.
        """
        condition = (
            f"assertion.repository == '{self.github_repository}' && "
            f"(assertion.ref == 'refs/heads/main' || assertion.sub == '{self.preview_subject}')"
        )
        if self.github_repository_id:
            condition += f" && assertion.repository_id == '{self.github_repository_id}'"
        return condition
