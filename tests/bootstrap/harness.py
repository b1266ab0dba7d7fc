"""Run bootstrap/ under Pulumi's mocks, as the Python host would, and keep what it declared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from tests.kit import (
    CUSTOM_ROLE,
    KMS_KEY,
    KMS_KEY_RING,
    SERVICE_ACCOUNT,
    WORKLOAD_IDENTITY_POOL,
    WORKLOAD_IDENTITY_PROVIDER,
)
from vidgo_infra.offline import Run, run_program

BOOTSTRAP = Path(__file__).resolve().parents[2] / "bootstrap"
PROJECT = "vidgo-bootstrap"
PROJECT_NUMBER = "123456789012"


def stack_file(stack: str) -> dict[str, Any]:
    """The committed bootstrap/Pulumi.<stack>.yaml config, keys as written there."""
    return yaml.safe_load((BOOTSTRAP / f"Pulumi.{stack}.yaml").read_text())["config"]


REPO = stack_file("prod")[f"{PROJECT}:github_repository"]


def qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


# The ids the operator sets before the first `up` (the committed files leave them out, since
# only the real repository's can be right). Test ids, not the repository's.
REPOSITORY_ID = "100042"
OWNER_ID = "200007"
IDS = {"github_repository_id": REPOSITORY_ID, "github_repository_owner_id": OWNER_ID}


def prod_config(**changes: Any) -> dict[str, Any]:
    """The committed prod config, the ids, and `changes` (bare keys of this project)."""
    return {**stack_file("prod"), **{qualified(k): v for k, v in {**IDS, **changes}.items()}}


def staging_config(**changes: Any) -> dict[str, Any]:
    return {**stack_file("staging"), **{qualified(k): v for k, v in {**IDS, **changes}.items()}}


class GcpMocks(Mocks):
    """Inputs echoed back, plus the names and ids Google computes that the program wires on."""

    def __init__(self, project: str):
        self.project = project

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        state = dict(args.inputs)
        pool_path = f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools"
        if args.typ == SERVICE_ACCOUNT:
            state["email"] = f"{args.inputs['accountId']}@{self.project}.iam.gserviceaccount.com"
            state["member"] = f"serviceAccount:{state['email']}"
            state["name"] = f"projects/{self.project}/serviceAccounts/{state['email']}"
        elif args.typ == WORKLOAD_IDENTITY_POOL:
            state["name"] = f"{pool_path}/{args.inputs['workloadIdentityPoolId']}"
        elif args.typ == WORKLOAD_IDENTITY_PROVIDER:
            state["name"] = (
                f"{pool_path}/{args.inputs['workloadIdentityPoolId']}"
                f"/providers/{args.inputs['workloadIdentityPoolProviderId']}"
            )
        elif args.typ == KMS_KEY_RING:
            state["id"] = (
                f"projects/{self.project}/locations/{args.inputs['location']}"
                f"/keyRings/{args.inputs['name']}"
            )
        elif args.typ == KMS_KEY:
            state["id"] = f"{args.inputs['keyRing']}/cryptoKeys/{args.inputs['name']}"
        elif args.typ == CUSTOM_ROLE:
            state["name"] = f"projects/{args.inputs['project']}/roles/{args.inputs['roleId']}"
            state["id"] = state["name"]
        state.setdefault("name", args.name)
        state.setdefault("id", f"{args.name}-id")
        return state["id"], state

    def call(self, args: MockCallArgs) -> tuple[dict, list]:
        return {}, []


def run_bootstrap(stack: str, config: dict[str, Any]) -> Run:
    """`config` maps keys (`gcp:project`, `vidgo-bootstrap:x` or bare `x`) to plain values."""
    values = {
        qualified(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    }
    mocks = GcpMocks(values.get("gcp:project", "project"))
    return run_program(stack, values, [], root=BOOTSTRAP, mocks=mocks)
