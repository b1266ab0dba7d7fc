"""Estimate lines, the estimate, and the context the pricing rules charge into."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from stacks.usage import UsageProfile
from vidgo_infra.cost.prices import Price, Prices, Unpriced

FIXED, USAGE = "fixed", "usage"
# Grouped like the seed's section 7.1, so the two can be read side by side (docs/cost.md).
GROUPS = [
    "Cloud Run",
    "Cloud SQL",
    "Memorystore",
    "Cloud Storage + CDN",
    "Load Balancer",
    "Networking",
    "Secret Manager",
    "Cloud Armor",
    "Artifact Registry",
    "Monitoring & Logging",
    "Other",
]
# Lines that belong to the stack as a whole (log volume, secret accesses) name this instead of a
# resource: no single resource causes them.
PROJECT = "(project)"


@dataclass
class Line:
    group: str
    resource: str
    item: str  # what is billed: stable, so a change of size shows as a change of this line
    quantity: float  # in the price's unit, before the free allotment
    unit: str
    kind: str  # FIXED: billed while the stack sits idle; USAGE: grows with the usage profile
    sku: str | None = None
    unit_usd: float | None = None  # per `per` units; None when unpriced
    per: float = 1
    free_allotment: float = 0  # the SKU's monthly free units (shared by the lines of one SKU)
    free_scope: str = "billing_account"  # or "project": whom the free allotment is given to
    free: float = 0  # the part of this line's quantity the free allotment covers
    waived: str = ""  # why a billable item costs nothing here (a static IP in use, ...)
    monthly_usd: float | None = None  # None: unpriced, and not in the total
    detail: str = ""  # the shape billed: "BASIC 1 GB (capacity tier M1)", "2 x e2-micro"
    note: str = ""
    source: str = ""

    @property
    def priced(self) -> bool:
        return self.monthly_usd is not None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.group, self.resource, self.item)

    def settle(self) -> None:
        if self.unit_usd is None:
            self.monthly_usd = None
        elif self.waived:
            self.monthly_usd = 0.0
        else:
            self.monthly_usd = max(self.quantity - self.free, 0) / self.per * self.unit_usd


@dataclass
class Estimate:
    stack: str | None
    region: str
    prices_checked: str
    lines: list[Line]
    assumptions: list[str]
    not_billed: dict[str, int]  # type token → resources of it that cost nothing themselves
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(line.monthly_usd or 0 for line in self.lines)

    @property
    def fixed(self) -> float:
        return sum(line.monthly_usd or 0 for line in self.lines if line.kind == FIXED)

    @property
    def variable(self) -> float:
        return sum(line.monthly_usd or 0 for line in self.lines if line.kind == USAGE)

    @property
    def unpriced(self) -> list[Line]:
        return [line for line in self.lines if not line.priced]

    def groups(self) -> dict[str, list[Line]]:
        grouped: dict[str, list[Line]] = {}
        for line in self.lines:
            grouped.setdefault(line.group, []).append(line)
        return grouped

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "currency": "USD",
            "prices_checked": self.prices_checked,
            "total_usd": round(self.total, 2),
            "fixed_usd": round(self.fixed, 2),
            "usage_usd": round(self.variable, 2),
            "groups": {
                group: round(sum(line.monthly_usd or 0 for line in lines), 2)
                for group, lines in self.groups().items()
            },
            "lines": [asdict(line) for line in self.lines],
            "unpriced": [
                {"resource": line.resource, "item": line.item, "why": line.note}
                for line in self.unpriced
            ],
            "assumptions": self.assumptions,
            "not_billed": self.not_billed,
            "usage": self.usage,
        }


@dataclass
class Context:
    """What a pricing rule sees, and where it records its charges."""

    document: dict[str, Any]
    usage: UsageProfile
    prices: Prices
    region: str
    lines: list[Line] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document.get("resources") or {}

    @property
    def hours(self) -> float:
        return self.prices.hours_per_month

    @property
    def seconds(self) -> float:
        return self.prices.seconds_per_month

    def of_type(self, type_token: str) -> list[tuple[str, dict[str, Any]]]:
        return [(n, r) for n, r in sorted(self.resources.items()) if r.get("type") == type_token]

    def region_of(self, resource: dict[str, Any]) -> str:
        inputs = resource.get("inputs") or {}
        where = inputs.get("region") or inputs.get("location")
        return where.lower() if isinstance(where, str) else self.region

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def charge(
        self,
        group: str,
        resource: str,
        item: str,
        sku: str,
        quantity: float,
        kind: str,
        region: str | None = None,
        note: str = "",
        waived: str = "",
        detail: str = "",
    ) -> Line:
        where = region or self.region
        try:
            price = self.prices.get(sku, where)
        except Unpriced as missing:
            line = self.unpriced(group, resource, item, str(missing), kind, quantity, sku)
            line.detail = detail
            return line
        line = _priced_line(group, resource, item, price, quantity, kind)
        line.note, line.waived, line.detail = note, waived, detail
        self.lines.append(line)
        return line

    def unpriced(
        self,
        group: str,
        resource: str,
        item: str,
        why: str,
        kind: str = FIXED,
        quantity: float = 0,
        sku: str | None = None,
    ) -> Line:
        line = Line(group, resource, item, quantity, "", kind, sku=sku, note=why)
        self.lines.append(line)
        return line


def _priced_line(
    group: str, resource: str, item: str, price: Price, quantity: float, kind: str
) -> Line:
    return Line(
        group,
        resource,
        item,
        quantity,
        price.unit,
        kind,
        sku=price.sku,
        unit_usd=price.usd,
        per=price.per,
        free_allotment=price.free_per_month,
        free_scope=price.free_scope,
        source=price.source,
    )


def apply_free_tier(lines: list[Line], billing_account_free_tier: bool) -> None:
    """Spread each SKU's monthly free allotment over its lines, in order, then settle them.

    One allotment per SKU, not per line: the two Cloud Run services share 180,000 free vCPU-seconds.
    A project's own allotments (50 GiB of logs) always apply; the billing account's only when
    this stack is the one that gets them (usage.free_tier).
    """
    remaining: dict[str, float] = {}
    for line in lines:
        enabled = billing_account_free_tier or line.free_scope == "project"
        if enabled and line.sku and line.free_allotment and not line.waived:
            left = remaining.setdefault(line.sku, line.free_allotment)
            line.free = min(line.quantity, left)
            remaining[line.sku] = left - line.free
        line.settle()


def infer_region(document: dict[str, Any], fallback: str) -> str:
    """The region most resources name: where regional SKUs of stack-wide charges are priced."""
    found: Counter[str] = Counter()
    for resource in (document.get("resources") or {}).values():
        inputs = resource.get("inputs") or {}
        where = inputs.get("region") or inputs.get("location")
        if isinstance(where, str) and "-" in where:  # a region, not a multi-region like ASIA
            found[where.lower()] += 1
    return found.most_common(1)[0][0] if found else fallback
