"""The network and the image registry as intended: private Google access from the subnet, flow
logs that can answer "who talked to whom", and a cleanup that can never delete a rollback target."""

from __future__ import annotations

import pytest

SUBNET = "gcp:compute/subnetwork:Subnetwork"
REPOSITORY = "gcp:artifactregistry/repository:Repository"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_subnet_reaches_google_apis_without_public_addresses(stack, request):
    (subnet,) = request.getfixturevalue(stack).by_type(SUBNET)
    assert subnet.inputs["privateIpGoogleAccess"] is True


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_flow_logs_keep_the_metadata_an_investigation_needs(stack, request):
    (subnet,) = request.getfixturevalue(stack).by_type(SUBNET)
    assert subnet.inputs["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_registry_cleanup_keeps_the_recent_versions_and_deletes_only_old_untagged(stack, request):
    repository = request.getfixturevalue(stack).one(REPOSITORY).inputs
    assert repository["cleanupPolicyDryRun"] is False
    policies = {p["id"]: p for p in repository["cleanupPolicies"]}
    keep = [p for p in policies.values() if p["action"] == "KEEP"]
    delete = [p for p in policies.values() if p["action"] == "DELETE"]
    # KEEP wins over DELETE in Artifact Registry: the most recent versions survive any rule.
    (kept,) = keep
    assert kept["mostRecentVersions"]["keepCount"] >= 1
    (deleted,) = delete
    assert deleted["condition"]["tagState"] == "UNTAGGED"
    assert int(deleted["condition"]["olderThan"].removesuffix("s")) >= 86400
