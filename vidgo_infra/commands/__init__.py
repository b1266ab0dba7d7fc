"""The subcommands of `vidgo-infra`: one module each, registered in COMMANDS.

A command module has:

    SUMMARY: str                       one line, for `vidgo-infra --help`
    EXIT_CODES: dict[int, str]         every status it returns, for its --help and the README
    EXAMPLES: tuple[str, ...]          command lines shown in its --help
    add_arguments(parser) -> None      its options (the CLI adds -C, and -s for a stack)
    run(args) -> int                   do it; raise CommandError (or UsageError) to stop

and optionally `TAKES_STACK = True` (a positional STACK, `-s/--stack` and PULUMI_STACK, resolved
into `args.stack` before `run`) and `error_status(args) -> int` when a mistake is not exit 2
(`diff --exit-code`). Modules are imported only when their command runs, so the tool starts fast
and never imports the program (stacks, components, infra) to describe itself. Adding a command is
one entry here plus its module.
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMANDS: dict[str, str] = {
    "plan": "vidgo_infra.commands.plan",
    "snapshot": "vidgo_infra.commands.snapshot",
    "diff": "vidgo_infra.commands.diff",
    "cost": "vidgo_infra.cost.command",
    "dns": "vidgo_infra.dns",
    "verify": "vidgo_infra.verify",
    "preview-guard": "vidgo_infra.preview_guard",
    "graph": "vidgo_infra.graph",
    "pr-comment": "vidgo_infra.pr_comment",
}

# What `vidgo-infra --help` shows without importing every module (kept equal to each SUMMARY by
# tests/tool/test_cli.py).
SUMMARIES: dict[str, str] = {
    "plan": "what a stack declares, offline (no credentials)",
    "snapshot": "write tests/snapshots/STACK.yaml for review",
    "diff": "differences between two stacks or inventories (a stack name or a .yaml)",
    "cost": "the monthly cost estimate of a stack",
    "dns": "the GoDaddy records of a deployed stack, and --check them",
    "verify": "check the live site: DNS, TLS, redirects, health",
    "preview-guard": "gate a deploy on `pulumi preview --json`: no stateful resource lost",
    "graph": "the architecture as a Mermaid flowchart drawn from a stack's inventory",
    "pr-comment": "the pull request's one comment: the change, its diagram and its cost, per stack",
}


def load(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])
