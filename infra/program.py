"""The Pulumi program: stack config → platform → stack outputs."""

import pulumi

from infra.platform import build_platform
from stacks.loader import load_stack


def declare() -> None:
    """Validate the stack's config (before any resource), declare the platform, export."""
    for key, value in build_platform(load_stack()).items():
        pulumi.export(key, value)
