"""`vidgo-infra cost STACK [--json] [--against SNAPSHOT.yaml]`, and the plan's summary.

Exit status: 0 within budget (or none set), 1 over the stack's monthly budget, 2 bad input (an
unknown stack, an invalid usage or budget, an unreadable snapshot, a program that fails).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stacks.usage import Budget, UsageProfile


class CostInputError(Exception):
    """Bad input: printed without a traceback, exit status 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="a stack with a Pulumi.STACK.yaml (staging, prod)")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument(
        "--against",
        metavar="SNAPSHOT.yaml",
        help="a saved inventory (tests/snapshots/STACK.yaml): print the change line by line",
    )


def run(args: argparse.Namespace) -> int:
    from vidgo_infra.cost.estimator import estimate
    from vidgo_infra.cost.prices import load_prices
    from vidgo_infra.cost.report import budget_status

    try:
        usage, budget = stack_settings(args.stack)
        prices = load_prices()
        now = estimate(_program_inventory(args.stack), usage, prices)
        before = estimate(_saved_inventory(args.against), usage, prices) if args.against else None
    except CostInputError as error:
        print(f"vidgo-infra cost: {error}", file=sys.stderr)
        return 2
    status = budget_status(now, budget)
    if args.json:
        print(json.dumps(_json(now, before, status), indent=2, sort_keys=True))
    else:
        print("\n".join(_text(args, now, before, budget)))
    if status.over:
        print(f"vidgo-infra cost: {status.message}", file=sys.stderr)
    return 1 if status.over else 0


def _text(args: argparse.Namespace, now, before, budget: Budget) -> list[str]:
    from vidgo_infra.cost.report import render, render_delta

    out: list[str] = []
    if before is not None:
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


def stack_settings(stack: str, root: Path | None = None) -> tuple[UsageProfile, Budget]:
    """The stack file's `usage` and `budget` sections, validated (defaults where absent)."""
    from vidgo_infra.offline import ROOT, project_name, stack_config

    root = root or ROOT
    try:
        values, _ = stack_config(stack, root)
    except FileNotFoundError as error:
        raise CostInputError(str(error)) from None
    project = project_name(root)
    return (
        _section(values, f"{project}:usage", UsageProfile, stack),
        _section(values, f"{project}:budget", Budget, stack),
    )


def _section(values: dict[str, str], key: str, model, stack: str):
    raw = values.get(key)
    try:
        data = json.loads(raw) if raw is not None else {}
        return model.model_validate(data)
    except (json.JSONDecodeError, ValidationError) as error:
        raise CostInputError(f"Pulumi.{stack}.yaml: {key}: {error}") from None


def _program_inventory(stack: str) -> dict[str, Any]:
    """Run the stack's program under mocks, as the offline plan does (vidgo_infra/offline.py)."""
    from stacks.loader import ConfigError
    from vidgo_infra.inventory import inventory
    from vidgo_infra.offline import run_program

    try:
        return inventory(run_program(stack))
    except (FileNotFoundError, ConfigError) as error:
        raise CostInputError(str(error)) from None


def _saved_inventory(path: str) -> dict[str, Any]:
    import yaml

    from vidgo_infra.inventory import load

    try:
        return load(Path(path))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise CostInputError(f"--against {path}: {error}") from None


def summary_for_stack(stack: str, document: dict[str, Any], top: int = 5) -> list[str]:
    """What the offline plan prints: the total, the top lines and the budget, in a few lines."""
    from vidgo_infra.cost.estimator import estimate
    from vidgo_infra.cost.report import budget_status, summary

    try:
        usage, budget = stack_settings(stack)
    except CostInputError as error:
        return [f"no estimate: {error}"]
    result = estimate(document, usage)
    return [*summary(result, top), budget_status(result, budget).message]
