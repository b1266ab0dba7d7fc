"""Cloud SQL instances: shared-core or custom machine, disk, backups; HA billed twice."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, USAGE, Context

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
SHARED_CORE_TIERS = ("db-f1-micro", "db-g1-small")


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
