"""The seed's dashboard and alerts (section 6), measuring what they were meant to."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import monitoring

from components.base import Component

PROVIDER_STATUS_METRIC = "custom.googleapis.com/vidgo/provider_status"
# Custom metrics cannot be written to cloud_run_revision; the API writes this one against
# generic_task (README, "Monitoring"), and alert filters must name a resource type.
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
class MonitoringArgs:
    project: str
    api_service_name: str
    web_service_name: str
    api_host: str
    health_path: str
    notification_emails: Sequence[str]
    error_ratio_threshold: float
    latency_p95_threshold_ms: int
    uptime_check_period_seconds: int
    provider_status_absent_minutes: int
    labels: Mapping[str, str] = field(default_factory=dict)


class Monitoring(Component):
    """Notification channels, the dashboard and four alert policies.

    The seed's "error rate > 5 %" alert counted non-2xx responses *per second* against 0.05, which
    fires on one error every 20 s whatever the traffic. Here the condition is a ratio: 5xx
    requests over all requests of the API (redirects and clients' 4xx are not the platform
    failing). The seed's provider-down alert filtered a custom metric on `cloud_run_revision`,
    a resource custom metrics cannot be written to; here the metric's descriptor is declared (so
    the policy can exist before the app first writes it) and the filter names the resource the
    app writes it to, `generic_task`. It also fires when the status stops arriving, which is
    what a stopped worker looks like.
    """

    channel_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Monitoring", name, opts)
        channels = [
            monitoring.NotificationChannel(
                f"{name}-email-{index}",
                project=args.project,
                type="email",
                display_name=f"VidGo alerts: {email}",
                labels={"email_address": email},
                user_labels=dict(args.labels),
                opts=self.child(),
            )
            for index, email in enumerate(args.notification_emails)
        ]
        self.channel_ids = [channel.id for channel in channels]
        self._dashboard(name, args)
        self._error_ratio_alert(name, args)
        self._latency_alert(name, args)
        self._provider_down_alert(name, args)
        self._uptime(name, args)
        self.register_outputs({"channel_ids": self.channel_ids})

    def _policy(self, name: str, args: MonitoringArgs, title: str, *conditions, docs: str, **opts):
        return monitoring.AlertPolicy(
            name,
            project=args.project,
            display_name=title,
            combiner="OR",
            conditions=list(conditions),
            notification_channels=self.channel_ids,
            documentation=monitoring.AlertPolicyDocumentationArgs(
                content=docs, mime_type="text/markdown"
            ),
            alert_strategy=monitoring.AlertPolicyAlertStrategyArgs(auto_close="1800s"),
            user_labels=dict(args.labels),
            opts=self.child(**opts),
        )

    def _dashboard(self, name: str, args: MonitoringArgs) -> None:
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

        latency = 'metric.type="run.googleapis.com/request_latencies"'
        layout = {
            "displayName": "VidGo AI Monitoring",
            "mosaicLayout": {
                "columns": 12,
                "tiles": [
                    {"xPos": 4 * i, **tile}
                    for i, tile in enumerate(
                        [
                            chart(
                                "Request rate (req/s)",
                                [series(cloud_run(s, REQUESTS), "ALIGN_RATE") for s in (api, web)],
                            ),
                            chart(
                                "Latency p95 (ms)",
                                [
                                    series(
                                        cloud_run(s, latency), "ALIGN_DELTA", "REDUCE_PERCENTILE_95"
                                    )
                                    for s in (api, web)
                                ],
                            ),
                            chart("Error ratio (5xx / all)", [ratio(s) for s in (api, web)]),
                        ]
                    )
                ],
            },
        }
        monitoring.Dashboard(
            f"{name}-dashboard",
            project=args.project,
            dashboard_json=json.dumps(layout, sort_keys=True),
            opts=self.child(),
        )

    def _error_ratio_alert(self, name: str, args: MonitoringArgs) -> None:
        aggregation = [
            monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                alignment_period="300s",
                per_series_aligner="ALIGN_RATE",
                cross_series_reducer="REDUCE_SUM",
            )
        ]
        # Same fields, its own input class: the numerator's class is not the denominator's type.
        denominator = [
            monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs(
                alignment_period="300s",
                per_series_aligner="ALIGN_RATE",
                cross_series_reducer="REDUCE_SUM",
            )
        ]
        percent = f"{args.error_ratio_threshold:.0%}"
        self._policy(
            f"{name}-api-error-ratio",
            args,
            f"VidGo API error ratio above {percent}",
            monitoring.AlertPolicyConditionArgs(
                display_name=f"5xx / all requests > {percent} for 5 min",
                condition_threshold=monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=cloud_run(args.api_service_name, REQUESTS, SERVER_ERRORS),
                    aggregations=aggregation,
                    denominator_filter=cloud_run(args.api_service_name, REQUESTS),
                    denominator_aggregations=denominator,
                    comparison="COMPARISON_GT",
                    threshold_value=args.error_ratio_threshold,
                    duration="300s",
                ),
            ),
            docs=f"More than {percent} of the API's responses were 5xx (server errors) over "
            "5 minutes.",
        )

    def _latency_alert(self, name: str, args: MonitoringArgs) -> None:
        self._policy(
            f"{name}-api-latency",
            args,
            f"VidGo API p95 latency above {args.latency_p95_threshold_ms} ms",
            monitoring.AlertPolicyConditionArgs(
                display_name=f"p95 latency > {args.latency_p95_threshold_ms} ms for 10 min",
                condition_threshold=monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=cloud_run(
                        args.api_service_name,
                        'metric.type="run.googleapis.com/request_latencies"',
                    ),
                    aggregations=[
                        monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                            alignment_period="300s",
                            per_series_aligner="ALIGN_DELTA",
                            cross_series_reducer="REDUCE_PERCENTILE_95",
                        )
                    ],
                    comparison="COMPARISON_GT",
                    threshold_value=args.latency_p95_threshold_ms,
                    duration="600s",
                ),
            ),
            docs="The API's 95th percentile latency has been high for 10 minutes.",
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
