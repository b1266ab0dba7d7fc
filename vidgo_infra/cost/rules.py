"""Pricing rules for compute and data: Cloud Run, Cloud SQL, Memorystore, storage, secrets.

Each rule reads one resource's inputs as the program declared them (engine camelCase names) and
charges SKUs of the price file into the context, billed the way Google bills (docs/cost.md).
The edge, networking and monitoring rules, and the registry of all rules, are in
vidgo_infra.cost.edge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, USAGE, Context

# Cloud Run's own defaults, used when the program leaves a value out.
DEFAULT_CPU, DEFAULT_MEMORY = "1", "512Mi"
SHARED_CORE_TIERS = ("db-f1-micro", "db-g1-small")
RUN, BUCKET = "gcp:cloudrunv2/service:Service", "gcp:storage/bucket:Bucket"


# --- parsing ------------------------------------------------------------------------------------


def parse_cpu(value: str | float) -> float:
    """Cloud Run CPU limits: "2", "0.5" or millicores "1000m" → vCPUs."""
    text = str(value).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise ValueError(f"not a CPU limit: {value!r} (expected 2, 0.5 or 1000m)") from None


_BYTES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "K": 1e3, "M": 1e6}
_BYTES |= {"G": 1e9, "T": 1e12, "": 1}


def parse_memory_gib(value: str | float) -> float:
    """Kubernetes-style quantities ("512Mi", "2Gi", "1G", bytes) → GiB, the billing unit."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|k|K|M|G|T|)\s*", str(value))
    if not match:
        raise ValueError(f"not a memory limit: {value!r} (expected 512Mi, 2Gi, 1G, ...)")
    return float(match.group(1)) * _BYTES[match.group(2)] / 2**30


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def refers_to(source: dict[str, Any], name: str, target: dict[str, Any]) -> bool:
    """Does `source` use `target`? Its dependencies say so; so does an input holding its id.

    Under the offline mocks a resource's id is "<name>-id" (vidgo_infra/offline.py).
    """
    if name in (source.get("depends_on") or []):
        return True
    own = (target.get("inputs") or {}).get("name") or name
    ids = {name, own, f"{own}-id", f"{name}-id"}
    return any(value in ids for value in _strings(source.get("inputs") or {}))


def first_of_type(ctx: Context, type_token: str, name: str, what: str) -> bool:
    """Stack-wide usage (stored GB, registry GB) is put on the first resource of its type."""
    names = [n for n, _ in ctx.of_type(type_token)]
    if len(names) > 1:
        ctx.assume(f"{what}: the whole usage profile is put on {names[0]}, none on the others.")
    return names[0] == name


# --- Cloud Run ----------------------------------------------------------------------------------


def cloud_run_service(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    template = resource["inputs"].get("template") or {}
    containers = template.get("containers") or [{}]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    cpu = sum(parse_cpu(limit.get("cpu", DEFAULT_CPU)) for limit in limits)
    memory = sum(parse_memory_gib(limit.get("memory", DEFAULT_MEMORY)) for limit in limits)
    minimum = int((template.get("scaling") or {}).get("minInstanceCount") or 0)
    bill = partial(ctx.charge, "Cloud Run", name, region=ctx.region_of(resource))
    ctx.assume(
        "Cloud Run: an instance is busy for requests x mean duration, as if no two requests "
        "overlapped (an upper bound at concurrency above 1); scale-out beyond the minimum "
        "instances and instances kept up after their last request are not modelled."
    )
    profile = service_usage(ctx, name, resource)
    if profile is None:
        why = f"the usage profile has no requests for {name} (only api_* and web_*)"
        ctx.unpriced("Cloud Run", name, "requests", why, USAGE)
    requests, mean_seconds = profile or (0, 0.0)
    busy = requests * mean_seconds
    if request_based(containers[0]):
        _request_based(ctx, bill, cpu, memory, minimum, requests, busy)
    else:
        _instance_based(ctx, bill, cpu, memory, minimum, busy)


def request_based(container: dict[str, Any]) -> bool:
    """`cpuIdle` decides the billing: true is request-based billing, false instance-based.

    Cloud Run v2 defaults it to true only when `resources` is not set at all; with resources set
    and cpuIdle left out, CPU is always allocated, which is instance-based billing.
    """
    resources = container.get("resources")
    return True if resources is None else bool(resources.get("cpuIdle", False))


def service_usage(ctx: Context, name: str, resource: dict[str, Any]) -> tuple[int, float] | None:
    """(requests, mean seconds) from the usage profile: api_* for the API, web_* for the site."""
    for key in (resource.get("parent"), name.split("-")[0]):
        if key in ("api", "web"):
            usage = ctx.usage
            return getattr(usage, f"{key}_requests"), getattr(usage, f"{key}_mean_request_seconds")
    return None


def _request_based(ctx, bill, cpu, memory, minimum, requests, busy) -> None:
    bill("vCPU serving requests", "cloud_run.request.cpu", cpu * busy, USAGE)
    bill("memory serving requests", "cloud_run.request.memory", memory * busy, USAGE)
    bill("requests", "cloud_run.request.requests", requests, USAGE)
    if minimum:
        # Minimum instances are billed at the idle rate for the time no request keeps them busy.
        idle = max(minimum * ctx.seconds - busy, 0)
        shape = f"{minimum} x {cpu:g} vCPU, {memory:g} GiB"
        idle_cpu, idle_memory = "cloud_run.request.idle_cpu", "cloud_run.request.idle_memory"
        bill("idle min instances: vCPU", idle_cpu, cpu * idle, FIXED, detail=shape)
        bill("idle min instances: memory", idle_memory, memory * idle, FIXED, detail=shape)


def _instance_based(ctx, bill, cpu, memory, minimum, busy) -> None:
    # Instance-based billing charges an instance's whole life and has no per-request fee.
    always = minimum * ctx.seconds
    extra = max(busy - always, 0)
    for part, seconds, kind in (
        ("min instances", always, FIXED),
        ("extra instances", extra, USAGE),
    ):
        if seconds or kind == FIXED:
            suffix = f"{part}, instance-based"
            bill(f"vCPU, {suffix}", "cloud_run.instance.cpu", cpu * seconds, kind)
            bill(f"memory, {suffix}", "cloud_run.instance.memory", memory * seconds, kind)


# --- Cloud SQL, Memorystore ---------------------------------------------------------------------


def sql_instance(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    settings = inputs.get("settings") or {}
    bill = partial(ctx.charge, "Cloud SQL", name, region=ctx.region_of(resource))
    # High availability keeps a standby of the same size: instance and disk are billed twice.
    copies = 2 if settings.get("availabilityType") == "REGIONAL" else 1
    ha = " x2 (HA: primary and standby)" if copies == 2 else ""
    _sql_compute(ctx, bill, name, inputs, settings, copies, ha)
    disk, size = settings.get("diskType", "PD_SSD"), float(settings.get("diskSize") or 10)
    sku = "cloud_sql.storage.ssd" if disk == "PD_SSD" else f"cloud_sql.storage.{disk.lower()}"
    bill("storage", sku, size * copies, FIXED, detail=f"{disk} {size:g} GB{ha}")
    if (settings.get("backupConfiguration") or {}).get("enabled"):
        bill("backup storage", "cloud_sql.backup", ctx.usage.database_backup_gb, USAGE)
    ctx.assume("Cloud SQL: disk at its declared size (auto-resize growth is not modelled).")


def _sql_compute(ctx, bill, name, inputs, settings, copies, ha) -> None:
    tier = settings.get("tier", "")
    version, edition = inputs.get("databaseVersion", ""), settings.get("edition", "ENTERPRISE")
    if version.startswith("SQLSERVER") or edition != "ENTERPRISE":
        why = f"{edition} {version} is not in the price file (Enterprise PostgreSQL/MySQL only)"
        ctx.unpriced("Cloud SQL", name, "instance", why)
        return
    hours = ctx.hours * copies
    custom = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    if tier in SHARED_CORE_TIERS:
        bill(
            "instance", f"cloud_sql.shared.{tier}", hours, FIXED, detail=f"{tier}, shared core{ha}"
        )
    elif custom:
        vcpus, gib = int(custom.group(1)), int(custom.group(2)) / 1024
        shape = f"{tier}: {vcpus} vCPU, {gib:g} GiB{ha}"
        bill("instance vCPU", "cloud_sql.custom.vcpu", vcpus * hours, FIXED, detail=shape)
        bill("instance memory", "cloud_sql.custom.memory", gib * hours, FIXED, detail=shape)
    else:
        ctx.unpriced("Cloud SQL", name, "instance", f"no pricing rule for tier {tier}")


def capacity_tier(gib: float) -> str:
    """Memorystore for Redis prices per GiB by capacity tier: M1 is 1-4 GB, M2 5-10, ..."""
    for bound, tier in ((4, "m1"), (10, "m2"), (35, "m3"), (100, "m4")):
        if gib <= bound:
            return tier
    return "m5"


def redis_instance(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    size = float(inputs.get("memorySizeGb") or 1)
    tier = "basic" if inputs.get("tier", "BASIC") == "BASIC" else "standard"
    capacity = capacity_tier(size)
    shape = f"{tier.upper()} {size:g} GB, capacity tier {capacity.upper()}"
    sku, region = f"memorystore.redis.{tier}.{capacity}", ctx.region_of(resource)
    bill = partial(ctx.charge, "Memorystore", name, region=region, detail=shape)
    bill("instance capacity", sku, size * ctx.hours, FIXED)
    if inputs.get("readReplicasMode") == "READ_REPLICAS_ENABLED":
        ctx.unpriced("Memorystore", name, "read replicas", "read replica nodes are not priced")


# --- Cloud Storage, Artifact Registry, Secret Manager -------------------------------------------


def storage_bucket(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    if not first_of_type(ctx, BUCKET, name, "Cloud Storage"):
        return
    usage = ctx.usage
    bill = partial(ctx.charge, "Cloud Storage + CDN", name, region=ctx.region_of(resource))
    storage_class = (resource["inputs"].get("storageClass") or "STANDARD").lower()
    sku, shape = f"gcs.storage.{storage_class}", storage_class.upper()
    bill("storage", sku, usage.storage_gb, USAGE, detail=shape)
    class_a = round(usage.storage_operations * usage.storage_class_a_share)
    bill("class A operations", "gcs.ops.class_a", class_a, USAGE)
    bill("class B operations", "gcs.ops.class_b", usage.storage_operations - class_a, USAGE)
    ctx.assume(
        "Cloud Storage: stored GB is the month's average; soft-deleted bytes are not counted."
    )


def artifact_repository(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    if first_of_type(ctx, resource["type"], name, "Artifact Registry"):
        bill = partial(ctx.charge, "Artifact Registry", name, region=ctx.region_of(resource))
        bill("image storage", "artifact_registry.storage", ctx.usage.artifact_registry_gb, USAGE)


def secret(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    versions = [
        n
        for n, other in ctx.of_type("gcp:secretmanager/secretVersion:SecretVersion")
        if other.get("parent") == name or refers_to(other, name, resource)
    ]
    count = len(versions) or ctx.usage.secret_versions_per_secret
    if not versions:
        ctx.assume(
            "Secret Manager: a secret the program gives no version has "
            f"{ctx.usage.secret_versions_per_secret} active version(s), added at deploy."
        )
    replication = resource["inputs"].get("replication") or {}
    replicas = (replication.get("userManaged") or {}).get("replicas") or []
    locations = len(replicas) or 1  # automatic replication bills as one location
    bill = partial(ctx.charge, "Secret Manager", name, region="global")
    bill("active versions", "secret_manager.active_version", count * locations, FIXED)
    if resource["inputs"].get("rotation"):
        ctx.unpriced("Secret Manager", name, "rotation notifications", "rotation is not priced")
