"""The Pulumi program (Pulumi.yaml `main: infra/`): stack config → platform → stack outputs."""

import pulumi

from infra.platform import build_platform
from stacks.loader import load_stack

outputs = build_platform(load_stack())
for key, value in outputs.items():
    pulumi.export(key, value)
