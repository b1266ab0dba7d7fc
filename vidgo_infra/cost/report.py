"""Text for people: the breakdown, the change between two estimates, the summary, the budget."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from stacks.usage import Budget
from vidgo_infra.cost.model import Estimate, Line

WIDTH = 100  # the breakdown fits a terminal and a pull request's job summary


def money(usd: float | None, signed: bool = False) -> str:
    if usd is None:
        return "unpriced"
    usd = round(usd, 2) + 0.0  # to the cent first, so -0.001 is $0.00, never -$0.00
    text = f"${abs(usd):,.2f}"
    if signed:
        return ("-" if usd < 0 else "+") + text
    return "-" + text if usd < 0 else text


def parts_to_total(total: float, *parts: float) -> list[float]:
    """`parts` rounded to the cent so that they add up to `total` rounded to the cent: the
    rounding remainder goes to the last part ($120.02 = $118.91 + $1.11, not + $1.12)."""
    cents = [round(part * 100) for part in parts]
    cents[-1] = round(total * 100) - sum(cents[:-1])
    return [c / 100 for c in cents]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.4g}"


def price_label(line: Line) -> str:
    if line.unit_usd is None:
        return ""
    labels: dict[float, str] = {1: "", 1000: "1K ", 10_000: "10K ", 1_000_000: "1M "}
    per = labels.get(line.per, f"{line.per:g} ")
    return f"${line.unit_usd:.10f}".rstrip("0").rstrip(".") + f"/{per}{line.unit}"


def _line(line: Line) -> list[str]:
    """Two rows: what is billed and what it costs; then how (quantity x unit price, free part)."""
    head = f"    {line.resource}: {line.item}" + (f" ({line.detail})" if line.detail else "")
    width = WIDTH - 18
    if len(head) > width:
        head = head[: width - 3] + "..."
    row = f"{head:<{width}} {money(line.monthly_usd):>10}  {line.kind}"
    if not line.priced:
        return [row, f"        WARNING: {line.note}"]
    how = [f"{_number(line.quantity)} {line.unit} x {price_label(line)}"]
    if line.free:
        how.append(f"{_number(line.free)} free")
    if line.waived:
        how.append(line.waived)
    return [row, "        " + "; ".join(how)]


def render(estimate: Estimate, budget: Budget | None = None) -> list[str]:
    """Each group and its lines, the totals, what is unpriced and why, the assumptions."""
    out = [
        f"Monthly cost estimate of {estimate.stack or 'an inventory'}: USD list prices for "
        f"{estimate.region}, checked {estimate.prices_checked} (vidgo_infra/prices.yaml)",
    ]
    for group, lines in estimate.groups().items():
        subtotal = sum(line.monthly_usd or 0 for line in lines)
        out += ["", f"  {group:<{WIDTH - 16}} {money(subtotal):>10}"]
        for line in lines:
            out += _line(line)
    out += ["", *totals(estimate)]
    out += _unpriced(estimate) + _assumptions(estimate) + _not_billed(estimate)
    if budget is not None:
        out += ["", budget_status(estimate, budget).message]
    return out


def totals(estimate: Estimate) -> list[str]:
    fixed, usage = parts_to_total(estimate.total, estimate.fixed, estimate.variable)
    return [
        f"  Total {money(estimate.total)} a month: fixed {money(fixed)} "
        f"(billed while the stack sits idle) + usage {money(usage)}",
    ]


def _unpriced(estimate: Estimate) -> list[str]:
    missing = estimate.unpriced
    if not missing:
        return []
    head = f"WARNING: {len(missing)} item(s) unpriced, not in the total:"
    return ["", head] + [f"  {x.resource}: {x.item}: {x.note}" for x in missing]


def _assumptions(estimate: Estimate) -> list[str]:
    out = ["", "Assumptions:"]
    for text in estimate.assumptions:
        out += textwrap.wrap(text, WIDTH, initial_indent="  - ", subsequent_indent="    ")
    return out


def _type_label(token: str) -> str:
    # gcp:compute/backendService:BackendService -> compute/backendService
    provider, module, _ = [*token.split(":"), "", ""][:3]
    return module if provider == "gcp" else token


def _not_billed(estimate: Estimate) -> list[str]:
    if not estimate.not_billed:
        return []
    kinds = ", ".join(f"{_type_label(t)}={n}" for t, n in estimate.not_billed.items())
    head = f"Not billed themselves ({sum(estimate.not_billed.values())} resources): "
    return ["", *textwrap.wrap(head + kinds, WIDTH, subsequent_indent="  ")]


# --- summary and budget -------------------------------------------------------------------------


def summary(estimate: Estimate, top: int = 5) -> list[str]:
    """The total and the `top` largest lines: what the offline plan prints."""
    biggest = sorted(
        (x for x in estimate.lines if x.monthly_usd), key=lambda x: -(x.monthly_usd or 0)
    )
    fixed, usage = parts_to_total(estimate.total, estimate.fixed, estimate.variable)
    out = [
        f"{money(estimate.total)} a month: fixed {money(fixed)} + usage "
        f"{money(usage)} (list prices for {estimate.region}, "
        f"checked {estimate.prices_checked})",
    ]
    out += [f"  {money(x.monthly_usd):>9}  {x.group}: {_what(x)}" for x in biggest[:top]]
    if estimate.unpriced:
        names = ", ".join(sorted({x.resource for x in estimate.unpriced}))
        out.append(
            f"  WARNING: {len(estimate.unpriced)} item(s) unpriced, not in the total: {names}"
        )
    return out


def _what(line: Line) -> str:
    return f"{line.resource}, {line.item}" + (f" ({line.detail})" if line.detail else "")


@dataclass(frozen=True)
class BudgetStatus:
    over: bool
    message: str
    budget_usd: float | None

    def to_json(self, estimate: Estimate) -> dict[str, Any]:
        over_by = estimate.total - self.budget_usd if self.budget_usd else None
        return {"monthly_usd": self.budget_usd, "over": self.over, "over_by_usd": over_by}


def budget_status(estimate: Estimate, budget: Budget) -> BudgetStatus:
    limit = budget.monthly_usd
    if limit is None:
        message = "Budget: none set (vidgo-infra:budget.monthly_usd in the stack file)."
        return BudgetStatus(False, message, None)
    gap = estimate.total - limit
    if gap > 0:
        message = (
            f"Budget: OVER. The estimate {money(estimate.total)} exceeds the monthly budget of "
            f"{money(limit)} by {money(gap)}."
        )
        return BudgetStatus(True, message, limit)
    message = f"Budget: within {money(limit)} a month ({money(-gap)} to spare)."
    return BudgetStatus(False, message, limit)


# --- change between two estimates ---------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    key: tuple[str, str, str]
    before: Line | None
    after: Line | None

    @property
    def delta_usd(self) -> float:
        return ((self.after and self.after.monthly_usd) or 0) - (
            (self.before and self.before.monthly_usd) or 0
        )

    def to_json(self) -> dict[str, Any]:
        def usd(line: Line | None) -> float | None:
            return None if line is None else line.monthly_usd

        group, resource, item = self.key
        return {
            "group": group,
            "resource": resource,
            "item": item,
            "before_usd": usd(self.before),
            "after_usd": usd(self.after),
            "delta_usd": round(self.delta_usd, 2),
        }


def delta(before: Estimate, after: Estimate) -> list[Change]:
    """Lines whose monthly cost changed, appeared or went away, largest change first."""
    old = {line.key: line for line in before.lines}
    new = {line.key: line for line in after.lines}
    changes = [Change(key, old.get(key), new.get(key)) for key in {**old, **new}]
    changed = [c for c in changes if _changed(c)]
    return sorted(changed, key=lambda c: (-abs(c.delta_usd), c.key))


def _changed(change: Change) -> bool:
    if change.before is None or change.after is None:
        return True
    moved = change.before.quantity != change.after.quantity
    return moved or round(change.delta_usd, 4) != 0 or change.before.priced != change.after.priced


def _state(line: Line | None) -> str:
    if line is None:
        return "(none)"
    return money(line.monthly_usd) + (f" [{line.detail}]" if line.detail else "")


def render_delta(
    before: Estimate, after: Estimate, before_label: str, after_label: str
) -> list[str]:
    changes = delta(before, after)
    out = [f"Monthly cost change: {before_label} -> {after_label}"]
    if not changes:
        out.append("  no line changed")
    for change in changes:
        group, resource, item = change.key
        out.append(
            f"  {money(change.delta_usd, signed=True):>10}  {group}: {resource}, {item}: "
            f"{_state(change.before)} -> {_state(change.after)}"
        )
    out.append(
        f"  Total {money(before.total)} -> {money(after.total)} "
        f"({money(after.total - before.total, signed=True)} a month)"
    )
    return out
