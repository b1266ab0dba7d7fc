"""A Cloud Billing budget exists exactly where the stack names a billing account."""

from __future__ import annotations

import pytest

from tests.kit import (
    API_SERVICE,
    BILLING_BUDGET,
    BUDGETED,
    GCP_PROVIDER,
    NOTIFICATION_CHANNEL,
    planned,
)


@pytest.fixture(scope="module")
def budgeted():
    return planned("prod", BUDGETED)


def test_no_billing_account_no_budget(prod, staging):
    assert not prod.by_type(BILLING_BUDGET)
    assert not staging.by_type(BILLING_BUDGET)
    apis = {r.inputs["service"] for r in prod.by_type(API_SERVICE)}
    assert "billingbudgets.googleapis.com" not in apis


def test_budget_alerts_the_platform_channels_at_each_threshold(budgeted):
    budget = budgeted.one(BILLING_BUDGET).inputs
    assert budget["billingAccount"] == "012345-6789AB-CDEF01"
    assert budget["amount"]["specifiedAmount"] == {
        "currencyCode": "USD",
        "units": "400",
        "nanos": 500_000_000,
    }
    actual = [r["thresholdPercent"] for r in budget["thresholdRules"] if "spendBasis" not in r]
    assert actual == [0.5, 0.9, 1.0]
    forecast = [r for r in budget["thresholdRules"] if r.get("spendBasis") == "FORECASTED_SPEND"]
    assert [r["thresholdPercent"] for r in forecast] == [1.0]
    channels = {r.id for r in budgeted.by_type(NOTIFICATION_CHANNEL)}
    assert channels
    assert set(budget["allUpdatesRule"]["monitoringNotificationChannels"]) == channels
    assert budget["budgetFilter"]["projects"] == ["projects/123456789012"]  # the mocked number


def test_budget_api_is_enabled_before_the_budget(budgeted):
    api = next(
        r
        for r in budgeted.by_type(API_SERVICE)
        if r.inputs["service"] == "billingbudgets.googleapis.com"
    )
    assert api.urn in budgeted.one(BILLING_BUDGET).dependencies


def test_budget_calls_bill_the_stacks_project(budgeted):
    # The Billing Budget API rejects user credentials with no quota project.
    provider = budgeted.one(GCP_PROVIDER)
    assert provider.inputs["userProjectOverride"] in (True, "true")
    assert provider.inputs["billingProject"] == "vidgo-ai-prod"
