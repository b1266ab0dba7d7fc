"""Monitoring as declared (seed section 6): who is told, the dashboard, and what each alert is
for: it exists, watches the right series and fires on the bad side of its threshold, for as long
as its name says. The SLO burn-rate alerts are in test_slo.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.kit import (
    ALERT_POLICY,
    CLOUD_RUN_SERVICE,
    DASHBOARD,
    METRIC_DESCRIPTOR,
    NOTIFICATION_CHANNEL,
    STACKS,
    UPTIME_CHECK,
    planned,
)
from vidgo_infra.offline import COMPUTED, Resource, Run, stack_config

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
    return planned("prod", {"vidgo-infra:monitoring": {"notification_emails": EMAILS}})


def resource_id(resource: Resource) -> str:
    """The id the mocks give a resource (offline.PlatformMocks): its name, then "-id"."""
    return f"{resource.inputs.get('name', resource.name)}-id"


def clauses(filter_: str) -> set[str]:
    return {clause.strip() for clause in filter_.split(" AND ")}


def api_scope(run: Run) -> str:
    """The filter clause that selects the API's Cloud Run service (the seed's vidgo-api)."""
    assert [s.inputs["name"] for s in run.by_type(CLOUD_RUN_SERVICE)].count(API) == 1
    return f'resource.labels.service_name="{API}"'


# --- who is told --------------------------------------------------------------------------------


def test_a_channel_for_each_configured_email(prod, two_emails):
    config, _ = stack_config("prod")
    configured = json.loads(config["vidgo-infra:monitoring"])["notification_emails"]
    for run, emails in ((prod, configured), (two_emails, EMAILS)):
        channels = run.by_type(NOTIFICATION_CHANNEL)
        assert all(c.inputs["type"] == "email" for c in channels)
        assert sorted(c.inputs["labels"]["email_address"] for c in channels) == sorted(emails)


@pytest.mark.parametrize("stack", ["prod", "two_emails"])
def test_every_alert_notifies_every_channel_when_no_ticket_emails_are_set(stack, request):
    run = request.getfixturevalue(stack)
    channels = sorted(resource_id(c) for c in run.by_type(NOTIFICATION_CHANNEL))
    assert channels
    policies = run.by_type(ALERT_POLICY)
    assert len(policies) >= 3  # burn rates, provider down, uptime
    for policy in policies:
        assert sorted(policy.inputs["notificationChannels"]) == channels, policy.name


def test_an_address_in_both_lists_gets_one_channel():
    both = ["ops@vidgo.ai", "tickets@vidgo.ai"]
    run = planned(
        "prod",
        {"vidgo-infra:monitoring": {"notification_emails": EMAILS, "ticket_emails": both}},
    )
    emails = [c.inputs["labels"]["email_address"] for c in run.by_type(NOTIFICATION_CHANNEL)]
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


# --- which alerts there are ---------------------------------------------------------------------

# What each threshold alert watches: the clause that tells it apart from the others.
ALERTS = {
    "provider down": f'metric.type="{PROVIDER_STATUS}"',
    "uptime failing": CHECK_PASSED,
}
SLOS = 3  # api availability and latency, web availability
BURN_RATE = "select_slo_burn_rate("


def bodies(policy: Resource) -> list[dict[str, Any]]:
    """Each condition's body, whatever its kind (threshold, absence)."""
    return [
        body for c in policy.inputs["conditions"] for k, body in c.items() if k != "displayName"
    ]


def burn_policies(run: Run) -> list[Resource]:
    return [
        p
        for p in run.by_type(ALERT_POLICY)
        if all(b["filter"].startswith(BURN_RATE) for b in bodies(p))
    ]


def policy_for(run: Run, alert: str) -> Resource:
    found = [
        p
        for p in run.by_type(ALERT_POLICY)
        if any(ALERTS[alert] in clauses(b["filter"]) for b in bodies(p))
    ]
    assert len(found) == 1, f"{len(found)} policies for the {alert} alert"
    return found[0]


def condition(run: Run, alert: str, kind: str = "conditionThreshold") -> dict[str, Any]:
    """The one condition of that kind in the one policy that watches `alert`'s series."""
    found = [c[kind] for c in policy_for(run, alert).inputs["conditions"] if kind in c]
    assert len(found) == 1, f"{len(found)} {kind} conditions in the {alert} alert"
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_the_platform_has_exactly_the_burn_rate_provider_and_uptime_alerts(stack, request):
    """Nothing else: the burn-rate alerts replaced the 5xx-ratio and p95-latency thresholds, and
    a second alert on the same pain pages twice."""
    run = request.getfixturevalue(stack)
    burn = burn_policies(run)
    assert len(burn) == 2 * SLOS
    others = {policy_for(run, alert).urn for alert in ALERTS}
    assert others | {p.urn for p in burn} == {p.urn for p in run.by_type(ALERT_POLICY)}
    assert len(run.by_type(ALERT_POLICY)) == len(ALERTS) + len(burn)


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_is_enabled_and_the_threshold_alerts_fire_on_any_condition(stack, request):
    run = request.getfixturevalue(stack)
    burn = {p.urn for p in burn_policies(run)}
    for policy in run.by_type(ALERT_POLICY):
        assert policy.inputs.get("enabled", True) is True, policy.name
        assert policy.inputs["combiner"] == ("AND" if policy.urn in burn else "OR"), policy.name


# --- provider down ------------------------------------------------------------------------------


def test_the_provider_down_alert_fires_when_a_provider_reports_below_1_for_5_minutes(prod):
    down = condition(prod, "provider down")
    # The metric is 1 while a provider answers and 0 when it is down.
    assert down["comparison"] == "COMPARISON_LT"
    assert down["thresholdValue"] == 1
    assert down["duration"] == "300s"
    (aggregation,) = down["aggregations"]
    # Per provider, and only when even its best reading in a minute was 0.
    assert aggregation["groupByFields"] == ["metric.labels.provider"]
    assert aggregation["perSeriesAligner"] == "ALIGN_MAX"
    assert aggregation["crossSeriesReducer"] == "REDUCE_MAX"
    # Custom metrics cannot be written to cloud_run_revision (the seed's filter); the policy
    # names the resource type the application writes the metric to.
    assert 'resource.type="generic_task"' in clauses(down["filter"])


def test_the_provider_down_alert_also_fires_when_no_status_arrives(prod):
    absent = condition(prod, "provider down", "conditionAbsent")
    assert f'metric.type="{PROVIDER_STATUS}"' in clauses(absent["filter"])
    assert absent["duration"] == f"{15 * 60}s"  # monitoring.provider_status_absent_minutes
    (aggregation,) = absent["aggregations"]
    assert aggregation["groupByFields"] == ["metric.labels.provider"]


def test_the_absence_duration_comes_from_config():
    run = planned("prod", {"vidgo-infra:monitoring": {"provider_status_absent_minutes": 30}})
    assert condition(run, "provider down", "conditionAbsent")["duration"] == "1800s"


def test_provider_down_alert_waits_for_its_metric_descriptor(prod):
    (descriptor,) = [
        d for d in prod.by_type(METRIC_DESCRIPTOR) if d.inputs["type"] == PROVIDER_STATUS
    ]
    assert descriptor.urn in policy_for(prod, "provider down").dependencies


# --- uptime -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "host"), [("prod", "api.vidgo.ai"), ("staging", "api.staging.vidgo.ai")]
)
def test_uptime_check_on_the_api_health_url_over_validated_https(stack, host, request):
    run = request.getfixturevalue(stack)
    check = run.one(UPTIME_CHECK)
    http = check.inputs["httpCheck"]
    assert http["path"] == "/health"
    assert http["useSsl"] is True
    assert http["validateSsl"] is True
    assert http.get("port", 443) == 443
    assert check.inputs["monitoredResource"]["type"] == "uptime_url"
    assert check.inputs["monitoredResource"]["labels"]["host"] == host


def test_uptime_alert_watches_that_check(prod):
    check_id = COMPUTED[UPTIME_CHECK]["uptimeCheckId"]  # Google assigns it when the check is made
    uptime = condition(prod, "uptime failing")
    assert f'metric.labels.check_id="{check_id}"' in clauses(uptime["filter"])
    assert prod.one(UPTIME_CHECK).urn in policy_for(prod, "uptime failing").dependencies


def test_the_uptime_alert_fires_when_more_than_one_region_fails(prod):
    uptime = condition(prod, "uptime failing")
    (aggregation,) = uptime["aggregations"]
    # Counts the checker regions whose last check failed; one region alone is noise.
    assert aggregation["crossSeriesReducer"] == "REDUCE_COUNT_FALSE"
    assert aggregation["perSeriesAligner"] == "ALIGN_NEXT_OLDER"
    assert uptime["comparison"] == "COMPARISON_GT"
    assert uptime["thresholdValue"] == 1
