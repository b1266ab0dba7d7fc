"""The pricing rules, one module per product area, and the registry that says which prices what.

A rule reads one resource's inputs as the program declared them (engine camelCase names) and
charges SKUs of the price file into the context, billed the way Google bills (docs/cost.md).
Stack-wide charges (delivery, secret accesses, log volume) belong to no single resource and are
priced once, after every resource. To price a new resource type: write its rule in the module of
its product area and add the type token here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vidgo_infra.cost.model import Context
from vidgo_infra.cost.rules import (
    artifact_registry,
    load_balancing,
    monitoring,
    network,
    redis,
    run,
    secrets,
    sql,
    storage,
)

Rule = Callable[[Context, str, dict[str, Any]], None]

RULES: dict[str, Rule] = {
    run.SERVICE: run.cloud_run_service,
    run.JOB: run.cloud_run_job,
    sql.INSTANCE: sql.sql_instance,
    redis.INSTANCE: redis.redis_instance,
    storage.BUCKET: storage.storage_bucket,
    artifact_registry.REPOSITORY: artifact_registry.artifact_repository,
    secrets.SECRET: secrets.secret,
    network.GLOBAL_ADDRESS: network.static_address,
    network.ADDRESS: network.static_address,
    network.CONNECTOR: network.vpc_connector,
    network.SUBNETWORK: network.subnetwork,
    network.DNS_ZONE: network.dns_zone,
    network.FIREWALL: network.firewall,
    network.DNS_POLICY: network.dns_policy,
    load_balancing.GLOBAL_RULE: load_balancing.forwarding_rule,
    load_balancing.SECURITY_POLICY: load_balancing.security_policy,
    load_balancing.CERTIFICATE: load_balancing.certificate,
    monitoring.ALERT_POLICY: monitoring.alert_policy,
    monitoring.UPTIME_CHECK: monitoring.uptime_check,
    monitoring.METRIC_DESCRIPTOR: monitoring.metric_descriptor,
}


def stack_charges(ctx: Context) -> None:
    """Bytes to users (through the load balancer when there is one), secret accesses, logs."""
    if ctx.of_type(load_balancing.GLOBAL_RULE):
        load_balancing.delivery(ctx)
    else:
        network.direct_egress(ctx)
    secrets.access_operations(ctx)
    monitoring.log_volume(ctx)
