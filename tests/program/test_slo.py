"""SLOs and their burn-rate alerts: what they measure, and when they fire.

The factors are the SRE workbook's ("Alerting on SLOs", multiwindow, multi-burn-rate alerts),
computed from the budget share, the window and the SLO's period; the filters name metrics and
labels that exist on the load balancer's monitored resource (tests/fixtures/
load_balancer_metrics.yaml, from Google's lists)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import yaml

from components import slo
from tests.kit import (
    ALERT_POLICY,
    DASHBOARD,
    FIXTURES,
    MONITORED_SERVICE,
    NOTIFICATION_CHANNEL,
    ROOT,
    SLO,
    STACKS,
    URL_MAP,
    planned,
)
from vidgo_infra.offline import Resource, Run

LB_METRICS = yaml.safe_load((FIXTURES / "load_balancer_metrics.yaml").read_text())
BURN_RATE = re.compile(r'^select_slo_burn_rate\("(?P<slo>[^"]+)", "(?P<seconds>\d+)s"\)$')
PAGE, TICKET = ["ops@vidgo.ai"], ["tickets@vidgo.ai"]

# The workbook's table for a 30-day, 99.9 % SLO: long window, short window, burn rate, share of
# the budget spent when it fires, and the error rate that is (burn rate x 0.1 %).
WORKBOOK_COLUMNS = ("alert", "long", "short", "rate", "share", "error_rate")
WORKBOOK_30_DAYS_999 = [
    (slo.FAST_BURN, timedelta(hours=1), timedelta(minutes=5), 14.4, 0.02, 0.0144),
    (slo.SLOW_BURN, timedelta(hours=6), timedelta(minutes=30), 6.0, 0.05, 0.006),
]


@pytest.fixture(scope="module")
def thirty_days() -> Run:
    return planned("prod", {"vidgo-infra:monitoring": {"slo": {"period": "rolling_30_days"}}})


@pytest.fixture(scope="module")
def looser_api() -> Run:
    return planned("prod", {"vidgo-infra:monitoring": {"slo": {"api": {"availability": 0.995}}}})


@pytest.fixture(scope="module")
def with_tickets() -> Run:
    return planned(
        "prod",
        {"vidgo-infra:monitoring": {"notification_emails": PAGE, "ticket_emails": TICKET}},
    )


def burn_policies(run: Run) -> list[Resource]:
    return [p for p in run.by_type(ALERT_POLICY) if p.inputs["combiner"] == "AND"]


def windows(policy: Resource) -> list[tuple[str, timedelta, float]]:
    """(SLO name, lookback window, burn-rate threshold) of each condition, longest first."""
    found = []
    for condition in policy.inputs["conditions"]:
        threshold = condition["conditionThreshold"]
        match = BURN_RATE.match(threshold["filter"])
        assert match, threshold["filter"]
        # Above 1 the budget runs out before the period ends; both windows must burn at once.
        assert threshold["comparison"] == "COMPARISON_GT"
        assert threshold["thresholdValue"] > 1
        assert threshold["duration"] == "0s"
        seconds = timedelta(seconds=int(match["seconds"]))
        found.append((match["slo"], seconds, threshold["thresholdValue"]))
    return sorted(found, key=lambda w: w[1], reverse=True)


def slo_name(resource: Resource) -> str:
    project, inputs = resource.inputs["project"], resource.inputs
    return (
        f"projects/{project}/services/{inputs['service']}/serviceLevelObjectives/{inputs['sloId']}"
    )


def slos_by_name(run: Run) -> dict[str, Resource]:
    return {slo_name(s): s for s in run.by_type(SLO)}


def alerts_of(run: Run, objective: Resource) -> dict[tuple[timedelta, timedelta], Resource]:
    """The burn policies on `objective`, by their (long, short) windows."""
    name = slo_name(objective)
    found = {}
    for policy in burn_policies(run):
        pairs = windows(policy)
        if {n for n, _, _ in pairs} == {name}:
            found[(pairs[0][1], pairs[1][1])] = policy
    return found


# --- the factors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alert", "long", "short", "rate", "share", "error_rate"), WORKBOOK_30_DAYS_999
)
def test_the_factors_are_the_workbooks_for_a_30_day_999_slo(
    alert, long, short, rate, share, error_rate
):
    assert (alert.long_window, alert.short_window, alert.budget_share) == (long, short, share)
    assert alert.factor(timedelta(days=30)) == pytest.approx(rate)
    assert alert.factor(timedelta(days=30)) * (1 - 0.999) == pytest.approx(error_rate)


@pytest.mark.parametrize(
    ("alert", "long", "short", "rate", "share", "error_rate"), WORKBOOK_30_DAYS_999
)
def test_a_30_day_stack_declares_the_workbooks_windows_and_burn_rates(
    thirty_days, alert, long, short, rate, share, error_rate
):
    for objective in thirty_days.by_type(SLO):
        policy = alerts_of(thirty_days, objective)[(long, short)]
        assert [threshold for _, _, threshold in windows(policy)] == pytest.approx([rate, rate])


def test_the_factors_scale_with_the_period(prod):
    # Prod's period is 28 days: the same shares of the budget in the same windows.
    assert prod.one(SLO, "monitoring-api-availability").inputs["rollingPeriodDays"] == 28
    for objective in prod.by_type(SLO):
        for (long, _), policy in alerts_of(prod, objective).items():
            share = {timedelta(hours=1): 0.02, timedelta(hours=6): 0.05}[long]
            expected = share * (28 * 24) / (long / timedelta(hours=1))
            assert [t for _, _, t in windows(policy)] == pytest.approx([expected, expected])


def test_a_calendar_month_takes_its_shortest_length():
    # The lowest factor: the alert fires by its share of the budget in any month.
    assert slo.PERIODS["calendar_month"] == timedelta(days=28)
    assert slo.period_args("calendar_month") == {"calendar_period": "MONTH"}


def test_a_looser_target_raises_the_error_rate_that_fires(prod, looser_api):
    """The burn-rate threshold is relative to the budget: a target of 99.5 % instead of 99.9 %
    gives five times the budget, so five times the error rate before the alert fires."""

    def firing_error_rate(run: Run) -> float:
        objective = run.one(SLO, "monitoring-api-availability")
        policy = alerts_of(run, objective)[(timedelta(hours=1), timedelta(minutes=5))]
        (_, _, factor), _ = windows(policy)
        return factor * (1 - objective.inputs["goal"])

    assert prod.one(SLO, "monitoring-api-availability").inputs["goal"] == 0.999
    assert looser_api.one(SLO, "monitoring-api-availability").inputs["goal"] == 0.995
    assert firing_error_rate(prod) == pytest.approx(0.02 * 28 * 24 * 0.001)
    assert firing_error_rate(looser_api) == pytest.approx(5 * firing_error_rate(prod))


# --- the services, SLOs and policies each stack declares -----------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_each_public_service_has_its_slos_and_two_burn_policies_each(stack, request):
    run = request.getfixturevalue(stack)
    services = {s.inputs["serviceId"] for s in run.by_type(MONITORED_SERVICE)}
    assert services == {"vidgo-api", "vidgo-web"}
    declared = sorted((s.inputs["service"], s.inputs["sloId"]) for s in run.by_type(SLO))
    assert declared == [
        ("vidgo-api", "availability"),
        ("vidgo-api", "latency"),
        ("vidgo-web", "availability"),
    ]
    for objective in run.by_type(SLO):
        alerts = alerts_of(run, objective)
        # A fast pair and a slow pair, each long AND short, the short a twelfth of the long.
        assert sorted(alerts) == [
            (timedelta(hours=1), timedelta(minutes=5)),
            (timedelta(hours=6), timedelta(minutes=30)),
        ]
        for policy in alerts.values():
            assert policy.inputs["combiner"] == "AND"
            assert objective.urn in policy.dependencies
    assert len(burn_policies(run)) == 2 * len(run.by_type(SLO))


def test_prod_promises_more_than_staging(prod, staging):
    def targets(run: Run) -> dict[tuple[str, str], Resource]:
        return {(s.inputs["service"], s.inputs["sloId"]): s for s in run.by_type(SLO)}

    strict, loose = targets(prod), targets(staging)
    assert strict.keys() == loose.keys()
    stricter = False
    for key, objective in strict.items():
        goal, other = objective.inputs["goal"], loose[key].inputs["goal"]
        assert goal >= other, key
        stricter |= goal > other
        cut = objective.inputs["requestBasedSli"].get("distributionCut")
        if cut:
            limit = loose[key].inputs["requestBasedSli"]["distributionCut"]["range"]["max"]
            assert cut["range"]["max"] <= limit, key
    assert stricter


# --- what the SLIs measure ---------------------------------------------------------------------


def clauses(filter_: str) -> dict[str, str]:
    """`name="value"` clauses joined by AND, as a dict (a filter naming a key twice fails)."""
    found: dict[str, str] = {}
    for clause in filter_.split(" AND "):
        match = re.fullmatch(r'\s*([a-z_.]+)="([^"]*)"\s*', clause)
        assert match, clause
        assert match[1] not in found, f"{match[1]} twice in {filter_}"
        found[match[1]] = match[2]
    return found


def sli_filters(objective: Resource) -> dict[str, str]:
    sli = objective.inputs["requestBasedSli"]
    if "distributionCut" in sli:
        return {"distribution": sli["distributionCut"]["distributionFilter"]}
    return {key: value for key, value in sli["goodTotalRatio"].items()}


@pytest.mark.parametrize("stack", STACKS)
def test_every_sli_filter_names_a_metric_and_labels_its_resource_has(stack, request):
    for objective in request.getfixturevalue(stack).by_type(SLO):
        for role, filter_ in sli_filters(objective).items():
            found = clauses(filter_)
            metric = LB_METRICS["metrics"].get(found.pop("metric.type"))
            assert metric, f"{objective.name} {role}: not a load balancer metric in the data"
            assert found.pop("resource.type") == metric["resource_type"]
            resource_labels = LB_METRICS["resource_types"][metric["resource_type"]]["labels"]
            for key in found:
                kind, _, label = key.partition(".labels.")
                known = resource_labels if kind == "resource" else metric["labels"]
                assert kind in ("resource", "metric") and label in known, f"{role}: {key}"
            if role == "distribution":
                assert metric["value_type"] == "DISTRIBUTION"
            else:
                assert metric["kind"] in ("DELTA", "CUMULATIVE")


@pytest.mark.parametrize("stack", STACKS)
def test_bad_and_total_select_the_same_backend_the_url_map_routes_the_service_to(stack, request):
    run = request.getfixturevalue(stack)
    url_map = run.one(URL_MAP, "edge-url-map")
    # The API host's matcher, and the site's default: the backends users reach each service by.
    matchers = {m["name"]: m["defaultService"] for m in url_map.inputs["pathMatchers"]}
    backends = {
        "vidgo-api": run.by_id(matchers["api"]),
        "vidgo-web": run.by_id(matchers["site"]),
    }
    for objective in run.by_type(SLO):
        backend = backends[objective.inputs["service"]]
        # The mocks stand in for the provider's autoname with the logical name.
        expected = backend.inputs.get("name", backend.name)
        for filter_ in sli_filters(objective).values():
            assert clauses(filter_)["resource.labels.backend_target_name"] == expected
        if "goodTotalRatio" in objective.inputs["requestBasedSli"]:
            ratio = sli_filters(objective)
            bad, total = clauses(ratio["badServiceFilter"]), clauses(ratio["totalServiceFilter"])
            # Bad is total narrowed to server errors: nothing else differs.
            assert bad == {**total, "metric.labels.response_code_class": "500"}
            assert "metric.labels.response_code_class" not in total


def test_the_latency_sli_counts_requests_within_the_threshold(prod, staging):
    for run, limit in ((prod, 2000), (staging, 3000)):
        cut = run.one(SLO, "monitoring-api-latency").inputs["requestBasedSli"]["distributionCut"]
        assert cut["range"] == {"max": limit}
        assert clauses(cut["distributionFilter"])["metric.type"] == slo.LB_LATENCIES


# --- who is told -------------------------------------------------------------------------------


def channel_ids(run: Run, emails: list[str]) -> list[str]:
    by_email = {c.inputs["labels"]["email_address"]: c for c in run.by_type(NOTIFICATION_CHANNEL)}
    return sorted(f"{by_email[e].inputs.get('name', by_email[e].name)}-id" for e in emails)


@pytest.mark.parametrize(("stack", "ticket"), [("prod", PAGE), ("with_tickets", TICKET)])
def test_fast_burn_pages_and_slow_burn_opens_a_ticket(stack, ticket, request):
    run = request.getfixturevalue(stack)
    for policy in burn_policies(run):
        (_, long, _), _ = windows(policy)
        fast = long == timedelta(hours=1)
        expected = channel_ids(run, PAGE if fast else ticket)
        assert sorted(policy.inputs["notificationChannels"]) == expected, policy.name
        assert policy.inputs["severity"] == ("CRITICAL" if fast else "WARNING")
        anchor = "fast-burn" if fast else "slow-burn"
        assert f"docs/monitoring.md#{anchor}" in policy.inputs["documentation"]["content"]


def test_the_runbook_sections_the_alerts_link_exist():
    text = (ROOT / "docs" / "monitoring.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in text.splitlines()
        if line.startswith("#")
    }
    from components.monitoring import RUNBOOK

    for link in RUNBOOK.values():
        assert link.split("#")[1] in anchors, link


# --- the error-budget view ---------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_dashboard_shows_each_slos_compliance_and_budget_left(stack, request):
    run = request.getfixturevalue(stack)
    layout = json.loads(run.one(DASHBOARD).inputs["dashboardJson"])
    shown: set[tuple[str, str]] = set()
    for tile in layout["mosaicLayout"]["tiles"]:
        card: dict[str, Any] = tile["widget"].get("scorecard") or {}
        filter_ = card.get("timeSeriesQuery", {}).get("timeSeriesFilter", {}).get("filter", "")
        match = re.fullmatch(r'(select_slo_\w+)\("([^"]+)"\)', filter_)
        if match:
            shown.add((match[1], match[2]))
    for name in slos_by_name(run):
        assert ("select_slo_compliance", name) in shown
        assert ("select_slo_budget_fraction", name) in shown
    # No two tiles overlap on the 12-column grid.
    cells = [
        (t["xPos"] + dx, t["yPos"] + dy)
        for t in layout["mosaicLayout"]["tiles"]
        for dx in range(t["width"])
        for dy in range(t["height"])
    ]
    assert len(cells) == len(set(cells))
    assert all(x < 12 for x, _ in cells)
