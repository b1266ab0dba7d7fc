"""Cloud SQL for PostgreSQL on a private address, with its database, user and credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random
from pulumi_gcp import sql

from components.base import Component, PrivateServiceArgs
from components.secrets import SecretRef, stored_secret, write_only_version

# The flags the CIS GCP benchmark (section 6.2) asks of a Cloud SQL PostgreSQL instance.
CIS_POSTGRES_FLAGS = {
    "log_error_verbosity": "default",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_statement": "ddl",
    "log_min_messages": "warning",
    "log_min_error_statement": "error",
    "log_min_duration_statement": "-1",
    # pgaudit also needs `CREATE EXTENSION pgaudit;` in the database
    # (docs/operations.md, "Database").
    "cloudsql.enable_pgaudit": "on",
    # Without classes pgaudit logs nothing more: schema changes and role/privilege changes.
    "pgaudit.log": "ddl,role",
    # Lock waits longer than deadlock_timeout, and every checkpoint (I/O spikes).
    "log_lock_waits": "on",
    "log_checkpoints": "on",
}


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs(PrivateServiceArgs):
    instance_name: str
    version: str
    tier: str
    disk_type: str
    disk_size_gb: int
    disk_autoresize: bool
    availability: str
    backup_start_time: str
    backup_retention_count: int
    log_retention_days: int
    maintenance_day: int
    maintenance_hour: int
    database_name: str
    user_name: str
    flags: Mapping[str, str] = field(default_factory=dict)
    # No defaults: the stack's config decides (stacks/config.py), and a weaker value there must
    # be named in accept_weaker; a default here would be a second, unguarded source.
    ssl_mode: str
    retain_backups_on_delete: bool
    final_backup_retention_days: int  # 0: no final backup


class Database(Component):
    """The instance has no public address and accepts only encrypted connections, by default
    only from clients with a certificate Cloud SQL trusts: the Cloud SQL connector behind the
    `/cloudsql` socket presents one, and every client uses it. The user's password is generated
    here, so it is in no config file. The API gets it only inside `DATABASE_URL` (Secret Manager,
    over the Cloud SQL socket); `DB_PASSWORD` holds it alone for operators (psql through the
    Cloud SQL Auth Proxy) and is given to no service.

    Deleting the instance (only possible once protection is off) keeps its automated backups
    for their retention and takes a final backup kept `final_backup_retention_days`.
    """

    connection_name: pulumi.Output[str]
    url: SecretRef

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Database", name, opts)
        stateful = self.child(protect=args.protect)

        instance = sql.DatabaseInstance(
            f"{name}-instance",
            project=args.project,
            name=args.instance_name,
            region=args.region,
            database_version=args.version,
            final_backup_description=f"taken when {args.instance_name} was deleted"
            if args.final_backup_retention_days
            else None,
            # Cloud SQL has two guards; both on in a protected stack, both off otherwise,
            # or `pulumi destroy` of staging fails on the one left on.
            deletion_protection=args.protect,
            settings=sql.DatabaseInstanceSettingsArgs(
                tier=args.tier,
                edition="ENTERPRISE",
                availability_type=args.availability,
                disk_type=args.disk_type,
                disk_size=args.disk_size_gb,
                disk_autoresize=args.disk_autoresize,
                deletion_protection_enabled=args.protect,
                retain_backups_on_delete=args.retain_backups_on_delete,
                # Cloud SQL rejects a retention on a disabled final backup.
                final_backup_config=sql.DatabaseInstanceSettingsFinalBackupConfigArgs(
                    enabled=True, retention_days=args.final_backup_retention_days
                )
                if args.final_backup_retention_days
                else sql.DatabaseInstanceSettingsFinalBackupConfigArgs(enabled=False),
                user_labels=dict(args.labels),
                ip_configuration=sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=args.network_id,
                    ssl_mode=args.ssl_mode,
                ),
                backup_configuration=sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    start_time=args.backup_start_time,
                    point_in_time_recovery_enabled=True,
                    transaction_log_retention_days=args.log_retention_days,
                    backup_retention_settings=sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=args.backup_retention_count,
                        retention_unit="COUNT",
                    ),
                ),
                maintenance_window=sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=args.maintenance_day, hour=args.maintenance_hour, update_track="stable"
                ),
                insights_config=sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True,
                    record_application_tags=True,
                    record_client_address=False,
                ),
                database_flags=[
                    sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=key, value=value)
                    for key, value in sorted({**CIS_POSTGRES_FLAGS, **args.flags}.items())
                ],
            ),
            # Cloud SQL grows the disk by itself: without this, the next (refreshed) `up` would
            # try to shrink it back, which means replacing the instance.
            opts=self.child(
                protect=args.protect,
                depends_on=[args.private_services],
                ignore_changes=["settings.diskSize"] if args.disk_autoresize else [],
            ),
        )

        # ABANDON: dropping a database or a role that owns objects fails, and neither should be
        # dropped by Pulumi anyway; they go with the instance.
        database = sql.Database(
            f"{name}-database",
            project=args.project,
            instance=instance.name,
            name=args.database_name,
            deletion_policy="ABANDON",
            opts=stateful,
        )
        password = random.RandomPassword(
            f"{name}-password",
            length=32,
            special=False,  # the password goes into a URL unescaped
            opts=self.child(),
        )
        # Write-only, like the secret versions: a refresh never reads a password back (Cloud SQL
        # returns none anyway), and the state holds it only encrypted. The counter follows the
        # generated value, so replacing the RandomPassword rotates the user's password.
        user = sql.User(
            f"{name}-user",
            project=args.project,
            instance=instance.name,
            name=args.user_name,
            password_wo=password.result,
            password_wo_version=write_only_version(f"{args.user_name}@sql", password.result),
            deletion_policy="ABANDON",
            opts=pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(additional_secret_outputs=["passwordWoVersion"])
            ),
        )

        self.connection_name = instance.connection_name
        stored_secret(
            f"{name}-password-secret",
            project=args.project,
            secret_id="DB_PASSWORD",
            value=password.result,
            labels=args.labels,
            opts=stateful,
        )
        url = pulumi.Output.all(user.name, password.result, database.name, self.connection_name)
        self.url = stored_secret(
            f"{name}-url-secret",
            project=args.project,
            secret_id="DATABASE_URL",
            value=url.apply(
                lambda parts: (
                    f"postgresql://{parts[0]}:{parts[1]}@/{parts[2]}?host=/cloudsql/{parts[3]}"
                )
            ),
            labels=args.labels,
            opts=stateful,
        )
        self.register_outputs({"connection_name": self.connection_name})
