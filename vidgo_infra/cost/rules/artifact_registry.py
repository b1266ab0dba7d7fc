"""Artifact Registry: stored image GB."""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import USAGE, Context
from vidgo_infra.cost.rules.shared import first_of_type

REPOSITORY = "gcp:artifactregistry/repository:Repository"


def artifact_repository(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    if first_of_type(ctx, resource["type"], name, "Artifact Registry"):
        bill = partial(ctx.charge, "Artifact Registry", name, region=ctx.region_of(resource))
        bill("image storage", "artifact_registry.storage", ctx.usage.artifact_registry_gb, USAGE)
