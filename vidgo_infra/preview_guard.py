"""`vidgo-infra preview-guard`: stop a deploy whose preview replaces or deletes stateful resources.

The deploy workflow runs `pulumi preview --json` just before `pulumi up` and hands the output
here. A replacement or deletion of something that holds data or an address others point at
(Cloud SQL, Memorystore, a bucket, a secret, the image registry, the static IP) fails the job,
unless the operator confirmed exactly that resource: a `Confirm-replace: NAME` trailer in the
commit being deployed (NAME is the resource's logical name, e.g. `database-instance`, or its
full URN), reviewed with the pull request like the change itself.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidgo_infra.provider_rules.replacements import STATEFUL

# What a destructive step loses, for the types `vidgo-infra diff --fail-on-stateful` calls out
# too (one list). A secret version is replaced by every rotation: that is the point, not a loss.
STATEFUL_TYPES = {
    type_: loss
    for type_, loss in STATEFUL.items()
    if type_ != "gcp:secretmanager/secretVersion:SecretVersion"
}
# Pulumi step operations that remove a resource (a replacement is a create and a delete).
DESTRUCTIVE_OPS = {"replace", "create-replacement", "delete-replaced", "delete", "replace-pending"}
TRAILER = re.compile(r"^Confirm-replace:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    op: str
    urn: str
    type: str
    reasons: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preview", type=Path, help="the output of `pulumi preview --json`")
    parser.add_argument(
        "--confirm",
        action="append",
        default=[],
        metavar="NAME",
        help="a logical name or URN whose replacement or deletion is intended (repeatable)",
    )
    parser.add_argument(
        "--commit-message",
        type=Path,
        metavar="FILE",
        help="also take confirmations from its `Confirm-replace: NAME` trailers",
    )


def run(args: argparse.Namespace) -> int:
    try:
        document = json.loads(args.preview.read_text())
        findings = stateful_changes(document)
    except (OSError, ValueError) as error:
        print(f"preview-guard: cannot read {args.preview}: {error}", file=sys.stderr)
        return 2
    confirmed = set(args.confirm)
    if args.commit_message is not None:
        confirmed |= confirmations(args.commit_message.read_text())
    print(report(findings, confirmed))
    return 1 if unconfirmed(findings, confirmed) else 0


def stateful_changes(document: dict[str, Any]) -> list[Finding]:
    """Every step of the preview that replaces or deletes a stateful resource."""
    steps = document.get("steps")
    if not isinstance(steps, list):
        raise ValueError("no `steps`: not the output of `pulumi preview --json`")
    found: dict[str, Finding] = {}
    for step in steps:
        op, urn = step.get("op", ""), step.get("urn", "")
        type_ = resource_type(step)
        if op in DESTRUCTIVE_OPS and type_ in STATEFUL_TYPES and urn not in found:
            reasons = tuple(step.get("replaceReasons") or step.get("diffReasons") or ())
            found[urn] = Finding(op, urn, type_, reasons)
    return list(found.values())


def resource_type(step: dict[str, Any]) -> str:
    for state in ("newState", "oldState"):
        type_ = (step.get(state) or {}).get("type")
        if type_:
            return type_
    # urn:pulumi:STACK::PROJECT::PARENT$...$TYPE::NAME
    parts = step.get("urn", "").split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def confirmations(message: str) -> set[str]:
    return set(TRAILER.findall(message))


def unconfirmed(findings: list[Finding], confirmed: set[str]) -> list[Finding]:
    return [f for f in findings if f.name not in confirmed and f.urn not in confirmed]


def report(findings: list[Finding], confirmed: set[str]) -> str:
    if not findings:
        return "No stateful resource is replaced or deleted."
    lines = ["Stateful resources this deploy replaces or deletes:"]
    blocked = unconfirmed(findings, confirmed)
    for finding in findings:
        status = "BLOCKED" if finding in blocked else "confirmed"
        why = f" (changed: {', '.join(finding.reasons)})" if finding.reasons else ""
        lines.append(
            f"  {status}  {finding.op} {finding.name} [{finding.type}]: "
            f"{STATEFUL_TYPES[finding.type]}{why}"
        )
    if blocked:
        lines.append(
            "If intended, add to the commit message, one line each, and deploy again: "
            + ", ".join(f"`Confirm-replace: {f.name}`" for f in blocked)
        )
    return "\n".join(lines)
