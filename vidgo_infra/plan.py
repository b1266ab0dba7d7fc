"""Render an inventory as `pulumi preview` would list it, with each resource's key settings."""

from __future__ import annotations

import json
import shutil
import sys
from collections import defaultdict
from typing import Any

from vidgo_infra.offline import is_stand_in
from vidgo_infra.provider_rules.check import lookup

AFTER_UP = "(known after pulumi up)"
MAX_WIDTH = 120


def output_width() -> int:
    """120 columns, or the terminal's width when it is narrower."""
    if not sys.stdout.isatty():
        return MAX_WIDTH
    return max(60, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


def shown(value: Any) -> str:
    """A value as the plan prints it: stand-ins for what Google computes are marked, not shown."""
    if is_stand_in(value):
        return AFTER_UP
    return value if isinstance(value, str) else json.dumps(value)


# Type token → the settings a reviewer looks for first: (label, input path).
KEY_SETTINGS: dict[str, list[tuple[str, str]]] = {
    "gcp:projects/service:Service": [("api", "service")],
    "gcp:compute/network:Network": [("auto_subnets", "autoCreateSubnetworks")],
    "gcp:compute/subnetwork:Subnetwork": [
        ("range", "ipCidrRange"),
        ("flow_logs", "logConfig.flowSampling"),
    ],
    "gcp:compute/globalAddress:GlobalAddress": [
        ("name", "name"),
        ("range", "address"),
        ("prefix", "prefixLength"),
        ("purpose", "purpose"),
    ],
    "gcp:sql/databaseInstance:DatabaseInstance": [
        ("name", "name"),
        ("version", "databaseVersion"),
        ("tier", "settings.tier"),
        ("disk_gb", "settings.diskSize"),
        ("disk", "settings.diskType"),
        ("availability", "settings.availabilityType"),
        ("public_ip", "settings.ipConfiguration.ipv4Enabled"),
        ("backups", "settings.backupConfiguration.startTime"),
        ("kept", "settings.backupConfiguration.backupRetentionSettings.retainedBackups"),
    ],
    "gcp:sql/database:Database": [("name", "name")],
    "gcp:sql/user:User": [("name", "name")],
    "gcp:redis/instance:Instance": [
        ("name", "name"),
        ("version", "redisVersion"),
        ("tier", "tier"),
        ("size_gb", "memorySizeGb"),
        ("auth", "authEnabled"),
        ("tls", "transitEncryptionMode"),
    ],
    "gcp:storage/bucket:Bucket": [
        ("name", "name"),
        ("location", "location"),
        ("public_access", "publicAccessPrevention"),
        ("cors", "cors[0].origins"),
    ],
    "gcp:secretmanager/secret:Secret": [("id", "secretId")],
    "gcp:artifactregistry/repository:Repository": [
        ("id", "repositoryId"),
        ("format", "format"),
    ],
    "gcp:serviceaccount/account:Account": [("id", "accountId")],
    "gcp:projects/iAMMember:IAMMember": [("role", "role")],
    "gcp:secretmanager/secretIamMember:SecretIamMember": [("role", "role")],
    "gcp:storage/bucketIAMMember:BucketIAMMember": [("role", "role")],
    "gcp:cloudrunv2/service:Service": [
        ("name", "name"),
        ("cpu", "template.containers[0].resources.limits.cpu"),
        ("memory", "template.containers[0].resources.limits.memory"),
        ("min", "template.scaling.minInstanceCount"),
        ("max", "template.scaling.maxInstanceCount"),
        ("concurrency", "template.maxInstanceRequestConcurrency"),
        ("timeout", "template.timeout"),
        ("ingress", "ingress"),
        ("egress", "template.vpcAccess.egress"),
        ("image", "template.containers[0].image"),
    ],
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": [
        ("type", "networkEndpointType"),
    ],
    "gcp:compute/backendService:BackendService": [
        ("scheme", "loadBalancingScheme"),
        ("cdn", "enableCdn"),
    ],
    "gcp:compute/backendBucket:BackendBucket": [("cdn", "enableCdn")],
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": [("domains", "managed.domains")],
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": [
        ("domain", "domain"),
        ("type", "type"),
    ],
    "gcp:certificatemanager/certificate:Certificate": [("domains", "managed.domains")],
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": [
        ("hostname", "hostname"),
        ("matcher", "matcher"),
    ],
    "gcp:compute/sSLPolicy:SSLPolicy": [("profile", "profile"), ("min_tls", "minTlsVersion")],
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": [
        ("port", "portRange"),
        ("scheme", "loadBalancingScheme"),
    ],
    "gcp:compute/uRLMap:URLMap": [("hosts", "hostRules")],
    "gcp:monitoring/alertPolicy:AlertPolicy": [("title", "displayName")],
    "gcp:monitoring/notificationChannel:NotificationChannel": [("email", "labels.email_address")],
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": [("check", "displayName")],
}


def key_settings(resource: dict[str, Any]) -> list[str]:
    inputs = resource.get("inputs") or {}
    parts = []
    for label, path in KEY_SETTINGS.get(resource["type"], []):
        value = lookup(inputs, path)
        if label == "hosts" and isinstance(value, list):
            value = [host for rule in value for host in rule.get("hosts", [])]
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        parts.append(f"{label}={shown(value) if is_stand_in(value) else value}")
    if resource["type"] == "gcp:compute/securityPolicy:SecurityPolicy":
        parts.append(f"rules={len(inputs.get('rules') or [])}")
    if resource["type"] == "gcp:compute/globalAddress:GlobalAddress" and "purpose" not in inputs:
        parts.append(f"address={AFTER_UP}")
    return parts


def render_tree(document: dict[str, Any], width: int = MAX_WIDTH) -> list[str]:
    resources = document["resources"]
    children: dict[str | None, list[str]] = defaultdict(list)
    for name, resource in resources.items():
        children[resource["parent"]].append(name)

    lines = [f"pulumi:pulumi:Stack  vidgo-infra-{document['stack']}"]

    def walk(parent: str | None, prefix: str) -> None:
        names = sorted(children[parent], key=lambda n: (bool(children[n]), resources[n]["type"], n))
        for i, name in enumerate(names):
            last = i == len(names) - 1
            resource = resources[name]
            flags = "  [protected]" if resource.get("protect") else ""
            line = f"{prefix}{'└─ ' if last else '├─ '}{resource['type']}  {name}{flags}"
            below = prefix + ("   " if last else "│  ")
            # Settings that do not fit go on lines of their own, under the resource's name.
            indent = below + ("│  " if children[name] else "   ") + "   "
            for part in key_settings(resource):
                if len(line) + 2 + len(part) <= width:
                    line += f"  {part}"
                else:
                    lines.append(line)
                    line = fitted(indent + part, width)
            lines.append(line)
            walk(name, below)

    walk(None, "")
    return lines


def render_capacity(config: Any, width: int = MAX_WIDTH) -> list[str]:
    """The connection budgets (limit, per-instance pool, headroom) and the subnet's addresses:
    what the stack's config validation has already checked fits (stacks/capacity.py)."""
    import textwrap

    need = config.subnet_need
    texts = [budget.line() for budget in (config.database_budget, config.redis_budget)]
    texts.append(
        f"subnet addresses: {config.network.subnet_range} has {need.usable}; Cloud Run needs "
        f"about {need.steady}, {need.rollout} during a revision roll-out "
        f"({need.instances} max instances with Direct VPC egress)"
    )
    wrap = textwrap.TextWrapper(width, initial_indent="  ", subsequent_indent="      ")
    return [line for text in texts for line in wrap.wrap(text)]


def render_counts(document: dict[str, Any]) -> list[str]:
    counts = document["counts"]
    width = max(len(t) for t in counts)
    total = sum(n for t, n in counts.items() if not t.startswith("vidgo:"))
    lines = [f"  {t:<{width}}  {n:>3}" for t, n in counts.items()]
    return [*lines, f"  {'resources (components not counted)':<{width}}  {total:>3}"]


def render_dns(document: dict[str, Any]) -> list[str]:
    """The GoDaddy records in the order they go in: the CNAMEs that let Google issue the
    certificates, then, once every certificate is ACTIVE, the A records (docs/cutover.md)."""
    outputs = document["outputs"]
    records = outputs.get("dns_records") or []
    cnames = [r for r in records if r["type"] == "CNAME"]
    others = [r for r in records if r["type"] != "CNAME"]
    width = max([len(r["name"]) for r in records] + [len("Name")])
    lines = [f"  zone {outputs.get('dns_zone')} at GoDaddy:"]

    def table(title: str, rows: list[dict[str, Any]]) -> None:
        lines.append(title)
        lines.append(f"     {'Type':<6} {'Name':<{width}}  {'Value':<26} TTL")
        for record in rows:
            value = AFTER_UP if is_stand_in(record["value"]) else record["value"]
            lines.append(
                f"     {record['type']:<6} {record['name']:<{width}}  {value:<26} {record['ttl']}"
            )

    if cnames:
        table(
            "  1. Add these CNAMEs (and keep them: renewals use them); Google then issues each "
            "host's certificate",
            cnames,
        )
        table(
            "  2. Once every certificate is ACTIVE, point these A records at the static IP", others
        )
    else:
        table("  A records (classic certificates issue only after these resolve):", others)
    return lines


def render_outputs(document: dict[str, Any], width: int = MAX_WIDTH) -> list[str]:
    """Each output as JSON (what `pulumi stack output --json` prints), stand-ins marked."""
    lines = []
    for key, value in document["outputs"].items():
        if key == "dns_records":  # shown as the GoDaddy table above
            continue
        # An object is shown key by key (`pulumi stack output service_urls.api` style paths).
        items = value.items() if isinstance(value, dict) and value else [(None, value)]
        for sub, item in items:
            text = AFTER_UP if is_stand_in(item) else json.dumps(_marked(item))
            lines.append(fitted(f"  {key}{'.' + sub if sub else ''}: {text}", width))
    return lines


def _marked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v) for v in value]
    return AFTER_UP if is_stand_in(value) else value


def fitted(line: str, width: int) -> str:
    """A line cut to `width` columns, marked where it was cut."""
    return line if len(line) <= width else line[: width - 1] + "…"
