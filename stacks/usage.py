"""How a stack is used in a month, for the cost estimate (`vidgo-infra cost`), and its budget.

The defaults are the seed's section 7 assumptions for production.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsageProfile(_Settings):
    api_requests: int = Field(500_000, ge=0)
    api_mean_request_seconds: float = Field(0.5, ge=0)
    web_requests: int = Field(500_000, ge=0)
    web_mean_request_seconds: float = Field(0.05, ge=0)
    storage_gb: float = Field(50, ge=0)
    storage_operations: int = Field(100_000, ge=0)
    egress_gb: float = Field(100, ge=0)


class Budget(_Settings):
    monthly_usd: float | None = Field(None, gt=0)
    # billingAccounts/XXXXXX-XXXXXX-XXXXXX: when set, a Cloud Billing budget is declared too.
    billing_account: str | None = Field(None, pattern=r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}")
