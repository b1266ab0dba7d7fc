"""Price an inventory: run each resource's rule, then the stack-wide charges, then the free tier."""

from __future__ import annotations

from collections import Counter
from typing import Any

from stacks.usage import UsageProfile
from vidgo_infra.cost.model import GROUPS, Context, Estimate, apply_free_tier, infer_region
from vidgo_infra.cost.prices import Prices, load_prices
from vidgo_infra.cost.rules import RULES, stack_charges


def estimate(
    document: dict[str, Any],
    usage: UsageProfile | None = None,
    prices: Prices | None = None,
) -> Estimate:
    """Price an inventory document (`inventory(run)` or a saved snapshot) under a usage profile."""
    usage = usage or UsageProfile()
    prices = prices or load_prices()
    ctx = Context(document, usage, prices, infer_region(document, prices.default_region))
    not_billed: Counter[str] = Counter()
    for name, resource in sorted(ctx.resources.items()):
        if not _price_resource(ctx, name, resource):
            not_billed[resource.get("type", "?")] += 1
    stack_charges(ctx)
    ctx.assume(_free_tier_assumption(usage.free_tier))
    apply_free_tier(ctx.lines, usage.free_tier)
    order = {group: i for i, group in enumerate(GROUPS)}
    lines = sorted(ctx.lines, key=lambda line: (order.get(line.group, len(GROUPS)), line.resource))
    return Estimate(
        stack=document.get("stack"),
        region=ctx.region,
        prices_checked=prices.checked,
        lines=lines,
        assumptions=ctx.assumptions,
        not_billed=dict(sorted(not_billed.items())),
        usage=usage.model_dump(),
    )


def _price_resource(ctx: Context, name: str, resource: dict[str, Any]) -> bool:
    """Charge one resource; False when it is not billed itself (a free type, a free setting)."""
    type_token = resource.get("type", "?")
    rule = RULES.get(type_token)
    before = len(ctx.lines)
    if rule is not None:
        try:
            rule(ctx, name, resource)
        except (ValueError, TypeError, KeyError) as error:  # inputs the rule cannot read
            ctx.unpriced("Other", name, type_token, f"cannot price its inputs: {error}")
        return len(ctx.lines) > before
    if ctx.prices.free_reason(type_token) is None:
        why = "no pricing rule, and not listed as free in vidgo_infra/prices.yaml"
        ctx.unpriced("Other", name, type_token, why)
        return True
    return False


def _free_tier_assumption(enabled: bool) -> str:
    if enabled:
        return (
            "Free tier: each SKU's monthly free allotment (Cloud Run, Secret Manager, Artifact "
            "Registry, Logging, Monitoring) is applied once, in full, to this stack, as if it were "
            "alone on its billing account."
        )
    return (
        "Free tier: the billing account's allotments are left to another stack (usage.free_tier "
        "is false); per-project ones (50 GiB of logs, uptime checks) still apply."
    )
