"""The state bucket, the secrets key, and what the operator copies into GitHub."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bootstrap.harness import prod_config, run_bootstrap, staging_config
from tests.kit import API_SERVICE, BUCKET, KMS_KEY, KMS_KEY_RING

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
BUCKET = BUCKET


def test_state_bucket_is_versioned_private_and_protected(bootstrap_prod):
    bucket = bootstrap_prod.one(BUCKET)
    assert bucket.inputs["name"] == "vidgo-ai-prod-pulumi-state"
    assert bucket.inputs["versioning"] == {"enabled": True}
    # Deleted checkpoints stay restorable for the longest time Cloud Storage allows.
    assert bucket.inputs["softDeletePolicy"] == {"retentionDurationSeconds": 90 * 24 * 3600}
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.protect
    assert bootstrap_prod.outputs["backend_url"] == "gs://vidgo-ai-prod-pulumi-state"


def test_old_checkpoints_are_dropped_only_when_long_superseded(bootstrap_prod):
    (rule,) = bootstrap_prod.one(BUCKET).inputs["lifecycleRules"]
    assert rule["action"] == {"type": "Delete"}
    assert rule["condition"]["daysSinceNoncurrentTime"] >= 30
    assert rule["condition"]["numNewerVersions"] >= 10


def test_kms_key_is_the_default_secrets_provider(bootstrap_prod):
    ring = bootstrap_prod.one(KMS_KEY_RING)
    key = bootstrap_prod.one(KMS_KEY)
    assert ring.protect and key.protect
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert bootstrap_prod.outputs["secrets_provider"] == (
        "gcpkms://projects/vidgo-ai-prod/locations/asia-east1/keyRings/pulumi/cryptoKeys/stack-secrets"
    )


def test_without_kms_nothing_kms_is_declared_and_the_passphrase_is_named():
    run = run_bootstrap("prod", prod_config(kms=False))
    assert not [r for r in run.resources.values() if r.type.startswith("gcp:kms/")]
    assert run.outputs["secrets_provider"] == "passphrase"


def test_apis_for_federation_are_enabled_and_never_disabled(bootstrap_prod):
    apis = bootstrap_prod.by_type(API_SERVICE)
    assert {"sts.googleapis.com", "iamcredentials.googleapis.com"} <= {
        a.inputs["service"] for a in apis
    }
    assert all(a.inputs["disableOnDestroy"] is False for a in apis)


def test_a_missing_repository_stops_the_program():
    config = staging_config()
    del config["vidgo-bootstrap:github_repository"]
    with pytest.raises(Exception, match="github_repository"):
        run_bootstrap("staging", config)


def test_every_variable_the_workflows_read_is_a_bootstrap_output(bootstrap_prod, bootstrap_staging):
    exported = set(bootstrap_prod.outputs["github_variables"]) | set(
        bootstrap_staging.outputs["github_variables"]
    )
    read = {
        name
        for workflow in WORKFLOWS.glob("*.yml")
        for name in re.findall(r"\bvars\.([A-Za-z_][A-Za-z0-9_]*)", workflow.read_text())
    }
    assert read, "the workflows read no repository variable"
    assert read == exported
