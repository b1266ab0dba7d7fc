"""Secret Manager: active versions per replica location, and access operations."""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, PROJECT, USAGE, Context
from vidgo_infra.cost.rules.shared import refers_to

SECRET = "gcp:secretmanager/secret:Secret"
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"


def secret(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    versions = [
        n
        for n, other in ctx.of_type(VERSION)
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


def access_operations(ctx: Context) -> None:
    """Accesses are priced once for the stack: the profile does not say which secret is read."""
    if ctx.of_type(SECRET):
        accesses = ("access operations", "secret_manager.access", ctx.usage.secret_accesses, USAGE)
        ctx.charge("Secret Manager", PROJECT, *accesses, region="global")
