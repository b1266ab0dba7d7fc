"""One stack of the VidGo platform: the components, wired in dependency order.

This is the only place that knows both the stack's config and the components: it slices the
config into each component's Args and passes Outputs from one component to the next.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.audit import AuditLogs, AuditLogsArgs
from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs
from components.media_bucket import LifecycleRule, MediaBucket, MediaBucketArgs
from components.network import Network, NetworkArgs
from components.project_services import ProjectServices, ProjectServicesArgs
from components.registry import Registry, RegistryArgs
from components.secrets import AppSecrets, AppSecretsArgs
from stacks.loader import StackInputs


def build_platform(inputs: StackInputs) -> dict[str, Any]:
    """Declare the whole platform for one stack and return its outputs (the stack's exports)."""
    cfg = inputs.config
    labels = cfg.resource_labels
    project, region = cfg.project, cfg.region

    apis = ProjectServices("apis", ProjectServicesArgs(project=project))
    after_apis = pulumi.ResourceOptions(depends_on=apis.services)

    network = Network(
        "network",
        NetworkArgs(project=project, region=region, **cfg.network.model_dump()),
        opts=after_apis,
    )
    database = Database(
        "database",
        DatabaseArgs(
            project=project,
            region=region,
            network_id=network.network_id,
            private_services=network.private_services,
            labels=labels,
            protect=cfg.protect,
            **cfg.database.model_dump(),
        ),
        opts=after_apis,
    )
    cache = Cache(
        "cache",
        CacheArgs(
            project=project,
            region=region,
            network_id=network.network_id,
            private_services=network.private_services,
            labels=labels,
            protect=cfg.protect,
            **cfg.redis.model_dump(),
        ),
        opts=after_apis,
    )
    bucket_cfg = cfg.bucket.model_dump(exclude={"cors_origins", "lifecycle"})
    media = MediaBucket(
        "media",
        MediaBucketArgs(
            project=project,
            cors_origins=cfg.cors_origins,
            lifecycle=[LifecycleRule(**rule.model_dump()) for rule in cfg.bucket.lifecycle],
            labels=labels,
            protect=cfg.protect,
            **bucket_cfg,
        ),
        opts=after_apis,
    )
    AppSecrets(
        "app-secrets",
        AppSecretsArgs(
            project=project,
            names=cfg.app_secrets,
            values=inputs.secret_values,
            labels=labels,
            protect=cfg.protect,
        ),
        opts=after_apis,
    )
    registry = Registry(
        "registry",
        RegistryArgs(project=project, region=region, labels=labels, **cfg.registry.model_dump()),
        opts=after_apis,
    )
    AuditLogs("audit", AuditLogsArgs(project=project), opts=after_apis)

    return {
        "sql_connection_name": database.connection_name,
        "redis_host": cache.host,
        "media_bucket": media.bucket_name,
        "registry_path": registry.path,
    }
