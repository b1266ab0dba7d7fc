"""One stack of the VidGo platform: the components, wired in dependency order.

This is the only place that knows both the stack's config and the components: it slices the
config into each component's Args and passes Outputs from one component to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_gcp import organizations

from components.base import PrivateServiceArgs
from components.budget import BillingBudget, BillingBudgetArgs
from components.database import Database, DatabaseArgs
from components.edge import MEDIA_SIGNING_KEY_NAME, ArmorArgs, Edge, EdgeArgs
from components.job import CloudRunJob, CloudRunJobArgs
from components.media import LifecycleRule, Media, MediaArgs
from components.monitoring import Monitoring, MonitoringArgs, Objectives
from components.network import Network, NetworkArgs
from components.project_services import PLATFORM_APIS, ProjectServices, ProjectServicesArgs
from components.redis import Redis, RedisArgs
from components.registry import Registry, RegistryArgs
from components.secrets import operator_secret
from components.service import CloudRunService, CloudRunServiceArgs
from stacks.config import WEAKER_CHOICES, PlatformConfig, ServiceConfig
from stacks.loader import StackInputs


def build_platform(inputs: StackInputs) -> dict[str, Any]:
    """Declare the whole platform for one stack and return its outputs (the stack's exports)."""
    cfg = inputs.config
    labels = cfg.resource_labels
    project, region = cfg.project, cfg.region

    budget = cfg.budget
    # The Billing Budget API is needed only where the stack declares a budget.
    extra_apis = ("billingbudgets.googleapis.com",) if budget.billing_account else ()
    apis = ProjectServices(
        "apis", ProjectServicesArgs(project=project, apis=(*PLATFORM_APIS, *extra_apis))
    )
    after_apis = pulumi.ResourceOptions(depends_on=apis.services)

    # Each weaker choice the stack made on purpose (stacks/config.py, accept_weaker), once.
    for choice in cfg.weaker_choices:
        key, weakens = WEAKER_CHOICES[choice]
        pulumi.log.warn(f"weaker by choice (accept_weaker: {choice}): {key}: {weakens}")

    network = Network(
        "network",
        NetworkArgs(
            project=project,
            region=region,
            name=cfg.network.name,
            subnet_range=cfg.network.subnet_range,
            flow_log_sampling=cfg.network.flow_log_sampling,
            private_services_range=cfg.network.private_services_range,
            protect=cfg.protect,
        ),
        opts=after_apis,
    )
    # Cloud SQL and Redis both take private addresses from the network's peering.
    on_private_network = PrivateServiceArgs(
        project=project,
        region=region,
        network_id=network.network_id,
        private_services=network.private_services,
        labels=labels,
        protect=cfg.protect,
    )
    db = cfg.database  # its upgrade guard and connection pool are checked in stacks/config.py
    database = Database(
        "database",
        DatabaseArgs(
            **vars(on_private_network),
            instance_name=db.instance_name,
            version=db.version,
            tier=db.tier,
            disk_type=db.disk_type,
            disk_size_gb=db.disk_size_gb,
            disk_autoresize=db.disk_autoresize,
            availability=db.availability,
            backup_start_time=db.backup_start_time,
            backup_retention_count=db.backup_retention_count,
            log_retention_days=db.log_retention_days,
            maintenance_day=db.maintenance_day,
            maintenance_hour=db.maintenance_hour,
            database_name=db.database_name,
            user_name=db.user_name,
            flags=db.flags,
            ssl_mode=db.ssl_mode,
            retain_backups_on_delete=db.retain_backups_on_delete,
            final_backup_retention_days=db.final_backup_retention_days,
        ),
        opts=after_apis,
    )
    redis = Redis(
        "redis",
        RedisArgs(
            **vars(on_private_network),
            instance_name=cfg.redis.instance_name,
            version=cfg.redis.version,
            tier=cfg.redis.tier,
            memory_size_gb=cfg.redis.memory_size_gb,
            rdb_snapshot_period=cfg.redis.rdb_snapshot_period,
            maintenance_day=cfg.redis.maintenance_day,
            maintenance_hour=cfg.redis.maintenance_hour,
        ),
        opts=after_apis,
    )
    media = Media(
        "media",
        MediaArgs(
            project=project,
            name=cfg.media.name,
            location=cfg.media.location,
            storage_class=cfg.media.storage_class,
            cors_origins=cfg.cors_origins,
            cors_methods=cfg.media.cors_methods,
            cors_response_headers=cfg.media.cors_response_headers,
            cors_max_age_seconds=cfg.media.cors_max_age_seconds,
            main_page=cfg.media.main_page,
            not_found_page=cfg.media.not_found_page,
            soft_delete_days=cfg.media.soft_delete_days,
            versioning=cfg.media.versioning,
            lifecycle=[
                LifecycleRule(
                    action=rule.action,
                    age_days=rule.age_days,
                    storage_class=rule.storage_class,
                    matches_prefix=rule.matches_prefix,
                )
                for rule in cfg.media.lifecycle
            ],
            labels=labels,
            protect=cfg.protect,
        ),
        # The edge serves this bucket: it must not wait for APIs the bucket does not use.
        opts=pulumi.ResourceOptions(
            depends_on=apis.enabling("storage.googleapis.com", "secretmanager.googleapis.com")
        ),
    )
    # The application's keys: secrets the bootstrap declared and the operator filled before this
    # program's first `up` (docs/delivery.md, section 5). Named here, never created or read.
    app_secrets = {name: operator_secret(project, name) for name in cfg.app_secrets}
    registry = Registry(
        "registry",
        RegistryArgs(
            project=project,
            region=region,
            repository=cfg.registry.repository,
            keep_recent_versions=cfg.registry.keep_recent_versions,
            delete_untagged_after_days=cfg.registry.delete_untagged_after_days,
            labels=labels,
            protect=cfg.protect,
        ),
        opts=after_apis,
    )

    # Both services and the job take addresses in the subnet (stacks/capacity.py sizes it).
    direct_vpc_egress: dict[str, Any] = dict(
        vpc_network=network.network_id, vpc_subnetwork=network.subnetwork_id
    )
    api_args = service_args(
        cfg,
        cfg.services.api,
        secret_env={
            **app_secrets,
            "DATABASE_URL": database.url,
            "REDIS_URL": redis.url,
            "REDIS_CA_CERT": redis.ca_cert,
            "MEDIA_URL_SIGNING_KEY": media.signing_key_secret,
        },
        env={
            "MEDIA_BUCKET": cfg.media.name,
            "MEDIA_BASE_URL": media_base_url(cfg),
            "MEDIA_URL_SIGNING_KEY_NAME": MEDIA_SIGNING_KEY_NAME,
            **pool_env(cfg.database_budget.pool, cfg.redis_budget.pool),
        },
        cloudsql_instances=[database.connection_name],
        buckets=[media.bucket_name],
        **direct_vpc_egress,
    )
    api = CloudRunService("api", api_args, opts=after_apis)
    migrate = migrations_job(cfg, api_args, api, apis.services)
    web = CloudRunService(
        "web", service_args(cfg, cfg.services.web, **direct_vpc_egress), opts=after_apis
    )
    # Google's per-project service agents (the CDN fill account) are named by project number.
    project_number = organizations.get_project_output(project_id=project).number
    armor = cfg.edge.armor
    edge = Edge(
        "edge",
        EdgeArgs(
            project=project,
            region=region,
            static_ip_name=cfg.edge.static_ip_name,
            site_hosts=cfg.site_hosts,
            api_host=cfg.api_host,
            media_host=cfg.media_host,
            media_path=cfg.edge.media_path,
            # The configured names, not the services' outputs: a serverless NEG may name a
            # service that does not exist yet, so the load balancer, its IP and certificates
            # are created in the first minutes instead of after Cloud SQL and the services.
            api_service_name=cfg.services.api.name,
            web_service_name=cfg.services.web.name,
            web_cdn=cfg.edge.web_cdn,
            media_bucket_name=media.bucket_name,
            media_signing_key=media.signing_key,
            project_number=project_number,
            armor=ArmorArgs(
                rate_limit_requests=armor.rate_limit_requests,
                rate_limit_interval_seconds=armor.rate_limit_interval_seconds,
                ban_threshold_requests=armor.ban_threshold_requests,
                ban_interval_seconds=armor.ban_interval_seconds,
                ban_duration_seconds=armor.ban_duration_seconds,
                owasp_mode=armor.owasp_mode,
                owasp_sensitivity=armor.owasp_sensitivity,
            ),
            hsts_max_age_seconds=cfg.edge.hsts_max_age_seconds,
            certificates=cfg.edge.certificates,
            labels=labels,
            protect=cfg.protect,
        ),
        # Only the APIs it uses (the load balancer and its certificates; the CDN's grant on the
        # bucket): waiting for all of them would hold the edge behind the slowest.
        opts=pulumi.ResourceOptions(
            depends_on=apis.enabling(
                "compute.googleapis.com",
                "certificatemanager.googleapis.com",
                "storage.googleapis.com",
            )
        ),
    )
    alerts = cfg.monitoring
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            project=project,
            api_service_name=cfg.services.api.name,
            web_service_name=cfg.services.web.name,
            api_host=cfg.api_host,
            health_path=cfg.services.api.health_path,
            notification_emails=alerts.notification_emails,
            ticket_emails=alerts.ticket_emails,
            # Measured at the load balancer, per backend: what users got, Armor's denials and
            # the load balancer's own errors included.
            objectives=[
                Objectives(
                    key=key,
                    service_name=service.name,
                    backend_name=edge.backend_names[key],
                    availability=objectives.availability,
                    latency=objectives.latency,
                    latency_threshold_ms=objectives.latency_threshold_ms,
                )
                for key, service, objectives in (
                    ("api", cfg.services.api, alerts.slo.api),
                    ("web", cfg.services.web, alerts.slo.web),
                )
            ],
            slo_period=alerts.slo.period,
            uptime_check_period_seconds=alerts.uptime_check_period_seconds,
            provider_status_absent_minutes=alerts.provider_status_absent_minutes,
            labels=labels,
        ),
        opts=after_apis,
    )
    if budget.billing_account and budget.monthly_usd:
        BillingBudget(
            "budget",
            BillingBudgetArgs(
                project=project,
                project_number=project_number,
                billing_account=budget.billing_account,
                monthly_usd=budget.monthly_usd,
                alert_thresholds=budget.alert_thresholds,
                notification_channel_ids=monitoring.channel_ids,
            ),
            opts=after_apis,
        )

    return {
        # What `vidgo-infra dns` and `verify` read (vidgo_infra/outputs.py is the contract): the
        # project, region and address name find the static IP before the first `up` finishes.
        "project": project,
        "region": region,
        "static_ip_name": cfg.edge.static_ip_name,
        "static_ip": edge.ip_address,
        # CNAMEs first: they go in before the A records move (docs/cutover.md).
        "dns_records": pulumi.Output.all(edge.ip_address, edge.acme_records).apply(
            lambda found: dns_records(cfg, found[0], found[1])
        ),
        "dns_zone": cfg.zone,
        "hosts": cfg.hosts,
        "health_url": f"https://{cfg.api_host}{cfg.services.api.health_path}",
        "service_urls": {
            "web": f"https://{cfg.domain}",
            "api": f"https://{cfg.api_host}",
            "media": media_base_url(cfg),
        },
        "cloud_run_services": {"api": api.service_name, "web": web.service_name},
        "migrations_job": migrate.job_name,
        "sql_connection_name": database.connection_name,
        "redis_host": redis.host,
        "media_bucket": media.bucket_name,
        "registry_path": registry.path,
    }


def migrations_job(
    cfg: PlatformConfig,
    api_args: CloudRunServiceArgs,
    api: CloudRunService,
    api_services: Sequence[pulumi.Resource],
) -> CloudRunJob:
    """The migrations run as the API does: its image, identity, secrets, socket and egress,
    with pools of the job's own share of the connection budgets. The job waits for the API
    identity's grants, not for the service, so its first run can read the secrets and connect."""
    migrations = cfg.migrations
    return CloudRunJob(
        "migrate",
        CloudRunJobArgs(
            project=cfg.project,
            region=cfg.region,
            job_name=migrations.job_name,
            image=api_args.image,
            command=migrations.command,
            service_account_email=api.service_account_email,
            wiring=api_args.wiring.with_env(
                **pool_env(cfg.database.pool.migrations, cfg.redis.pool.migrations)
            ),
            cpu=api_args.cpu,
            memory=api_args.memory,
            timeout_seconds=migrations.timeout_seconds,
            max_retries=migrations.max_retries,
            labels=cfg.resource_labels,
            protect=cfg.protect,
        ),
        opts=pulumi.ResourceOptions(depends_on=[*api_services, *api.access_grants]),
    )


# The connection budget as the application reads it (docs/capacity.md, "Connection budget"): a
# SQLAlchemy engine with pool_size=DB_POOL_SIZE, max_overflow=DB_MAX_OVERFLOW, and a redis-py
# pool with max_connections=REDIS_MAX_CONNECTIONS. No overflow: the budget is a hard cap.
POOL_ENV = ("DB_POOL_SIZE", "DB_MAX_OVERFLOW", "REDIS_MAX_CONNECTIONS")


def pool_env(database_pool: int, redis_pool: int) -> dict[str, str]:
    return dict(zip(POOL_ENV, (str(database_pool), "0", str(redis_pool)), strict=True))


def service_args(
    cfg: PlatformConfig,
    service: ServiceConfig,
    *,
    env: Mapping[str, str] | None = None,
    **wiring: Any,
) -> CloudRunServiceArgs:
    """The service's settings from its config; `wiring`: its secrets, database, egress, buckets."""
    return CloudRunServiceArgs(
        project=cfg.project,
        region=cfg.region,
        service_name=service.name,
        service_account=runtime_account(cfg, service),
        image=service.image,
        cpu=service.cpu,
        memory=service.memory,
        min_instances=service.min_instances,
        max_instances=service.max_instances,
        concurrency=service.concurrency,
        timeout_seconds=service.timeout_seconds,
        cpu_idle=service.cpu_idle,
        startup_cpu_boost=service.startup_cpu_boost,
        health_path=service.health_path,
        ready_path=service.ready_path,
        env={**service.env, **(env or {})},
        labels=cfg.resource_labels,
        protect=cfg.protect,
        **wiring,
    )


def runtime_account(cfg: PlatformConfig, service: ServiceConfig) -> str:
    """The service's identity: the bootstrap creates it, the stack only names it."""
    return service.service_account or f"{service.name}-run@{cfg.project}.iam.gserviceaccount.com"


def media_base_url(cfg: PlatformConfig) -> str:
    if cfg.media_host:
        return f"https://{cfg.media_host}"
    return f"https://{cfg.domain}{cfg.edge.media_path}"


def dns_records(
    cfg: PlatformConfig, ip: str, acme_records: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The records to enter at GoDaddy, named relative to the zone: first the CNAME that lets
    Google issue each host's certificate, then the A records (seed section 4.1), which move
    only once every certificate is ACTIVE. GoDaddy takes the CNAME's value without the final
    dot. With classic certificates there are no CNAMEs."""
    ttl = cfg.edge.dns_ttl
    cnames = [
        {
            "type": "CNAME",
            "name": record_name(acme["name"].rstrip("."), cfg.zone),
            "value": acme["value"].rstrip("."),
            "ttl": ttl,
        }
        for acme in acme_records
    ]
    a_records = [
        {"type": "A", "name": record_name(host, cfg.zone), "value": ip, "ttl": ttl}
        for host in cfg.hosts
    ]
    return [*cnames, *a_records]


def record_name(host: str, zone: str) -> str:
    return "@" if host == zone else host.removesuffix(f".{zone}")
