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
