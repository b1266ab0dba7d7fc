"""Service level objectives measured at the load balancer, and how fast their budget burns.

An SLO's error budget is the share of requests allowed to be bad over its period (1 - target).
The burn rate is the bad share over a window divided by that budget: 1 spends exactly the budget
over the period. Google's SRE workbook ("Alerting on SLOs", multiwindow, multi-burn-rate alerts)
alerts when a given share of the budget goes within a long window, confirmed by a short window
of a twelfth of it, so the alert also resolves minutes after the burning stops:

    burn-rate factor = budget share x period / long window

For a 30-day period that is the workbook's table: 2 % in 1 h -> 14.4, 5 % in 6 h -> 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class BurnAlert:
    """One speed of alert: `budget_share` of the period's budget gone within `long_window`."""

    speed: str
    budget_share: float
    long_window: timedelta
    short_window: timedelta

    def factor(self, period: timedelta) -> float:
        """The burn rate at which `budget_share` of a `period`'s budget goes in `long_window`."""
        return round(self.budget_share * (period / self.long_window), 6)


# Fast: pages. Slow: a ticket (a burn that ends the budget in days, not hours).
FAST_BURN = BurnAlert("fast", 0.02, timedelta(hours=1), timedelta(minutes=5))
SLOW_BURN = BurnAlert("slow", 0.05, timedelta(hours=6), timedelta(minutes=30))
BURN_ALERTS = (FAST_BURN, SLOW_BURN)

# The compliance periods a stack may choose, and the length the factors are computed for. A
# calendar month is 28-31 days; its shortest gives the lowest factors, so an alert never waits
# for more than its share of any month's budget (in a 31-day month it fires at 1.8 %, not 2 %).
PERIODS = {
    "rolling_28_days": timedelta(days=28),
    "rolling_30_days": timedelta(days=30),
    "calendar_month": timedelta(days=28),
}


def period_args(period: str) -> dict[str, Any]:
    """The Slo resource's fields for `period` (exactly one of the two, the provider's rule)."""
    if period == "calendar_month":
        return {"calendar_period": "MONTH"}
    return {"rolling_period_days": PERIODS[period].days}


# The load balancer's request metrics, on its monitored resource (label names and values:
# tests/fixtures/load_balancer_metrics.yaml, from Google's metrics and resource lists).
LB_RESOURCE = "https_lb_rule"
LB_REQUESTS = "loadbalancing.googleapis.com/https/request_count"
LB_LATENCIES = "loadbalancing.googleapis.com/https/total_latencies"  # a distribution, in ms
BACKEND_LABEL = "backend_target_name"  # the backend service that served the request
CODE_CLASS_LABEL = "response_code_class"  # an integer: 100, 200, ... 500, or 0 (no response)
# Server errors, whoever answered: the service, or the load balancer itself (a 502 when Cloud
# Run cannot be reached). Redirects and clients' 4xx are not the platform failing.
SERVER_ERRORS = f'metric.labels.{CODE_CLASS_LABEL}="500"'


def lb_filter(metric: str, backend_name: str, *clauses: str) -> str:
    """A monitoring filter on one load balancer metric, for one backend service."""
    return " AND ".join(
        [
            f'metric.type="{metric}"',
            f'resource.type="{LB_RESOURCE}"',
            f'resource.labels.{BACKEND_LABEL}="{backend_name}"',
            *clauses,
        ]
    )


def slo_resource_name(project: str, service_id: str, slo_id: str) -> str:
    return f"projects/{project}/services/{service_id}/serviceLevelObjectives/{slo_id}"


def burn_rate_filter(slo_name: str, window: timedelta) -> str:
    """The burn rate of an SLO over a lookback window (Cloud Monitoring's time-series selector)."""
    return f'select_slo_burn_rate("{slo_name}", "{int(window.total_seconds())}s")'
