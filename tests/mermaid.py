"""Parse Mermaid diagrams with the real mermaid package under Node.js (tools/mermaid).

Node.js is not a Python dependency: `make test` installs the kit with `npm ci` when npm is there.
Without it, a laptop's run skips the parse tests with one line saying so (conftest.py's summary),
while CI (CI=true) fails them: what GitHub will draw is checked before it is merged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "tools" / "mermaid"
NOT_CHECKED = "Mermaid diagrams not parsed"
MINIMUM_NODE = (20, 19)  # jsdom's floor (tools/mermaid/package.json)


def unavailable() -> str | None:
    """Why the parser cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "node not found (install Node.js >= 20.19, then make test)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    found = tuple(int(x) for x in re.findall(r"\d+", version.stdout)[:2])
    if found < MINIMUM_NODE:
        return f"node {version.stdout.strip()} is older than 20.19 (jsdom needs it)"
    if not (KIT / "node_modules" / "mermaid" / "package.json").is_file():
        return "tools/mermaid is not installed (make test runs npm ci there)"
    return None


def require_parser() -> None:
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{NOT_CHECKED}: {reason}; CI must check them")
    pytest.skip(f"{NOT_CHECKED}: {reason}")


def parse(diagrams: dict[str, str]) -> dict[str, str]:
    """Name → "ok TYPE, N chars, E edges" or "error: ..." from mermaid itself (one node run)."""
    require_parser()
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for index, (name, text) in enumerate(diagrams.items()):
            path = Path(folder) / f"{index}.mmd"
            path.write_text(text)
            files[str(path)] = name
        result = subprocess.run(
            ["node", str(KIT / "parse.mjs"), *files],
            capture_output=True,
            text=True,
            cwd=KIT,
            timeout=120,
            check=False,
        )
    found = {}
    for line in result.stdout.splitlines():
        path, _, verdict = line.partition(": ")
        if path in files:
            found[files[path]] = verdict
    assert set(found) == set(diagrams), result.stdout + result.stderr
    return found
