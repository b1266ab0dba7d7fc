"""The provider's own schema rules, checked offline against what the program declares.

`rules.json` is data extracted from the google-beta provider source that the installed
pulumi-gcp bridges (its header names both versions); `scripts/provider_rules.py` regenerates it.
`check` applies it to an offline run, `replacements` reads its ForceNew marks for `diff`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

RULES_PATH = Path(__file__).resolve().parent / "rules.json"


@cache
def load(path: Path = RULES_PATH) -> dict[str, Any]:
    return json.loads(path.read_text())


def require_installed_provider() -> None:
    """Stop when the installed pulumi-gcp is not the one the rules were read for.

    Rules of another release would pass what its provider rejects, or the reverse; the two
    move together (docs/provider-rules.md).
    """
    import importlib.metadata

    from vidgo_infra.project import UsageError

    wanted, installed = load()["pulumi_gcp"], importlib.metadata.version("pulumi_gcp")
    if installed != wanted:
        raise UsageError(
            f"{RULES_PATH.name} holds the provider rules of pulumi-gcp {wanted}, but "
            f"{installed} is installed: install {wanted} (pyproject.toml pins it) or regenerate "
            f"the rules from {installed}'s provider source (docs/provider-rules.md)"
        )
