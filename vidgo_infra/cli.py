"""`vidgo-infra`: the offline plan, inventory snapshots, diffs, GoDaddy DNS and cost.

Like `pulumi`, it acts on the project in the current directory (the nearest Pulumi.yaml upward),
or the one given with -C DIR. Nothing here needs a cloud account or the Pulumi CLI, except `dns`
without `--outputs`, which reads a deployed stack's outputs with `pulumi stack output`.

Exit status: 0 done, 1 what the command checks is not so (over budget, records not in place,
`diff --exit-code`: an error), 2 a mistake in the input (`diff --exit-code`: differences).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from vidgo_infra.project import Project, UsageError, find_project, shown, use_project_code

# Starts a `file:line:col: ...` line, which is printed as it is (editors jump to it).
_LOCATED = re.compile(r"^\S+:\d+:\d+: ")


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake on one line and exit status 2 like every other mistake."""

    def error(self, message: str):
        raise UsageError(f"{message}; see `{self.prog} --help`")


def build_parser(with_project_code: bool = True) -> Parser:
    """The command line. `cost` needs the project's code to describe itself (its usage model is
    the program's); without a project, only the summary of each command is known."""
    parser = Parser(prog="vidgo-infra", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    project_option = Parser(add_help=False)
    for target, default in ((parser, None), (project_option, argparse.SUPPRESS)):
        target.add_argument(
            "-C",
            "--cwd",
            metavar="DIR",
            type=Path,
            default=default,
            help="act on the Pulumi project in DIR (or its nearest parent with a Pulumi.yaml)",
        )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> Parser:
        return commands.add_parser(name, help=summary, parents=[project_option])

    plan = command("plan", "what a stack declares, offline (no credentials)")
    plan.add_argument("stack")
    plan.add_argument("--json", action="store_true", help="print the inventory (docs/inventory.md)")
    plan.set_defaults(handler=run_plan)

    snapshot = command("snapshot", "write tests/snapshots/STACK.yaml for review")
    snapshot.add_argument("stacks", nargs="*", metavar="STACK")
    snapshot.add_argument("--all", action="store_true", help="every stack with a Pulumi.*.yaml")
    snapshot.set_defaults(handler=run_snapshot)

    diff = command(
        "diff", "differences between two stacks or inventories (a stack name or a .yaml)"
    )
    diff.add_argument("left", nargs="?")
    diff.add_argument("right", nargs="?")
    diff.add_argument("--snapshot", metavar="STACK", help="the committed snapshot vs the code now")
    diff.add_argument(
        "--fail-on-stateful",
        action="store_true",
        help="exit 1 when a stateful resource (data, an address) would be replaced or deleted",
    )
    diff.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 0 with no differences, 2 with differences, 1 on an error",
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
        delegated = command(name, summary)
        delegated.set_defaults(handler=_delegate(module))
        if with_project_code:
            __import__(module, fromlist=["add_arguments"]).add_arguments(delegated)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = argparse.Namespace(command=None)
    try:
        project = _project(sys.argv[1:] if argv is None else argv)
        args = build_parser(with_project_code=project is not None).parse_args(argv)
        if project is None:  # not --help or --version: every command acts on a project
            find_project(args.cwd)  # raises the one-line error saying why there is none
        args.project = project
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except UsageError as error:
        _report(str(error), args.command)
        # `diff --exit-code` keeps 2 for "differences", as `terraform plan -detailed-exitcode`.
        return 1 if getattr(args, "exit_code", False) else 2
    except BrokenPipeError:
        # `vidgo-infra plan | head`: the reader has what it wanted; end quietly, as `cat` does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command ended by a closed pipe


def _project(argv: list[str]) -> Project | None:
    """The project the command acts on (-C DIR, or the current directory), its code importable.

    None when there is none and only --help or --version was asked for.
    """
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("-C", "--cwd", type=Path)
    known, _ = where.parse_known_args(argv)
    try:
        project = find_project(known.cwd)
    except UsageError:
        if {"-h", "--help", "--version"} & set(argv):
            return None
        raise
    use_project_code(project.root)
    return project


def _report(message: str, command: str | None) -> None:
    prefix = f"vidgo-infra {command}: " if command else "vidgo-infra: "
    for line in message.splitlines():
        print(line if _LOCATED.match(line) else prefix + line, file=sys.stderr)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vidgo-infra")
    except PackageNotFoundError:
        return "(not installed)"


def _delegate(module: str):
    return lambda args: __import__(module, fromlist=["run"]).run(args)


def load_inventories(project: Project, sources: list[str]) -> list[tuple[dict[str, Any], str]]:
    """Stack names (run offline now) or paths to saved inventories → (document, label) each.

    Files are read first: a missing one is reported before any program runs.
    """
    from vidgo_infra import inventory
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


def header(planned) -> str:
    """Which project and which stack file a report comes from (`pulumi` acts on the cwd)."""
    return f"Project {planned.project.root}, stack file {shown(planned.path)}."


def run_plan(args) -> int:
    from vidgo_infra import plan
    from vidgo_infra.provider_rules import check, require_installed_provider
    from vidgo_infra.stack import plan_stack

    require_installed_provider()
    planned = plan_stack(args.project, args.stack)
    violations = check.check_run(planned.run)
    if violations:  # before anything is printed as ok: the real preview would stop here
        print(check.report(args.stack, violations), file=sys.stderr)
        return 1
    document = planned.inventory
    if args.json:
        print(json.dumps(document, indent=2, sort_keys=True))
        return 0
    width = plan.output_width()
    print(
        f"Offline plan of stack {args.stack}: what the code declares, under Pulumi's mocks.\n"
        f"{header(planned)}\n"
        "Not a diff against what is deployed; values Google computes show as "
        f"{plan.AFTER_UP}.\n"
    )
    sections = [
        ("", plan.render_tree(document, width)),
        ("Resources by type", plan.render_counts(document)),
        ("GoDaddy DNS records (vidgo-infra dns STACK after pulumi up)", plan.render_dns(document)),
        ("Stack outputs", plan.render_outputs(document, width)),
        ("Monthly cost estimate (vidgo-infra cost STACK for the breakdown)", _cost(planned)),
    ]
    for title, lines in sections:
        if title:
            print(f"\n{title}:")
        print("\n".join(lines))
    return 0


def _cost(planned) -> list[str]:
    from vidgo_infra import cost

    return ["  " + line for line in cost.summary_for_stack(planned)]


def run_snapshot(args) -> int:
    from vidgo_infra import inventory
    from vidgo_infra.stack import plan_stack

    project: Project = args.project
    names = project.stacks() if args.all else args.stacks
    if not names:
        raise UsageError("name a stack, or --all")
    for stack in names:
        document = plan_stack(project, stack).inventory
        path = project.snapshot(stack)  # always inside the project the tool acts on
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(inventory.dump(document))
        print(f"wrote {shown(path)}")
    return 0


def run_diff(args) -> int:
    from vidgo_infra import diff

    project: Project = args.project
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
    return 1 if args.fail_on_stateful and replacements.stateful(actions) else different
