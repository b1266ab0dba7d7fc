"""The inventory: what a stack's program declares, as plain data that diffs well.

Format (documented in docs/inventory.md, version 2):

    version: 2
    stack: prod
    resources:              # by logical name (unique within a stack), sorted
      database-instance:
        type: gcp:sql/databaseInstance:DatabaseInstance
        parent: database    # the parent's logical name; null for the stack's own children
        protect: true
        depends_on: [network-private-services]   # what it waits for beyond its parent's list
        inputs: {...}       # what the program passed, engine (camelCase) names, secrets "[secret]"
    outputs: {...}          # the stack outputs; provider-computed values are stand-ins
    counts: {type: n}       # resources per type token

The same document is written to tests/snapshots/<stack>.yaml for review, printed by
`vidgo-infra plan --json`, compared by `vidgo-infra diff` and priced by `vidgo-infra cost`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from vidgo_infra.offline import Run, redact
from vidgo_infra.project import Project, UsageError, find_project

VERSION = 2


def inventory(run: Run) -> dict[str, Any]:
    names = {urn: resource.name for urn, resource in run.resources.items()}
    duplicates = [name for name, n in Counter(names.values()).items() if n > 1]
    if duplicates:
        raise ValueError(f"logical names used twice: {', '.join(sorted(duplicates))}")
    waits_for = {
        urn: {names[dep] for dep in resource.dependencies if dep in names}
        for urn, resource in run.resources.items()
    }
    resources = {}
    for resource in sorted(run.resources.values(), key=lambda r: r.name):
        entry: dict[str, Any] = {
            "type": resource.type,
            "parent": names.get(resource.parent or ""),
        }
        if resource.protect:
            entry["protect"] = True
        if resource.ignore_changes:
            entry["ignore_changes"] = sorted(resource.ignore_changes)
        inherited = waits_for.get(resource.parent or "", set())
        if not inherited <= waits_for[resource.urn]:
            missing = ", ".join(sorted(inherited - waits_for[resource.urn]))
            raise ValueError(
                f"{resource.name} does not wait for {missing}, which its parent waits for: the "
                "inventory lists only dependencies beyond the parent's, so it cannot show that"
            )
        depends_on = sorted(waits_for[resource.urn] - inherited)
        if depends_on:
            entry["depends_on"] = depends_on
        entry["inputs"] = redact(resource.inputs)
        resources[resource.name] = entry
    return {
        "version": VERSION,
        "stack": run.stack,
        "resources": resources,
        "outputs": redact(run.outputs),
        "counts": dict(sorted(Counter(r.type for r in run.resources.values()).items())),
    }


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False, width=100)


def snapshot_path(stack: str, project: Project | None = None) -> Path:
    """tests/snapshots/<stack>.yaml of the project (default: the one in the current directory)."""
    return (project or find_project()).snapshot(stack)


def load(path: Path) -> dict[str, Any]:
    """A saved inventory (a snapshot, `plan --json`), or a one-line UsageError."""
    from vidgo_infra.stackfile import read_yaml  # strict: positions, no duplicate keys

    document = read_yaml(path)
    data = document.data
    if isinstance(data, dict) and data.get("version") == 1:
        data = _from_version_1(data)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise UsageError(
            f"{document.where()}: not an inventory; a saved inventory is the output of "
            f"`vidgo-infra plan STACK --json` or a tests/snapshots/STACK.yaml (version {VERSION})"
        )
    if not isinstance(data.get("resources"), dict):
        raise UsageError(f"{document.where(('resources',))}: resources must be a mapping")
    return data


def _from_version_1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 listed every dependency, inherited ones too: keep only those beyond the parent's.

    So a base branch's older snapshot still compares with (and prices like) the code now.
    """
    resources = document.get("resources") or {}
    if not isinstance(resources, dict):
        return document
    full = {name: set(r.get("depends_on") or []) for name, r in resources.items()}
    for name, resource in resources.items():
        own = sorted(full[name] - full.get(resource.get("parent") or "", set()))
        resource.pop("depends_on", None)
        if own:
            resource["depends_on"] = own
    return {**document, "version": VERSION}
