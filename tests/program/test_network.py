"""The network under the platform: a custom-mode VPC that denies what no rule allows and logs
who talked to whom, private access to Google and to the data services, and what survives a
destroy."""

from __future__ import annotations

import pytest

from tests.kit import (
    API_SERVICE,
    DNS_POLICY,
    FIREWALL,
    GLOBAL_ADDRESS,
    PEERING,
    STACKS,
    SUBNET,
    VPC,
    the,
)
from vidgo_infra.offline import Resource, Run


@pytest.fixture(params=STACKS)
def run(request) -> Run:
    return request.getfixturevalue(request.param)


def test_vpc_is_custom_mode_with_regional_routing(run):
    vpc = run.one(VPC).inputs
    assert vpc["autoCreateSubnetworks"] is False
    assert vpc["routingMode"] == "REGIONAL"


def test_the_subnet_reaches_google_apis_without_public_addresses(run):
    (subnet,) = run.by_type(SUBNET)
    assert subnet.inputs["privateIpGoogleAccess"] is True


def test_every_subnet_logs_its_flows_with_the_metadata_an_investigation_needs(run):
    subnets = run.by_type(SUBNET)
    assert subnets
    for subnet in subnets:
        assert subnet.inputs["logConfig"]["flowSampling"] > 0, subnet.name
        assert subnet.inputs["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA", subnet.name


def test_no_connector_and_no_connector_api(run):
    # Cloud Run egresses into the subnet directly; the connector's VMs and API are gone.
    assert not [r for r in run.resources.values() if r.type.startswith("gcp:vpcaccess/")]
    apis = {r.inputs["service"] for r in run.by_type(API_SERVICE)}
    assert "vpcaccess.googleapis.com" not in apis


def test_private_services_access_is_an_internal_peering_range_that_is_abandoned(run):
    connection = run.one(PEERING)
    assert connection.inputs["service"] == "servicenetworking.googleapis.com"
    [reserved] = connection.inputs["reservedPeeringRanges"]
    psa_range = the(run, GLOBAL_ADDRESS, name=reserved)
    assert psa_range.urn in connection.dependencies
    assert psa_range.inputs["purpose"] == "VPC_PEERING"
    assert psa_range.inputs["addressType"] == "INTERNAL"
    # Deleting the peering fails while Cloud SQL still holds an address in it.
    assert connection.inputs["deletionPolicy"] == "ABANDON"


def test_the_vpc_ends_with_a_logged_deny_all_ingress_rule(run):
    (rule,) = run.by_type(FIREWALL)
    inputs = rule.inputs
    assert inputs["network"] == run.one(VPC).id
    assert inputs["direction"] == "INGRESS"
    assert inputs["priority"] == 65535  # the lowest: every other rule is evaluated first
    assert inputs["sourceRanges"] == ["0.0.0.0/0"]
    assert inputs["denies"] == [{"protocol": "all"}]
    assert "allows" not in inputs
    assert inputs["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}


def test_dns_queries_from_the_vpc_are_logged(run):
    dns = run.one(DNS_POLICY).inputs
    assert dns["enableLogging"] is True
    assert dns["networks"] == [{"networkUrl": run.one(VPC).id}]


def data_network(run: Run) -> list[Resource]:
    """What Cloud SQL and Redis stand on: the VPC, the private services range, the peering."""
    ranges = [a for a in run.by_type(GLOBAL_ADDRESS) if a.inputs.get("purpose") == "VPC_PEERING"]
    return [run.one(VPC), *ranges, run.one(PEERING)]


def test_the_network_under_the_data_is_protected_in_prod_only(prod, staging):
    assert len(data_network(prod)) == 3
    assert [r.name for r in data_network(prod) if not r.protect] == []
    assert [r.name for r in data_network(staging) if r.protect] == []
