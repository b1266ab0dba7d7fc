"""Evaluate a Workload Identity attribute condition against a token's claims.

Only the subset of CEL the bootstrap writes (`==`, `!=`, `&&`, `||`, parentheses, quoted
strings, `assertion.<claim>`) is understood; anything else is an error, so a condition that
grows beyond it fails the tests instead of being half-read.
"""

from __future__ import annotations

import re

TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|\(|\))|(?P<str>'[^']*'|\"[^\"]*\")|assertion\.(?P<claim>\w+))"
)
PYTHON = {"&&": " and ", "||": " or ", "==": " == ", "!=": " != ", "(": "(", ")": ")"}


def admits(condition: str, claims: dict[str, str]) -> bool:
    parts, position = [], 0
    while position < len(condition.rstrip()):
        match = TOKEN.match(condition, position)
        if match is None:
            raise ValueError(f"unsupported CEL at {condition[position:]!r}")
        if match["op"]:
            parts.append(PYTHON[match["op"]])
        elif match["str"] is not None:
            parts.append(repr(match["str"][1:-1]))
        else:
            parts.append(f"claims.get({match['claim']!r})")
        position = match.end()
    return bool(eval("".join(parts), {"__builtins__": {}}, {"claims": claims}))
