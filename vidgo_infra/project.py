"""The Pulumi project the tool acts on, and access to that project's own code.

The tool reads the program's config model (`stacks/`) and runs the program (`infra/`) of the
project it acts on: those packages are imported from the project root, never from site-packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def use_project_code(root: Path = ROOT) -> None:
    """Make the project's own packages (stacks, components, infra) importable."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


use_project_code()
