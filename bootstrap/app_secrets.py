"""The application keys' secrets (SENDGRID_API_KEY, ...), declared here and filled by hand.

Why here and not in the main program: a Cloud Run revision that reads a secret with no version
does not start, the placeholder image included. Declared by the program, a secret would exist
only after the `up` that creates the API, so the first `up` of a fresh project could not end
green. Declared here, the operator adds each value (`gcloud secrets versions add`) between
`boot up` and the main stack's first `pulumi up`, which then starts the API at once. The values
never pass through Pulumi: not in a stack file, not in either program's state. The main program
names these secrets, grants the API's identity access to each and reads `latest`.

The names default to the main program's default `app_secrets` (stacks/config.py), read from
source as platform_apis.py reads the APIs, because the bootstrap runs in its own virtualenv from
the same checkout. A main stack that lists other keys sets the same list here (`app_secrets`);
tests/bootstrap/test_app_secrets.py fails when the committed stack files disagree.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path

import pulumi
from pulumi_gcp import secretmanager

CONFIG_SOURCE = Path(__file__).resolve().parent.parent / "stacks" / "config.py"
SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
FIELD = "app_secrets"


def app_secret_names(configured: object = None, source: Path = CONFIG_SOURCE) -> tuple[str, ...]:
    """`configured` (the bootstrap's `app_secrets`), else the main program's default list."""
    where = "app_secrets"
    names = configured
    if names is None:
        where = f"{source.name}: PlatformConfig.{FIELD}"
        names = _default(source)
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise pulumi.RunError(f"{where} must be a list of secret ids")
    bad = [n for n in names if not SECRET_ID.match(n)]
    if bad or len(set(names)) != len(names):
        raise pulumi.RunError(f"{where}: ids must be unique letters, digits, _ and -, got {names}")
    return tuple(names)


def _default(source: Path) -> object:
    for node in ast.walk(ast.parse(source.read_text())):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == FIELD
            and node.value is not None
        ):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def declare_app_secrets(
    name: str, project: str, names: Sequence[str], opts: pulumi.ResourceOptions
) -> dict[str, secretmanager.Secret]:
    """One secret per id, no version (the operator's), guarded against destroy in every stack:
    it holds a value that exists nowhere else."""
    kept = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True))
    return {
        secret_id: secretmanager.Secret(
            f"{name}-app-key-{secret_id.lower().replace('_', '-')}",
            project=project,
            secret_id=secret_id,
            replication=secretmanager.SecretReplicationArgs(
                auto=secretmanager.SecretReplicationAutoArgs()
            ),
            labels={"purpose": "application-key"},
            deletion_protection=True,
            opts=kept,
        )
        for secret_id in names
    }
