"""Pricing rules for the edge, networking and monitoring; the stack-wide charges; all rules.

Delivery is priced once for the stack (bytes to users do not belong to one resource): cacheable
bytes behind a CDN-enabled backend as Cloud CDN cache egress, the rest as internet egress, and
what passes through the load balancer as its data processing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from vidgo_infra.cost import rules
from vidgo_infra.cost.model import FIXED, PROJECT, USAGE, Context

Rule = Callable[[Context, str, dict[str, Any]], None]

GLOBAL_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
UPTIME_LOCATIONS = 6  # "all regions": three checkers in the USA, Europe, South America, APAC
ALERT_PERIOD_SECONDS = 30  # how often a condition is evaluated (Google's pricing examples)


# --- addresses, forwarding rules, Cloud Armor ---------------------------------------------------


def static_address(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    if inputs.get("addressType") == "INTERNAL" or inputs.get("purpose"):
        return  # an internal range reservation (private services access): free
    users = [n for n, r in sorted(ctx.resources.items()) if _uses_address(r, name, resource)]
    region = "global" if resource["type"].endswith("GlobalAddress") else ctx.region_of(resource)
    sku, item = "ip.static_external.unused", "reserved static IPv4"
    bill = partial(ctx.charge, "Networking", name, item, sku, ctx.hours, FIXED, region)
    if users:  # free while a forwarding rule uses it
        bill(waived=f"in use by {', '.join(users)}: no charge")
    else:
        bill(detail="used by no forwarding rule")


def _uses_address(source: dict[str, Any], name: str, address: dict[str, Any]) -> bool:
    kind = source.get("type", "")
    return kind.endswith("orwardingRule") and rules.refers_to(source, name, address)


def forwarding_rule(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    # One flat hourly charge covers a project's first five global forwarding rules; each rule
    # after them has its own, smaller, hourly charge.
    names = [n for n, _ in ctx.of_type(GLOBAL_RULE)]
    index = names.index(name)
    rule = ("Load Balancer", name, "forwarding rule")
    bill = partial(ctx.charge, *rule, quantity=ctx.hours, kind=FIXED, region="global")
    flat, declared = "lb.forwarding_rule.global_first_5", f"{len(names)} declared"
    if index == 0:
        bill(sku=flat, detail=f"flat charge for rules 1-5, {declared}")
    elif index < 5:
        bill(sku=flat, detail="one of the first five", waived=f"in the flat charge on {names[0]}")
    else:
        bill(sku="lb.forwarding_rule.global_additional", detail="beyond the first five")


def security_policy(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    count = len(resource["inputs"].get("rules") or [])
    bill = partial(ctx.charge, "Cloud Armor", name, region="global")
    bill("security policy", "cloud_armor.policy", 1, FIXED)
    bill("rules", "cloud_armor.rule", count, FIXED, detail=f"{count}, the default rule included")
    requests = _requests_evaluated(ctx, name, resource)
    bill("requests evaluated", "cloud_armor.requests", requests, USAGE)


def _requests_evaluated(ctx: Context, name: str, policy: dict[str, Any]) -> int:
    if ctx.usage.armor_requests is not None:
        return ctx.usage.armor_requests
    ctx.assume(
        "Cloud Armor: every request to a backend with a security policy is evaluated "
        "(the requests of the Cloud Run services behind it)."
    )
    backends = [
        backend
        for _, backend in sorted(ctx.resources.items())
        if backend.get("type", "").endswith(":BackendService")
        and rules.refers_to(backend, name, policy)
    ]
    return sum(_requests_of_backend(ctx, backend) for backend in backends)


def _requests_of_backend(ctx: Context, backend: dict[str, Any]) -> int:
    requests = 0
    for neg_name, neg in sorted(ctx.resources.items()):
        if neg.get("type", "").endswith("NetworkEndpointGroup") and rules.refers_to(
            backend, neg_name, neg
        ):
            service = ((neg.get("inputs") or {}).get("cloudRun") or {}).get("service")
            for run_name, run in ctx.of_type(rules.RUN):
                if (run.get("inputs") or {}).get("name") == service:
                    requests += (rules.service_usage(ctx, run_name, run) or (0, 0))[0]
    return requests


# --- networking, logging, monitoring ------------------------------------------------------------


def vpc_connector(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    machine, minimum = inputs.get("machineType") or "e2-micro", int(inputs.get("minInstances") or 2)
    bill = partial(ctx.charge, "Networking", name, region=ctx.region_of(resource))
    vms = ("connector VMs (min instances)", f"compute.vm.{machine}", minimum * ctx.hours, FIXED)
    bill(*vms, detail=f"{minimum} x {machine}")
    ctx.assume(
        "VPC connector: its minimum instances run all month; scale-out to max instances "
        f"({inputs.get('maxInstances', '?')}) under load is not modelled."
    )


def subnetwork(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    if not resource["inputs"].get("logConfig"):
        return  # a subnet itself is free
    group, flow = "Monitoring & Logging", ctx.usage.flow_log_gib
    sku = "logging.vended_network_logs"
    ctx.charge(group, name, "VPC flow logs storage", sku, flow, USAGE, "global")
    why = "network telemetry pricing is not in vidgo_infra/prices.yaml"
    ctx.unpriced(group, name, "VPC flow logs generation (network telemetry)", why, USAGE)


def alert_policy(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    conditions = len(resource["inputs"].get("conditions") or [])
    bill = partial(ctx.charge, "Monitoring & Logging", name, region="global")
    bill("alerting conditions", "monitoring.alert_condition", conditions, FIXED)
    series = conditions * ctx.seconds / ALERT_PERIOD_SECONDS
    bill("time series returned", "monitoring.alert_time_series", series, FIXED)
    ctx.assume("Alerting: each condition returns one time series per 30-second execution period.")


def uptime_check(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    locations = len(inputs.get("selectedRegions") or []) or UPTIME_LOCATIONS
    period = float(str(inputs.get("period") or "60s").rstrip("s"))
    runs = ctx.seconds / period * locations
    bill = partial(ctx.charge, "Monitoring & Logging", name, region="global")
    shape = f"{locations} locations, every {period:g} s"
    bill("uptime check executions", "monitoring.uptime_check", runs, FIXED, detail=shape)


def metric_descriptor(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    if rules.first_of_type(ctx, resource["type"], name, "Custom metrics"):
        bill = partial(ctx.charge, "Monitoring & Logging", name, region="global")
        bill("custom metric volume", "monitoring.metric_volume", ctx.usage.custom_metric_mib, USAGE)


def dns_zone(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    ctx.charge("Networking", name, "managed zone", "cloud_dns.managed_zone", 1, FIXED, "global")


RULES: dict[str, Rule] = {
    rules.RUN: rules.cloud_run_service,
    "gcp:sql/databaseInstance:DatabaseInstance": rules.sql_instance,
    "gcp:redis/instance:Instance": rules.redis_instance,
    rules.BUCKET: rules.storage_bucket,
    "gcp:artifactregistry/repository:Repository": rules.artifact_repository,
    "gcp:secretmanager/secret:Secret": rules.secret,
    "gcp:compute/globalAddress:GlobalAddress": static_address,
    "gcp:compute/address:Address": static_address,
    GLOBAL_RULE: forwarding_rule,
    "gcp:compute/securityPolicy:SecurityPolicy": security_policy,
    "gcp:vpcaccess/connector:Connector": vpc_connector,
    "gcp:compute/subnetwork:Subnetwork": subnetwork,
    "gcp:monitoring/alertPolicy:AlertPolicy": alert_policy,
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": uptime_check,
    "gcp:monitoring/metricDescriptor:MetricDescriptor": metric_descriptor,
    "gcp:dns/managedZone:ManagedZone": dns_zone,
}


# --- the stack as a whole: delivery, secret accesses, log volume --------------------------------


def stack_charges(ctx: Context) -> None:
    usage = ctx.usage
    if ctx.of_type(GLOBAL_RULE):
        _delivery(ctx)
    elif usage.egress_gb and (ctx.of_type(rules.RUN) or ctx.of_type(rules.BUCKET)):
        # No load balancer: the services and the bucket serve users directly.
        egress = ("internet egress", "network.internet_egress", usage.egress_gb, USAGE)
        ctx.charge("Networking", PROJECT, *egress)
    if ctx.of_type("gcp:secretmanager/secret:Secret"):
        accesses = ("access operations", "secret_manager.access", usage.secret_accesses, USAGE)
        ctx.charge("Secret Manager", PROJECT, *accesses, region="global")
    if ctx.resources:
        logs = ("Cloud Logging volume (all resources)", "logging.storage", usage.log_gib, USAGE)
        ctx.charge("Monitoring & Logging", PROJECT, *logs, region="global")


def cdn_backends(ctx: Context) -> list[str]:
    return [
        name
        for name, r in sorted(ctx.resources.items())
        if r.get("type", "").split(":")[-1] in ("BackendService", "BackendBucket")
        and (r.get("inputs") or {}).get("enableCdn")
    ]


def _serving_rule(ctx: Context) -> str:
    """The forwarding rule users' bytes go through: the HTTPS one, not the port 80 redirect."""
    declared = ctx.of_type(GLOBAL_RULE)
    https = [n for n, r in declared if "443" in str((r.get("inputs") or {}).get("portRange", ""))]
    return (https or [declared[0][0]])[0]


def _delivery(ctx: Context) -> None:
    """Bytes to users through the load balancer: cached ones from the CDN, the rest from origin."""
    usage, cdn = ctx.usage, cdn_backends(ctx)
    cached = usage.egress_gb * usage.cdn_cacheable_share if cdn else 0.0
    misses = cached * (1 - usage.cdn_hit_ratio)
    origin = usage.egress_gb - cached
    if cdn:
        bill = partial(
            ctx.charge, "Cloud Storage + CDN", ", ".join(cdn), kind=USAGE, region="global"
        )
        bill(item="CDN cache egress", sku="cdn.cache_egress", quantity=cached)
        bill(item="CDN cache fill (misses)", sku="cdn.cache_fill", quantity=misses)
        bill(item="CDN cache lookups", sku="cdn.lookup", quantity=usage.cdn_requests)
    edge = _serving_rule(ctx)
    egress = "internet egress (not from a CDN cache)"
    ctx.charge("Networking", edge, egress, "network.internet_egress", origin, USAGE)
    bill = partial(ctx.charge, "Load Balancer", edge, kind=USAGE)
    bill(item="data processed, inbound", sku="lb.data_processing.inbound", quantity=usage.upload_gb)
    outbound = "data processed, outbound (CDN hits excluded)"
    bill(item=outbound, sku="lb.data_processing.outbound", quantity=origin + misses)
    ctx.assume(
        "Delivery: users are in Asia Pacific; egress_gb is every byte served to them, "
        f"{usage.cdn_cacheable_share:.0%} of it cacheable behind a CDN-enabled backend (when "
        f"there is one) with a {usage.cdn_hit_ratio:.0%} cache hit ratio."
    )
