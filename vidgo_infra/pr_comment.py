"""`vidgo-infra pr-comment --base-snapshots DIR [STACK...]`: the pull request's one sticky comment.

For each stack, what the change does against the base branch's snapshot (DIR/STACK.yaml):
what it adds, changes, replaces and deletes (stateful losses first, as `diff --fail-on-stateful`
calls them out), the architecture with the changed components highlighted, and the monthly cost
before, after and the difference per product. Markdown on stdout, starting with MARKER, the
hidden line the workflow finds the comment by to edit it rather than add another.

Built from the offline plan and the committed snapshots only: no credentials, no cloud. It fits
GitHub's limit on a comment body (MAX_BODY characters) by collapsing detail: the property diff
is cut first, then the diagrams, then the longest resource tables, each saying what was left out.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidgo_infra.project import UsageError, shown

MARKER = "<!-- vidgo-infra:pr-comment -->"
MAX_BODY = 65_536  # GitHub's limit on an issue or pull-request comment body, in characters
ACTION_ORDER = ("replace", "delete", "create", "update", "none")
VERBS = {
    "create": "add",
    "update": "change",
    "replace": "replace",
    "delete": "delete",
    "none": "no change at pulumi up",
}


@dataclass
class StackChange:
    stack: str
    before: dict[str, Any] | None  # the base branch's snapshot; None: the stack is new
    after: dict[str, Any]
    actions: list  # replacements.Action
    changes: list  # diff.Change
    cost_before: Any  # cost.Estimate or None
    cost_after: Any


def stack_change(
    stack: str, before: dict[str, Any] | None, after: dict[str, Any], usage=None
) -> StackChange:
    """Compare the base snapshot with the code now, and price both under the stack's usage."""
    from vidgo_infra import cost, diff
    from vidgo_infra.provider_rules import replacements

    base = before or {"stack": stack, "resources": {}}
    changes = diff.compare(base, after)
    actions = replacements.actions(changes, base, after)
    priced_before = cost.estimate(before, usage) if before is not None else None
    return StackChange(
        stack, before, after, actions, changes, priced_before, cost.estimate(after, usage)
    )


# --- the body ----------------------------------------------------------------------------------


def body(stacks: list[StackChange], limit: int = MAX_BODY) -> str:
    """The comment, at most `limit` characters: detail collapsed until it fits."""
    plans: list[dict[str, Any]] = [
        {"properties": True, "diagram": True, "rows": None},
        {"properties": False, "diagram": True, "rows": None},
        {"properties": False, "diagram": False, "rows": None},
        {"properties": False, "diagram": False, "rows": 50},
        {"properties": False, "diagram": False, "rows": 10},
    ]
    for plan in plans:
        text = _body(stacks, **plan)
        if len(text) <= limit:
            return text
    return text[: limit - 200] + "\n\n(cut at GitHub's comment limit: see the job summary)\n"


def _body(stacks: list[StackChange], properties: bool, diagram: bool, rows: int | None) -> str:
    out = [
        MARKER,
        "## Infrastructure change (offline plan)",
        "",
        "What the code of this pull request declares, against each stack's snapshot on the base "
        "branch (`vidgo-infra diff --snapshot`, `vidgo-infra cost --against`). Not a "
        "`pulumi preview`: values Google computes are not known here. Updated on every push.",
    ]
    for change in stacks:
        out += ["", *_stack(change, properties, diagram, rows)]
    if not properties and any(c.changes for c in stacks):
        out += ["", "_Property changes left out to fit GitHub's comment limit: see the job log._"]
    if not diagram:
        out += ["", "_Diagrams left out to fit GitHub's comment limit: `vidgo-infra graph`._"]
    return "\n".join(out) + "\n"


def _stack(change: StackChange, properties: bool, diagram: bool, rows: int | None) -> list[str]:
    from vidgo_infra.provider_rules import replacements

    counts = {kind: sum(a.kind == kind for a in change.actions) for kind in ACTION_ORDER}
    summary = ", ".join(f"{counts[k]} to {VERBS[k]}" for k in ("create", "update", "replace"))
    summary += f", {counts['delete']} to delete"
    out = [f"### {change.stack}: {summary} · {_cost_headline(change)}"]
    if change.before is None:
        out += ["", f"The base branch has no snapshot of {change.stack}: everything is new."]
    if not change.actions:
        return [*out, "", "No infrastructure change.", "", *_cost(change)]
    losses = replacements.stateful(change.actions)
    if losses:
        out += ["", "> [!CAUTION]", f"> **{len(losses)} stateful resource(s) lost**"]
        for action in losses:
            why = f", forced by {', '.join(action.reasons)}" if action.kind == "replace" else ""
            if action.protected:
                why += "; protected: `pulumi up` stops until protect is lifted"
            out.append(f"> - **{action.kind.upper()}** `{action.name}`: {action.loss}{why}")
    out += ["", *_table(change.actions, rows)]
    if diagram:
        out += ["", *_diagram(change)]
    out += ["", *_cost(change)]
    if properties:
        out += ["", *_properties(change)]
    return out


def _ordered(actions: list) -> list:
    return sorted(actions, key=lambda a: (a.loss is None, ACTION_ORDER.index(a.kind), a.name))


def _table(actions: list, rows: int | None) -> list[str]:
    from vidgo_infra.graph import KINDS

    out = ["| | resource | what | why |", "| --- | --- | --- | --- |"]
    marks = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "none": "="}
    ordered = [a for a in _ordered(actions) if a.kind != "none"]
    for action in ordered[:rows]:
        what = KINDS[action.type].label if action.type in KINDS else action.type
        if action.type.startswith("vidgo:"):
            what = "component"
        why = ""
        if action.kind == "replace":
            why = "forced by " + ", ".join(f"`{r}`" for r in action.reasons)
        elif action.kind == "delete":
            why = "no longer declared"
        elif action.kind == "update" and action.reasons:
            why = "no provider rule for " + ", ".join(f"`{r}`" for r in action.reasons)
        if action.loss:
            why = f"**{action.loss}**" + (f"; {why}" if why else "")
        out.append(f"| `{marks[action.kind]}` | `{action.name}` | {what} | {why} |")
    if rows is not None and len(ordered) > rows:
        out.append(f"| | … {len(ordered) - rows} more | | `vidgo-infra diff --snapshot` |")
    return out


def _diagram(change: StackChange) -> list[str]:
    from vidgo_infra import graph

    document = _with_deleted(change)
    status = {a.name: a.kind for a in change.actions if a.kind != "none"}
    drawn = graph.diagram(document, status=status)
    legend = "green added, yellow changed, red replaced, red dashed deleted"
    return [
        f"<details><summary>Architecture, changed components highlighted ({legend})</summary>",
        "",
        graph.fenced(drawn.text).rstrip("\n"),
        "",
        "</details>",
    ]


def _with_deleted(change: StackChange) -> dict[str, Any]:
    """The code now, plus what it deletes (from the base snapshot), so deletions can be drawn."""
    resources = dict(change.after["resources"])
    for action in change.actions:
        if action.kind == "delete" and change.before is not None:
            resources[action.name] = change.before["resources"][action.name]
    return {**change.after, "resources": resources}


def _cost_headline(change: StackChange) -> str:
    from vidgo_infra.cost import report

    after = change.cost_after.total
    if change.cost_before is None:
        return f"{report.money(after)} a month"
    difference = after - change.cost_before.total
    return f"{report.money(after)} a month ({report.money(difference, signed=True)})"


def _cost(change: StackChange) -> list[str]:
    from vidgo_infra.cost import report

    before = _by_product(change.cost_before) if change.cost_before is not None else {}
    after = _by_product(change.cost_after)
    products = [g for g in (*after, *before) if g in after or g in before]
    products = list(dict.fromkeys(products))
    out = [
        f"<details><summary>Monthly cost: {_cost_headline(change)}, list prices for "
        f"{change.cost_after.region} (`vidgo-infra cost {change.stack}`)</summary>",
        "",
        "| product | before | after | difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for product in sorted(products, key=lambda p: -abs(after.get(p, 0) - before.get(p, 0))):
        was, now = before.get(product, 0.0), after.get(product, 0.0)
        out.append(
            f"| {product} | {report.money(was)} | {report.money(now)} | "
            f"{report.money(now - was, signed=True) if abs(now - was) >= 0.005 else '—'} |"
        )
    total_before = change.cost_before.total if change.cost_before is not None else 0.0
    total_after = change.cost_after.total
    out.append(
        f"| **total** | **{report.money(total_before)}** | **{report.money(total_after)}** | "
        f"**{report.money(total_after - total_before, signed=True)}** |"
    )
    unpriced = change.cost_after.unpriced
    if unpriced:
        out += ["", f"{len(unpriced)} item(s) unpriced, not in the total."]
    return [*out, "", "</details>"]


def _by_product(estimate) -> dict[str, float]:
    return {
        group: sum(line.monthly_usd or 0 for line in lines)
        for group, lines in estimate.groups().items()
    }


def _properties(change: StackChange) -> list[str]:
    lines = []
    for item in change.changes:
        for path, was, now in item.properties:
            lines += [
                f"- {item.name} {path}: {_value(was)}",
                f"+ {item.name} {path}: {_value(now)}",
            ]
    if not lines:
        return []
    return [
        f"<details><summary>Property changes ({len(lines) // 2})</summary>",
        "",
        "```diff",
        *lines,
        "```",
        "",
        "</details>",
    ]


def _value(value: Any) -> str:
    from vidgo_infra.diff import MISSING

    text = "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)
    text = text.replace("`" * 3, "` ` `")  # a value must not close the diff's fence
    return text if len(text) <= 200 else text[:197] + "..."


# --- the command -------------------------------------------------------------------------------

SUMMARY = "the pull request's one comment: the change, its diagram and its cost, per stack"
EXIT_CODES = {0: "printed", 2: "a mistake (no such stack, no folder of base snapshots)"}
EXAMPLES = ("vidgo-infra pr-comment --base-snapshots base/tests/snapshots",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stacks", nargs="*", metavar="STACK", help="the stacks to report (default: all)"
    )
    parser.add_argument(
        "--base-snapshots",
        metavar="DIR",
        type=Path,
        required=True,
        help="the base branch's tests/snapshots (STACK.yaml each; a missing one: a new stack)",
    )


def run(args: argparse.Namespace) -> int:
    from vidgo_infra import inventory
    from vidgo_infra.provider_rules import require_installed_provider
    from vidgo_infra.stack import plan_stack

    require_installed_provider()
    project = args.project
    if not args.base_snapshots.is_dir():
        raise UsageError(f"{shown(args.base_snapshots)}: not a folder of base snapshots")
    stacks = args.stacks or project.stacks()
    for stack in stacks:
        project.require_stack(stack)
    reports = []
    for stack in stacks:
        saved = args.base_snapshots / f"{stack}.yaml"
        before = inventory.load(saved) if saved.is_file() else None
        planned = plan_stack(project, stack)
        reports.append(stack_change(stack, before, planned.inventory, planned.config.usage))
    print(body(reports), end="")
    return 0
