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

from vidgo_infra.project import UsageError
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


SUMMARY = "gate a deploy on `pulumi preview --json`: no stateful resource lost"
ALLOWED, BLOCKED, COULD_NOT_CHECK = 0, 1, 2
EXIT_CODES = {
    ALLOWED: "allowed: nothing stateful is replaced or deleted, or every such step is confirmed",
    BLOCKED: "blocked: a stateful resource would be replaced or deleted, unconfirmed",
    COULD_NOT_CHECK: "could not check: unreadable or malformed preview or commit message, a "
    "mistake in the options (never a pass: the deploy must stop)",
}
EXAMPLES = (
    "pulumi preview --json --stack prod > preview.json && vidgo-infra preview-guard preview.json",
    "pulumi preview --json | vidgo-infra preview-guard - --commit-message msg.txt",
    "vidgo-infra preview-guard preview.json --confirm database-instance",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "preview", help="the output of `pulumi preview --json`, or - to read it from stdin"
    )
    parser.add_argument(
        "--confirm",
        action="append",
        default=[],
        metavar="NAME",
        help="a logical name or URN whose replacement or deletion is intended (repeatable)",
    )
    parser.add_argument(
        "--commit-message",
        metavar="FILE",
        help="also take confirmations from its `Confirm-replace: NAME` trailers (- for stdin)",
    )


def run(args: argparse.Namespace) -> int:
    if args.preview == "-" and args.commit_message == "-":
        raise UsageError("the preview and the commit message cannot both be read from stdin (-)")
    text = _read(args.preview, "the preview")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UsageError(
            f"{_label(args.preview)} is not JSON ({error}): not the output of "
            "`pulumi preview --json`; could not check"
        ) from None
    findings = stateful_changes(document, _label(args.preview))
    confirmed = set(args.confirm)
    if args.commit_message is not None:
        confirmed |= confirmations(_read(args.commit_message, "the commit message"))
    print(report(findings, confirmed))
    return BLOCKED if unconfirmed(findings, confirmed) else ALLOWED


def _label(source: str) -> str:
    return "stdin" if source == "-" else source


def _read(source: str, what: str) -> str:
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise UsageError(
            f"cannot read {what} {_label(source)} ({reason}); could not check"
        ) from None


def stateful_changes(document: Any, source: str = "the preview") -> list[Finding]:
    """Every step of the preview that replaces or deletes a stateful resource."""
    steps = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise UsageError(
            f"{source} has no list of `steps`: not the output of `pulumi preview --json`; "
            "could not check"
        )
    found: dict[str, Finding] = {}
    for step in steps:
        op, urn = str(step.get("op", "")), str(step.get("urn", ""))
        type_ = resource_type(step)
        if op in DESTRUCTIVE_OPS and type_ in STATEFUL_TYPES and urn not in found:
            reasons = tuple(step.get("replaceReasons") or step.get("diffReasons") or ())
            found[urn] = Finding(op, urn, type_, reasons)
    return list(found.values())


def resource_type(step: dict[str, Any]) -> str:
    for state in ("newState", "oldState"):
        value = step.get(state)
        type_ = value.get("type") if isinstance(value, dict) else None
        if type_:
            return type_
    # urn:pulumi:STACK::PROJECT::PARENT$...$TYPE::NAME
    parts = str(step.get("urn", "")).split("::")
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
