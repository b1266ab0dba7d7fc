"""The seed's dashboard and alerts (section 6), measuring what they were meant to, and SLOs
with error-budget burn alerts where the seed had thresholds."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pulumi
from pulumi_gcp import monitoring

from components import slo
from components.base import Component

PROVIDER_STATUS_METRIC = "custom.googleapis.com/vidgo/provider_status"
# Custom metrics cannot be written to cloud_run_revision; the API writes this one against
# generic_task (docs/monitoring.md, "Uptime and provider down"), and alert filters must name a
# resource type.
PROVIDER_STATUS_RESOURCE = "generic_task"
REQUESTS = 'metric.type="run.googleapis.com/request_count"'
# The platform's own failures: not redirects (port 80, the SPA) and not clients' 4xx.
SERVER_ERRORS = 'metric.labels.response_code_class="5xx"'


def cloud_run(service_name: str, *clauses: str) -> str:
    """A monitoring filter on one Cloud Run service (the seed's filters matched every service)."""
    return " AND ".join(
        [
            'resource.type="cloud_run_revision"',
            f'resource.labels.service_name="{service_name}"',
            *clauses,
        ]
    )


@dataclass(frozen=True, kw_only=True)
class Objectives:
    """What one public service promises, measured at the load balancer (components/slo.py)."""

    key: str  # "api" or "web": names the resources, so renaming a service keeps them
    service_name: str  # the Cloud Run service; also the id of its Cloud Monitoring service
    # The load balancer's backend service in front of it: its metrics are labelled with it.
    backend_name: pulumi.Input[str]
    availability: float  # share of requests without a server error
    latency: float | None = None  # share of requests within latency_threshold_ms; None: none
    latency_threshold_ms: int = 2000


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    project: str
    api_service_name: str
    web_service_name: str
    api_host: str
    health_path: str
    notification_emails: Sequence[str]  # paged: fast burn, uptime, provider down
    ticket_emails: Sequence[str]  # a ticket: slow burn (empty: the notification_emails)
    objectives: Sequence[Objectives]
    slo_period: str  # a key of slo.PERIODS
    uptime_check_period_seconds: int
    provider_status_absent_minutes: int
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Slo:
    key: str
    service_name: str
    kind: str  # "availability" or "latency": also the SLO's id
    target: float
    promise: str  # what a good request is, for titles and documentation
    resource_name: str
    resource: pulumi.Resource


class Monitoring(Component):
    """Notification channels, the dashboard, SLOs with their burn-rate alerts, uptime and
    provider-down alerts.

    Each public service (api, web) is a Cloud Monitoring service with request-based SLOs read
    at the load balancer, so requests that Cloud Armor or the load balancer itself fails count
    too: availability (no 5xx) for both, latency for the API. Each SLO has two alerts, each a
    long and a short window that must both burn (the SRE workbook's multiwindow alerts): fast
    (2 % of the budget in an hour) pages, slow (5 % in six hours) opens a ticket. They replace
    the seed's error-rate threshold and this program's earlier p95 threshold, which paged on a
    blip or missed a slow leak and could not say how much of the month was left.

    The seed's provider-down alert filtered a custom metric on `cloud_run_revision`, a resource
    custom metrics cannot be written to; here the metric's descriptor is declared (so the policy
    can exist before the app first writes it) and the filter names the resource the app writes
    it to, `generic_task`. It also fires when the status stops arriving, which is what a stopped
    worker looks like.
    """

    channel_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Monitoring", name, opts)
        page_emails = list(dict.fromkeys(args.notification_emails))
        ticket_only = [e for e in dict.fromkeys(args.ticket_emails) if e not in page_emails]
        channels = {
            email: self._email_channel(logical, args, email)
            for email, logical in [
                *((e, f"{name}-email-{i}") for i, e in enumerate(page_emails)),
                *((e, f"{name}-ticket-email-{i}") for i, e in enumerate(ticket_only)),
            ]
        }
        self.channel_ids = [channels[email].id for email in page_emails]
        self.ticket_channel_ids = [
            channels[email].id for email in (args.ticket_emails or page_emails)
        ]
        slos = self._slos(name, args)
        self._dashboard(name, args, slos)
        for slo_ in slos:
            self._burn_alerts(name, args, slo_)
        self._provider_down_alert(name, args)
        self._uptime(name, args)
        self.register_outputs(
            {"channel_ids": self.channel_ids, "ticket_channel_ids": self.ticket_channel_ids}
        )

    def _email_channel(self, logical: str, args: MonitoringArgs, email: str):
        return monitoring.NotificationChannel(
            logical,
            project=args.project,
            type="email",
            display_name=f"VidGo alerts: {email}",
            labels={"email_address": email},
            user_labels=dict(args.labels),
            opts=self.child(),
        )

    def _policy(
        self,
        name: str,
        args: MonitoringArgs,
        title: str,
        *conditions,
        docs: str,
        combiner: str = "OR",
        channels: Sequence[pulumi.Input[str]] | None = None,
        severity: str | None = None,
        **opts,
    ):
        return monitoring.AlertPolicy(
            name,
            project=args.project,
            display_name=title,
            combiner=combiner,
            conditions=list(conditions),
            notification_channels=list(self.channel_ids if channels is None else channels),
            documentation=monitoring.AlertPolicyDocumentationArgs(
                content=docs, mime_type="text/markdown"
            ),
            alert_strategy=monitoring.AlertPolicyAlertStrategyArgs(auto_close="1800s"),
            severity=severity,
            user_labels=dict(args.labels),
            opts=self.child(**opts),
        )

    # --- SLOs ---------------------------------------------------------------------------------

    def _slos(self, name: str, args: MonitoringArgs) -> list[_Slo]:
        declared: list[_Slo] = []
        for objectives in args.objectives:
            key, svc = objectives.key, objectives.service_name
            service = monitoring.CustomService(
                f"{name}-{key}-service",
                project=args.project,
                service_id=svc,
                display_name=f"{svc} (at the load balancer)",
                user_labels=dict(args.labels),
                opts=self.child(),
            )
            backend = pulumi.Output.from_input(objectives.backend_name)
            requests = backend.apply(lambda b: slo.lb_filter(slo.LB_REQUESTS, b))
            wanted = [
                (
                    "availability",
                    objectives.availability,
                    "answered without a server error (5xx)",
                    monitoring.SloRequestBasedSliArgs(
                        good_total_ratio=monitoring.SloRequestBasedSliGoodTotalRatioArgs(
                            bad_service_filter=backend.apply(
                                lambda b: slo.lb_filter(slo.LB_REQUESTS, b, slo.SERVER_ERRORS)
                            ),
                            total_service_filter=requests,
                        )
                    ),
                )
            ]
            if objectives.latency is not None:
                wanted.append(
                    (
                        "latency",
                        objectives.latency,
                        f"answered within {objectives.latency_threshold_ms} ms",
                        monitoring.SloRequestBasedSliArgs(
                            distribution_cut=monitoring.SloRequestBasedSliDistributionCutArgs(
                                distribution_filter=backend.apply(
                                    lambda b: slo.lb_filter(slo.LB_LATENCIES, b)
                                ),
                                range=monitoring.SloRequestBasedSliDistributionCutRangeArgs(
                                    max=objectives.latency_threshold_ms
                                ),
                            )
                        ),
                    )
                )
            for kind, target, promise, sli in wanted:
                resource = monitoring.Slo(
                    f"{name}-{key}-{kind}",
                    project=args.project,
                    service=service.service_id,
                    slo_id=kind,
                    display_name=f"{percent(target)} of {svc} requests {promise}",
                    goal=target,
                    request_based_sli=sli,
                    user_labels=dict(args.labels),
                    opts=self.child(),
                    **slo.period_args(args.slo_period),
                )
                declared.append(
                    _Slo(
                        key,
                        svc,
                        kind,
                        target,
                        promise,
                        # Known before `pulumi up` (the ids are ours), so a reviewer reads the
                        # alert's filter in the plan; the policy waits for the SLO itself.
                        slo.slo_resource_name(args.project, svc, kind),
                        resource,
                    )
                )
        return declared

    def _burn_alerts(self, name: str, args: MonitoringArgs, objective: _Slo) -> None:
        period = slo.PERIODS[args.slo_period]
        budget = 1 - objective.target
        for alert in slo.BURN_ALERTS:
            factor = alert.factor(period)
            fast = alert is slo.FAST_BURN
            windows = [alert.long_window, alert.short_window]
            title = (
                f"VidGo {objective.key.upper()} {objective.kind}: {alert.speed} burn "
                f"({alert.budget_share:.0%} of the error budget in {hours(alert.long_window)})"
            )
            self._policy(
                f"{name}-{objective.key}-{objective.kind}-{alert.speed}-burn",
                args,
                title,
                *(
                    monitoring.AlertPolicyConditionArgs(
                        display_name=f"burn rate over {minutes(window)} > {factor:g}",
                        condition_threshold=monitoring.AlertPolicyConditionConditionThresholdArgs(
                            filter=slo.burn_rate_filter(objective.resource_name, window),
                            comparison="COMPARISON_GT",
                            threshold_value=factor,
                            # The windows are the smoothing: fire as soon as both burn.
                            duration="0s",
                        ),
                    )
                    for window in windows
                ),
                combiner="AND",
                channels=self.channel_ids if fast else self.ticket_channel_ids,
                severity="CRITICAL" if fast else "WARNING",
                docs=burn_docs(objective, alert, factor, budget, args),
                depends_on=[objective.resource],
            )

    # --- dashboard ----------------------------------------------------------------------------

    def _dashboard(self, name: str, args: MonitoringArgs, slos: Sequence[_Slo]) -> None:
        api, web = args.api_service_name, args.web_service_name

        def chart(title: str, data_sets: list[dict]) -> dict:
            return {
                "width": 4,
                "height": 4,
                "widget": {"title": title, "xyChart": {"dataSets": data_sets}},
            }

        def series(filter_: str, aligner: str, reducer: str = "REDUCE_SUM") -> dict:
            return {
                "timeSeriesQuery": {
                    "timeSeriesFilter": {
                        "filter": filter_,
                        "aggregation": {
                            "alignmentPeriod": "60s",
                            "perSeriesAligner": aligner,
                            "crossSeriesReducer": reducer,
                            "groupByFields": ["resource.labels.service_name"],
                        },
                    }
                }
            }

        def ratio(service: str) -> dict:
            aggregation = {
                "alignmentPeriod": "60s",
                "perSeriesAligner": "ALIGN_RATE",
                "crossSeriesReducer": "REDUCE_SUM",
            }
            return {
                "timeSeriesQuery": {
                    "timeSeriesFilterRatio": {
                        "numerator": {
                            "filter": cloud_run(service, REQUESTS, SERVER_ERRORS),
                            "aggregation": aggregation,
                        },
                        "denominator": {
                            "filter": cloud_run(service, REQUESTS),
                            "aggregation": aggregation,
                        },
                    }
                }
            }

        def scorecard(title: str, selector: str, objective: _Slo) -> dict:
            return {
                "width": 2,
                "height": 3,
                "widget": {
                    "title": title,
                    "scorecard": {
                        "timeSeriesQuery": {
                            "timeSeriesFilter": {
                                "filter": f'{selector}("{objective.resource_name}")',
                                "aggregation": {
                                    "alignmentPeriod": "3600s",
                                    "perSeriesAligner": "ALIGN_NEXT_OLDER",
                                },
                            }
                        }
                    },
                },
            }

        latency = 'metric.type="run.googleapis.com/request_latencies"'
        charts = [
            chart(
                "Request rate (req/s)",
                [series(cloud_run(s, REQUESTS), "ALIGN_RATE") for s in (api, web)],
            ),
            chart(
                "Latency p95 (ms)",
                [
                    series(cloud_run(s, latency), "ALIGN_DELTA", "REDUCE_PERCENTILE_95")
                    for s in (api, web)
                ],
            ),
            chart("Error ratio (5xx / all)", [ratio(s) for s in (api, web)]),
        ]
        # Under the charts: per SLO, how it stands over its period and what is left to spend.
        budget_cards = [
            card
            for objective in slos
            for card in (
                scorecard(
                    f"{objective.service_name} {objective.kind}: compliance "
                    f"(target {percent(objective.target)})",
                    "select_slo_compliance",
                    objective,
                ),
                scorecard(
                    f"{objective.service_name} {objective.kind}: error budget left",
                    "select_slo_budget_fraction",
                    objective,
                ),
            )
        ]
        tiles = [{"xPos": 4 * i, "yPos": 0, **tile} for i, tile in enumerate(charts)]
        tiles += [
            {"xPos": (2 * i) % 12, "yPos": 4 + 3 * (2 * i // 12), **tile}
            for i, tile in enumerate(budget_cards)
        ]
        layout = {
            "displayName": "VidGo AI Monitoring",
            "mosaicLayout": {"columns": 12, "tiles": tiles},
        }
        monitoring.Dashboard(
            f"{name}-dashboard",
            project=args.project,
            dashboard_json=json.dumps(layout, sort_keys=True),
            # The selectors name the SLOs: they must exist before the dashboard reads them.
            opts=self.child(depends_on=[objective.resource for objective in slos]),
        )

    def _provider_down_alert(self, name: str, args: MonitoringArgs) -> None:
        descriptor = monitoring.MetricDescriptor(
            f"{name}-provider-status",
            project=args.project,
            type=PROVIDER_STATUS_METRIC,
            metric_kind="GAUGE",
            value_type="INT64",
            display_name="VidGo AI provider status",
            description="1 while an AI provider (PiAPI, Pollo, A2E, Gemini) answers, 0 when down.",
            labels=[
                monitoring.MetricDescriptorLabelArgs(
                    key="provider", value_type="STRING", description="piapi, pollo, a2e, gemini"
                )
            ],
            opts=self.child(),
        )
        status = (
            f'resource.type="{PROVIDER_STATUS_RESOURCE}" AND metric.type="{PROVIDER_STATUS_METRIC}"'
        )
        absent = f"{args.provider_status_absent_minutes * 60}s"
        self._policy(
            f"{name}-provider-down",
            args,
            "VidGo Provider Down",
            monitoring.AlertPolicyConditionArgs(
                display_name="a provider's status is 0 for 5 min",
                condition_threshold=monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=status,
                    aggregations=[
                        monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                            alignment_period="60s",
                            per_series_aligner="ALIGN_MAX",
                            cross_series_reducer="REDUCE_MAX",
                            group_by_fields=["metric.labels.provider"],
                        )
                    ],
                    comparison="COMPARISON_LT",
                    threshold_value=1,
                    duration="300s",
                ),
            ),
            monitoring.AlertPolicyConditionArgs(
                display_name=f"no provider status for {args.provider_status_absent_minutes} min",
                condition_absent=monitoring.AlertPolicyConditionConditionAbsentArgs(
                    filter=status,
                    aggregations=[
                        monitoring.AlertPolicyConditionConditionAbsentAggregationArgs(
                            alignment_period="60s",
                            per_series_aligner="ALIGN_MAX",
                            cross_series_reducer="REDUCE_MAX",
                            group_by_fields=["metric.labels.provider"],
                        )
                    ],
                    duration=absent,
                ),
            ),
            docs="An AI provider has reported status 0 (down) for 5 minutes, or no status has "
            f"arrived for {args.provider_status_absent_minutes} minutes (the worker that reports "
            "it may have stopped). Check the worker, then the provider's status page.",
            depends_on=[descriptor],
        )

    def _uptime(self, name: str, args: MonitoringArgs) -> None:
        check = monitoring.UptimeCheckConfig(
            f"{name}-api-uptime",
            project=args.project,
            display_name=f"https://{args.api_host}{args.health_path}",
            timeout="10s",
            period=f"{args.uptime_check_period_seconds}s",
            http_check=monitoring.UptimeCheckConfigHttpCheckArgs(
                path=args.health_path,
                port=443,
                use_ssl=True,
                validate_ssl=True,
                request_method="GET",
            ),
            monitored_resource=monitoring.UptimeCheckConfigMonitoredResourceArgs(
                type="uptime_url", labels={"project_id": args.project, "host": args.api_host}
            ),
            user_labels=dict(args.labels),
            opts=self.child(),
        )
        self._policy(
            f"{name}-api-uptime-failing",
            args,
            f"VidGo API health check failing ({args.api_host})",
            monitoring.AlertPolicyConditionArgs(
                display_name="uptime check failing from 2+ regions",
                condition_threshold=monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=check.uptime_check_id.apply(
                        lambda check_id: (
                            'resource.type="uptime_url" AND '
                            'metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND '
                            f'metric.labels.check_id="{check_id}"'
                        )
                    ),
                    aggregations=[
                        monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                            alignment_period="1200s",
                            per_series_aligner="ALIGN_NEXT_OLDER",
                            cross_series_reducer="REDUCE_COUNT_FALSE",
                            group_by_fields=["resource.labels.host"],
                        )
                    ],
                    comparison="COMPARISON_GT",
                    threshold_value=1,
                    duration="60s",
                ),
            ),
            docs=f"https://{args.api_host}{args.health_path} has failed from more than one "
            "checker region. Before DNS and the certificate are live this is expected.",
        )


def percent(share: float) -> str:
    return f"{round(share * 100, 4):g} %"


def hours(window: timedelta) -> str:
    n = window / timedelta(hours=1)
    return f"{n:g} hour" if n == 1 else f"{n:g} hours"


def minutes(window: timedelta) -> str:
    n = window / timedelta(minutes=1)
    return f"{n / 60:g} h" if n >= 60 else f"{n:g} min"


# The runbook the alerts link: docs/monitoring.md in this repository, one section per speed.
RUNBOOK = {
    "fast": "docs/monitoring.md#fast-burn-it-pages",
    "slow": "docs/monitoring.md#slow-burn-a-ticket",
}


def burn_docs(
    objective: _Slo, alert: slo.BurnAlert, factor: float, budget: float, args: MonitoringArgs
) -> str:
    """What burns, how fast, what to look at first, and the runbook section."""
    svc = objective.service_name
    bad_share = min(factor * budget, 1.0)
    first_look = (
        f"the load balancer's 5xx for {svc} (a deploy in the last hour, the Cloud Run revision's "
        "logs and instance count, Cloud SQL and Redis health)"
        if objective.kind == "availability"
        else f"{svc}'s latency by path in the load balancer logs, Cloud Run instance count and "
        "concurrency, Cloud SQL CPU and slow queries, the AI providers' response times"
    )
    return (
        f"**{svc} {objective.kind}** is burning its error budget: the SLO promises "
        f"{percent(objective.target)} of requests {objective.promise} over its period, and "
        f"more than {percent(bad_share)} of requests failed that promise over the last "
        f"{minutes(alert.long_window)} and the last {minutes(alert.short_window)} "
        f"(burn rate above {factor:g}: {alert.budget_share:.0%} of the period's budget in "
        f"{hours(alert.long_window)}).\n\n"
        f'Look first at {first_look}. The dashboard "VidGo AI Monitoring" shows the budget left.'
        f"\n\nRunbook: `{RUNBOOK[alert.speed]}` in the vidgo-infra repository."
    )
