"""Database flags against the list Cloud SQL accepts (cloudsql_flags.json, with its source).

The provider passes `settings.databaseFlags` through as free-form name/value pairs, so a
misspelt flag passes `pulumi preview` and fails only when Cloud SQL's API rejects the create or
patch, halfway through `pulumi up`. Checked with the stack's config instead, before any resource.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

FLAGS_PATH = Path(__file__).resolve().parent / "cloudsql_flags.json"


@cache
def data() -> dict[str, Any]:
    return json.loads(FLAGS_PATH.read_text())


def accepted(version: str) -> dict[str, dict[str, Any]]:
    """Flag name → its rule, for one database version (POSTGRES_15)."""
    return {
        name: rule
        for name, rule in data()["flags"].items()
        if version in rule.get("versions", [version])
    }


def problems(flags: Mapping[str, str], version: str) -> list[tuple[str, str]]:
    """(flag, what is wrong) for each flag Cloud SQL would refuse for `version`."""
    known = accepted(version)
    found = []
    for name, value in flags.items():
        rule = known.get(name)
        wrong = unknown(version, name, known) if rule is None else value_problem(value, rule)
        if wrong:
            found.append((name, wrong))
    return found


def unknown(version: str, name: str, known: Mapping[str, Any]) -> str:
    nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    elsewhere = data()["flags"].get(name, {}).get("versions")
    text = f"not a flag Cloud SQL accepts for {version}"
    if elsewhere:
        text += f" (only {', '.join(elsewhere)})"
    if nearest:
        text += f"; nearest: {nearest[0]}"
    return text + f" ({FLAGS_PATH.name}, from {data()['source']}, checked {data()['checked']})"


def value_problem(value: str, rule: Mapping[str, Any]) -> str | None:
    kind = rule["type"]
    if kind == "boolean":
        # Google's page lists on | off; `true`/`false` (what a YAML boolean in the stack file
        # becomes, config.Text) are PostgreSQL's spelling of the same and let through.
        ok = value in ("on", "off", "true", "false")
        return None if ok else f"got {value!r}; must be on or off"
    if kind in ("integer", "float"):
        pattern = r"-?\d+" if kind == "integer" else r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
        if not re.fullmatch(pattern, value):
            return f"got {value!r}; must be {data()['types'][kind]}"
        number = float(value)
        low, high = rule.get("min"), rule.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            return f"got {value}; must be between {low} and {high}"
        return None
    allowed = rule.get("values")
    if not allowed:
        return None
    # A list flag (pgaudit.log) takes several, comma-separated; pgaudit's "-x" excludes one.
    items = [v.strip() for v in value.split(",")] if rule.get("multiple") else [value]
    bad = [v for v in items if v.removeprefix("-" if rule.get("multiple") else "") not in allowed]
    if bad:
        several = "any of" if rule.get("multiple") else "one of"
        return f"got {', '.join(map(repr, bad))}; must be {several} {', '.join(allowed)}"
    return None
