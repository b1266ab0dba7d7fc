"""A first `pulumi up`: the HTTPS edge does not wait for the slow parts of the platform.

Google issues the managed certificates only once the HTTPS forwarding rule exists, so the edge
must not sit behind Cloud SQL (10-15 minutes), Memorystore or the services that need them. The
graph here is the one the engine gets: explicit depends_on, the dependencies Output-typed inputs
imply, and parents (benchmarks/first_deploy.py).
"""

from __future__ import annotations

import pytest

from benchmarks.first_deploy import CREATION, creation_graph, simulate, upstream
from vidgo_infra.inventory import inventory

# What the edge really uses: the compute API, and the media bucket (with its signing key).
EDGE_MAY_WAIT_FOR_APIS = {"apis-compute", "apis-storage", "apis-secretmanager"}
SLOW_COMPONENTS = {"database", "redis", "api", "web", "network"}


def top_component(document, name: str) -> str:
    resources = document["resources"]
    while resources[name]["parent"]:
        name = resources[name]["parent"]
    return name


@pytest.fixture(scope="module", params=["prod", "staging"])
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
    sql = CREATION["gcp:sql/databaseInstance:DatabaseInstance"].seconds
    sql_starts = sim.finish["database-instance"] - sql
    assert sim.https_rule_at is not None
    assert sim.https_rule_at < sql_starts
    assert "edge-https-rule" not in sim.critical_path


def test_every_declared_type_has_a_creation_time_with_a_source(document):
    assert not simulate(document).unknown_types
    assert all(timing.source for timing in CREATION.values())


def test_the_simulation_follows_the_longest_chain():
    resources = {
        "slow": {"type": "gcp:sql/databaseInstance:DatabaseInstance", "parent": None},
        "fast": {"type": "gcp:storage/bucket:Bucket", "parent": None},
        "group": {"type": "vidgo:platform:Thing", "parent": None},
        "inner": {"type": "gcp:storage/bucket:Bucket", "parent": "group"},
        "last": {"type": "gcp:compute/uRLMap:URLMap", "parent": None, "depends_on": ["group"]},
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
