"""Memorystore for Redis on the VPC, with AUTH and TLS, its credentials in Secret Manager."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import redis

from components.base import Component, PrivateServiceArgs
from components.secrets import SecretRef, stored_secret


@dataclass(frozen=True, kw_only=True)
class RedisArgs(PrivateServiceArgs):
    instance_name: str
    version: str
    tier: str
    memory_size_gb: int
    rdb_snapshot_period: str  # ONE_HOUR ... TWENTY_FOUR_HOURS, or DISABLED
    maintenance_day: int  # 1 = Monday ... 7 = Sunday
    maintenance_hour: int  # UTC


WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


class Redis(Component):
    """AUTH and in-transit encryption are both on. The TLS mode is fixed at creation (the
    provider replaces the instance, and its data, to change it); AUTH can be turned on or off in
    place. With TLS the client must trust the instance's own CA, so the API gets `REDIS_URL`
    (rediss://, with the AUTH string) and `REDIS_CA_CERT` from Secret Manager.

    RDB persistence: Memorystore snapshots the data every `rdb_snapshot_period` and, after a
    restart or a lost node, starts from the latest snapshot instead of empty (Basic Tier too).
    Maintenance happens in a weekly one-hour window.

    The instance takes its address from the private services range (PRIVATE_SERVICE_ACCESS),
    like Cloud SQL, so no second range is reserved and none can drift (reserved_ip_range is left
    to Google).
    """

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    url: SecretRef
    ca_cert: SecretRef

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Redis", name, opts)
        instance = redis.Instance(
            f"{name}-instance",
            project=args.project,
            name=args.instance_name,
            region=args.region,
            tier=args.tier,
            memory_size_gb=args.memory_size_gb,
            redis_version=args.version,
            authorized_network=args.network_id,
            connect_mode="PRIVATE_SERVICE_ACCESS",
            auth_enabled=True,
            transit_encryption_mode="SERVER_AUTHENTICATION",
            persistence_config=redis.InstancePersistenceConfigArgs(
                persistence_mode="DISABLED", rdb_snapshot_period=None
            )
            if args.rdb_snapshot_period == "DISABLED"
            else redis.InstancePersistenceConfigArgs(
                persistence_mode="RDB", rdb_snapshot_period=args.rdb_snapshot_period
            ),
            maintenance_policy=redis.InstanceMaintenancePolicyArgs(
                weekly_maintenance_windows=[
                    redis.InstanceMaintenancePolicyWeeklyMaintenanceWindowArgs(
                        day=WEEKDAYS[args.maintenance_day - 1],
                        start_time=redis.InstanceMaintenancePolicyWeeklyMaintenanceWindowStartTimeArgs(
                            hours=args.maintenance_hour, minutes=0, seconds=0, nanos=0
                        ),
                    )
                ]
            ),
            labels=dict(args.labels),
            deletion_protection=args.protect,
            opts=self.child(protect=args.protect, depends_on=[args.private_services]),
        )
        self.host = instance.host
        self.port = instance.port
        url = pulumi.Output.all(instance.auth_string, instance.host, instance.port)
        self.url = stored_secret(
            f"{name}-url-secret",
            project=args.project,
            secret_id="REDIS_URL",
            value=url.apply(lambda p: f"rediss://:{p[0]}@{p[1]}:{p[2]}/0"),
            labels=args.labels,
            opts=self.child(protect=args.protect),
        )
        self.ca_cert = stored_secret(
            f"{name}-ca-secret",
            project=args.project,
            secret_id="REDIS_CA_CERT",
            # Every current CA: while Memorystore rotates its CA, clients must trust both.
            value=instance.server_ca_certs.apply(
                lambda certs: "\n".join(cert.cert for cert in certs if cert.cert)
            ),
            labels=args.labels,
            opts=self.child(protect=args.protect),
        )
        self.register_outputs({"host": self.host, "port": self.port})
