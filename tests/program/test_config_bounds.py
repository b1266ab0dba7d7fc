"""Every config guard holds exactly where it says: a value just inside passes, just outside fails.

Checked on the model itself (PlatformConfig.model_validate, what stacks/loader.py calls), with
the boundary values written out by hand: the table is the specification, so a bound loosened or
tightened in stacks/ fails here. test_config.py checks how a rejection reaches the operator.
"""

from __future__ import annotations

import math
import typing
from typing import Any

import annotated_types
import pydantic
import pytest

from stacks.config import PlatformConfig
from stacks.usage import UsageProfile

BASE = {"project": "vidgo-ai-test", "region": "asia-east1", "environment": "test"}


def above(x: float) -> float:
    return math.nextafter(x, math.inf)


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def config(changes: dict[str, Any]) -> dict[str, Any]:
    """BASE with `changes`, whose keys are dotted paths: {"database.disk_size_gb": 10}."""
    raw: dict[str, Any] = {**BASE}
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return raw


def service(which: str, **values) -> dict[str, Any]:
    return {f"services.{which}.{key}": value for key, value in values.items()}


# (id, just inside, just outside, the key the rejection must name). Each side is a set of
# changes; the outside one differs from the inside one only across the guard.
BOUNDS = [
    # --- network: private ranges, their sizes, no overlap, no connector
    (
        "subnet-rfc1918",
        {"network.subnet_range": "192.168.0.0/20"},
        {"network.subnet_range": "203.0.113.0/24"},
        "subnet_range",
    ),
    (
        "subnet-loopback",
        {"network.subnet_range": "172.16.0.0/20"},
        {"network.subnet_range": "127.0.0.0/20"},
        "subnet_range",
    ),
    (
        "subnet-link-local",
        {"network.subnet_range": "10.200.0.0/20"},
        {"network.subnet_range": "169.254.0.0/20"},
        "subnet_range",
    ),
    (
        "subnet-host-bits",
        {"network.subnet_range": "10.140.0.0/20"},
        {"network.subnet_range": "10.140.0.1/20"},
        "subnet_range",
    ),
    (
        "connector-keys-are-gone",
        {"network.subnet_range": "10.140.0.0/20"},
        {"network.connector_range": "10.8.0.0/28"},
        "the VPC connector is gone",
    ),
    (
        "private-services-public",
        {"network.private_services_range": "10.20.0.0/16"},
        {"network.private_services_range": "198.51.100.0/24"},
        "private_services_range",
    ),
    (
        "private-services-24",
        {"network.private_services_range": "10.16.0.0/24"},
        {"network.private_services_range": "10.16.0.0/25"},
        "private_services_range",
    ),
    (
        "ranges-overlap",
        {"network.subnet_range": "10.17.0.0/20"},
        {"network.subnet_range": "10.16.240.0/20"},
        "overlaps",
    ),
    (
        "flow-sampling-low",
        {"network.flow_log_sampling": 0.0},
        {"network.flow_log_sampling": below(0.0)},
        "flow_log_sampling",
    ),
    (
        "flow-sampling-high",
        {"network.flow_log_sampling": 1.0},
        {"network.flow_log_sampling": above(1.0)},
        "flow_log_sampling",
    ),
    # --- Direct VPC egress: the subnet holds ~4 addresses per instance during a roll-out, /26+
    (
        "subnet-holds-a-rollout",
        # API 10 + web 20 + 1 (the job) = 31 instances x 4 = 124 = a /25's usable addresses.
        {"network.subnet_range": "10.140.0.0/25", **service("web", max_instances=20)},
        {"network.subnet_range": "10.140.0.0/25", **service("web", max_instances=21)},
        "subnet_range",
    ),
    (
        "subnet-default-instances",
        {"network.subnet_range": "10.140.0.0/25"},
        {"network.subnet_range": "10.140.0.0/26"},
        "subnet_range",
    ),
    (
        "subnet-26-smallest",
        {"network.subnet_range": "10.140.0.0/26", **service("web", max_instances=1)},
        {"network.subnet_range": "10.140.0.0/27", **service("web", max_instances=1)},
        "/26",
    ),
    # --- connection budgets: what the tier's limit leaves, over the API's max instances
    (
        "db-g1-small-holds-20-api-instances",
        # 50 - 3 reserved - 2 migrations - 5 margin = 40 = 20 instances x a pool of 2.
        {**service("api", max_instances=20)},
        {**service("api", max_instances=21)},
        "services.api.max_instances",
    ),
    (
        "custom-tier-by-memory",
        # 3.75 GiB is the first row of Google's table (100); below it, the smallest (25).
        {"database.tier": "db-custom-1-3840", **service("api", max_instances=45)},
        {"database.tier": "db-custom-1-3839", **service("api", max_instances=45)},
        "database.tier",
    ),
    (
        "max-connections-flag-replaces-the-tier",
        {"database.flags": {"max_connections": "52"}, **service("api", max_instances=21)},
        {"database.flags": {"max_connections": "51"}, **service("api", max_instances=21)},
        "services.api.max_instances",
    ),
    (
        "db-pool-migrations",
        {"database.pool.migrations": 1, **service("api", max_instances=20)},
        {"database.pool.migrations": 3, **service("api", max_instances=20)},
        "database.pool",
    ),
    (
        "db-pool-migrations-range",
        {"database.pool.migrations": 100, "database.flags": {"max_connections": "5000"}},
        {"database.pool.migrations": 101, "database.flags": {"max_connections": "5000"}},
        "migrations",
    ),
    (
        "db-pool-migrations-min",
        {"database.pool.migrations": 1},
        {"database.pool.migrations": 0},
        "migrations",
    ),
    (
        "db-pool-margin",
        # 50 - 3 - 2 - 1 = 44 = 22 instances x 2; one more slot of margin leaves 43.
        {"database.pool.operator_margin": 1, **service("api", max_instances=22)},
        {"database.pool.operator_margin": 2, **service("api", max_instances=22)},
        "database.pool",
    ),
    (
        "db-pool-margin-range",
        {"database.pool.operator_margin": 1000, "database.flags": {"max_connections": "5000"}},
        {"database.pool.operator_margin": 1001, "database.flags": {"max_connections": "5000"}},
        "operator_margin",
    ),
    (
        "db-pool-min-per-instance",
        {"database.pool.min_per_instance": 4},
        {"database.pool.min_per_instance": 5},
        "database.pool.min_per_instance",
    ),
    (
        "db-pool-min-per-instance-range",
        {"database.pool.min_per_instance": 1},
        {"database.pool.min_per_instance": 0},
        "min_per_instance",
    ),
    (
        "db-pool-min-per-instance-high",
        {
            "database.pool.min_per_instance": 1000,
            "database.pool.max_per_instance": 1000,
            "database.flags": {"max_connections": "20000"},
        },
        {
            "database.pool.min_per_instance": 1001,
            "database.pool.max_per_instance": 1000,
            "database.flags": {"max_connections": "20000"},
        },
        "min_per_instance",
    ),
    (
        "db-pool-max-per-instance-range",
        {"database.pool.max_per_instance": 1000},
        {"database.pool.max_per_instance": 1001},
        "max_per_instance",
    ),
    (
        "db-pool-min-not-above-max",
        {"database.pool.min_per_instance": 2, "database.pool.max_per_instance": 2},
        {"database.pool.min_per_instance": 2, "database.pool.max_per_instance": 1},
        "min_per_instance",
    ),
    (
        "redis-clients-with-tls-before-7",
        # Redis 6.x with TLS on 1 GB: 1,000 clients = 2 migrations + 10 margin + 494 x 2.
        {
            "redis.version": "REDIS_6_X",
            "database.flags": {"max_connections": "5000"},
            **service("api", max_instances=494),
        },
        {
            "redis.version": "REDIS_6_X",
            "database.flags": {"max_connections": "5000"},
            **service("api", max_instances=495),
        },
        "Redis clients",
    ),
    (
        "redis-pool-migrations",
        {"redis.pool.migrations": 100},
        {"redis.pool.migrations": 101},
        "migrations",
    ),
    (
        "redis-pool-migrations-min",
        {"redis.pool.migrations": 1},
        {"redis.pool.migrations": 0},
        "migrations",
    ),
    (
        "redis-pool-margin",
        {"redis.pool.operator_margin": 1000},
        {"redis.pool.operator_margin": 1001},
        "operator_margin",
    ),
    (
        "redis-pool-margin-min",
        {"redis.pool.operator_margin": 0},
        {"redis.pool.operator_margin": -1},
        "operator_margin",
    ),
    (
        "redis-pool-min-per-instance",
        {"redis.pool.min_per_instance": 1000, "redis.pool.max_per_instance": 1000},
        {"redis.pool.min_per_instance": 1001, "redis.pool.max_per_instance": 1000},
        "min_per_instance",
    ),
    (
        "redis-pool-min-per-instance-min",
        {"redis.pool.min_per_instance": 1},
        {"redis.pool.min_per_instance": 0},
        "min_per_instance",
    ),
    (
        "redis-pool-max-per-instance",
        {"redis.pool.max_per_instance": 1, "redis.pool.min_per_instance": 1},
        {"redis.pool.max_per_instance": 0, "redis.pool.min_per_instance": 1},
        "max_per_instance",
    ),
    (
        "redis-pool-max-per-instance-high",
        {"redis.pool.max_per_instance": 1000},
        {"redis.pool.max_per_instance": 1001},
        "max_per_instance",
    ),
    (
        "db-pool-max-per-instance-min",
        {"database.pool.max_per_instance": 1, "database.pool.min_per_instance": 1},
        {"database.pool.max_per_instance": 0, "database.pool.min_per_instance": 1},
        "max_per_instance",
    ),
    (
        "db-pool-margin-min",
        {"database.pool.operator_margin": 0},
        {"database.pool.operator_margin": -1},
        "operator_margin",
    ),
    # --- database
    ("disk-min", {"database.disk_size_gb": 10}, {"database.disk_size_gb": 9}, "disk_size_gb"),
    (
        "disk-max",
        {"database.disk_size_gb": 65536},
        {"database.disk_size_gb": 65537},
        "disk_size_gb",
    ),
    (
        "backups-min",
        {"database.backup_retention_count": 1},
        {"database.backup_retention_count": 0},
        "backup_retention_count",
    ),
    (
        "backups-max",
        {"database.backup_retention_count": 365},
        {"database.backup_retention_count": 366},
        "backup_retention_count",
    ),
    (
        "wal-days-min",
        {"database.log_retention_days": 1},
        {"database.log_retention_days": 0},
        "log_retention_days",
    ),
    (
        "wal-days-max",
        {"database.log_retention_days": 7},
        {"database.log_retention_days": 8},
        "log_retention_days",
    ),
    (
        "maintenance-day-min",
        {"database.maintenance_day": 1},
        {"database.maintenance_day": 0},
        "maintenance_day",
    ),
    (
        "maintenance-day-max",
        {"database.maintenance_day": 7},
        {"database.maintenance_day": 8},
        "maintenance_day",
    ),
    (
        "maintenance-hour-min",
        {"database.maintenance_hour": 0},
        {"database.maintenance_hour": -1},
        "maintenance_hour",
    ),
    (
        "maintenance-hour-max",
        {"database.maintenance_hour": 23},
        {"database.maintenance_hour": 24},
        "maintenance_hour",
    ),
    (
        "backup-time",
        {"database.backup_start_time": "23:59"},
        {"database.backup_start_time": "24:00"},
        "backup_start_time",
    ),
    (
        "tier-custom",
        {"database.tier": "db-custom-2-7680"},
        {"database.tier": "db-n1-standard-2"},
        "tier",
    ),
    # --- redis
    (
        "redis-memory-min",
        {"redis.memory_size_gb": 1},
        {"redis.memory_size_gb": 0},
        "memory_size_gb",
    ),
    (
        "redis-memory-max",
        {"redis.memory_size_gb": 300},
        {"redis.memory_size_gb": 301},
        "memory_size_gb",
    ),
    # --- media
    (
        "soft-delete-off",
        {"media.soft_delete_days": 0},
        {"media.soft_delete_days": 1},
        "soft_delete_days",
    ),
    (
        "soft-delete-min",
        {"media.soft_delete_days": 7},
        {"media.soft_delete_days": 6},
        "soft_delete_days",
    ),
    (
        "soft-delete-max",
        {"media.soft_delete_days": 90},
        {"media.soft_delete_days": 91},
        "soft_delete_days",
    ),
    (
        "cors-max-age",
        {"media.cors_max_age_seconds": 0},
        {"media.cors_max_age_seconds": -1},
        "cors_max_age_seconds",
    ),
    (
        "cors-origin-https",
        {"media.cors_origins": ["https://vidgo.ai"]},
        {"media.cors_origins": ["http://vidgo.ai"]},
        "cors_origins",
    ),
    (
        "lifecycle-age",
        {"media.lifecycle": [{"action": "Delete", "age_days": 0}]},
        {"media.lifecycle": [{"action": "Delete", "age_days": -1}]},
        "age_days",
    ),
    (
        "lifecycle-class-with-move",
        {
            "media.lifecycle": [
                {"action": "SetStorageClass", "age_days": 30, "storage_class": "NEARLINE"}
            ]
        },
        {"media.lifecycle": [{"action": "SetStorageClass", "age_days": 30}]},
        "storage_class",
    ),
    (
        "lifecycle-class-only-with-move",
        {"media.lifecycle": [{"action": "Delete", "age_days": 30}]},
        {"media.lifecycle": [{"action": "Delete", "age_days": 30, "storage_class": "NEARLINE"}]},
        "storage_class",
    ),
    # --- registry
    (
        "keep-recent",
        {"registry.keep_recent_versions": 1},
        {"registry.keep_recent_versions": 0},
        "keep_recent_versions",
    ),
    (
        "untagged-days",
        {"registry.delete_untagged_after_days": 1},
        {"registry.delete_untagged_after_days": 0},
        "delete_untagged_after_days",
    ),
    # --- edge
    ("dns-ttl", {"edge.dns_ttl": 60}, {"edge.dns_ttl": 59}, "dns_ttl"),
    (
        "rate-limit",
        {"edge.armor.rate_limit_requests": 1},
        {"edge.armor.rate_limit_requests": 0},
        "rate_limit_requests",
    ),
    (
        "rate-interval",
        {"edge.armor.rate_limit_interval_seconds": 900},
        {"edge.armor.rate_limit_interval_seconds": 901},
        "rate_limit_interval_seconds",
    ),
    (
        "owasp-sensitivity-min",
        {"edge.armor.owasp_sensitivity": 1},
        {"edge.armor.owasp_sensitivity": 0},
        "owasp_sensitivity",
    ),
    (
        "owasp-sensitivity-max",
        {"edge.armor.owasp_sensitivity": 4},
        {"edge.armor.owasp_sensitivity": 5},
        "owasp_sensitivity",
    ),
    (
        "owasp-mode",
        {"edge.armor.owasp_mode": "enforce"},
        {"edge.armor.owasp_mode": "block"},
        "owasp_mode",
    ),
    # --- data-safety and edge guards: final backup, Redis maintenance, ban, HSTS, provider status
    (
        "final-backup-min",
        {"database.final_backup_retention_days": 0, "accept_weaker": ["no-retained-backups"]},
        {"database.final_backup_retention_days": -1, "accept_weaker": ["no-retained-backups"]},
        "final_backup_retention_days",
    ),
    (
        "final-backup-max",
        {"database.final_backup_retention_days": 365},
        {"database.final_backup_retention_days": 366},
        "final_backup_retention_days",
    ),
    (
        "redis-maintenance-day-min",
        {"redis.maintenance_day": 1},
        {"redis.maintenance_day": 0},
        "maintenance_day",
    ),
    (
        "redis-maintenance-day-max",
        {"redis.maintenance_day": 7},
        {"redis.maintenance_day": 8},
        "maintenance_day",
    ),
    (
        "redis-maintenance-hour-min",
        {"redis.maintenance_hour": 0},
        {"redis.maintenance_hour": -1},
        "maintenance_hour",
    ),
    (
        "redis-maintenance-hour-max",
        {"redis.maintenance_hour": 23},
        {"redis.maintenance_hour": 24},
        "maintenance_hour",
    ),
    (
        "rate-limit-max",
        {"edge.armor.rate_limit_requests": 10000},
        {"edge.armor.rate_limit_requests": 10001},
        "rate_limit_requests",
    ),
    (
        "ban-threshold-min",
        {"edge.armor.ban_threshold_requests": 1},
        {"edge.armor.ban_threshold_requests": 0},
        "ban_threshold_requests",
    ),
    (
        "ban-threshold-max",
        {"edge.armor.ban_threshold_requests": 10000},
        {"edge.armor.ban_threshold_requests": 10001},
        "ban_threshold_requests",
    ),
    (
        "ban-interval",
        {"edge.armor.ban_interval_seconds": 3600},
        {"edge.armor.ban_interval_seconds": 3601},
        "ban_interval_seconds",
    ),
    (
        "hsts-min",
        {"edge.hsts_max_age_seconds": 0, "accept_weaker": ["no-hsts"]},
        {"edge.hsts_max_age_seconds": -1, "accept_weaker": ["no-hsts"]},
        "hsts_max_age_seconds",
    ),
    (
        "hsts-max",
        {"edge.hsts_max_age_seconds": 63072000},
        {"edge.hsts_max_age_seconds": 63072001},
        "hsts_max_age_seconds",
    ),
    (
        "provider-absent-min",
        {"monitoring.provider_status_absent_minutes": 2},
        {"monitoring.provider_status_absent_minutes": 1},
        "provider_status_absent_minutes",
    ),
    (
        "provider-absent-max",
        {"monitoring.provider_status_absent_minutes": 1440},
        {"monitoring.provider_status_absent_minutes": 1441},
        "provider_status_absent_minutes",
    ),
    # A weaker choice passes only when the stack names it, and a named one must be made.
    (
        "weaker-named",
        {"edge.armor.owasp_mode": "preview", "accept_weaker": ["owasp-preview"]},
        {"edge.armor.owasp_mode": "preview"},
        "accept_weaker: [owasp-preview]",
    ),
    (
        "weaker-unused",
        {"accept_weaker": []},
        {"accept_weaker": ["owasp-preview"]},
        "accept_weaker: owasp-preview not weakened",
    ),
    # --- the migrations job
    (
        "job-timeout-min",
        {"migrations.timeout_seconds": 10},
        {"migrations.timeout_seconds": 9},
        "timeout_seconds",
    ),
    (
        "job-timeout-max",
        {"migrations.timeout_seconds": 86400},
        {"migrations.timeout_seconds": 86401},
        "timeout_seconds",
    ),
    (
        "job-retries-min",
        {"migrations.max_retries": 0},
        {"migrations.max_retries": -1},
        "max_retries",
    ),
    (
        "job-retries-max",
        {"migrations.max_retries": 10},
        {"migrations.max_retries": 11},
        "max_retries",
    ),
    (
        "job-command-empty",
        {"migrations.command": ["migrate"]},
        {"migrations.command": []},
        "command",
    ),
    (
        "job-command-blank-arg",
        {"migrations.command": ["migrate", "x"]},
        {"migrations.command": ["migrate", ""]},
        "command",
    ),
    # --- monitoring
    # SLO targets: Cloud Monitoring's maximum, and the lowest at which the fast burn can fire.
    *(
        case
        for target in ("api.availability", "api.latency", "web.availability", "web.latency")
        for case in (
            (
                f"slo-{target}-low",
                {f"monitoring.slo.{target}": 0.95},
                {f"monitoring.slo.{target}": below(0.95)},
                target.split(".")[1],
            ),
            (
                f"slo-{target}-high",
                {f"monitoring.slo.{target}": 0.9999},
                {f"monitoring.slo.{target}": above(0.9999)},
                target.split(".")[1],
            ),
        )
    ),
    *(
        case
        for service in ("api", "web")
        for case in (
            (
                f"slo-{service}-latency-threshold-low",
                {f"monitoring.slo.{service}.latency_threshold_ms": 1},
                {f"monitoring.slo.{service}.latency_threshold_ms": 0},
                "latency_threshold_ms",
            ),
            (
                f"slo-{service}-latency-threshold-high",
                {f"monitoring.slo.{service}.latency_threshold_ms": 3_600_000},
                {f"monitoring.slo.{service}.latency_threshold_ms": 3_600_001},
                "latency_threshold_ms",
            ),
        )
    ),
    (
        "slo-period",
        {"monitoring.slo.period": "calendar_month"},
        {"monitoring.slo.period": "rolling_7_days"},
        "period",
    ),
    (
        "uptime-period",
        {"monitoring.uptime_check_period_seconds": 900},
        {"monitoring.uptime_check_period_seconds": 30},
        "uptime_check_period_seconds",
    ),
    # --- the stack as a whole
    (
        "domain-in-zone",
        {"domain": "staging.vidgo.ai", "dns_zone": "vidgo.ai"},
        {"domain": "staging.vidgo.com", "dns_zone": "vidgo.ai"},
        "domain",
    ),
    ("secrets-unique", {"app_secrets": ["A", "B"]}, {"app_secrets": ["A", "A"]}, "app_secrets"),
    ("project-id-short", {"project": "a2345b"}, {"project": "a234b"}, "project"),
    (
        "project-id-long",
        {"project": "a" + "2" * 28 + "b"},
        {"project": "a" + "2" * 29 + "b"},
        "project",
    ),
    # --- budget
    (
        "budget-amount",
        {"budget.monthly_usd": above(0.0)},
        {"budget.monthly_usd": 0.0},
        "monthly_usd",
    ),
    (
        "budget-threshold-low",
        {"budget.alert_thresholds": [above(0.0)]},
        {"budget.alert_thresholds": [0.0]},
        "alert_thresholds",
    ),
    (
        "budget-threshold-high",
        {"budget.alert_thresholds": [10.0]},
        {"budget.alert_thresholds": [above(10.0)]},
        "alert_thresholds",
    ),
    (
        "budget-account-needs-amount",
        {"budget.billing_account": "01ABCD-23EF45-6789AB", "budget.monthly_usd": 200},
        {"budget.billing_account": "01ABCD-23EF45-6789AB"},
        "monthly_usd",
    ),
    (
        "budget-account-format",
        {"budget.billing_account": "01ABCD-23EF45-6789AB", "budget.monthly_usd": 200},
        {"budget.billing_account": "01abcd-23ef45-6789ab", "budget.monthly_usd": 200},
        "billing_account",
    ),
]

# Each Cloud Run service has the same guards (the subclasses restate some of the fields). At 100
# and 1,000 API instances the database needs room for their pools (the connection budget).
ROOM = {"database.flags": {"max_connections": "5000"}}
for _name in ("api", "web"):
    BOUNDS += [
        (
            f"{_name}-min-low",
            service(_name, min_instances=0),
            service(_name, min_instances=-1),
            "min_instances",
        ),
        (
            f"{_name}-min-high",
            {**ROOM, **service(_name, min_instances=100, max_instances=100)},
            {**ROOM, **service(_name, min_instances=101, max_instances=101)},
            "min_instances",
        ),
        (
            f"{_name}-max-low",
            service(_name, min_instances=0, max_instances=1),
            service(_name, min_instances=0, max_instances=0),
            "max_instances",
        ),
        (
            f"{_name}-max-high",
            {**ROOM, **service(_name, max_instances=1000)},
            {**ROOM, **service(_name, max_instances=1001)},
            "max_instances",
        ),
        (
            f"{_name}-min-not-above-max",
            service(_name, min_instances=5, max_instances=5),
            service(_name, min_instances=6, max_instances=5),
            "min_instances",
        ),
        (
            f"{_name}-concurrency-low",
            service(_name, concurrency=1),
            service(_name, concurrency=0),
            "concurrency",
        ),
        (
            f"{_name}-concurrency-high",
            service(_name, concurrency=1000),
            service(_name, concurrency=1001),
            "concurrency",
        ),
        (
            f"{_name}-timeout-low",
            service(_name, timeout_seconds=1),
            service(_name, timeout_seconds=0),
            "timeout_seconds",
        ),
        (
            f"{_name}-timeout-high",
            service(_name, timeout_seconds=3600),
            service(_name, timeout_seconds=3601),
            "timeout_seconds",
        ),
        (
            f"{_name}-name-length",
            service(_name, name="a" * 26),
            service(_name, name="a" * 27),
            "name",
        ),
        (f"{_name}-cpu", service(_name, cpu="1000m"), service(_name, cpu="1 vCPU"), "cpu"),
        (
            f"{_name}-memory",
            service(_name, memory="512Mi"),
            service(_name, memory="512MB"),
            "memory",
        ),
    ]

# The usage profile: counts and sizes are at least 0, shares at most 1.
SHARES = {"storage_class_a_share", "cdn_cacheable_share", "cdn_hit_ratio"}
for _field, _info in UsageProfile.model_fields.items():
    if _info.annotation is bool:
        continue
    whole = _info.annotation in (int, int | None)
    # At least 0, or the field's own lower bound (active users and the peak factor: 1).
    low = next((m.ge for m in _info.metadata if isinstance(m, annotated_types.Ge)), 0)
    BOUNDS.append(
        (
            f"usage-{_field}-low",
            {f"usage.{_field}": low},
            {f"usage.{_field}": low - 1 if whole else below(float(low))},
            _field,
        )
    )
    if _field in SHARES:
        BOUNDS.append(
            (
                f"usage-{_field}-high",
                {f"usage.{_field}": 1.0},
                {f"usage.{_field}": above(1.0)},
                _field,
            )
        )


def value_at(model: Any, path: str) -> Any:
    for part in path.split("."):
        model = getattr(model, part)
    return model


@pytest.mark.parametrize(
    ("inside", "outside", "key"), [pytest.param(i, o, k, id=name) for name, i, o, k in BOUNDS]
)
def test_just_inside_passes_and_just_outside_is_rejected(inside, outside, key):
    accepted = PlatformConfig.model_validate(config(inside))
    for path, value in inside.items():
        if not isinstance(value, list):
            assert value_at(accepted, path) == value, path
    with pytest.raises(pydantic.ValidationError) as rejected:
        PlatformConfig.model_validate(config(outside))
    assert key in str(rejected.value)


BOUND_TYPES = (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)


def bounded_fields(model: type[pydantic.BaseModel], prefix: str = "") -> set[str]:
    """Every field of `model` and its sub-models (lists of them too) with a numeric bound."""
    found = set()
    for name, info in model.model_fields.items():
        if any(isinstance(m, BOUND_TYPES) for m in info.metadata):
            found.add(prefix + name)
        for inner in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
                found |= bounded_fields(inner, f"{prefix}{name}.")
    return found


def test_every_numeric_bound_in_the_config_has_a_boundary_case():
    covered = set()
    for _, inside, outside, _ in BOUNDS:
        for path, value in (*inside.items(), *outside.items()):
            covered.add(path)
            if isinstance(value, list):  # a list of sub-models: {"media.lifecycle": [{...}]}
                covered |= {
                    f"{path}.{key}" for item in value if isinstance(item, dict) for key in item
                }
    missing = sorted(bounded_fields(PlatformConfig) - covered)
    assert not missing, f"bounds with no just-inside/just-outside case: {missing}"
