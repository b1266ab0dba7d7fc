"""A first `pulumi up`: the HTTPS edge does not wait for the slow parts of the platform.

Google issues the managed certificates only once the HTTPS forwarding rule exists, so the edge
must not sit behind Cloud SQL (10-15 minutes), Memorystore or the services that need them. The
graph here is the one the engine gets: explicit depends_on, the dependencies Output-typed inputs
imply, and parents (benchmarks/first_deploy.py).
"""

from __future__ import annotations

import pytest

from benchmarks.first_deploy import (
    ALREADY_ENABLED,
    BOOTSTRAPPED_APIS,
    CREATION,
    chain_to,
    creation_graph,
    issuable,
    simulate,
    upstream,
    without_armor,
)
from tests.kit import (
    API_SERVICE,
    ARMOR_POLICY,
    BACKEND_SERVICE,
    BUCKET,
    SQL_INSTANCE,
    STACKS,
    URL_MAP,
)
from vidgo_infra.inventory import inventory

# What the edge really uses: the compute API, and the media bucket (with its signing key).
EDGE_MAY_WAIT_FOR_APIS = {
    "apis-compute",
    "apis-certificatemanager",
    "apis-storage",
    "apis-secretmanager",
}
SLOW_COMPONENTS = {"database", "redis", "api", "web", "network"}
# The simulated critical path while the edge still waited for the services: the ceiling.
CRITICAL_PATH_BEFORE_SECONDS = 17 * 60 + 31


def top_component(document, name: str) -> str:
    resources = document["resources"]
    while resources[name]["parent"]:
        name = resources[name]["parent"]
    return name


@pytest.fixture(scope="module", params=STACKS)
def document(request):
    return inventory(request.getfixturevalue(request.param))


def test_the_edge_waits_for_no_database_redis_network_or_service(document):
    graph = creation_graph(document)
    edge = [name for name in graph if top_component(document, name) == "edge"]
    assert "edge-https-rule" in edge
    for name in edge:
        waits = upstream(graph, name)
        slow = {dep for dep in waits if top_component(document, dep) in SLOW_COMPONENTS}
        assert not slow, f"{name} waits for {sorted(slow)}"
        apis = {dep for dep in waits if dep.startswith("apis-")}
        assert apis <= EDGE_MAY_WAIT_FOR_APIS, f"{name} waits for {sorted(apis)}"


def test_the_negs_name_the_configured_services(document):
    """By name, not by the services' outputs: a serverless NEG may precede its service."""
    resources = document["resources"]
    for kind in ("api", "web"):
        neg = resources[f"edge-{kind}-neg"]
        service = resources[f"{kind}-service"]["inputs"]["name"]
        assert neg["inputs"]["cloudRun"]["service"] == service
        assert f"{kind}-service" not in (neg.get("depends_on") or [])


def test_the_https_rule_exists_before_cloud_sql_starts(document):
    """In the simulated first deploy, certificates can be issued while Cloud SQL is created."""
    sim = simulate(document)
    sql = CREATION[SQL_INSTANCE].seconds
    sql_starts = sim.finish["database-instance"] - sql
    assert sim.https_rule_at is not None
    assert sim.https_rule_at < sql_starts
    assert "edge-https-rule" not in sim.critical_path


def test_certificate_issuance_waits_for_no_forwarding_rule_or_a_record(document):
    """A DNS-authorized certificate needs only its CNAME: it exists before the HTTPS rule, and
    nothing of the load balancer's front end is upstream of it."""
    sim = simulate(document)
    at, waiting = issuable(document, sim)
    assert waiting == []
    assert at < sim.https_rule_at
    assert at < 60  # within the first minute: the operator can enter the CNAMEs at once


def test_every_declared_type_has_a_creation_time_with_a_source(document):
    assert not simulate(document).unknown_types
    assert all(timing.source for timing in CREATION.values())


def test_the_simulation_follows_the_longest_chain():
    resources = {
        "slow": {"type": SQL_INSTANCE, "parent": None},
        "fast": {"type": BUCKET, "parent": None},
        "group": {"type": "vidgo:platform:Thing", "parent": None},
        "inner": {"type": BUCKET, "parent": "group"},
        "last": {"type": URL_MAP, "parent": None, "depends_on": ["group"]},
    }
    # The inventory lists on a child only what it waits for beyond its parent.
    resources["group"]["depends_on"] = ["slow"]
    resources["inner"]["depends_on"] = ["fast"]
    for entry in resources.values():
        entry.setdefault("inputs", {})
    sim = simulate({"stack": "t", "resources": resources})
    assert sim.critical_path == ["slow", "inner", "last"]
    assert sim.length == 720 + 3 + 12
    assert sim.serial == 720 + 3 + 3 + 12


@pytest.mark.parametrize("bootstrapped", [True, False])
def test_the_first_deploy_is_no_longer_than_when_the_edge_waited_for_the_services(
    document, bootstrapped
):
    sim = simulate(document, enabled_apis=BOOTSTRAPPED_APIS if bootstrapped else frozenset())
    assert sim.length <= CRITICAL_PATH_BEFORE_SECONDS


def test_the_bootstrap_brings_the_https_rule_forward(document):
    """The APIs it enabled only read, so the edge's chain starts seconds into `pulumi up`."""
    bootstrapped = simulate(document)
    alone = simulate(document, enabled_apis=frozenset())
    assert bootstrapped.https_rule_at < alone.https_rule_at
    first = bootstrapped.critical_path[0]
    assert bootstrapped.duration[first] == ALREADY_ENABLED.seconds


def test_the_what_if_without_armor_takes_the_policy_out_of_the_https_chain(document):
    armored = simulate(document)
    bare = simulate(without_armor(document))
    chain = chain_to(bare, bare.https_rule)
    types = {document["resources"][name]["type"] for name in chain}
    assert ARMOR_POLICY not in types
    assert bare.https_rule_at < armored.https_rule_at
    assert bare.length == armored.length  # Armor is not on the critical path either way
    assert "edge-web-armor" in document["resources"], "the what-if must not change the plan"


def service(api: str) -> dict:
    return {"type": API_SERVICE, "parent": None, "inputs": {"service": api}}


def test_an_api_already_enabled_takes_a_read_and_a_second_operation_is_counted():
    resources = {
        "on": service("compute.googleapis.com"),
        "off": service("billingbudgets.googleapis.com"),
        "armor": {"type": ARMOR_POLICY, "parent": None},
        "armored": {
            "type": BACKEND_SERVICE,
            "parent": None,
            "depends_on": ["on", "armor"],
            "inputs": {"securityPolicy": "armor-id"},
        },
        "plain": {
            "type": BACKEND_SERVICE,
            "parent": None,
            "depends_on": ["on"],
        },
    }
    for entry in resources.values():
        entry.setdefault("inputs", {})
    sim = simulate(
        {"stack": "t", "resources": resources}, enabled_apis=frozenset({"compute.googleapis.com"})
    )
    enable = CREATION[API_SERVICE].seconds
    backend = CREATION[BACKEND_SERVICE].seconds
    assert sim.finish["on"] == ALREADY_ENABLED.seconds < enable == sim.finish["off"]
    assert sim.finish["plain"] == ALREADY_ENABLED.seconds + backend
    assert sim.duration["armored"] > backend  # insert, then setSecurityPolicy
