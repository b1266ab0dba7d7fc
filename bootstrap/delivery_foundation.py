"""What CI needs in one GCP project before the main program can be previewed or deployed.

The state bucket, the key for the stacks' secrets, the Workload Identity pool that trusts
GitHub's tokens from one repository only, two CI service accounts: `pulumi-preview` (read-only;
pull requests in staging, the deploy workflow's preview environment on main in prod) and
`pulumi-deploy` (the deploy workflow's environment on main), the platform's runtime
accounts, which the deploy may act as and nothing more, the platform's Google APIs and the
secrets of the application keys, which the operator fills before the program's first `up`.
"""

from __future__ import annotations

import delivery_roles as roles
import pulumi
from app_secrets import declare_app_secrets
from delivery_settings import ATTRIBUTE_MAPPING, GITHUB_ISSUER, DeliverySettings
from pulumi_gcp import billing, iam, kms, projects, serviceaccount, storage
from security_records import SecurityRecords


class DeliveryFoundation(pulumi.ComponentResource):
    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]
    workload_identity_provider: pulumi.Output[str]
    preview_service_account: pulumi.Output[str]
    deploy_service_account: pulumi.Output[str]
    runtime_service_accounts: dict[str, pulumi.Output[str]]
    github_environments: dict[str, str]
    app_secrets: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, settings: DeliverySettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("vidgo:bootstrap:DeliveryFoundation", name, None, opts)
        self._settings = settings
        child = pulumi.ResourceOptions(parent=self)
        # Removing an API on destroy would break whatever else in the project uses it.
        apis = [self._enable(name, api, child) for api in roles.BOOTSTRAP_APIS]
        # The main program's APIs too, so that its first `pulumi up` finds them enabled: its own
        # `projects.Service` resources then only read (the Google provider skips the enable call
        # for a service already on), and its load balancer starts at once. Nothing here waits
        # for them.
        for api in settings.platform_apis:
            if api not in roles.BOOTSTRAP_APIS:
                self._enable(name, api, child)
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=apis)
        # Every stack's state and CI's trust rest on these: `pulumi destroy` must not take them.
        kept = pulumi.ResourceOptions.merge(after_apis, pulumi.ResourceOptions(protect=True))

        bucket = self._state_bucket(name, kept)
        key = self._secrets_key(name, kept) if settings.kms else None
        pool, provider = self._github_trust(name, kept)
        trust = (pool, provider, after_apis)
        preview = self._ci_identity(
            f"{name}-preview",
            "pulumi-preview",
            "Pulumi preview (read-only)",
            settings.preview_target,
            *trust,
        )
        deploy = self._ci_identity(
            f"{name}-deploy",
            "pulumi-deploy",
            f"Pulumi deploy (GitHub environment {settings.deploy_environment})",
            settings.deploy_target,
            *trust,
        )
        self._preview_access(name, preview, bucket, key, after_apis)
        self._deploy_access(name, deploy, bucket, key)
        runtime = self._runtime_accounts(name, deploy, kept)
        # Audit configs, IAM-change alerts and the backup vault: out of the deploy's reach.
        SecurityRecords(name, settings, opts=after_apis)
        keys = declare_app_secrets(name, settings.project, settings.app_secrets, after_apis)

        self.backend_url = pulumi.Output.concat("gs://", bucket.name)
        self.secrets_provider = (
            pulumi.Output.concat("gcpkms://", key.id)
            if key is not None
            else pulumi.Output.from_input("passphrase")
        )
        self.workload_identity_provider = provider.name
        self.preview_service_account = preview.email
        self.deploy_service_account = deploy.email
        self.runtime_service_accounts = {a: account.email for a, account in runtime.items()}
        self.app_secrets = {secret_id: secret.id for secret_id, secret in keys.items()}
        # The GitHub environments the operator creates, and which identity each job there gets.
        self.github_environments = {
            settings.deploy_environment: "deploy",
            **(
                {settings.preview_environment_name: "preview"}
                if settings.preview_environment_name
                else {}
            ),
        }
        self.register_outputs(
            {
                "backend_url": self.backend_url,
                "workload_identity_provider": self.workload_identity_provider,
            }
        )

    def _enable(self, name: str, api: str, opts: pulumi.ResourceOptions) -> projects.Service:
        return projects.Service(
            f"{name}-{api.split('.')[0]}",
            project=self._settings.project,
            service=api,
            disable_on_destroy=False,
            opts=opts,
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
            # What anyone deletes (a version included) stays restorable for 90 days, the most
            # Cloud Storage allows; only a bucket admin can shorten it, and the deploy is not one.
            soft_delete_policy=storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=roles.STATE_SOFT_DELETE_SECONDS
            ),
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
            # What the condition checks is also mapped, so audit logs can name it; the
            # bindings name `attribute.target` (delivery_settings.ATTRIBUTE_MAPPING).
            attribute_mapping=dict(ATTRIBUTE_MAPPING),
            attribute_condition=s.attribute_condition,
            oidc=iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_ISSUER),
            opts=opts,
        )
        return pool, provider

    def _ci_identity(
        self,
        name: str,
        account_id: str,
        display_name: str,
        target: str,
        pool: iam.WorkloadIdentityPool,
        provider: iam.WorkloadIdentityPoolProvider,
        opts: pulumi.ResourceOptions,
    ) -> serviceaccount.Account:
        """A service account that admitted tokens with exactly this `attribute.target` may
        impersonate (`environment:NAME`, or `pull_request`).

        The provider's condition admits both kinds of token; this binding decides which of
        them may become which account. It names a mapped attribute, not the subject, so it
        holds for both of GitHub's subject formats.
        """
        account = serviceaccount.Account(
            name,
            project=self._settings.project,
            account_id=account_id,
            display_name=display_name,
            opts=opts,
        )
        principal = pool.name.apply(
            lambda pool_name: (
                f"principalSet://iam.googleapis.com/{pool_name}/attribute.target/{target}"
            )
        )
        serviceaccount.IAMMember(
            f"{name}-wif",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=principal,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[provider]),
        )
        return account

    def _preview_access(
        self,
        name: str,
        account: serviceaccount.Account,
        bucket: storage.Bucket,
        key: kms.CryptoKey | None,
        after_apis: pulumi.ResourceOptions,
    ) -> None:
        s, child = self._settings, pulumi.ResourceOptions(parent=self)
        project_roles = list(roles.preview_project_roles())
        if s.billing_account:
            project_roles.append(roles.BILLING_PREVIEW_PROJECT_ROLE)
            billing.AccountIamMember(
                f"{name}-preview-budgets",
                billing_account_id=s.billing_account,
                role=roles.BILLING_PREVIEW_ROLE,
                member=account.member,
                opts=child,
            )
        for role in project_roles:
            projects.IAMMember(
                f"{name}-preview-{_slug(role)}",
                project=s.project,
                role=role,
                member=account.member,
                opts=child,
            )
        # The reads of a refresh no predefined read-only role narrower than roles/viewer holds;
        # each is explained in delivery_roles.py. No secret payload among them.
        refresh = projects.IAMCustomRole(
            f"{name}-preview-refresh-role",
            project=s.project,
            role_id=roles.PREVIEW_REFRESH_ROLE_ID,
            title="VidGo preview refresh",
            description="Reads of a Pulumi refresh that no narrow viewer role holds: the "
            "Memorystore AUTH string, the PSA peering, bucket settings "
            "(bootstrap/delivery_roles.py).",
            permissions=list(roles.PREVIEW_REFRESH_PERMISSIONS),
            stage="GA",
            opts=after_apis,
        )
        projects.IAMMember(
            f"{name}-preview-refresh",
            project=s.project,
            role=refresh.name,
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
        self,
        name: str,
        account: serviceaccount.Account,
        bucket: storage.Bucket,
        key: kms.CryptoKey | None,
    ) -> None:
        s, child = self._settings, pulumi.ResourceOptions(parent=self)
        # The one project-level grant that keeps a condition: storage admin must reach the
        # media bucket the program creates, and never the state bucket.
        conditions = {
            "roles/storage.admin": projects.IAMMemberConditionArgs(
                title="not the state bucket",
                expression=roles.outside_bucket_condition(s.state_bucket),
            ),
        }
        for role in roles.deploy_project_roles():
            projects.IAMMember(
                f"{name}-deploy-{_slug(role)}",
                project=s.project,
                role=role,
                member=account.member,
                condition=conditions.get(role),
                opts=child,
            )
        storage.BucketIAMMember(
            f"{name}-deploy-writes-state",
            bucket=bucket.name,
            role=roles.DEPLOY_STATE_BUCKET_ROLE,
            member=account.member,
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

    def _runtime_accounts(
        self, name: str, deploy: serviceaccount.Account, opts: pulumi.ResourceOptions
    ) -> dict[str, serviceaccount.Account]:
        """The platform's runtime identities, each usable (actAs) by the deploy identity only,
        with their project roles (logs, metrics, traces, the Cloud SQL client)."""
        s = self._settings
        accounts = {}
        for account_id, project_roles in s.runtime_accounts.items():
            account = serviceaccount.Account(
                f"{name}-runtime-{account_id}",
                project=s.project,
                account_id=account_id,
                display_name=f"VidGo runtime identity {account_id}",
                opts=opts,
            )
            serviceaccount.IAMMember(
                f"{name}-deploy-acts-as-{account_id}",
                service_account_id=account.name,
                role=roles.RUNTIME_ACCOUNT_ROLE,
                member=deploy.member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in project_roles:
                projects.IAMMember(
                    f"{name}-runtime-{account_id}-{_slug(role)}",
                    project=s.project,
                    role=role,
                    member=account.member,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            accounts[account_id] = account
        return accounts

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
