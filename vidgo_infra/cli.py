"""`vidgo-infra`: the offline plan, inventory snapshots, diffs, GoDaddy DNS and cost.

Nothing here needs a cloud account or the Pulumi CLI, except `dns` without `--outputs`,
which reads a deployed stack's outputs with `pulumi stack output`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import vidgo_infra.project  # noqa: F401  (the project's own packages become importable)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vidgo-infra", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser("plan", help="what a stack declares, offline (no credentials)")
    plan.add_argument("stack")
    plan.add_argument("--json", action="store_true", help="print the inventory (docs/inventory.md)")
    plan.set_defaults(handler=run_plan)

    snapshot = commands.add_parser("snapshot", help="write tests/snapshots/STACK.yaml for review")
    snapshot.add_argument("stacks", nargs="*", metavar="STACK")
    snapshot.add_argument("--all", action="store_true", help="every stack with a Pulumi.*.yaml")
    snapshot.set_defaults(handler=run_snapshot)

    diff = commands.add_parser(
        "diff", help="differences between two stacks or inventories (a stack name or a .yaml)"
    )
    diff.add_argument("left", nargs="?")
    diff.add_argument("right", nargs="?")
    diff.add_argument("--snapshot", metavar="STACK", help="the committed snapshot vs the code now")
    diff.add_argument(
        "--fail-on-stateful",
        action="store_true",
        help="exit 1 when a stateful resource (data, an address) would be replaced or deleted",
    )
    diff.set_defaults(handler=run_diff)

    for name, module, summary in (
        ("dns", "vidgo_infra.dns", "the GoDaddy records of a deployed stack, and --check them"),
        ("cost", "vidgo_infra.cost", "the monthly cost estimate of a stack"),
        ("verify", "vidgo_infra.verify", "check the live site: DNS, TLS, redirects, health"),
        (
            "preview-guard",
            "vidgo_infra.preview_guard",
            "fail on a replacement or deletion of stateful resources in `pulumi preview --json`",
        ),
    ):
        command = commands.add_parser(name, help=summary)
        command.set_defaults(handler=_delegate(module))
        __import__(module, fromlist=["add_arguments"]).add_arguments(command)

    args = parser.parse_args(argv)
    return args.handler(args)


def _delegate(module: str):
    return lambda args: __import__(module, fromlist=["run"]).run(args)


def load_inventory(source: str) -> tuple[dict[str, Any], str]:
    """A stack name (run offline now) or a path to a saved inventory → (document, label)."""
    from vidgo_infra import inventory

    if source.endswith((".yaml", ".yml", ".json")):
        path = Path(source)
        return inventory.load(path), str(path)
    return plan_inventory(source), f"{source} (code now)"


def plan_inventory(stack: str) -> dict[str, Any]:
    """Run the stack's program under mocks. Raises UsageError on a bad stack or config."""
    from vidgo_infra.inventory import inventory

    return inventory(plan_run(stack))


def plan_run(stack: str):
    """The stack's offline run (vidgo_infra.offline.Run). Raises UsageError as above."""
    from stacks.loader import ConfigError
    from vidgo_infra.offline import run_program

    try:
        return run_program(stack)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    except ConfigError as error:
        raise UsageError(str(error)) from None


class UsageError(Exception):
    """Bad input: printed without a traceback, exit status 2."""


def _guarded(handler):
    def run(args) -> int:
        try:
            return handler(args)
        except UsageError as error:
            print(f"vidgo-infra {args.command}: {error}", file=sys.stderr)
            return 2

    return run


@_guarded
def run_plan(args) -> int:
    from vidgo_infra import plan
    from vidgo_infra.inventory import inventory
    from vidgo_infra.provider_rules import check

    run = plan_run(args.stack)
    violations = check.check_run(run)
    if violations:  # before anything is printed as ok: the real preview would stop here
        print(check.report(args.stack, violations), file=sys.stderr)
        return 1
    document = inventory(run)
    if args.json:
        print(json.dumps(document, indent=2, sort_keys=True))
        return 0
    print(
        f"Offline plan of stack {args.stack}: what the code declares, under Pulumi's mocks.\n"
        "Not a diff against what is deployed; values Google computes show as "
        f"{plan.AFTER_UP}.\n"
    )
    sections = [
        ("", plan.render_tree(document)),
        ("Resources by type", plan.render_counts(document)),
        ("GoDaddy DNS records (vidgo-infra dns STACK after pulumi up)", plan.render_dns(document)),
        ("Stack outputs", plan.render_outputs(document)),
        (
            "Monthly cost estimate (vidgo-infra cost STACK for the breakdown)",
            _cost(args.stack, document),
        ),
    ]
    for title, lines in sections:
        if title:
            print(f"\n{title}:")
        print("\n".join(lines))
    return 0


def _cost(stack: str, document: dict[str, Any]) -> list[str]:
    from vidgo_infra import cost

    return ["  " + line for line in cost.summary_for_stack(stack, document)]


@_guarded
def run_snapshot(args) -> int:
    from vidgo_infra import inventory
    from vidgo_infra.offline import stacks

    names = stacks() if args.all else args.stacks
    if not names:
        raise UsageError("name a stack, or --all")
    for stack in names:
        path = inventory.snapshot_path(stack)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(inventory.dump(plan_inventory(stack)))
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


@_guarded
def run_diff(args) -> int:
    from vidgo_infra import diff, inventory

    if args.snapshot:
        left, right = str(inventory.snapshot_path(args.snapshot)), args.snapshot
    elif args.left and args.right:
        left, right = args.left, args.right
    else:
        raise UsageError("give two stacks or inventories, or --snapshot STACK")
    before, before_label = load_inventory(left)
    after, after_label = load_inventory(right)
    changes = diff.compare(before, after)
    if before.get("stack") != after.get("stack"):  # two stacks: nothing is replaced
        print("\n".join(diff.render(changes, before_label, after_label)))
        return 0
    from vidgo_infra.provider_rules import replacements

    actions = replacements.actions(changes, before, after)
    lines = replacements.callout(actions)
    lines += diff.render(changes, before_label, after_label, replacements.marks(actions))
    print("\n".join(lines))
    return 1 if args.fail_on_stateful and replacements.stateful(actions) else 0
