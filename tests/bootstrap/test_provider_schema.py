"""Every property the bootstrap sets, checked against the pinned provider's schema (enums,
conflicts, required fields), as `vidgo-infra plan` checks the main program's."""

from __future__ import annotations

import pytest

from tests.bootstrap.harness import prod_config, run_bootstrap, staging_config
from tests.kit import BACKUP_VAULT
from vidgo_infra.provider_rules.check import check_run, uncovered

BILLING = "0X0X0X-0X0X0X-0X0X0X"


@pytest.mark.parametrize(
    ("stack", "config"),
    [
        # Every optional part on: the billing grants and a backup plan association.
        ("prod", prod_config(backup_sql_instances=["vidgo-db"], billing_account=BILLING)),
        ("staging", staging_config()),
    ],
)
def test_the_bootstrap_sets_only_what_the_pinned_provider_accepts(stack, config):
    run = run_bootstrap(stack, config)
    types = {r.type for r in run.resources.values() if r.custom}
    assert BACKUP_VAULT in types
    assert uncovered(types) == set(), "resource types the provider rules do not cover"
    assert check_run(run) == []
