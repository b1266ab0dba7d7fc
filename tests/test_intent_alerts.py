"""What each alert is for: it exists, watches the right series, and fires on the bad side of its
threshold, for as long as its name says. A regenerated snapshot cannot hide an alert that fires
when things are fine, or a missing one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run_with
from vidgo_infra.offline import Resource, Run

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
REQUEST_COUNT = 'metric.type="run.googleapis.com/request_count"'
REQUEST_LATENCIES = 'metric.type="run.googleapis.com/request_latencies"'
SERVER_ERRORS = 'metric.labels.response_code_class="5xx"'
PROVIDER_STATUS = 'metric.type="custom.googleapis.com/vidgo/provider_status"'
CHECK_PASSED = 'metric.type="monitoring.googleapis.com/uptime_check/check_passed"'
API_SERVICE = 'resource.labels.service_name="vidgo-api"'

# What each alert watches: the clause that tells it apart from the others.
ALERTS = {
    "error ratio": SERVER_ERRORS,
    "latency": REQUEST_LATENCIES,
    "provider down": PROVIDER_STATUS,
    "uptime failing": CHECK_PASSED,
}
TUNED = {"error_ratio_threshold": 0.02, "latency_p95_threshold_ms": 1500}


@pytest.fixture(scope="module")
def tuned() -> Run:
    return run_with("prod", {"vidgo-infra:monitoring": TUNED})


def clauses(filter_: str) -> set[str]:
    return {clause.strip() for clause in filter_.split(" AND ")}


def bodies(policy: Resource) -> list[dict[str, Any]]:
    """Each condition's body, whatever its kind (threshold, absence)."""
    return [
        body for c in policy.inputs["conditions"] for k, body in c.items() if k != "displayName"
    ]


def policy_for(run: Run, alert: str) -> Resource:
    found = [
        p
        for p in run.by_type(POLICY)
        if any(ALERTS[alert] in clauses(b["filter"]) for b in bodies(p))
    ]
    assert len(found) == 1, f"{len(found)} policies for the {alert} alert"
    return found[0]


def condition(run: Run, alert: str, kind: str = "conditionThreshold") -> dict[str, Any]:
    """The one condition of that kind in the one policy that watches `alert`'s series."""
    found = [c[kind] for c in policy_for(run, alert).inputs["conditions"] if kind in c]
    assert len(found) == 1, f"{len(found)} {kind} conditions in the {alert} alert"
    return found[0]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_platform_has_exactly_the_error_latency_provider_and_uptime_alerts(stack, request):
    run = request.getfixturevalue(stack)
    policies = run.by_type(POLICY)
    assert len(policies) == len(ALERTS)
    assert {policy_for(run, alert).urn for alert in ALERTS} == {p.urn for p in policies}


def test_the_latency_alert_exists_and_watches_the_apis_p95(prod):
    latency = condition(prod, "latency")
    assert {REQUEST_LATENCIES, API_SERVICE} <= clauses(latency["filter"])
    (aggregation,) = latency["aggregations"]
    assert aggregation["crossSeriesReducer"] == "REDUCE_PERCENTILE_95"
    assert aggregation["perSeriesAligner"] == "ALIGN_DELTA"


@pytest.mark.parametrize("stack", ["prod", "tuned"])
def test_the_error_ratio_alert_fires_above_its_configured_threshold_for_5_minutes(stack, request):
    errors = condition(request.getfixturevalue(stack), "error ratio")
    expected = TUNED["error_ratio_threshold"] if stack == "tuned" else 0.05
    assert errors["comparison"] == "COMPARISON_GT"
    assert errors["thresholdValue"] == pytest.approx(expected)
    assert errors["duration"] == "300s"
    # A ratio of request *rates*: server errors (5xx) of the API over all of the API's requests.
    assert API_SERVICE in clauses(errors["filter"]) and API_SERVICE in clauses(
        errors["denominatorFilter"]
    )
    assert SERVER_ERRORS not in clauses(errors["denominatorFilter"])
    for aggregations in (errors["aggregations"], errors["denominatorAggregations"]):
        (aggregation,) = aggregations
        assert aggregation["perSeriesAligner"] == "ALIGN_RATE"
        assert aggregation["crossSeriesReducer"] == "REDUCE_SUM"


@pytest.mark.parametrize("stack", ["prod", "tuned"])
def test_the_latency_alert_fires_above_its_configured_threshold_for_10_minutes(stack, request):
    latency = condition(request.getfixturevalue(stack), "latency")
    expected = TUNED["latency_p95_threshold_ms"] if stack == "tuned" else 2000
    assert latency["comparison"] == "COMPARISON_GT"
    assert latency["thresholdValue"] == expected
    assert latency["duration"] == "600s"


def test_the_provider_down_alert_also_fires_when_no_status_arrives(prod):
    absent = condition(prod, "provider down", "conditionAbsent")
    assert absent["duration"] == f"{15 * 60}s"  # monitoring.provider_status_absent_minutes
    (aggregation,) = absent["aggregations"]
    assert aggregation["groupByFields"] == ["metric.labels.provider"]
    assert policy_for(prod, "provider down").inputs["combiner"] == "OR"


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


def test_the_uptime_alert_fires_when_more_than_one_region_fails(prod):
    uptime = condition(prod, "uptime failing")
    (aggregation,) = uptime["aggregations"]
    # Counts the checker regions whose last check failed; one region alone is noise.
    assert aggregation["crossSeriesReducer"] == "REDUCE_COUNT_FALSE"
    assert aggregation["perSeriesAligner"] == "ALIGN_NEXT_OLDER"
    assert uptime["comparison"] == "COMPARISON_GT"
    assert uptime["thresholdValue"] == 1


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_alert_is_enabled_and_fires_on_any_condition(stack, request):
    for policy in request.getfixturevalue(stack).by_type(POLICY):
        assert policy.inputs.get("enabled", True) is True, policy.name
        assert policy.inputs["combiner"] == "OR", policy.name
