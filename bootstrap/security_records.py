"""What a compromised deploy identity cannot undo: the audit logs, the alerts on IAM changes, and
a copy of the database it cannot delete.

All of it is declared here, by the operator's credentials, and none of it is within the deploy
identity's roles: it holds no projectIamAdmin (so no audit config), no logging.configWriter,
no Backup and DR role. What it can still do, and what then happens, is in docs/delivery.md
("What a compromised deploy cannot undo").
"""

from __future__ import annotations

from typing import Any

import delivery_roles as roles
import pulumi
from delivery_settings import DeliverySettings
from pulumi_gcp import backupdisasterrecovery, monitoring, projects

# Admin Activity entries (always written, nobody can turn them off) of the changes that widen
# access or blind the records, CIS GCP 2.4-2.11 style, as one log-match condition: each entry
# is mailed with its method, principal and resource.
WATCHED_CHANGES = {
    # The project's IAM policy; an audit config change is a SetIamPolicy with auditConfigDeltas.
    "project IAM policy or audit config": (
        'protoPayload.serviceName="cloudresourcemanager.googleapis.com" '
        'AND protoPayload.methodName="SetIamPolicy"'
    ),
    "secret IAM policy": (
        'protoPayload.serviceName="secretmanager.googleapis.com" '
        'AND protoPayload.methodName:"SetIamPolicy"'
    ),
    "bucket IAM policy": 'protoPayload.methodName="storage.setIamPermissions"',
    # Who may impersonate the CI accounts: the Workload Identity pool, its provider (the
    # condition), and service-account IAM policies.
    "Workload Identity pool, provider or service-account IAM": (
        'protoPayload.serviceName="iam.googleapis.com" '
        'AND (protoPayload.methodName:"WorkloadIdentityPool" '
        'OR protoPayload.methodName="google.iam.admin.v1.SetIAMPolicy")'
    ),
    "state key": (
        'protoPayload.serviceName="cloudkms.googleapis.com" '
        'AND protoPayload.resourceName:"/cryptoKeys/stack-secrets" '
        'AND NOT protoPayload.methodName=("Decrypt" OR "Encrypt" OR "GetCryptoKey")'
    ),
    # cloudsql.admin (the deploy's) may detach the database from its backup plan: no more new
    # copies, though the vault keeps the ones it has.
    "backup plan or vault": (
        'protoPayload.serviceName="backupdr.googleapis.com" '
        'AND protoPayload.methodName:("Delete" OR "Update")'
    ),
}
# Admin Activity only: a read never matches, and Data Access entries are not what this watches.
ADMIN_ACTIVITY = 'logName:"cloudaudit.googleapis.com%2Factivity"'


def watched_filter() -> str:
    either = " OR ".join(f"({rule})" for rule in WATCHED_CHANGES.values())
    return f"{ADMIN_ACTIVITY} AND ({either})"


class SecurityRecords(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: DeliverySettings,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("vidgo:bootstrap:SecurityRecords", name, None, opts)
        self._settings = settings
        # Each child waits for the APIs itself (logging, monitoring, backupdr): a component's
        # depends_on does not hold its children back.
        depends = opts.depends_on if opts else None
        after_apis: list[Any] = (
            depends if isinstance(depends, list) else [depends] if depends else []
        )
        child = pulumi.ResourceOptions(parent=self, depends_on=after_apis)
        self._audit_configs(name, child)
        self._alerts(name, child)
        self._vault(name, pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)))
        self.register_outputs({})

    def _audit_configs(self, name: str, opts: pulumi.ResourceOptions) -> None:
        for service in roles.AUDITED_SERVICES:
            projects.IAMAuditConfig(
                f"{name}-audit-{service.split('.')[0]}",
                project=self._settings.project,
                service=service,
                audit_log_configs=[
                    projects.IAMAuditConfigAuditLogConfigArgs(log_type=log_type)
                    for log_type in roles.AUDIT_LOG_TYPES
                ],
                opts=opts,
            )

    def _alerts(self, name: str, opts: pulumi.ResourceOptions) -> None:
        s = self._settings
        channels = [
            monitoring.NotificationChannel(
                f"{name}-security-email-{index}",
                project=s.project,
                type="email",
                display_name=f"Security alerts: {email}",
                labels={"email_address": email},
                opts=opts,
            ).name
            for index, email in enumerate(s.security_alert_emails)
        ]
        monitoring.AlertPolicy(
            f"{name}-access-changes",
            project=s.project,
            display_name="IAM, audit config, Workload Identity, state key or backup change",
            combiner="OR",
            conditions=[
                monitoring.AlertPolicyConditionArgs(
                    display_name="An access or audit setting changed",
                    condition_matched_log=monitoring.AlertPolicyConditionConditionMatchedLogArgs(
                        filter=watched_filter(),
                        label_extractors={
                            "method": "EXTRACT(protoPayload.methodName)",
                            "principal": "EXTRACT(protoPayload.authenticationInfo.principalEmail)",
                            "resource": "EXTRACT(protoPayload.resourceName)",
                        },
                    ),
                )
            ],
            # Required for log-match conditions: at most one mail per 5 minutes.
            alert_strategy=monitoring.AlertPolicyAlertStrategyArgs(
                notification_rate_limit=monitoring.AlertPolicyAlertStrategyNotificationRateLimitArgs(
                    period="300s"
                ),
                auto_close="1800s",
            ),
            notification_channels=channels,
            documentation=monitoring.AlertPolicyDocumentationArgs(
                content="Someone changed who can act in this project or what is recorded. If it "
                "was not a reviewed `boot up`, see docs/delivery.md, 'What a compromised deploy "
                "cannot undo'.",
                mime_type="text/markdown",
            ),
            opts=opts,
        )

    def _vault(self, name: str, opts: pulumi.ResourceOptions) -> None:
        """Cloud SQL enhanced backups into a Backup and DR vault whose enforced retention no
        principal can shorten per backup: the deploy identity's cloudsql.admin may delete the
        instance, never these copies."""
        s = self._settings
        retention = s.backup_retention_days
        vault = backupdisasterrecovery.BackupVault(
            f"{name}-sql-vault",
            project=s.project,
            location=s.region,
            backup_vault_id="vidgo-sql",
            description="Cloud SQL backups out of the deploy identity's reach (bootstrap).",
            backup_minimum_enforced_retention_duration=f"{retention * 24 * 3600}s",
            access_restriction="WITHIN_PROJECT",
            opts=opts,
        )
        plan = backupdisasterrecovery.BackupPlan(
            f"{name}-sql-plan",
            project=s.project,
            location=s.region,
            backup_plan_id="vidgo-sql-daily",
            resource_type="sqladmin.googleapis.com/Instance",
            backup_vault=vault.name,
            backup_rules=[
                backupdisasterrecovery.BackupPlanBackupRuleArgs(
                    rule_id="daily",
                    backup_retention_days=retention,
                    standard_schedule=backupdisasterrecovery.BackupPlanBackupRuleStandardScheduleArgs(
                        recurrence_type="DAILY",
                        time_zone="UTC",
                        # 18:00-22:00 UTC is 02:00-06:00 in Taipei, the platform's quiet hours.
                        backup_window=backupdisasterrecovery.BackupPlanBackupRuleStandardScheduleBackupWindowArgs(
                            start_hour_of_day=18, end_hour_of_day=22
                        ),
                    ),
                )
            ],
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=False)),
        )
        for instance in s.backup_sql_instances:
            backupdisasterrecovery.BackupPlanAssociation(
                f"{name}-sql-backup-{instance}",
                project=s.project,
                location=s.region,
                backup_plan_association_id=f"sql-{instance}",
                resource=f"projects/{s.project}/instances/{instance}",
                resource_type="sqladmin.googleapis.com/Instance",
                backup_plan=plan.name,
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=False)),
            )
