"""What a change to a stack would do to each resource: update in place, replace or delete.

The provider decides replacement: a changed property its schema marks ForceNew (rules.json,
`force_new`, at any level of the property's path) makes Pulumi create a new resource and
delete the old one. A resource whose logical name or parent changes is a new URN: Pulumi
deletes the old one. For stateful resources either means the data or the address is gone,
so those are called out first, and `vidgo-infra diff --fail-on-stateful` exits non-zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vidgo_infra.provider_rules import load

# What is lost when one of these is replaced or deleted.
STATEFUL: dict[str, str] = {
    "gcp:sql/databaseInstance:DatabaseInstance": "data loss (the Cloud SQL instance and its data)",
    "gcp:sql/database:Database": "data loss (the database and its tables)",
    "gcp:sql/user:User": "data loss (the database user; objects it owns, the app's login)",
    "gcp:redis/instance:Instance": "data loss (Redis's contents, a new host and AUTH string)",
    "gcp:storage/bucket:Bucket": "data loss (the bucket's objects)",
    "gcp:secretmanager/secret:Secret": "data loss (the secret and every version of it)",
    "gcp:secretmanager/secretVersion:SecretVersion": "data loss (the secret value)",
    "gcp:compute/globalAddress:GlobalAddress": "address change (DNS records point at the old IP)",
    "gcp:artifactregistry/repository:Repository": "data loss (every image in the registry)",
}


@dataclass(frozen=True)
class Action:
    name: str
    type: str
    kind: str  # "create", "update", "replace", "delete", or "none" (only ignore_changes paths)
    reasons: tuple[str, ...] = ()  # the properties forcing a replacement, or why it is deleted
    protected: bool = False

    @property
    def loss(self) -> str | None:
        return STATEFUL.get(self.type) if self.kind in ("replace", "delete") else None


def rule_path(tree: dict[str, Any], path: str) -> list[dict[str, Any]] | None:
    """The rules along a Pulumi property path (`settings.tier`, `rules[0].match`), outermost
    first; None when the data has no such property. A map's keys end the walk."""
    found: list[dict[str, Any]] = []
    level: dict[str, Any] | None = tree
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if token.startswith("["):
            continue
        if level is None:
            break  # inside a map or a scalar list: the containing property decides
        rule = level.get(token)
        if rule is None:
            return None
        found.append(rule)
        level = rule.get("fields") if rule.get("shape") != "map" else None
    return found


def forces_replacement(type_: str, path: str) -> bool | None:
    """True if changing `path` replaces a `type_` resource; None if the data cannot say."""
    rules = load()["resources"].get(type_)
    if rules is None:
        return None
    along = rule_path(rules["properties"], path)
    if along is None:
        return None
    return any(rule.get("force_new") for rule in along)


def ignored(path: str, ignore_changes: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in ignore_changes)


def actions(changes: list, before: dict[str, Any], after: dict[str, Any]) -> list[Action]:
    """The `diff.Change`s between two inventories of one stack → what Pulumi would do."""
    result = []
    for change in changes:
        if change.kind == "added":
            result.append(Action(change.name, change.type, "create"))
        elif change.kind == "removed":
            protected = bool(before["resources"][change.name].get("protect"))
            result.append(
                Action(change.name, change.type, "delete", ("no longer declared",), protected)
            )
        else:
            result.append(_changed(change, after["resources"][change.name]))
    return result


def _changed(change, resource: dict[str, Any]) -> Action:
    reasons, unsure, inputs = [], [], 0
    protected = bool(resource.get("protect"))
    for path, _, _ in change.properties:
        if path in ("type", "parent"):
            reasons.append(f"{path} (a new URN)")
            continue
        if not path.startswith("inputs."):
            continue  # protect, ignore_changes, depends_on: Pulumi's options, not the resource
        prop = path.removeprefix("inputs.")
        if ignored(prop, resource.get("ignore_changes", [])):
            continue
        inputs += 1
        forced = forces_replacement(change.type, prop)
        if forced:
            reasons.append(prop)
        elif forced is None:
            unsure.append(prop)
    if reasons:
        return Action(change.name, change.type, "replace", tuple(reasons), protected)
    if not inputs and any(p.startswith("inputs.") for p, _, _ in change.properties):
        return Action(change.name, change.type, "none")
    return Action(change.name, change.type, "update", tuple(unsure))


def stateful(found: list[Action]) -> list[Action]:
    return [a for a in found if a.loss]


def callout(found: list[Action]) -> list[str]:
    """The lines printed before the diff when stateful resources are replaced or deleted."""
    risky = stateful(found)
    if not risky:
        return []
    lines = [
        f"STATEFUL: {len(risky)} resource(s) replaced or deleted (data loss or address change):"
    ]
    for action in risky:
        why = f", forced by {', '.join(action.reasons)}" if action.kind == "replace" else ""
        if action.protected:
            why += "; it is protected, so pulumi up stops until protect is lifted"
        lines.append(f"  ! {action.kind.upper()} {action.name} ({action.type}): {action.loss}{why}")
    return [*lines, ""]


def marks(found: list[Action]) -> dict[str, tuple[str, str]]:
    """Resource name → (mark, note) for diff.render."""
    shown = {}
    for action in found:
        if action.kind == "replace":
            shown[action.name] = ("-/+", f"  REPLACE (forced by {', '.join(action.reasons)})")
        elif action.kind == "delete":
            shown[action.name] = ("-", "  DELETE")
        elif action.kind == "none":
            shown[action.name] = ("~", "  no change at pulumi up (ignore_changes)")
        elif action.kind == "update":
            note = "  update in place"
            if action.reasons:
                note += f"; no provider rule for {', '.join(action.reasons)}"
            shown[action.name] = ("~", note)
    return shown
