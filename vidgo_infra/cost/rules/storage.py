"""Cloud Storage buckets: stored GB and operations (CDN delivery is in load_balancing)."""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import USAGE, Context
from vidgo_infra.cost.rules.shared import first_of_type

BUCKET = "gcp:storage/bucket:Bucket"


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
