"""Evaluate the IAM and Workload Identity conditions the bootstrap writes.

Only the subset of CEL the bootstrap uses (`==`, `!=`, `!`, `&&`, `||`, parentheses, quoted
strings, `.startsWith('...')`, `assertion.<claim>` and `resource.<attribute>`) is understood;
anything else is an error, so a condition that grows beyond it fails the tests instead of being
half-read. A missing claim or attribute reads as the empty string, as in IAM.
"""

from __future__ import annotations

import re

TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|!|\(|\))|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<starts>\.startsWith\()"
    r"|(?P<var>assertion|resource)\.(?P<attr>\w+))"
)
PYTHON = {"&&": " and ", "||": " or ", "==": " == ", "!=": " != ", "!": " not ", "(": "(", ")": ")"}


def admits(condition: str, claims: dict[str, str], resource: dict[str, str] | None = None) -> bool:
    parts, position = [], 0
    while position < len(condition.rstrip()):
        match = TOKEN.match(condition, position)
        if match is None:
            raise ValueError(f"unsupported CEL at {condition[position:]!r}")
        if match["op"]:
            parts.append(PYTHON[match["op"]])
        elif match["str"] is not None:
            parts.append(repr(match["str"][1:-1]))
        elif match["starts"]:
            parts.append(".startswith(")
        else:
            source = "claims" if match["var"] == "assertion" else "resource"
            parts.append(f"{source}.get({match['attr']!r}, '')")
        position = match.end()
    scope = {"claims": claims, "resource": resource or {}}
    return bool(eval("".join(parts), {"__builtins__": {}}, scope))
