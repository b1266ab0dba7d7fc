"""`vidgo-infra plan STACK`: what the stack's code declares, run offline under Pulumi's mocks.

Not a diff against what is deployed (that is `pulumi preview`): values Google computes show as
(known after pulumi up). Before anything is printed as ok, every declared property is checked
against the rules the provider applies at `pulumi preview`.
"""

from __future__ import annotations

import argparse
import json
import sys

SUMMARY = "what a stack declares, offline (no credentials)"
TAKES_STACK = True
EXIT_CODES = {
    0: "the plan is printed",
    1: "the program breaks a rule the provider checks at `pulumi preview` (one line each)",
    2: "a mistake: unknown stack, invalid stack file, a program that fails, another project",
}
EXAMPLES = ("vidgo-infra plan staging", "vidgo-infra plan -s prod --json > prod.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print the inventory (docs/inventory.md)"
    )


def run(args: argparse.Namespace) -> int:
    from vidgo_infra import plan
    from vidgo_infra.project import shown
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
        f"Project {planned.project.root}, stack file {shown(planned.path)}.\n"
        "Not a diff against what is deployed; values Google computes show as "
        f"{plan.AFTER_UP}.\n"
    )
    sections = [
        ("", plan.render_tree(document, width)),
        ("Resources by type", plan.render_counts(document)),
        (
            "Capacity (stacks/capacity.py; checked at every plan and pulumi up)",
            plan.render_capacity(planned.config),
        ),
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
    from vidgo_infra.cost import summary_for_stack

    return ["  " + line for line in summary_for_stack(planned)]
