"""The typed configuration of one stack: every setting, its default, and what is allowed.

Defaults are the seed's production values (the platform document, sections 3 and 6), so
`Pulumi.prod.yaml` is short and `Pulumi.staging.yaml` lists exactly how staging differs.
Nothing here reads Pulumi: `stacks.loader` turns the stack's config into the dict validated here.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from stacks import capacity
from stacks.usage import Budget, UsageProfile

# Google's placeholder image: it answers HTTP 200 on every path (including /health), so the first
# `pulumi up` succeeds before the application's own images have been pushed to the registry.
PLACEHOLDER_IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"

# Regions with Cloud Run, Cloud SQL, Memorystore and Direct VPC egress (November 2026).
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


# RFC 1918 itself: `IPv4Network.is_private` also counts loopback, link-local and the
# documentation ranges, none of which a VPC may use as its own private space.
RFC_1918 = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def _private_range(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR range like 10.8.0.0/28 ({error})") from None
    if not any(network.subnet_of(block) for block in RFC_1918):
        raise ValueError(
            f"{value} is not a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16"
        )
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


def _as_text(value: object) -> object:
    # `pulumi config set --path ...env.DEBUG true` writes a YAML boolean; the variable is text.
    return str(value).lower() if isinstance(value, bool) else value


# An environment variable or a database flag: `pulumi config set --path` writes 100 or true
# as YAML numbers and booleans, and the service or database receives them as text.
Text = Annotated[str, BeforeValidator(_as_text)]


class Settings(BaseModel):
    """Unknown keys are errors: a typo in a stack file must not silently fall back to a default.

    Numbers are accepted where text is meant (`cpu: 4`): `pulumi config set --path` writes them so.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


# The Serverless VPC Access connector's keys: Cloud Run now reaches the VPC by Direct VPC egress on
# the subnet, so a stack file that still sets one is told so instead of "unknown key".
REMOVED_CONNECTOR_KEYS = (
    "connector_name",
    "connector_range",
    "connector_machine_type",
    "connector_min_instances",
    "connector_max_instances",
)


class NetworkConfig(Settings):
    name: ResourceName = "vidgo-vpc"
    # One regional subnet in custom mode, on the range auto mode would have given this region
    # (10.140.0.0/20 is asia-east1's), so flow logs can be declared (see components/network.py).
    # Cloud Run's instances take their addresses here too (Direct VPC egress): it must hold
    # about 4 per instance during a revision roll-out (stacks/capacity.py, checked below).
    subnet_range: PrivateRange = "10.140.0.0/20"
    flow_log_sampling: float = Field(0.5, ge=0, le=1)
    # Private services access: Cloud SQL and Memorystore take their private addresses here.
    private_services_range: PrivateRange = "10.16.0.0/16"

    @model_validator(mode="before")
    @classmethod
    def _connector_removed(cls, data: object) -> object:
        if isinstance(data, dict):
            found = [key for key in REMOVED_CONNECTOR_KEYS if key in data]
            if found:
                raise ValueError(
                    f"{found[0]}: the VPC connector is gone (Cloud Run uses Direct VPC egress on "
                    f"network.subnet_range); delete {', '.join(f'network.{k}' for k in found)} "
                    "from the stack file"
                )
        return data

    @model_validator(mode="after")
    def _check_ranges(self) -> NetworkConfig:
        if ipaddress.IPv4Network(self.private_services_range).prefixlen > 24:
            raise ValueError(
                "private_services_range: must be a /24 or larger for Cloud SQL and Memorystore"
            )
        subnet = ipaddress.IPv4Network(self.subnet_range)
        services = ipaddress.IPv4Network(self.private_services_range)
        if subnet.overlaps(services):
            raise ValueError(f"subnet_range: {subnet} overlaps private_services_range ({services})")
        return self


class PoolConfig(Settings):
    """How a data service's connection limit is shared (stacks/capacity.py). The API's instances
    share what the migrations job and the operator margin leave; each gets an equal pool, at most
    `max_per_instance`, and a stack whose pool would fall below `min_per_instance` at the API's
    max instances is refused."""

    # Held by the migrations job while it runs (alembic takes one; one spare).
    migrations: int = Field(2, ge=1, le=100)
    # Kept free for an operator (psql, redis-cli) and a second client during an incident.
    operator_margin: int = Field(5, ge=0, le=1000)
    min_per_instance: int = Field(2, ge=1, le=1000)
    max_per_instance: int = Field(20, ge=1, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> PoolConfig:
        if self.min_per_instance > self.max_per_instance:
            raise ValueError(
                f"min_per_instance: {self.min_per_instance} is above max_per_instance "
                f"({self.max_per_instance})"
            )
        return self


PostgresVersion = Literal["POSTGRES_14", "POSTGRES_15", "POSTGRES_16", "POSTGRES_17"]


class DatabaseConfig(Settings):
    instance_name: ResourceName = "vidgo-db"
    version: PostgresVersion = "POSTGRES_15"
    # A major version change runs in place and cannot be undone, so it needs two more keys.
    # `deployed_version` records the version this stack's instance runs (pinned in the stack
    # file once it is deployed); a `version` different from it is refused unless
    # `allow_major_upgrade_from` names the deployed version, the operator's acknowledgement that
    # a backup was taken. After the upgrade, set `deployed_version` to the new version and remove
    # `allow_major_upgrade_from`. docs/configuration.md, "Fixed after the first pulumi up".
    deployed_version: PostgresVersion | None = None
    allow_major_upgrade_from: PostgresVersion | None = None
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
    flags: dict[str, Text] = {}
    # How the tier's connection limit is shared (PoolConfig; stacks/capacity_limits.yaml).
    pool: PoolConfig = PoolConfig()
    # Every client connects through the Cloud SQL connector (the /cloudsql socket of Cloud Run
    # services and jobs), which presents a client certificate: require one.
    ssl_mode: Literal["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"] = (
        "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    )
    # Deleting the instance keeps its automated backups (for their retention) ...
    retain_backups_on_delete: bool = True
    # ... and takes a final backup kept this many days (0: no final backup).
    final_backup_retention_days: int = Field(30, ge=0, le=365)

    @model_validator(mode="after")
    def _major_upgrade_acknowledged(self) -> DatabaseConfig:
        deployed, wanted = self.deployed_version, self.version
        if deployed is None or deployed == wanted:
            return self
        if _postgres_major(wanted) < _postgres_major(deployed):
            raise ValueError(
                f"version: {wanted} is older than the deployed {deployed}; "
                "Cloud SQL cannot downgrade (restore a backup into a new instance instead)"
            )
        if self.allow_major_upgrade_from != deployed:
            raise ValueError(
                f"version: {deployed} -> {wanted} is an in-place major upgrade that cannot be "
                f"undone; take a backup first (gcloud sql backups create --instance "
                f"{self.instance_name}), then set database.allow_major_upgrade_from: {deployed}"
            )
        return self

    @model_validator(mode="after")
    def _flags_cloud_sql_accepts(self) -> DatabaseConfig:
        from stacks.cloudsql_flags import problems

        found = [f"flags.{name}: {wrong}" for name, wrong in problems(self.flags, self.version)]
        if found:
            raise ValueError("; ".join(found))  # the loader places the first at its key
        return self


def _postgres_major(version: str) -> int:
    return int(version.removeprefix("POSTGRES_"))


class RedisConfig(Settings):
    """Memorystore for Redis: the API's cache, job queue and session store (seed, section 1).

    Tier decision for prod: STANDARD_HA. A BASIC instance is one node: every maintenance and every
    node failure restarts it, and with RDB snapshots it comes back with the data of the latest
    snapshot, so the jobs queued (and the sessions opened) since then are lost and jobs taken
    since then run a second time. STANDARD_HA keeps a replica in another zone and fails over in
    seconds without that loss; RDB snapshots on top cover losing both nodes. It costs $59.13
    instead of $46.72 a month for 1 GB in asia-east1 (+$12.41, +27 %; vidgo_infra/prices.yaml).
    Staging keeps BASIC (a lost queue there costs nothing).

    The tier cannot change in place: changing it replaces the instance (new address, AUTH string
    and CA; the queue and sessions are not carried over), which `protect` refuses in prod. Moving
    a deployed stack is therefore a migration: declare the new instance under a new
    `instance_name`, let the API write to it (REDIS_URL follows), let the workers drain the old
    queue, then remove the old one (docs/configuration.md, "Fixed after the first pulumi up").
    """

    instance_name: ResourceName = "vidgo-redis"
    version: Literal["REDIS_6_X", "REDIS_7_0", "REDIS_7_2"] = "REDIS_7_0"
    tier: Literal["BASIC", "STANDARD_HA"] = "STANDARD_HA"
    memory_size_gb: int = Field(1, ge=1, le=300)
    # RDB persistence: how often Memorystore snapshots the data it recovers from after a restart.
    rdb_snapshot_period: Literal[
        "ONE_HOUR", "SIX_HOURS", "TWELVE_HOURS", "TWENTY_FOUR_HOURS", "DISABLED"
    ] = "ONE_HOUR"
    # The weekly maintenance window (one hour, UTC), after Cloud SQL's (Sunday 04:00).
    maintenance_day: int = Field(7, ge=1, le=7, description="1 = Monday ... 7 = Sunday")
    maintenance_hour: int = Field(5, ge=0, le=23, description="UTC")
    # How the instance's client limit is shared (PoolConfig; stacks/capacity_limits.yaml).
    pool: PoolConfig = PoolConfig(operator_margin=10, max_per_instance=50)


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
    # Empty means derived from the site: https:// apex, www (when served) and the API host.
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
    # The startup probe's path: an instance takes traffic only once it answers 200 here. None:
    # health_path. Direct VPC egress can take a minute or more to connect after an instance
    # starts, so the API's answers 200 only when Cloud SQL and Redis are reachable.
    ready_path: Annotated[str, _matches(r"/\S*", "a path starting with /")] | None = None
    env: dict[str, Text] = {}

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
    ready_path: Annotated[str, _matches(r"/\S*", "a path starting with /")] | None = "/health/ready"
    env: dict[str, Text] = {"ENVIRONMENT": "production"}


class WebServiceConfig(ServiceConfig):
    name: ServiceName = "vidgo-web"
    concurrency: int = Field(200, ge=1, le=1000)


class ServicesConfig(Settings):
    api: ApiServiceConfig = ApiServiceConfig()
    web: WebServiceConfig = WebServiceConfig()


BanSeconds = Literal[60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600]


class ArmorConfig(Settings):
    """Cloud Armor: on the API, Google's OWASP rule sets, the API's own methods and a per-client
    rate limit with a ban; on the web service, the rate limit and ban."""

    # Per client IP and backend; above it, requests get a 429 (a rate-based ban rule allows at
    # most 10,000 in its interval).
    rate_limit_requests: int = Field(600, ge=1, le=10000)
    rate_limit_interval_seconds: Literal[10, 30, 60, 120, 180, 240, 300, 600, 900] = 60
    # A client that sends more than this many requests over the limit in ban_interval_seconds
    # is banned (every request denied) for ban_duration_seconds: sustained abuse, not a burst.
    ban_threshold_requests: int = Field(3000, ge=1, le=10000)
    ban_interval_seconds: BanSeconds = 600
    ban_duration_seconds: BanSeconds = 600
    # enforce: matches get a 403; preview: matches are logged, nothing is blocked (a weaker
    # choice, see accept_weaker).
    owasp_mode: Literal["preview", "enforce"] = "enforce"
    owasp_sensitivity: int = Field(1, ge=1, le=4)


# How the HTTPS proxy gets its certificates (docs/cutover.md). "certificate-manager": one
# DNS-authorized certificate per host in a certificate map, issued from a CNAME before the A
# records move. "classic": one compute ManagedSslCertificate per host, issued only after the A
# records point at the load balancer (a stack deployed before Certificate Manager). The two
# "migrate-" values move such a stack over without a host ever lacking a valid certificate:
# "migrate-issue" declares the new certificates beside the classic ones, which still serve;
# "migrate-attach" attaches the map (it then serves; the classic ones stay attached, ignored).
CertificateMode = Literal["certificate-manager", "classic", "migrate-issue", "migrate-attach"]


class EdgeConfig(Settings):
    static_ip_name: ResourceName = "vidgo-ip"
    certificates: CertificateMode = "certificate-manager"
    dns_ttl: int = Field(600, ge=60)
    web_cdn: bool = True
    # Media is served from the bucket through the load balancer at this path on the site hosts;
    # set media_subdomain (e.g. "media") to serve it on its own host instead.
    media_path: Annotated[str, _matches(r"/[a-z0-9_-]+", "a path like /media")] = "/media"
    media_subdomain: Label | None = None
    armor: ArmorConfig = ArmorConfig()
    # Strict-Transport-Security on every HTTPS response (0: none, a weaker choice).
    hsts_max_age_seconds: int = Field(31536000, ge=0, le=63072000)


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


# An SLO target: the share of requests that must be good. Cloud Monitoring takes at most 0.9999;
# below 0.95 the fast burn alert (2 % of the budget in an hour, components/slo.py) would need
# more than 100 % of requests to fail in that hour (14.4 x 7 % > 1), so it could never fire.
SloTarget = Annotated[float, Field(ge=0.95, le=0.9999)]


class ServiceObjectives(Settings):
    """What one public service promises its users, measured at the load balancer."""

    # Share of requests answered without a server error (5xx), the load balancer's own included.
    availability: SloTarget = 0.999
    # Share of requests answered within latency_threshold_ms; None: no latency SLO.
    latency: SloTarget | None = None
    # At most Cloud Run's longest request timeout (3600 s): no request takes longer.
    latency_threshold_ms: int = Field(2000, ge=1, le=3_600_000)


class ApiObjectives(ServiceObjectives):
    # As the p95 alert it replaces meant: 95 % of the API's requests within 2 s.
    latency: SloTarget | None = 0.95


class SloConfig(Settings):
    # The compliance period: rolling (the last 28 or 30 days) or the calendar month so far.
    period: Literal["rolling_28_days", "rolling_30_days", "calendar_month"] = "rolling_28_days"
    api: ApiObjectives = ApiObjectives()
    web: ServiceObjectives = ServiceObjectives()


class MonitoringConfig(Settings):
    # Who is paged: the fast burn alerts, uptime and provider down.
    notification_emails: list[Email] = []
    # Who gets a ticket: the slow burn alerts (empty: the notification_emails).
    ticket_emails: list[Email] = []
    slo: SloConfig = SloConfig()
    uptime_check_period_seconds: Literal[60, 300, 600, 900] = 60
    # The provider-down alert also fires when no provider status arrives for this long (the
    # worker that writes it may have stopped). Cloud Monitoring's minimum is 2 minutes.
    provider_status_absent_minutes: int = Field(15, ge=2, le=1440)


# Choices weaker than the defaults, each allowed only when named in `accept_weaker`; the program
# then warns about each one on every preview and plan. What each weakens, and the setting:
WEAKER_CHOICES = {
    "unprotected": (
        "protect",
        "stateful resources have no protect or deletion guard: a destroy deletes data",
    ),
    "owasp-preview": (
        "edge.armor.owasp_mode",
        "OWASP rules only log (preview): the WAF blocks nothing",
    ),
    "no-hsts": ("edge.hsts_max_age_seconds", "no Strict-Transport-Security header is sent"),
    "no-retained-backups": (
        "database.retain_backups_on_delete",
        "deleting the Cloud SQL instance deletes its backups, or takes no final backup",
    ),
    "no-client-certificates": (
        "database.ssl_mode",
        "Cloud SQL accepts connections without a trusted client certificate",
    ),
    "no-redis-persistence": (
        "redis.rdb_snapshot_period",
        "Redis keeps no snapshot: a restart loses the queue and sessions",
    ),
}
WeakerChoice = Literal[
    "unprotected",
    "owasp-preview",
    "no-hsts",
    "no-retained-backups",
    "no-client-certificates",
    "no-redis-persistence",
]


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
    # The application's secrets (seed section 3.2, step 5). The bootstrap declares them (it reads
    # this list, or the stack file's), the operator adds their values with gcloud, the API reads
    # them: no value is ever in config or state (docs/configuration.md, "Secret values").
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
    # The weaker choices this stack makes on purpose (WEAKER_CHOICES); any other is refused.
    accept_weaker: list[WeakerChoice] = []

    @model_validator(mode="after")
    def _domain_inside_zone(self) -> PlatformConfig:
        zone = self.zone
        if self.domain != zone and not self.domain.endswith("." + zone):
            raise ValueError(f"domain: {self.domain} is not inside dns_zone {zone}")
        if len(set(self.app_secrets)) != len(self.app_secrets):
            raise ValueError("app_secrets: lists a secret twice")
        return self

    @model_validator(mode="after")
    def _weaker_choices_are_named(self) -> PlatformConfig:
        made = set(self.weaker_choices)
        for choice, (key, _) in WEAKER_CHOICES.items():
            if choice in made and choice not in self.accept_weaker:
                raise ValueError(
                    f"{key}: weaker than the default; allowed only with "
                    f"accept_weaker: [{choice}] (the plan then warns)"
                )
        unused = [c for c in self.accept_weaker if c not in made]
        if unused:
            raise ValueError(f"accept_weaker: {', '.join(unused)} not weakened by this stack")
        return self

    @model_validator(mode="after")
    def _capacity_fits(self) -> PlatformConfig:
        """The connection budgets and the subnet, checked at every plan and `pulumi up`."""
        for budget, tier_key, pool_key in (
            (self.database_budget, "database.tier", "database.pool"),
            (self.redis_budget, "redis.memory_size_gb", "redis.pool"),
        ):
            if not budget.fits:
                raise ValueError(_over_budget(budget, tier_key, pool_key, self))
        problem = self.subnet_need.problem
        if problem:
            fitting = capacity.smallest_prefix_for(self.subnet_need.instances)
            raise ValueError(
                f"network.subnet_range: {problem}; use a /{fitting} or larger, or lower "
                "services.api.max_instances / services.web.max_instances"
            )
        return self

    @property
    def database_budget(self) -> capacity.Budget:
        db = self.database
        return _budget(
            "database connections",
            capacity.database_connection_limit(db.tier, db.flags),
            capacity.database_reserved_connections(db.flags),
            db.pool,
            self.services.api.max_instances,
        )

    @property
    def redis_budget(self) -> capacity.Budget:
        redis = self.redis
        # In-transit encryption is always on (components/redis.py).
        limit = capacity.redis_client_limit(redis.memory_size_gb, redis.version, tls=True)
        return _budget("Redis clients", limit, 0, redis.pool, self.services.api.max_instances)

    @property
    def subnet_need(self) -> capacity.SubnetNeed:
        """Everything with Direct VPC egress on the subnet: both services and one job task."""
        services = self.services
        instances = services.api.max_instances + services.web.max_instances + 1
        prefix = ipaddress.IPv4Network(self.network.subnet_range).prefixlen
        return capacity.subnet_need(prefix, instances)

    @property
    def weaker_choices(self) -> list[str]:
        """The weaker choices this stack's settings make, in WEAKER_CHOICES order."""
        db = self.database
        made = {
            "unprotected": not self.protect,
            "owasp-preview": self.edge.armor.owasp_mode == "preview",
            "no-hsts": self.edge.hsts_max_age_seconds == 0,
            "no-retained-backups": not db.retain_backups_on_delete
            or db.final_backup_retention_days == 0,
            "no-client-certificates": db.ssl_mode != "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
            "no-redis-persistence": self.redis.rdb_snapshot_period == "DISABLED",
        }
        return [choice for choice in WEAKER_CHOICES if made[choice]]

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
        """The pages that fetch media from a browser: every site host (apex, www) and the API."""
        derived = [f"https://{host}" for host in [*self.site_hosts, self.api_host]]
        return self.media.cors_origins or derived

    @property
    def resource_labels(self) -> dict[str, str]:
        return {
            "app": "vidgo",
            "environment": self.environment,
            "managed-by": "pulumi",
            **self.labels,
        }


def _budget(what: str, limit: int, reserved: int, pool: PoolConfig, api_max: int):
    return capacity.Budget(
        what=what,
        limit=limit,
        reserved=reserved,
        migrations=pool.migrations,
        operator_margin=pool.operator_margin,
        api_max_instances=api_max,
        min_pool=pool.min_per_instance,
        max_pool=pool.max_per_instance,
    )


def _over_budget(budget: capacity.Budget, tier_key: str, pool_key: str, cfg: PlatformConfig):
    """One line: what the demand is, what the limit is, and the keys that change either."""
    wanted = budget.wanted()
    if tier_key == "database.tier":
        has = f"{cfg.database.tier}'s {budget.limit}"
        tier = capacity.smallest_database_tier(wanted, cfg.database.tier)
        lift = f"raise {tier_key}" + (
            f" (to {tier}: {capacity.database_connection_limit(tier)})" if tier else ""
        )
    else:
        has = f"the {budget.limit} of a {cfg.redis.memory_size_gb} GB instance"
        lift = f"raise {tier_key} or redis.version"
    return (
        f"services.api.max_instances: {budget.api_max_instances} API instances x a pool of at "
        f"least {budget.min_pool} + {budget.reserved} reserved + {budget.migrations} migrations "
        f"+ {budget.operator_margin} operator margin = {wanted} {budget.what}, over {has}; "
        f"lower services.api.max_instances to {budget.max_instances_that_fit()}, {lift}, or "
        f"lower {pool_key}.min_per_instance"
    )
