"""The typed configuration of one stack: every setting, its default, and what is allowed.

Defaults are the seed's production values (the platform document, sections 3 and 6), so
`Pulumi.prod.yaml` is short and `Pulumi.staging.yaml` lists exactly how staging differs.
Nothing here reads Pulumi: `stacks.loader` turns the stack's config into the dict validated here.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from stacks.usage import Budget, UsageProfile

# Google's placeholder image: it answers HTTP 200 on every path (including /health), so the first
# `pulumi up` succeeds before the application's own images have been pushed to the registry.
PLACEHOLDER_IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"

# Regions with Cloud Run, Cloud SQL, Memorystore and Serverless VPC Access (November 2026).
REGIONS = [
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west10",
    "europe-west12",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
]


def _matches(pattern: str, allowed: str):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {allowed}")
        return value

    return AfterValidator(check)


def _region(value: str) -> str:
    if value not in REGIONS:
        raise ValueError(
            f"{value!r} is not a known GCP region (for example asia-east1, us-central1)"
        )
    return value


def _private_range(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR range like 10.8.0.0/28 ({error})") from None
    if not network.is_private:
        raise ValueError(f"{value} is not a private (RFC 1918) range")
    return network


Region = Annotated[str, AfterValidator(_region)]
PrivateRange = Annotated[str, AfterValidator(lambda v: str(_private_range(v)))]
DomainName = Annotated[
    str,
    _matches(
        r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
        "a lower-case domain name like vidgo.ai",
    ),
]
Label = Annotated[str, _matches(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", "a lower-case DNS label")]
ResourceName = Annotated[
    str, _matches(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", "a GCP resource name (a-z, 0-9, -)")
]
SecretName = Annotated[
    str, _matches(r"[A-Za-z0-9_-]{1,255}", "a Secret Manager id (letters, digits, _ and -)")
]
Email = Annotated[str, _matches(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", "an e-mail address")]
# A Cloud Run service's identity is "<name>-run" by default (the bootstrap's runtime_accounts),
# and service account ids are 6-30 characters.
ServiceName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,24}[a-z0-9]", "2-26 chars (a-z, 0-9, -) ending in a letter or digit"
    ),
]
ServiceAccountEmail = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com",
        "a service account email like vidgo-api-run@PROJECT.iam.gserviceaccount.com",
    ),
]
CpuLimit = Annotated[str, _matches(r"\d+(\.\d+)?|\d+m", "a CPU limit like 1, 2, 0.5 or 1000m")]
MemoryLimit = Annotated[str, _matches(r"\d+(Mi|Gi)", "a memory limit like 512Mi or 2Gi")]


class Settings(BaseModel):
    """Unknown keys are errors: a typo in a stack file must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(Settings):
    name: ResourceName = "vidgo-vpc"
    # One regional subnet in custom mode, on the range auto mode would have given this region
    # (10.140.0.0/20 is asia-east1's), so flow logs can be declared (see components/network.py).
    subnet_range: PrivateRange = "10.140.0.0/20"
    flow_log_sampling: float = Field(0.5, ge=0, le=1)
    connector_name: Annotated[str, _matches(r"[a-z][-a-z0-9]{0,23}[a-z0-9]", "1-25 chars")] = (
        "vidgo-connector"
    )
    connector_range: PrivateRange = "10.8.0.0/28"
    connector_machine_type: Literal["f1-micro", "e2-micro", "e2-standard-4"] = "e2-micro"
    connector_min_instances: int = Field(2, ge=2, le=9)
    connector_max_instances: int = Field(3, ge=3, le=10)
    # Private services access: Cloud SQL and Memorystore take their private addresses here.
    private_services_range: PrivateRange = "10.16.0.0/16"

    @model_validator(mode="after")
    def _check_ranges(self) -> NetworkConfig:
        if ipaddress.IPv4Network(self.connector_range).prefixlen != 28:
            raise ValueError(
                f"connector_range: {self.connector_range} is not a /28 "
                "(a Serverless VPC Access connector takes exactly a /28)"
            )
        if ipaddress.IPv4Network(self.private_services_range).prefixlen > 24:
            raise ValueError(
                "private_services_range: must be a /24 or larger for Cloud SQL and Memorystore"
            )
        if self.connector_min_instances >= self.connector_max_instances:
            raise ValueError(
                f"connector_min_instances: {self.connector_min_instances} must be below "
                f"connector_max_instances ({self.connector_max_instances})"
            )
        ranges = {
            "subnet_range": self.subnet_range,
            "connector_range": self.connector_range,
            "private_services_range": self.private_services_range,
        }
        names = list(ranges)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a, b = ipaddress.IPv4Network(ranges[first]), ipaddress.IPv4Network(ranges[second])
                if a.overlaps(b):
                    raise ValueError(f"{first}: {a} overlaps {second} ({b})")
        return self


class DatabaseConfig(Settings):
    instance_name: ResourceName = "vidgo-db"
    version: Literal["POSTGRES_14", "POSTGRES_15", "POSTGRES_16", "POSTGRES_17"] = "POSTGRES_15"
    # ENTERPRISE edition: the shared-core tiers (db-f1-micro, db-g1-small) do not exist on
    # ENTERPRISE_PLUS, which Cloud SQL now picks by default for new PostgreSQL 16+ instances.
    tier: Annotated[
        str,
        _matches(
            r"db-(f1-micro|g1-small|custom-\d{1,2}-\d{3,6})",
            "a Cloud SQL Enterprise tier: db-f1-micro, db-g1-small or db-custom-<vCPUs>-<MiB>",
        ),
    ] = "db-g1-small"
    disk_type: Literal["PD_SSD", "PD_HDD"] = "PD_SSD"
    disk_size_gb: int = Field(10, ge=10, le=65536)
    disk_autoresize: bool = True
    availability: Literal["ZONAL", "REGIONAL"] = "ZONAL"
    backup_start_time: Annotated[str, _matches(r"([01]\d|2[0-3]):[0-5]\d", "a UTC time HH:MM")] = (
        "03:00"
    )
    backup_retention_count: int = Field(7, ge=1, le=365)
    # Point-in-time recovery keeps write-ahead logs this long (Enterprise edition: 1 to 7 days).
    log_retention_days: int = Field(7, ge=1, le=7)
    maintenance_day: int = Field(7, ge=1, le=7, description="1 = Monday ... 7 = Sunday")
    maintenance_hour: int = Field(4, ge=0, le=23, description="UTC")
    database_name: Annotated[str, _matches(r"[a-z_][a-z0-9_]{0,62}", "a PostgreSQL name")] = "vidgo"
    user_name: Annotated[str, _matches(r"[a-z_][a-z0-9_]{0,62}", "a PostgreSQL name")] = (
        "vidgo_user"
    )
    # Extra database flags, merged over the CIS baseline in components/database.py.
    flags: dict[str, str] = {}


class RedisConfig(Settings):
    instance_name: ResourceName = "vidgo-redis"
    version: Literal["REDIS_6_X", "REDIS_7_0", "REDIS_7_2"] = "REDIS_7_0"
    tier: Literal["BASIC", "STANDARD_HA"] = "BASIC"
    memory_size_gb: int = Field(1, ge=1, le=300)


class LifecycleRuleConfig(Settings):
    action: Literal["Delete", "SetStorageClass", "AbortIncompleteMultipartUpload"]
    age_days: int = Field(ge=0)
    storage_class: Literal["NEARLINE", "COLDLINE", "ARCHIVE"] | None = None
    matches_prefix: list[str] = []

    @model_validator(mode="after")
    def _class_only_for_moves(self) -> LifecycleRuleConfig:
        if (self.action == "SetStorageClass") != (self.storage_class is not None):
            raise ValueError(
                "storage_class: required with action SetStorageClass, and allowed only there"
            )
        return self


class MediaConfig(Settings):
    name: Annotated[
        str,
        _matches(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]", "a bucket name (3-63 chars, a-z 0-9 _ -)"),
    ] = "vidgo-media-prod"
    location: str = "ASIA-EAST1"
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE"] = "STANDARD"
    # Empty means the seed's rule: the site's apex and API origins over HTTPS.
    cors_origins: list[Annotated[str, _matches(r"https://[^/\s]+", "an https:// origin")]] = []
    cors_methods: list[Literal["GET", "HEAD", "PUT", "POST", "DELETE"]] = [
        "GET",
        "PUT",
        "POST",
        "DELETE",
    ]
    cors_response_headers: list[str] = ["Content-Type"]
    cors_max_age_seconds: int = Field(3600, ge=0)
    main_page: str = "index.html"
    not_found_page: str = "404.html"
    # Objects deleted or overwritten by mistake stay recoverable this long (0 turns it off).
    soft_delete_days: int = Field(7, ge=0, le=90)
    versioning: bool = False
    lifecycle: list[LifecycleRuleConfig] = [
        LifecycleRuleConfig(action="AbortIncompleteMultipartUpload", age_days=7)
    ]

    @model_validator(mode="after")
    def _soft_delete_window(self) -> MediaConfig:
        if 0 < self.soft_delete_days < 7:
            raise ValueError("soft_delete_days: must be 0 (off) or between 7 and 90")
        return self


class RegistryConfig(Settings):
    repository: ResourceName = "vidgo"
    keep_recent_versions: int = Field(10, ge=1)
    delete_untagged_after_days: int = Field(14, ge=1)


class ServiceConfig(Settings):
    """A Cloud Run service. The subclasses below carry each service's own defaults."""

    name: ServiceName
    # The account the service runs as, made by the bootstrap (runtime_accounts); default
    # NAME-run@PROJECT.iam.gserviceaccount.com (PlatformConfig.service_account).
    service_account: ServiceAccountEmail | None = None
    image: str = PLACEHOLDER_IMAGE
    cpu: CpuLimit = "1"
    memory: MemoryLimit = "512Mi"
    min_instances: int = Field(0, ge=0, le=100)
    max_instances: int = Field(5, ge=1, le=1000)
    concurrency: int = Field(80, ge=1, le=1000)
    timeout_seconds: int = Field(300, ge=1, le=3600)
    # True: CPU only while a request is served, billed per request (Cloud Run's default).
    cpu_idle: bool = True
    startup_cpu_boost: bool = True
    health_path: Annotated[str, _matches(r"/\S*", "a path starting with /")] = "/health"
    env: dict[str, str] = {}

    @model_validator(mode="after")
    def _bounds(self) -> ServiceConfig:
        if self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances: {self.min_instances} is above max_instances ({self.max_instances})"
            )
        return self


class ApiServiceConfig(ServiceConfig):
    name: ServiceName = "vidgo-api"
    cpu: CpuLimit = "2"
    memory: MemoryLimit = "2Gi"
    min_instances: int = Field(1, ge=0, le=100)
    max_instances: int = Field(10, ge=1, le=1000)
    concurrency: int = Field(100, ge=1, le=1000)
    env: dict[str, str] = {"ENVIRONMENT": "production"}


class WebServiceConfig(ServiceConfig):
    name: ServiceName = "vidgo-web"
    concurrency: int = Field(200, ge=1, le=1000)


class ServicesConfig(Settings):
    api: ApiServiceConfig = ApiServiceConfig()
    web: WebServiceConfig = WebServiceConfig()


class ArmorConfig(Settings):
    """Cloud Armor on the API backend: a per-client rate limit and Google's OWASP rule sets."""

    rate_limit_requests: int = Field(600, ge=1)
    rate_limit_interval_seconds: Literal[10, 30, 60, 120, 180, 240, 300, 600, 900] = 60
    # preview: matches are logged, nothing is blocked; enforce: matches get a 403.
    owasp_mode: Literal["preview", "enforce"] = "preview"
    owasp_sensitivity: int = Field(1, ge=1, le=4)


class EdgeConfig(Settings):
    static_ip_name: ResourceName = "vidgo-ip"
    dns_ttl: int = Field(600, ge=60)
    web_cdn: bool = True
    # Media is served from the bucket through the load balancer at this path on the site hosts;
    # set media_subdomain (e.g. "media") to serve it on its own host instead.
    media_path: Annotated[str, _matches(r"/[a-z0-9_-]+", "a path like /media")] = "/media"
    media_subdomain: Label | None = None
    armor: ArmorConfig = ArmorConfig()


class MigrationsConfig(Settings):
    """The Cloud Run job that applies the database migrations with the API's image, identity and
    secrets; the application's pipeline runs it before a new API revision takes traffic."""

    job_name: ServiceName = "vidgo-migrate"
    # The entrypoint and its arguments, run without a shell.
    command: list[Annotated[str, Field(min_length=1)]] = Field(
        ["alembic", "upgrade", "head"], min_length=1
    )
    timeout_seconds: int = Field(600, ge=10, le=86400)
    # 0: a failed migration fails the release at once instead of being run again.
    max_retries: int = Field(0, ge=0, le=10)


class MonitoringConfig(Settings):
    notification_emails: list[Email] = []
    error_ratio_threshold: float = Field(0.05, gt=0, lt=1)
    latency_p95_threshold_ms: int = Field(2000, ge=1)
    uptime_check_period_seconds: Literal[60, 300, 600, 900] = 60


class PlatformConfig(Settings):
    """One stack, as the program needs it. Field names are the stack file's keys."""

    project: Annotated[
        str, _matches(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "a GCP project id (6-30 chars, a-z 0-9 -)")
    ]
    region: Region
    environment: Label
    # Protect stateful resources (database, bucket, secrets, services) from destroy and
    # replacement, with Pulumi's `protect` and each service's own deletion guard.
    protect: bool = True
    domain: DomainName = "vidgo.ai"
    # The zone the operator edits at GoDaddy; defaults to `domain`. Staging serves
    # staging.vidgo.ai from the vidgo.ai zone, so its records are named `staging`, `api.staging`.
    dns_zone: DomainName | None = None
    api_subdomain: Label = "api"
    www: bool = True
    labels: dict[Label, Label] = {}
    network: NetworkConfig = NetworkConfig()
    database: DatabaseConfig = DatabaseConfig()
    redis: RedisConfig = RedisConfig()
    media: MediaConfig = MediaConfig()
    registry: RegistryConfig = RegistryConfig()
    # The application's secrets (seed section 3.2, step 5). Values never live here: see README.
    app_secrets: list[SecretName] = [
        "SECRET_KEY",
        "PIAPI_API_KEY",
        "POLLO_API_KEY",
        "A2E_API_KEY",
        "GEMINI_API_KEY",
        "PADDLE_API_KEY",
        "PADDLE_WEBHOOK_SECRET",
        "SENDGRID_API_KEY",
    ]
    services: ServicesConfig = ServicesConfig()
    migrations: MigrationsConfig = MigrationsConfig()
    edge: EdgeConfig = EdgeConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    usage: UsageProfile = UsageProfile()
    budget: Budget = Budget()

    @model_validator(mode="after")
    def _domain_inside_zone(self) -> PlatformConfig:
        zone = self.zone
        if self.domain != zone and not self.domain.endswith("." + zone):
            raise ValueError(f"domain: {self.domain} is not inside dns_zone {zone}")
        if len(set(self.app_secrets)) != len(self.app_secrets):
            raise ValueError("app_secrets: lists a secret twice")
        return self

    @property
    def zone(self) -> str:
        return self.dns_zone or self.domain

    @property
    def api_host(self) -> str:
        return f"{self.api_subdomain}.{self.domain}"

    @property
    def site_hosts(self) -> list[str]:
        return [self.domain, f"www.{self.domain}"] if self.www else [self.domain]

    @property
    def media_host(self) -> str | None:
        subdomain = self.edge.media_subdomain
        return f"{subdomain}.{self.domain}" if subdomain else None

    @property
    def hosts(self) -> list[str]:
        """Every host the load balancer answers, apex first."""
        extra = [self.media_host] if self.media_host else []
        return [*self.site_hosts, self.api_host, *extra]

    @property
    def cors_origins(self) -> list[str]:
        return self.media.cors_origins or [f"https://{self.domain}", f"https://{self.api_host}"]

    @property
    def resource_labels(self) -> dict[str, str]:
        return {
            "app": "vidgo",
            "environment": self.environment,
            "managed-by": "pulumi",
            **self.labels,
        }
