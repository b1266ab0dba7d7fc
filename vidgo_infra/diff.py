"""What differs between two inventories, resource by resource and property by property."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MISSING = object()


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested inputs → {"settings.tier": ..., "template.containers[0].image": ...}."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat |= flatten(item, f"{prefix}[{index}]")
        return flat
    return {prefix: value}


def comparable(resource: dict[str, Any]) -> dict[str, Any]:
    """Everything a reviewer cares about in a resource, flat."""
    return {
        "type": resource["type"],
        "parent": resource.get("parent"),
        "protect": resource.get("protect", False),
        "ignore_changes": resource.get("ignore_changes", []),
        "depends_on": resource.get("depends_on", []),
        **flatten(resource.get("inputs") or {}, "inputs"),
    }


@dataclass(frozen=True)
class Change:
    name: str
    type: str
    kind: str  # "added", "removed" or "changed"
    properties: tuple[tuple[str, Any, Any], ...] = ()  # (path, before, after)


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    old, new = before["resources"], after["resources"]
    changes = [Change(n, new[n]["type"], "added") for n in sorted(new.keys() - old.keys())]
    changes += [Change(n, old[n]["type"], "removed") for n in sorted(old.keys() - new.keys())]
    for name in sorted(old.keys() & new.keys()):
        a, b = comparable(old[name]), comparable(new[name])
        properties = tuple(
            (path, a.get(path, MISSING), b.get(path, MISSING))
            for path in sorted(a.keys() | b.keys())
            if a.get(path, MISSING) != b.get(path, MISSING)
        )
        if properties:
            changes.append(Change(name, new[name]["type"], "changed", properties))
    return changes


def render(
    changes: list[Change],
    left: str,
    right: str,
    marks: dict[str, tuple[str, str]] | None = None,
) -> list[str]:
    """`marks`: resource name → (mark, note) replacing the plain "~" (replacements.marks)."""
    if not changes:
        return [f"No differences between {left} and {right}."]
    counts = {
        kind: sum(c.kind == kind for c in changes) for kind in ("added", "removed", "changed")
    }
    lines = [
        f"{left} → {right}: "
        + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        + " (resources)",
        "",
    ]
    kinds = {"added": "+", "removed": "-", "changed": "~"}
    for change in changes:
        mark, note = (marks or {}).get(change.name, (kinds[change.kind], ""))
        lines.append(f"{mark} {change.type}  {change.name}{note}")
        for path, was, now in change.properties:
            lines.append(f"    {path}: {_shown(was)} → {_shown(now)}")
    return lines


def _shown(value: Any) -> str:
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)
