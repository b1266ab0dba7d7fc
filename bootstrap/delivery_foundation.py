"""What CI needs in one GCP project before the main program can be previewed or deployed.

The state bucket, the key for the stacks' secrets, the Workload Identity pool that trusts
GitHub's tokens from one repository only, and two service accounts: `pulumi-preview` (read-only,
for pull requests) and `pulumi-deploy` (for `main`, or for a protected GitHub environment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
from pulumi_gcp import billing, iam, kms, projects, serviceaccount, storage

import delivery_roles as roles

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


class DeliveryFoundation(pulumi.ComponentResource):
    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]
    workload_identity_provider: pulumi.Output[str]
    preview_service_account: pulumi.Output[str]
    deploy_service_account: pulumi.Output[str]

    def __init__(
        self, name: str, settings: DeliverySettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("vidgo:bootstrap:DeliveryFoundation", name, None, opts)
        self._settings = settings
        child = pulumi.ResourceOptions(parent=self)
        # Removing an API on destroy would break whatever else in the project uses it.
        apis = [
            projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=settings.project,
                service=api,
                disable_on_destroy=False,
                opts=child,
            )
            for api in roles.BOOTSTRAP_APIS
        ]
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=apis)
        # The state of every stack lives here; losing it orphans the whole platform.
        kept = pulumi.ResourceOptions.merge(after_apis, pulumi.ResourceOptions(protect=True))

        bucket = self._state_bucket(name, kept)
        key = self._secrets_key(name, kept) if settings.kms else None
        pool, provider = self._github_trust(name, kept)
        preview = serviceaccount.Account(
            f"{name}-preview",
            project=settings.project,
            account_id="pulumi-preview",
            display_name="Pulumi preview (pull requests, read-only)",
            opts=after_apis,
        )
        deploy = serviceaccount.Account(
            f"{name}-deploy",
            project=settings.project,
            account_id="pulumi-deploy",
            display_name="Pulumi deploy (main / protected environment)",
            opts=after_apis,
        )
        trust = (pool, provider)
        self._impersonation(f"{name}-preview", preview, settings.preview_subject, *trust)
        self._impersonation(f"{name}-deploy", deploy, settings.deploy_subject, *trust)
        self._preview_access(name, preview, bucket, key)
        self._deploy_access(name, deploy, key)

        self.backend_url = pulumi.Output.concat("gs://", bucket.name)
        self.secrets_provider = (
            pulumi.Output.concat("gcpkms://", key.id)
            if key is not None
            else pulumi.Output.from_input("passphrase")
        )
        self.workload_identity_provider = provider.name
        self.preview_service_account = preview.email
        self.deploy_service_account = deploy.email
        self.register_outputs(
            {
                "backend_url": self.backend_url,
                "workload_identity_provider": self.workload_identity_provider,
            }
        )

    def _state_bucket(self, name: str, opts: pulumi.ResourceOptions) -> storage.Bucket:
        s = self._settings
        return storage.Bucket(
            f"{name}-state",
            project=s.project,
            name=s.state_bucket,
            location=s.state_location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            # Every `pulumi up` rewrites the checkpoint: old versions are the undo history.
            versioning=storage.BucketVersioningArgs(enabled=True),
            force_destroy=False,
            lifecycle_rules=[
                storage.BucketLifecycleRuleArgs(
                    action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    # Both must hold: a version is dropped only when old and well superseded.
                    condition=storage.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=90, num_newer_versions=20
                    ),
                )
            ],
            labels={"purpose": "pulumi-state"},
            opts=opts,
        )

    def _secrets_key(self, name: str, opts: pulumi.ResourceOptions) -> kms.CryptoKey:
        s = self._settings
        # Key rings and keys cannot be deleted in Cloud KMS; protect says so at `destroy`.
        ring = kms.KeyRing(
            f"{name}-keyring", project=s.project, name="pulumi", location=s.region, opts=opts
        )
        return kms.CryptoKey(
            f"{name}-secrets-key",
            name="stack-secrets",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{90 * 24 * 3600}s",
            opts=opts,
        )

    def _github_trust(
        self, name: str, opts: pulumi.ResourceOptions
    ) -> tuple[iam.WorkloadIdentityPool, iam.WorkloadIdentityPoolProvider]:
        s = self._settings
        # Pool and provider ids stay reserved for 30 days after deletion: protected too.
        pool = iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=s.project,
            workload_identity_pool_id="github",
            display_name="GitHub Actions",
            opts=opts,
        )
        provider = iam.WorkloadIdentityPoolProvider(
            f"{name}-github",
            project=s.project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github-actions",
            display_name=s.github_repository[:32],
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.ref": "assertion.ref",
            },
            attribute_condition=s.attribute_condition,
            oidc=iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_ISSUER),
            opts=opts,
        )
        return pool, provider

    def _impersonation(
        self,
        name: str,
        account: serviceaccount.Account,
        subject: str,
        pool: iam.WorkloadIdentityPool,
        provider: iam.WorkloadIdentityPoolProvider,
    ) -> None:
        # One exact subject per account: the provider's condition admits both kinds of token,
        # the binding decides which of them may become which account.
        principal = pool.name.apply(
            lambda pool: f"principal://iam.googleapis.com/{pool}/subject/{subject}"
        )
        serviceaccount.IAMMember(
            f"{name}-wif",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=principal,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[provider]),
        )

    def _preview_access(
        self,
        name: str,
        account: serviceaccount.Account,
        bucket: storage.Bucket,
        key: kms.CryptoKey | None,
    ) -> None:
        s, child = self._settings, pulumi.ResourceOptions(parent=self)
        for role in roles.PREVIEW_PROJECT_ROLES:
            projects.IAMMember(
                f"{name}-preview-{_slug(role)}",
                project=s.project,
                role=role,
                member=account.member,
                opts=child,
            )
        storage.BucketIAMMember(
            f"{name}-preview-reads-state",
            bucket=bucket.name,
            role=roles.PREVIEW_STATE_BUCKET_ROLE,
            member=account.member,
            opts=child,
        )
        if key is not None:
            self._key_access(f"{name}-preview", account, key)

    def _deploy_access(
        self, name: str, account: serviceaccount.Account, key: kms.CryptoKey | None
    ) -> None:
        s, child = self._settings, pulumi.ResourceOptions(parent=self)
        for role in roles.deploy_project_roles():
            conditioned = role == "roles/resourcemanager.projectIamAdmin"
            projects.IAMMember(
                f"{name}-deploy-{_slug(role)}",
                project=s.project,
                role=role,
                member=account.member,
                condition=projects.IAMMemberConditionArgs(
                    title="grants only the platform's roles",
                    expression=roles.grantable_condition(s.grantable_roles),
                )
                if conditioned
                else None,
                opts=child,
            )
        if key is not None:
            self._key_access(f"{name}-deploy", account, key)
        if s.billing_account:
            billing.AccountIamMember(
                f"{name}-deploy-budgets",
                billing_account_id=s.billing_account,
                role=roles.BILLING_BUDGET_ROLE,
                member=account.member,
                opts=child,
            )

    def _key_access(self, name: str, account: serviceaccount.Account, key: kms.CryptoKey) -> None:
        kms.CryptoKeyIAMMember(
            f"{name}-opens-secrets",
            crypto_key_id=key.id,
            role=roles.CI_KEY_ROLE,
            member=account.member,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _slug(role: str) -> str:
    """`roles/iam.securityReviewer` -> `iam-securityreviewer`, for logical names."""
    return role.removeprefix("roles/").replace(".", "-").lower()
