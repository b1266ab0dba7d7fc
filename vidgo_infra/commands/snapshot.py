"""`vidgo-infra snapshot STACK... | --all`: write tests/snapshots/STACK.yaml, the inventory a
pull request shows as a YAML diff (the snapshot test fails until a changed one is rewritten)."""

from __future__ import annotations

import argparse
import os

from vidgo_infra.project import UsageError

SUMMARY = "write tests/snapshots/STACK.yaml for review"
EXIT_CODES = {
    0: "the snapshots are written",
    2: "a mistake: unknown stack, invalid stack file, stacks and --all together",
}
EXAMPLES = ("vidgo-infra snapshot --all", "vidgo-infra snapshot staging")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stacks", nargs="*", metavar="STACK")
    parser.add_argument(
        "-s", "--stack", dest="stack_options", action="append", default=[], metavar="STACK",
        help="a stack, as `pulumi -s` takes it (repeatable; PULUMI_STACK when none is given)",
    )  # fmt: skip
    parser.add_argument("--all", action="store_true", help="every stack with a Pulumi.*.yaml")


def run(args: argparse.Namespace) -> int:
    from vidgo_infra import inventory
    from vidgo_infra.cli import stack_name
    from vidgo_infra.project import shown
    from vidgo_infra.stack import plan_stack

    project = args.project
    named = [stack_name(s, project) for s in (*args.stacks, *args.stack_options)]
    if args.all and named:
        raise UsageError(f"--all writes every stack; drop {' '.join(named)} or --all")
    if not args.all and not named and os.environ.get("PULUMI_STACK"):
        named = [stack_name(os.environ["PULUMI_STACK"], project, "PULUMI_STACK=")]
    names = project.stacks() if args.all else list(dict.fromkeys(named))
    if not names:
        raise UsageError("name a stack, or --all")
    for stack in names:
        project.require_stack(stack)  # every name checked before anything is written
    for stack in names:
        document = plan_stack(project, stack).inventory
        path = project.snapshot(stack)  # always inside the project the tool acts on
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(inventory.dump(document))
        print(f"wrote {shown(path)}")
    return 0
