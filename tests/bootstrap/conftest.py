from __future__ import annotations

import pytest

from tests.bootstrap.harness import Run, prod_config, run_bootstrap, staging_config


@pytest.fixture(scope="module")
def bootstrap_prod() -> Run:
    return run_bootstrap("prod", prod_config())


@pytest.fixture(scope="module")
def bootstrap_staging() -> Run:
    return run_bootstrap("staging", staging_config())
