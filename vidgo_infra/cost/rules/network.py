"""Networking: static addresses, the VPC connector, VPC flow logs, firewall logs, DNS zones and
query logging, direct egress."""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, PROJECT, USAGE, Context
from vidgo_infra.cost.rules import run, storage
from vidgo_infra.cost.rules.shared import refers_to

GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
ADDRESS = "gcp:compute/address:Address"
CONNECTOR = "gcp:vpcaccess/connector:Connector"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
DNS_ZONE = "gcp:dns/managedZone:ManagedZone"
FIREWALL = "gcp:compute/firewall:Firewall"
DNS_POLICY = "gcp:dns/policy:Policy"


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
    return kind.endswith("orwardingRule") and refers_to(source, name, address)


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


def firewall(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    """A firewall rule is free; Firewall Rules Logging is a vended network log, like flow logs."""
    if not resource["inputs"].get("logConfig"):
        return
    logs = ("firewall rules logging", "logging.vended_network_logs", ctx.usage.firewall_log_gib)
    ctx.charge("Monitoring & Logging", name, *logs, USAGE, "global")


def dns_policy(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    """A DNS server policy is free; its query logs are ordinary Cloud Logging volume."""
    if not resource["inputs"].get("enableLogging"):
        return
    logs = ("DNS query logging", "logging.storage", ctx.usage.dns_query_log_gib)
    ctx.charge("Monitoring & Logging", name, *logs, USAGE, "global")


def dns_zone(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    ctx.charge("Networking", name, "managed zone", "cloud_dns.managed_zone", 1, FIXED, "global")


def direct_egress(ctx: Context) -> None:
    """No load balancer: the services and the bucket serve users directly, as internet egress."""
    usage = ctx.usage
    if usage.egress_gb and (ctx.of_type(run.SERVICE) or ctx.of_type(storage.BUCKET)):
        egress = ("internet egress", "network.internet_egress", usage.egress_gb, USAGE)
        ctx.charge("Networking", PROJECT, *egress)
