"""The Pulumi program: stack config → platform → stack outputs.

Pulumi's Python host runs this folder (`main: infra/` in Pulumi.yaml) with only the folder itself on
`sys.path`. The program's own packages (`stacks`, `components`, `infra`) live one level up, in the
project root, so the root goes on the path first: the program then imports the code of the
checkout it runs from, whatever else is installed in the stack's virtualenv.
"""

import sys
from pathlib import Path

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

import pulumi  # noqa: E402

from infra.composition import build_platform  # noqa: E402
from stacks.loader import load_stack  # noqa: E402

# Validate the stack's config before any resource is declared, then declare and export.
for key, value in build_platform(load_stack()).items():
    pulumi.export(key, value)
