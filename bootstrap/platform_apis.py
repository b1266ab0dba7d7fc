"""The platform's Google APIs, enabled here so that the main program's first `pulumi up` finds
them on and its `projects.Service` resources only read (benchmarks/first_deploy.py).

One list: `PLATFORM_APIS` in components/project_services.py, the one the main program enables
too. It is read from that file's source rather than imported, because the bootstrap runs in its
own virtualenv with pulumi and pulumi-gcp only, and from the same checkout (docs/delivery.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pulumi

SOURCE = Path(__file__).resolve().parent.parent / "components" / "project_services.py"
NAME = "PLATFORM_APIS"


def platform_apis(source: Path = SOURCE) -> tuple[str, ...]:
    """The literal tuple assigned to PLATFORM_APIS in `source`."""
    for node in ast.parse(source.read_text()).body:
        if not isinstance(node, ast.Assign):
            continue
        if any(isinstance(target, ast.Name) and target.id == NAME for target in node.targets):
            try:
                apis = ast.literal_eval(node.value)
            except ValueError:
                break
            if isinstance(apis, tuple) and all(isinstance(api, str) for api in apis):
                return apis
            break
    raise pulumi.RunError(f"{source}: {NAME} must be a literal tuple of API names")
