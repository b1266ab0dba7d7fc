"""`vidgo-infra cost STACK`: the monthly estimate of what the stack declares, line by line with
the source of each price, under the stack's usage profile; `--against` prints the change from a
saved inventory (another stack's is priced under this stack's usage, and it says so).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks.usage import Budget, UsageProfile
    from vidgo_infra.stack import PlannedStack


SUMMARY = "the monthly cost estimate of a stack"
TAKES_STACK = True
EXIT_CODES = {
    0: "within the stack's budget.monthly_usd (or none set)",
    1: "over the stack's monthly budget (the reason on stderr with --json)",
    2: "a mistake: unknown stack, invalid usage or budget, unreadable inventory",
}
EXAMPLES = (
    "vidgo-infra cost prod",
    "vidgo-infra cost staging --against tests/snapshots/staging.yaml",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument(
        "--against",
        metavar="SNAPSHOT.yaml",
        help="a saved inventory (tests/snapshots/STACK.yaml): print the change line by line",
    )
    parser.add_argument(
        "--usage",
        metavar="FILE|PROFILE",
        help="price under another usage profile: seed, 10x, 100x (stacks/profiles/) or a YAML "
        "file of usage fields; prints the limits it meets (docs/growth.md)",
    )


def run(args: argparse.Namespace) -> int:
    from vidgo_infra.cost import growth
    from vidgo_infra.stack import plan_stack

    saved = _saved_inventory(args.against) if args.against else None  # before the 15 s run
    profile = growth.load_usage(args.project.root, args.usage) if args.usage else None
    planned = plan_stack(args.project, args.stack)
    usage = profile[1] if profile else planned.config.usage
    status = print_estimate(args, planned.inventory, usage, planned.config.budget, saved)
    if profile and not args.json:
        grown = growth.assess(planned.config, planned.inventory, *profile)
        print("\n" + "\n".join(_fitted(growth.limit_lines(grown))))
    return status


def print_estimate(
    args: argparse.Namespace,
    inventory: dict[str, Any],
    usage: UsageProfile,
    budget: Budget,
    saved: dict[str, Any] | None = None,
) -> int:
    """Print the estimate of `inventory` (and its change from `saved`); the budget's exit status."""
    from vidgo_infra.cost.estimator import estimate
    from vidgo_infra.cost.prices import load_prices
    from vidgo_infra.cost.report import budget_status

    prices = load_prices()
    now = estimate(inventory, usage, prices)
    before = estimate(saved, usage, prices) if saved is not None else None
    status = budget_status(now, budget)
    if args.json:
        print(json.dumps(_rounded(_json(now, before, status)), indent=2, sort_keys=True))
        if status.over:  # the JSON is for machines; the reason for exit status 1 is for people
            print(f"vidgo-infra cost: {status.message}", file=sys.stderr)
    else:
        print("\n".join(_fitted(_text(args, now, before, budget, saved))))
    return 1 if status.over else 0


def _text(args: argparse.Namespace, now, before, budget: Budget, saved) -> list[str]:
    from vidgo_infra.cost.report import render, render_delta

    out: list[str] = []
    if before is not None:
        other = saved.get("stack")
        if other and other != args.stack:
            out += [
                f"Note: {args.against} is stack {other}'s inventory; both sides are priced "
                f"under {args.stack}'s usage profile, so the change is in what is declared only.",
                "",
            ]
        out += [*render_delta(before, now, args.against, f"{args.stack} (code now)"), ""]
    return out + render(now, budget)


def _json(now, before, status) -> dict[str, Any]:
    from vidgo_infra.cost.report import delta

    document = now.to_json()
    document["budget"] = status.to_json(now)
    if before is not None:
        document["change"] = {
            "before_total_usd": round(before.total, 2),
            "after_total_usd": round(now.total, 2),
            "delta_usd": round(now.total - before.total, 2),
            "lines": [change.to_json() for change in delta(before, now)],
        }
    return document


def _fitted(lines: list[str], width: int = 120) -> list[str]:
    """Long lines wrapped under their own indentation, so the report fits 120 columns."""
    import textwrap

    out = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        out += textwrap.wrap(line, width, subsequent_indent=indent) if len(line) > width else [line]
    return out


def _rounded(value: Any, key: str = "") -> Any:
    """Money to the cent (unit prices keep their precision): no 11.41757000000004 in JSON."""
    if isinstance(value, dict):
        return {k: _rounded(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, key) for v in value]
    if isinstance(value, float) and key.endswith("_usd") and key != "unit_usd":
        return round(value, 2)
    return value


def _saved_inventory(path: str) -> dict[str, Any]:
    from vidgo_infra.inventory import load

    return load(Path(path))  # a one-line UsageError naming the file when it is not one


def summary_for_stack(planned: PlannedStack, top: int = 5) -> list[str]:
    """What the offline plan prints: the total, the top lines and the budget, in a few lines."""
    from vidgo_infra.cost.estimator import estimate
    from vidgo_infra.cost.report import budget_status, summary

    result = estimate(planned.inventory, planned.config.usage)
    return [*summary(result, top), budget_status(result, planned.config.budget).message]
