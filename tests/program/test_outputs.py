"""The stack outputs: what `pulumi stack output` tells the operator to enter at GoDaddy
(seed section 4.1), and where everything else is."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from pulumi.runtime import rpc

from tests.kit import (
    BUCKET,
    CERTIFICATE,
    GLOBAL_ADDRESS,
    REDIS,
    REPOSITORY,
    SQL_INSTANCE,
    STACKS,
    strings,
)
from vidgo_infra.offline import COMPUTED, PLACEHOLDER_IP, SECRET

DOCUMENTED = {
    "static_ip",
    "dns_records",
    "service_urls",
    "sql_connection_name",
    "redis_host",
    "media_bucket",
    "registry_path",
}


def secret_values(value: Any) -> Iterator[str]:
    """Every value the program marked secret, anywhere in `value`."""
    if rpc.is_rpc_secret(value):
        yield from strings(rpc.unwrap_rpc_secret(value))
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from secret_values(item)


@pytest.mark.parametrize("stack", STACKS)
def test_documented_outputs_are_present(stack, request):
    outputs = request.getfixturevalue(stack).outputs
    assert set(outputs) >= DOCUMENTED


# --- what GoDaddy needs -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_static_ip_is_the_bare_address(stack, request):
    static_ip = request.getfixturevalue(stack).outputs["static_ip"]
    assert static_ip == PLACEHOLDER_IP  # the mocks' stand-in for the reserved address
    assert str(ipaddress.IPv4Address(static_ip)) == static_ip  # no scheme, port or path


@pytest.mark.parametrize(
    ("stack", "names"), [("prod", {"@", "www", "api"}), ("staging", {"staging", "api.staging"})]
)
def test_dns_records_are_cnames_then_a_records_at_the_static_ip(stack, names, request):
    outputs = request.getfixturevalue(stack).outputs
    records = outputs["dns_records"]
    assert [set(r) for r in records] == [{"type", "name", "value", "ttl"}] * len(records)
    cnames = [r for r in records if r["type"] == "CNAME"]
    a_records = [r for r in records if r["type"] == "A"]
    assert records == cnames + a_records  # the CNAMEs go in first
    assert sorted(r["name"] for r in a_records) == sorted(names)  # each name once
    assert sorted(r["name"] for r in cnames) == sorted(
        "_acme-challenge" + ("" if n == "@" else f".{n}") for n in names
    )
    for record in a_records:
        assert record["value"] == outputs["static_ip"]
    for record in cnames:  # Google's value, without the final dot GoDaddy does not take
        assert record["value"].endswith(".authorize.certificatemanager.goog")
    assert {r["ttl"] for r in records} == {600}  # seed 4.1


@pytest.mark.parametrize("stack", STACKS)
def test_dns_records_cover_every_certificate_host(stack, request):
    """Every certificate's host has its A record, and the CNAME that authorizes it."""
    run = request.getfixturevalue(stack)
    zone = run.outputs["dns_zone"]

    def named(kind: str) -> set[str]:
        return {
            zone if r["name"] == "@" else f"{r['name']}.{zone}"
            for r in run.outputs["dns_records"]
            if r["type"] == kind
        }

    certified = {d for c in run.by_type(CERTIFICATE) for d in c.inputs["managed"]["domains"]}
    assert named("A") == certified
    assert {n.removeprefix("_acme-challenge.") for n in named("CNAME")} == {
        n.removeprefix("_acme-challenge.") for n in {f"_acme-challenge.{h}" for h in certified}
    }


# --- where everything else is -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "site", "api"),
    [
        ("prod", "https://vidgo.ai", "https://api.vidgo.ai"),
        ("staging", "https://staging.vidgo.ai", "https://api.staging.vidgo.ai"),
    ],
)
def test_service_urls_are_the_load_balancer_hosts(stack, site, api, request):
    urls = request.getfixturevalue(stack).outputs["service_urls"]
    assert urls["web"] == site
    assert urls["api"] == api
    for url in urls.values():
        parts = urlsplit(url)
        assert parts.scheme == "https"
        assert ".run.app" not in parts.netloc  # the run.app URLs are off: never hand them out


@pytest.mark.parametrize("stack", STACKS)
def test_sql_connection_name_is_project_region_instance(stack, request):
    run = request.getfixturevalue(stack)
    instance = run.one(SQL_INSTANCE).inputs
    expected = f"{instance['project']}:{instance['region']}:{instance['name']}"
    assert run.outputs["sql_connection_name"] == expected


def test_prod_sql_connection_name_is_the_seeds(prod):
    # Seed 3.3: --add-cloudsql-instances=vidgo-ai-prod:asia-east1:vidgo-db
    assert prod.outputs["sql_connection_name"] == "vidgo-ai-prod:asia-east1:vidgo-db"


@pytest.mark.parametrize("stack", STACKS)
def test_redis_host_is_the_instances_private_address(stack, request):
    host = request.getfixturevalue(stack).outputs["redis_host"]
    assert host == COMPUTED[REDIS]["host"]
    assert ipaddress.IPv4Address(host).is_private


@pytest.mark.parametrize("stack", STACKS)
def test_media_bucket_is_the_bucket_name(stack, request):
    run = request.getfixturevalue(stack)
    assert run.outputs["media_bucket"] == run.one(BUCKET).inputs["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_registry_path_is_where_images_are_pushed(stack, request):
    run = request.getfixturevalue(stack)
    repo = run.one(REPOSITORY).inputs
    expected = f"{repo['location']}-docker.pkg.dev/{repo['project']}/{repo['repositoryId']}"
    assert run.outputs["registry_path"] == expected


def test_prod_registry_path_takes_the_seeds_images(prod):
    # Seed 3.3: docker push asia-east1-docker.pkg.dev/vidgo-ai-prod/vidgo/api:latest
    seed_image = "asia-east1-docker.pkg.dev/vidgo-ai-prod/vidgo/api:latest"
    assert seed_image.startswith(prod.outputs["registry_path"] + "/")


# --- nothing secret -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_no_output_is_or_contains_a_secret(stack, request):
    run = request.getfixturevalue(stack)
    assert not [key for key, value in run.outputs.items() if value == SECRET]
    secrets = {s for r in run.resources.values() for s in secret_values(r.inputs)}
    assert secrets, "no secret inputs at all: the check would be vacuous"
    leaked = [
        (key, secret)
        for key, value in run.outputs.items()
        for text in strings(value)
        for secret in secrets
        if secret in text
    ]
    assert not leaked


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_name_the_static_ip_the_tool_looks_up_before_the_first_up(stack, request):
    """The outputs contract (vidgo_infra/outputs.py): project, region and the address's name are
    those of the global address the program declares, so `dns` finds it by name at Google."""
    run = request.getfixturevalue(stack)
    [address] = [
        r for r in run.by_type(GLOBAL_ADDRESS) if r.inputs.get("addressType") == "EXTERNAL"
    ]
    outputs = run.outputs
    assert outputs["static_ip_name"] == address.inputs["name"]
    assert outputs["project"] == address.inputs["project"]
    assert outputs["region"] in run.outputs["sql_connection_name"]
