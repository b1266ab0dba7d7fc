"""Load balancing and the edge: forwarding rules, Cloud Armor, Certificate Manager's
certificates, and delivery through the CDN.

Delivery is priced once for the stack (bytes to users do not belong to one resource): cacheable
bytes behind a CDN-enabled backend as Cloud CDN cache egress, the rest as internet egress, and
what passes through the load balancer as its data processing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, USAGE, Context
from vidgo_infra.cost.rules import run
from vidgo_infra.cost.rules.shared import refers_to

GLOBAL_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
CERTIFICATE = "gcp:certificatemanager/certificate:Certificate"


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


def certificate(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    # Billed per certificate a month, the first 100 of a project free (prices.yaml).
    domains = ",".join((resource["inputs"].get("managed") or {}).get("domains") or [])
    ctx.charge(
        "Load Balancer",
        name,
        "certificate",
        "certificate_manager.certificate",
        1,
        FIXED,
        region="global",
        detail=domains,
    )


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
        if backend.get("type", "").endswith(":BackendService") and refers_to(backend, name, policy)
    ]
    return sum(_requests_of_backend(ctx, backend) for backend in backends)


def _requests_of_backend(ctx: Context, backend: dict[str, Any]) -> int:
    requests = 0
    for neg_name, neg in sorted(ctx.resources.items()):
        if neg.get("type", "").endswith("NetworkEndpointGroup") and refers_to(
            backend, neg_name, neg
        ):
            service = ((neg.get("inputs") or {}).get("cloudRun") or {}).get("service")
            for run_name, service_resource in ctx.of_type(run.SERVICE):
                if (service_resource.get("inputs") or {}).get("name") == service:
                    usage = run.service_usage(ctx, run_name, service_resource)
                    requests += (usage or (0, 0))[0]
    return requests


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


def delivery(ctx: Context) -> None:
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
