"""A Cloud Billing budget for one project, alerting the platform's notification channels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp
from pulumi_gcp import billing

from components.base import Component


@dataclass(frozen=True, kw_only=True)
class BillingBudgetArgs:
    project: str
    project_number: pulumi.Input[str]
    billing_account: str  # XXXXXX-XXXXXX-XXXXXX
    monthly_usd: float
    alert_thresholds: Sequence[float]  # shares of monthly_usd, 1.0 = the whole budget
    notification_channel_ids: Sequence[pulumi.Input[str]]


class BillingBudget(Component):
    """Alerts on actual spend at each threshold, and on forecast spend passing the budget, so a
    runaway month is caught before the invoice. `vidgo-infra cost` guards the estimate in CI;
    this guards what Google actually bills."""

    def __init__(
        self, name: str, args: BillingBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("vidgo:platform:BillingBudget", name, opts)
        # The Billing Budget API refuses user credentials without a quota project (a laptop's
        # `gcloud auth application-default login`): bill its calls to the stack's project.
        quota_project = pulumi_gcp.Provider(
            f"{name}-provider",
            project=args.project,
            user_project_override=True,
            billing_project=args.project,
            opts=self.child(),
        )
        dollars, cents = divmod(round(args.monthly_usd * 100), 100)
        billing.Budget(
            f"{name}-budget",
            billing_account=args.billing_account,
            display_name=f"{args.project} monthly",
            budget_filter=billing.BudgetBudgetFilterArgs(
                projects=[pulumi.Output.concat("projects/", args.project_number)],
                calendar_period="MONTH",
            ),
            amount=billing.BudgetAmountArgs(
                specified_amount=billing.BudgetAmountSpecifiedAmountArgs(
                    currency_code="USD", units=str(dollars), nanos=cents * 10_000_000
                )
            ),
            threshold_rules=[
                billing.BudgetThresholdRuleArgs(threshold_percent=share)
                for share in sorted(args.alert_thresholds)
            ]
            + [
                billing.BudgetThresholdRuleArgs(
                    threshold_percent=1.0, spend_basis="FORECASTED_SPEND"
                )
            ],
            all_updates_rule=billing.BudgetAllUpdatesRuleArgs(
                monitoring_notification_channels=list(args.notification_channel_ids),
                disable_default_iam_recipients=False,
            ),
            opts=self.child(provider=quota_project),
        )
        self.register_outputs({})
