"""What each alert is for: it exists, watches the right series, and fires on the bad side of its
threshold, for as long as its name says. A regenerated snapshot cannot hide an alert that fires
when things are fine, or a missing one."""

from __future__ import annotations

from typing import Any

import pytest

from vidgo_infra.offline import Resource, Run

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
PROVIDER_STATUS = 'metric.type="custom.googleapis.com/vidgo/provider_status"'
CHECK_PASSED = 'metric.type="monitoring.googleapis.com/uptime_check/check_passed"'
BURN_RATE = "select_slo_burn_rate("

# What each threshold alert watches: the clause that tells it apart from the others. The SLO
# burn-rate alerts (tests/test_slo.py) replaced the 5xx-ratio and p95-latency thresholds.
ALERTS = {
    "provider down": PROVIDER_STATUS,
    "uptime failing": CHECK_PASSED,
}
SLOS = 3  # api availability and latency, web availability


def clauses(filter_: str) -> set[str]:
    return {clause.strip() for clause in filter_.split(" AND ")}


def burn_policies(run: Run) -> list[Resource]:
    return [
        p for p in run.by_type(POLICY) if all(b["filter"].startswith(BURN_RATE) for b in bodies(p))
    ]


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
def test_the_platform_has_exactly_the_burn_rate_provider_and_uptime_alerts(stack, request):
    run = request.getfixturevalue(stack)
    policies = run.by_type(POLICY)
    burn = burn_policies(run)
    assert len(burn) == 2 * SLOS
    assert len(policies) == len(ALERTS) + len(burn)
    others = {policy_for(run, alert).urn for alert in ALERTS}
    assert others | {p.urn for p in burn} == {p.urn for p in policies}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_no_threshold_alert_on_cloud_run_errors_or_latency_is_left(stack, request):
    """The burn-rate alerts replaced them: a second alert on the same pain pages twice."""
    for policy in request.getfixturevalue(stack).by_type(POLICY):
        for body in bodies(policy):
            assert "run.googleapis.com/request" not in body["filter"], policy.name


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_a_burn_rate_alert_fires_only_when_both_windows_burn_above_one(stack, request):
    for policy in burn_policies(request.getfixturevalue(stack)):
        assert policy.inputs["combiner"] == "AND", policy.name
        conditions = bodies(policy)
        assert len(conditions) == 2
        for condition in conditions:
            # Above 1 the budget runs out before the period ends; both windows, one threshold.
            assert condition["comparison"] == "COMPARISON_GT"
            assert condition["thresholdValue"] > 1
            assert condition["duration"] == "0s"
        assert conditions[0]["thresholdValue"] == conditions[1]["thresholdValue"]


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
def test_every_alert_is_enabled_and_the_threshold_alerts_fire_on_any_condition(stack, request):
    run = request.getfixturevalue(stack)
    burn = {p.urn for p in burn_policies(run)}
    for policy in run.by_type(POLICY):
        assert policy.inputs.get("enabled", True) is True, policy.name
        assert policy.inputs["combiner"] == ("AND" if policy.urn in burn else "OR"), policy.name
