from __future__ import annotations

import pytest

from tests.bootstrap.harness import Run, run_bootstrap

REPO = "vidgo-ai/vidgo-infra"
BASE = {"gcp:region": "asia-east1", "github_repository": REPO}


def prod_config(**changes) -> dict:
    return {**BASE, "gcp:project": "vidgo-ai-prod", "deploy_environment": "production", **changes}


def staging_config(**changes) -> dict:
    return {**BASE, "gcp:project": "vidgo-ai-staging", **changes}


@pytest.fixture(scope="module")
def bootstrap_prod() -> Run:
    return run_bootstrap("prod", prod_config())


@pytest.fixture(scope="module")
def bootstrap_staging() -> Run:
    return run_bootstrap("staging", staging_config())
