"""Monitoring and Logging: alert conditions (SLO burn-rate windows included; SLOs themselves are
free, prices.yaml), uptime checks, custom metrics, log volume."""

from __future__ import annotations

from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, PROJECT, USAGE, Context
from vidgo_infra.cost.rules.shared import first_of_type

ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
UPTIME_CHECK = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"
METRIC_DESCRIPTOR = "gcp:monitoring/metricDescriptor:MetricDescriptor"
UPTIME_LOCATIONS = 6  # "all regions": three checkers in the USA, Europe, South America, APAC
ALERT_PERIOD_SECONDS = 30  # how often a condition is evaluated (Google's pricing examples)


def alert_policy(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    declared = resource["inputs"].get("conditions") or []
    conditions = len(declared)
    # An SLO burn-rate alert pairs a long and a short window: two billed conditions.
    burn_rates = sum(
        "select_slo_burn_rate(" in str((c.get("conditionThreshold") or {}).get("filter", ""))
        for c in declared
    )
    detail = f"{burn_rates} burn-rate windows" if burn_rates else ""
    bill = partial(ctx.charge, "Monitoring & Logging", name, region="global")
    bill("alerting conditions", "monitoring.alert_condition", conditions, FIXED, detail=detail)
    series = conditions * ctx.seconds / ALERT_PERIOD_SECONDS
    bill("time series returned", "monitoring.alert_time_series", series, FIXED)
    ctx.assume("Alerting: each condition returns one time series per 30-second execution period.")


def uptime_check(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    locations = len(inputs.get("selectedRegions") or []) or UPTIME_LOCATIONS
    period = float(str(inputs.get("period") or "60s").rstrip("s"))
    runs = ctx.seconds / period * locations
    bill = partial(ctx.charge, "Monitoring & Logging", name, region="global")
    shape = f"{locations} locations, every {period:g} s"
    bill("uptime check executions", "monitoring.uptime_check", runs, FIXED, detail=shape)


def metric_descriptor(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    if first_of_type(ctx, resource["type"], name, "Custom metrics"):
        bill = partial(ctx.charge, "Monitoring & Logging", name, region="global")
        bill("custom metric volume", "monitoring.metric_volume", ctx.usage.custom_metric_mib, USAGE)


def log_volume(ctx: Context) -> None:
    """Every resource writes logs; the profile gives one volume for the stack."""
    if ctx.resources:
        logs = ("Cloud Logging volume (all resources)", "logging.storage", ctx.usage.log_gib, USAGE)
        ctx.charge("Monitoring & Logging", PROJECT, *logs, region="global")
