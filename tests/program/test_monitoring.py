"""Monitoring as declared (seed section 6): who is told, the dashboard, and alerts that measure
what their names say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.kit import run_with
from vidgo_infra.offline import COMPUTED, Resource, Run, stack_config

CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
DESCRIPTOR = "gcp:monitoring/metricDescriptor:MetricDescriptor"
UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"
SERVICE = "gcp:cloudrunv2/service:Service"

PROVIDER_STATUS = "custom.googleapis.com/vidgo/provider_status"
REQUEST_COUNT = 'metric.type="run.googleapis.com/request_count"'
REQUEST_LATENCIES = 'metric.type="run.googleapis.com/request_latencies"'
# The platform's own failures (not redirects, not clients' 4xx).
SERVER_ERRORS = 'metric.labels.response_code_class="5xx"'
CHECK_PASSED = 'metric.type="monitoring.googleapis.com/uptime_check/check_passed"'
API = "vidgo-api"
EMAILS = ["ops@vidgo.ai", "oncall@vidgo.ai"]


@pytest.fixture(scope="module")
def two_emails() -> Run:
    return run_with("prod", {"vidgo-infra:monitoring": {"notification_emails": EMAILS}})


def resource_id(resource: Resource) -> str:
    """The id the mocks give a resource (offline.PlatformMocks): its name, then "-id"."""
    return f"{resource.inputs.get('name', resource.name)}-id"


def clauses(filter_: str) -> set[str]:
    return {clause.strip() for clause in filter_.split(" AND ")}


def api_scope(run: Run) -> str:
    """The filter clause that selects the API's Cloud Run service (the seed's vidgo-api)."""
    assert [s.inputs["name"] for s in run.by_type(SERVICE)].count(API) == 1
    return f'resource.labels.service_name="{API}"'


def thresholds(policy: Resource) -> list[dict[str, Any]]:
    return [
        c["conditionThreshold"] for c in policy.inputs["conditions"] if "conditionThreshold" in c
    ]


def policies_with(run: Run, text: str) -> list[Resource]:
    return [p for p in run.by_type(POLICY) if any(text in t["filter"] for t in thresholds(p))]


# --- who is told --------------------------------------------------------------------------------


def test_a_channel_for_each_configured_email(prod, two_emails):
    config, _ = stack_config("prod")
    configured = json.loads(config["vidgo-infra:monitoring"])["notification_emails"]
    for run, emails in ((prod, configured), (two_emails, EMAILS)):
        channels = run.by_type(CHANNEL)
        assert all(c.inputs["type"] == "email" for c in channels)
        assert sorted(c.inputs["labels"]["email_address"] for c in channels) == sorted(emails)


@pytest.mark.parametrize("stack", ["prod", "two_emails"])
def test_every_alert_notifies_every_channel_when_no_ticket_emails_are_set(stack, request):
    run = request.getfixturevalue(stack)
    channels = sorted(resource_id(c) for c in run.by_type(CHANNEL))
    assert channels
    policies = run.by_type(POLICY)
    assert len(policies) >= 3  # burn rates, provider down, uptime
    for policy in policies:
        assert sorted(policy.inputs["notificationChannels"]) == channels, policy.name


def test_an_address_in_both_lists_gets_one_channel():
    both = ["ops@vidgo.ai", "tickets@vidgo.ai"]
    run = run_with(
        "prod",
        {"vidgo-infra:monitoring": {"notification_emails": EMAILS, "ticket_emails": both}},
    )
    emails = [c.inputs["labels"]["email_address"] for c in run.by_type(CHANNEL)]
    assert sorted(emails) == sorted({*EMAILS, *both})


# --- dashboard ----------------------------------------------------------------------------------


def dashboard_queries(run: Run) -> list[dict[str, Any]]:
    layout = json.loads(run.one(DASHBOARD).inputs["dashboardJson"])
    tiles = layout["mosaicLayout"]["tiles"]
    return [
        data_set["timeSeriesQuery"]
        for tile in tiles
        for data_set in tile["widget"].get("xyChart", {}).get("dataSets", [])
    ]


def test_dashboard_shows_request_rate_p95_latency_and_error_ratio(prod):
    queries = dashboard_queries(prod)
    plain = [q["timeSeriesFilter"] for q in queries if "timeSeriesFilter" in q]
    rate = [
        f
        for f in plain
        if REQUEST_COUNT in clauses(f["filter"])
        and f["aggregation"]["perSeriesAligner"] == "ALIGN_RATE"
    ]
    p95 = [
        f
        for f in plain
        if REQUEST_LATENCIES in clauses(f["filter"])
        and f["aggregation"]["crossSeriesReducer"] == "REDUCE_PERCENTILE_95"
    ]
    ratios = [q["timeSeriesFilterRatio"] for q in queries if "timeSeriesFilterRatio" in q]
    errors = [
        r
        for r in ratios
        if SERVER_ERRORS in clauses(r["numerator"]["filter"])
        and SERVER_ERRORS not in clauses(r["denominator"]["filter"])
        and REQUEST_COUNT in clauses(r["denominator"]["filter"])
    ]
    assert rate
    assert p95
    assert errors
    for found in (rate, p95, [r["numerator"] for r in errors]):
        assert any(api_scope(prod) in clauses(f["filter"]) for f in found)


# --- provider down ------------------------------------------------------------------------------


def test_provider_down_alert_waits_for_its_metric_descriptor(prod):
    (policy,) = policies_with(prod, PROVIDER_STATUS)
    (condition,) = thresholds(policy)
    assert f'metric.type="{PROVIDER_STATUS}"' in clauses(condition["filter"])
    # Custom metrics cannot be written to cloud_run_revision (the seed's filter); the policy
    # names the resource type the application writes the metric to.
    assert 'resource.type="generic_task"' in clauses(condition["filter"])
    (descriptor,) = [d for d in prod.by_type(DESCRIPTOR) if d.inputs["type"] == PROVIDER_STATUS]
    assert descriptor.urn in policy.dependencies


# --- uptime -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "host"), [("prod", "api.vidgo.ai"), ("staging", "api.staging.vidgo.ai")]
)
def test_uptime_check_on_the_api_health_url_over_validated_https(stack, host, request):
    run = request.getfixturevalue(stack)
    check = run.one(UPTIME)
    http = check.inputs["httpCheck"]
    assert http["path"] == "/health"
    assert http["useSsl"] is True
    assert http["validateSsl"] is True
    assert http.get("port", 443) == 443
    assert check.inputs["monitoredResource"]["type"] == "uptime_url"
    assert check.inputs["monitoredResource"]["labels"]["host"] == host


def test_uptime_alert_watches_that_check(prod):
    check_id = COMPUTED[UPTIME]["uptimeCheckId"]  # Google assigns it when the check is created
    (policy,) = policies_with(prod, CHECK_PASSED)
    (condition,) = thresholds(policy)
    assert f'metric.labels.check_id="{check_id}"' in clauses(condition["filter"])
    assert prod.one(UPTIME).urn in policy.dependencies
