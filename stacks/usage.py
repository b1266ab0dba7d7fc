"""How a stack is used in a month, for the cost estimate (`vidgo-infra cost`), and its budget.

The defaults are production's: the seed's section 7 assumptions where the seed states one (about
500K API requests, 50 GB stored, 100K storage operations, 100 GB egress, 10K secret accesses a
month), and otherwise an assumption of ours, marked "ours" and explained in docs/cost.md.
A stack overrides any of them under `vidgo-infra:usage` (staging sets its own, much smaller).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsageProfile(_Settings):
    # Who the month serves: the seed sizes the platform for 1,000 active users a month (its
    # sections 7.2 and 7.5). Growth profiles (stacks/profiles/, docs/growth.md) scale from here.
    active_users: int = Field(1_000, ge=1)  # seed
    # Peak hour over the month's average request rate: the connection and instance limits are
    # met at the peak, not on average.
    peak_to_average: float = Field(10, ge=1)  # ours
    # Redis memory per active user: sessions, cached responses and queued jobs.
    redis_kib_per_active_user: float = Field(50, ge=0)  # ours

    # Cloud Run: requests that reach each service, and how long one keeps an instance busy.
    api_requests: int = Field(500_000, ge=0)  # seed
    api_mean_request_seconds: float = Field(0.5, ge=0)  # ours
    # Web requests that reach the web service: CDN cache hits never do.
    web_requests: int = Field(500_000, ge=0)  # ours (the seed prices the frontend, not its load)
    web_mean_request_seconds: float = Field(0.05, ge=0)  # ours
    # Cloud Run jobs (the migrations): executions a month, and how long one runs.
    job_runs: int = Field(30, ge=0)  # ours: about one release a day
    job_run_seconds: float = Field(60, ge=0)  # ours

    # Cloud Storage: the media bucket.
    storage_gb: float = Field(50, ge=0)  # seed
    storage_operations: int = Field(100_000, ge=0)  # seed
    # Class A (writes, lists) vs class B (reads). The seed's $0.50 prices all 100K as class A;
    # kept as the conservative default.
    storage_class_a_share: float = Field(1.0, ge=0, le=1)

    # Delivery: every byte served to users, and how much of it the CDN serves from its cache.
    egress_gb: float = Field(100, ge=0)  # seed
    # Share of egress that is cacheable content behind a CDN-enabled backend (media, web assets).
    cdn_cacheable_share: float = Field(0.8, ge=0, le=1)  # ours
    cdn_hit_ratio: float = Field(0.9, ge=0, le=1)  # ours
    cdn_requests: int = Field(1_000_000, ge=0)  # ours: GET/HEAD lookups through CDN backends
    upload_gb: float = Field(10, ge=0)  # ours: bytes users send in (images to animate, ...)

    # Cloud SQL: backup storage (7 incremental backups plus transaction logs).
    database_backup_gb: float = Field(10, ge=0)  # ours (the seed's $1 is ~12.5 GB)

    # Secret Manager.
    secret_accesses: int = Field(10_000, ge=0)  # seed
    # Active versions per secret, where the program declares none itself (`pulumi config set
    # --secret` adds one at deploy; rotations add more until old ones are destroyed).
    secret_versions_per_secret: int = Field(1, ge=0)

    # Cloud Armor: requests evaluated. None: the requests of the services behind each policy.
    armor_requests: int | None = Field(None, ge=0)

    artifact_registry_gb: float = Field(5, ge=0)  # ours: two images, 10 versions kept

    # Observability: log volume ingested into Cloud Logging (request logs, audit logs, ...),
    # VPC flow logs, and custom metric volume written by the application.
    log_gib: float = Field(10, ge=0)  # ours
    flow_log_gib: float = Field(1, ge=0)  # ours
    # The VPC's logged deny-all ingress rule: nothing outside reaches its private addresses, so
    # little is denied. DNS query logs: the queries of Cloud Run's Direct VPC egress (one log
    # entry, about 1 KiB, per query).
    firewall_log_gib: float = Field(0.1, ge=0)  # ours
    dns_query_log_gib: float = Field(0.5, ge=0)  # ours
    custom_metric_mib: float = Field(1, ge=0)  # ours

    # Give this stack the billing account's monthly free allotments (Cloud Run, Secret Manager,
    # Artifact Registry, ...). When two stacks share a billing account only one gets them: set it
    # false on the other. Per-project allotments (50 GiB of logs) apply either way.
    free_tier: bool = True


class Budget(_Settings):
    monthly_usd: float | None = Field(None, gt=0)
    # billingAccounts/XXXXXX-XXXXXX-XXXXXX: when set, a Cloud Billing budget is declared too.
    billing_account: str | None = Field(None, pattern=r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}")
    # Shares of monthly_usd at which the Cloud Billing budget notifies (1.0 = the whole budget).
    alert_thresholds: list[float] = [0.5, 0.9, 1.0]

    @model_validator(mode="after")
    def _thresholds(self) -> Budget:
        if any(not 0 < t <= 10 for t in self.alert_thresholds):
            raise ValueError("alert_thresholds: each must be above 0 and at most 10 (1.0 = 100%)")
        if self.billing_account and self.monthly_usd is None:
            raise ValueError(
                "monthly_usd: required when billing_account is set (the budget amount)"
            )
        return self
