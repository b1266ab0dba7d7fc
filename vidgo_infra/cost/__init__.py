"""`vidgo-infra cost`: the monthly cost of what a stack's program declares, under a usage profile.

The input is the inventory (vidgo_infra/inventory.py), the same document the offline plan
prints, so the estimate prices exactly what `pulumi up` would create. Prices are data
(vidgo_infra/prices.yaml); the method and its assumptions are in docs/cost.md.

    estimate(inventory, usage, prices) -> Estimate      the priced lines, grouped as in the seed
    summary(estimate, top=5) -> list[str]              the total and the largest lines
    summary_for_stack(planned) -> list[str]            the same, with the stack's usage and budget
    add_arguments(parser), run(args) -> int            the command (0, 1 over budget, 2 bad input)

Nothing here imports Pulumi at module level: `vidgo-infra` starts fast, and the program is run
(under mocks) only by the command itself.
"""

from __future__ import annotations

from vidgo_infra.cost.command import add_arguments, print_estimate, run, summary_for_stack
from vidgo_infra.cost.estimator import estimate
from vidgo_infra.cost.model import FIXED, USAGE, Estimate, Line
from vidgo_infra.cost.prices import Prices, Unpriced, load_prices
from vidgo_infra.cost.report import budget_status, delta, render, render_delta, summary
from vidgo_infra.cost.rules.run import parse_cpu, parse_memory_gib

__all__ = [
    "FIXED",
    "USAGE",
    "Estimate",
    "Line",
    "Prices",
    "Unpriced",
    "add_arguments",
    "budget_status",
    "delta",
    "estimate",
    "load_prices",
    "parse_cpu",
    "parse_memory_gib",
    "print_estimate",
    "render",
    "render_delta",
    "run",
    "summary",
    "summary_for_stack",
]
