"""What the provider rules check, per declared type, and what a regeneration would lose.

Read from the rules document itself (rules.json's shape), so the committed data and a fresh
extraction are compared on the same terms: each property the data knows, each validator it
translated, each cross-field rule. A regeneration that drops any of those for a type (a reader
change, a provider change) is a loss the script refuses to write without --allow-loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

CROSS_KINDS = ("conflicts_with", "exactly_one_of", "at_least_one_of", "required_with")

# Blocks whose contents the schema leaves open, and what checks them instead, if anything.
CHECKED_ELSEWHERE = {
    ("gcp:sql/databaseInstance:DatabaseInstance", "settings.databaseFlags"): (
        "flag names and values: stacks/cloudsql_flags.json, checked by the stack config"
    ),
}


@dataclass
class Coverage:
    """One resource type's coverage: what is checked, and what the reader could not see."""

    properties: int = 0
    validators: int = 0
    cross_field: int = 0
    untranslated: list[str] = field(default_factory=list)  # "path: go expression"
    free_form: list[str] = field(default_factory=list)  # "path (why)"
    checks: set[tuple[str, ...]] = field(default_factory=set)


def walk(tree: dict[str, Any], base: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, rule in tree.items():
        path = f"{base}.{name}" if base else name
        yield path, rule
        yield from walk(rule.get("fields", {}), path)


def free_form(rule: dict[str, Any]) -> str | None:
    """Why a property's contents are open to any key, or None when the schema closes them."""
    if not (rule.get("optional") or rule.get("required")):
        return None  # an output: nothing the program sets
    if rule["shape"] == "map":
        return "map: any key"
    fields = rule.get("fields", {})
    if rule["shape"] == "list" and set(fields) == {"name", "value"}:
        return "name/value list: any name"
    if any(v["kind"] == "json" for v in rule.get("validators", [])):
        return "JSON document: checked as JSON only"
    return None


def coverage(entry: dict[str, Any], type_: str = "") -> Coverage:
    found = Coverage()
    for path, rule in walk(entry["properties"]):
        if not (rule.get("optional") or rule.get("required")):
            continue  # outputs are checked only as "do not set"
        found.properties += 1
        found.checks.add(("property", path))
        for key in ("validators", "item_validators"):
            for v in rule.get(key, []):
                if v["kind"] == "unsupported":
                    found.untranslated.append(f"{path}: {v['go']}")
                else:
                    found.validators += 1
                    found.checks.add((key, path, v["kind"]))
        for kind in CROSS_KINDS:
            for other in rule.get(kind, []):
                found.cross_field += 1
                found.checks.add((kind, path, other))
        found.untranslated += [f"{path}: {text}" for text in rule.get("unsupported", [])]
        why = free_form(rule)
        if why:
            elsewhere = CHECKED_ELSEWHERE.get((type_, path))
            found.free_form.append(f"{path} ({why}" + (f"; {elsewhere})" if elsewhere else ")"))
    return found


def report(document: dict[str, Any]) -> str:
    """Per type: properties, validators and cross-field rules checked, then what is not."""
    lines = []
    total = Coverage()
    for type_, entry in sorted(document["resources"].items()):
        c = coverage(entry, type_)
        lines.append(
            f"{type_}: {c.properties} properties, {c.validators} validators, "
            f"{c.cross_field} cross-field rules; {len(c.untranslated)} not translated, "
            f"{len(c.free_form)} free-form"
        )
        lines += [f"    not translated  {u}" for u in c.untranslated]
        lines += [f"    free-form       {f}" for f in c.free_form]
        total.properties += c.properties
        total.validators += c.validators
        total.cross_field += c.cross_field
        total.untranslated += c.untranslated
        total.free_form += c.free_form
    lines.append(
        f"total: {len(document['resources'])} types, {total.properties} properties, "
        f"{total.validators} validators, {total.cross_field} cross-field rules; "
        f"{len(total.untranslated)} not translated, {len(total.free_form)} free-form"
    )
    return "\n".join(lines)


def losses(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What `before` checks that `after` does not, type by type (a dropped type included)."""
    lost = []
    for type_, entry in sorted(before["resources"].items()):
        if type_ not in after["resources"]:
            lost.append(f"{type_}: no longer in the data")
            continue
        gone = coverage(entry, type_).checks - coverage(after["resources"][type_], type_).checks
        lost += [f"{type_}: {' '.join(check)}" for check in sorted(gone)]
    return lost
