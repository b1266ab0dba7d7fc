"""Shared by several rules: does one resource use another; where stack-wide usage is put."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vidgo_infra.cost.model import Context


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def refers_to(source: dict[str, Any], name: str, target: dict[str, Any]) -> bool:
    """Does `source` use `target`? Its dependencies say so; so does an input holding its id.

    Under the offline mocks a resource's id is "<name>-id" (vidgo_infra/offline.py).
    """
    if name in (source.get("depends_on") or []):
        return True
    own = (target.get("inputs") or {}).get("name") or name
    ids = {name, own, f"{own}-id", f"{name}-id"}
    return any(value in ids for value in _strings(source.get("inputs") or {}))


def first_of_type(ctx: Context, type_token: str, name: str, what: str) -> bool:
    """Stack-wide usage (stored GB, registry GB) is put on the first resource of its type."""
    names = [n for n, _ in ctx.of_type(type_token)]
    if len(names) > 1:
        ctx.assume(f"{what}: the whole usage profile is put on {names[0]}, none on the others.")
    return names[0] == name
