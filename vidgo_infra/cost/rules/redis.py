"""Memorystore for Redis: capacity per GiB-hour by service tier and capacity tier."""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, Context

INSTANCE = "gcp:redis/instance:Instance"


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
