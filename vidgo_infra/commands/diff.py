"""`vidgo-infra diff LEFT RIGHT | --snapshot STACK`: what differs between two stacks or two
inventories (a stack name runs its code now; a .yaml/.json is a saved inventory), resource by
resource and property by property. Between two inventories of one stack (`--snapshot`) it marks
what `pulumi up` would replace or delete, from the provider's own ForceNew rules.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from vidgo_infra.project import UsageError

SUMMARY = "differences between two stacks or inventories (a stack name or a .yaml)"
STATEFUL_LOSS = 3
EXIT_CODES = {
    0: "printed (with --exit-code: no differences)",
    1: "with --exit-code: a mistake (as `terraform plan -detailed-exitcode`)",
    2: "a mistake; with --exit-code: there are differences",
    STATEFUL_LOSS: "with --fail-on-stateful: a stateful resource (data, an address) would be "
    "replaced or deleted",
}
EXAMPLES = (
    "vidgo-infra diff prod staging",
    "vidgo-infra diff --snapshot prod --fail-on-stateful",
    "vidgo-infra diff base.yaml staging --exit-code",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("left", nargs="?", metavar="LEFT")
    parser.add_argument("right", nargs="?", metavar="RIGHT")
    parser.add_argument(
        "--snapshot", metavar="STACK", help="the committed snapshot vs the code now"
    )
    parser.add_argument(
        "--fail-on-stateful",
        action="store_true",
        help=f"exit {STATEFUL_LOSS} when a stateful resource would be replaced or deleted",
    )
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 0 with no differences, 2 with differences, 1 on a mistake",
    )


def error_status(argv: list[str]) -> int:
    # `--exit-code` keeps 2 for "differences", as `terraform plan -detailed-exitcode`.
    return 1 if "--exit-code" in argv else 2


def run(args: argparse.Namespace) -> int:
    from vidgo_infra import diff
    from vidgo_infra.project import shown

    project = args.project
    if args.snapshot and (args.left or args.right):
        raise UsageError("give two stacks or inventories, or --snapshot STACK, not both")
    if args.snapshot:
        project.require_stack(args.snapshot)
        snapshot = project.snapshot(args.snapshot)
        if not snapshot.is_file():
            raise UsageError(
                f"{shown(snapshot)}: no snapshot of stack {args.snapshot}; "
                f"write it with `vidgo-infra snapshot {args.snapshot}`"
            )
        left, right = str(snapshot), args.snapshot
    elif args.left and args.right:
        left, right = args.left, args.right
    else:
        raise UsageError("give two stacks or inventories, or --snapshot STACK")
    (before, before_label), (after, after_label) = load_inventories(project, [left, right])
    changes = diff.compare(before, after)
    different = 2 if changes and args.exit_code else 0
    if before.get("stack") != after.get("stack"):  # two stacks: nothing is replaced
        print("\n".join(diff.render(changes, before_label, after_label)))
        return different
    from vidgo_infra.provider_rules import replacements, require_installed_provider

    require_installed_provider()
    actions = replacements.actions(changes, before, after)
    lines = replacements.callout(actions)
    lines += diff.render(changes, before_label, after_label, replacements.marks(actions))
    print("\n".join(lines))
    if args.fail_on_stateful and replacements.stateful(actions):
        return STATEFUL_LOSS
    return different


def load_inventories(project, sources: list[str]) -> list[tuple[dict[str, Any], str]]:
    """Stack names (run offline now) or paths to saved inventories → (document, label) each.

    Files are read first: a missing one is reported before any program runs.
    """
    from vidgo_infra import inventory
    from vidgo_infra.project import shown
    from vidgo_infra.stack import plan_stack

    def is_file(source: str) -> bool:
        return source.endswith((".yaml", ".yml", ".json")) or os.sep in source

    saved = {s: inventory.load(Path(s)) for s in sources if is_file(s)}
    for source in sources:
        if not is_file(source):
            project.require_stack(source)
    return [
        (saved[s], shown(Path(s)))
        if is_file(s)
        else (plan_stack(project, s).inventory, f"{s} (code now)")
        for s in sources
    ]
