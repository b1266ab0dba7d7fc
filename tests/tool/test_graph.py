"""`vidgo-infra graph`: the architecture drawn from the inventory, valid Mermaid, within the limits
GitHub's renderer keeps, and the README's figures are what the code draws now."""

from __future__ import annotations

import copy
import re

import pytest

from benchmarks.first_deploy import gantt, simulate
from scripts.readme_figures import README, drawn, shown
from tests.kit import BUCKET, REDIS, VPC
from tests.mermaid import parse
from vidgo_infra.cli import main
from vidgo_infra.graph import MAX_EDGES, DiagramTooLarge, diagram
from vidgo_infra.inventory import inventory


@pytest.fixture(scope="module")
def documents(prod, staging):
    return {"prod": inventory(prod), "staging": inventory(staging)}


def arrows(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s*(\w+) -->(?:\|[^|]*\|)? (\w+)$", text, re.MULTILINE))


def labels(text: str) -> dict[str, str]:
    return dict(re.findall(r'^\s*(\w+)[\[\(\{]+"([^"]*)"', text, re.MULTILINE))


def test_each_stack_draws_as_valid_mermaid_and_a_broken_diagram_does_not(documents):
    texts = {}
    for stack, document in documents.items():
        texts[f"{stack}"] = diagram(document).text
        texts[f"{stack} --resources"] = diagram(document, every_resource=True).text
        texts[f"{stack} gantt"] = gantt(document, simulate(document))
    broken = texts["prod"].replace("  end\n", "\n", 1)  # a subgraph left open
    unclosed = texts["prod"].replace('"]', '"', 1)  # a label left open
    verdicts = parse({**texts, "broken": broken, "unclosed": unclosed})
    for name in texts:
        assert verdicts[name].startswith("ok "), f"{name}: {verdicts[name]}"
    assert verdicts["prod"].startswith("ok flowchart")
    assert verdicts["prod gantt"].startswith("ok gantt")
    assert verdicts["broken"].startswith("error"), verdicts["broken"]
    assert verdicts["unclosed"].startswith("error"), verdicts["unclosed"]


def test_the_request_path_runs_from_the_internet_through_armor_to_the_services(documents):
    text = diagram(documents["prod"]).text
    edges = arrows(text)
    path = [
        ("internet", "n_edge_ip"),
        ("n_edge_ip", "n_edge_https_rule"),
        ("n_edge_https_rule", "n_edge_https_proxy"),
        ("n_edge_https_proxy", "n_edge_url_map"),
        ("n_edge_url_map", "n_edge_api_backend"),
        ("n_edge_api_backend", "n_edge_api_armor"),
        # A data path, not a dependency: the serverless NEG names the service.
        ("n_edge_api_backend", "n_api_service"),
        ("n_edge_web_backend", "n_web_service"),
        ("n_edge_url_map", "n_edge_media_backend"),
        ("n_edge_media_backend", "n_media_bucket"),
    ]
    assert [p for p in path if p not in edges] == []


def test_the_services_and_the_job_reach_the_data_stores_secrets_and_vpc(documents):
    edges = arrows(diagram(documents["prod"]).text)
    for runner in ("n_api_service", "n_migrate_job"):
        for store in (
            "n_database_instance",
            "g_redis_Secret",
            "n_network_vpc",
            "n_media_bucket",
        ):
            assert (runner, store) in edges, (runner, store)
    assert ("n_database_instance", "n_network_private_services") in edges
    assert ("n_redis_instance", "n_network_private_services") in edges
    # The web frontend holds no secret and reaches no data store: its only path is its egress
    # into the VPC (Direct VPC egress, as every Cloud Run workload here).
    assert {t for s, t in edges if s == "n_web_service"} == {"n_network_vpc"}


def test_every_component_is_a_subgraph_and_the_default_shows_key_resources_only(documents):
    document = documents["prod"]
    text = diagram(document).text
    components = [n for n, e in document["resources"].items() if e["type"].startswith("vidgo:")]
    for component in components:
        assert f"subgraph c_{component.replace('-', '_')}[" in text, component
    shown_labels = labels(text)
    assert not [i for i in shown_labels if "reads" in i or "neg" in i]  # IAM grants, NEGs folded
    assert shown_labels["n_database_instance"] == "Cloud SQL<br/>vidgo-db"
    assert any(label.startswith("Cloud Armor") for label in shown_labels.values())
    assert shown_labels["g_database_Secret"] == "2 secrets<br/>DB_PASSWORD, DATABASE_URL"
    # Labels short enough to read in a box.
    assert max(len(part) for label in shown_labels.values() for part in label.split("<br/>")) <= 40


def test_resources_draws_every_resource(documents):
    document = documents["staging"]
    text = diagram(document, every_resource=True).text
    drawn_ids = set(labels(text))
    for name, entry in document["resources"].items():
        if not entry["type"].startswith("vidgo:"):
            assert f"n_{name.replace('-', '_')}" in drawn_ids, name


def test_a_resource_the_code_adds_is_drawn_with_its_dependencies(documents):
    """Drawn from the inventory, not a hand list: a new store appears with its arrows."""
    document = copy.deepcopy(documents["prod"])
    document["resources"]["search"] = {"type": "vidgo:platform:Search", "parent": None}
    document["resources"]["search-index"] = {
        "type": REDIS,
        "parent": "search",
        "depends_on": ["network-vpc"],
        "inputs": {"name": "vidgo-search"},
    }
    document["resources"]["api-service"]["depends_on"].append("search-index")
    edges = arrows(diagram(document).text)
    assert ("n_api_service", "n_search_index") in edges
    assert ("n_search_index", "n_network_vpc") in edges


def test_a_diagram_over_mermaids_edge_limit_is_refused():
    resources = {f"r{i}": {"type": BUCKET, "parent": None} for i in range(40)}
    for i in range(40):
        resources[f"r{i}"]["depends_on"] = [f"r{j}" for j in range(40) if j != i]
    assert MAX_EDGES < 40 * 39
    with pytest.raises(DiagramTooLarge, match="maxEdges"):
        diagram({"stack": "x", "resources": resources}, every_resource=True)


def test_graph_command_prints_the_flowchart(capsys):
    assert main(["graph", "tests/snapshots/prod.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR\n")
    assert main(["graph", "tests/snapshots/prod.yaml", "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("```mermaid\nflowchart LR\n")


def test_the_readme_figures_are_what_the_code_draws_now(documents):
    on_page = shown(README.read_text())
    for figure, block in drawn(documents["prod"]).items():
        assert on_page[figure] is not None, f"README.md lost its {figure} markers"
        assert on_page[figure] == block, (
            f"README.md's {figure} figure is stale: run .venv/bin/python scripts/readme_figures.py"
        )


def test_the_freshness_check_notices_a_stale_figure(documents):
    document = copy.deepcopy(documents["prod"])
    del document["resources"]["web-service"]
    on_page = shown(README.read_text())
    assert drawn(document)["architecture"] != on_page["architecture"]
    document["resources"]["database-instance"]["type"] = VPC  # 30 s
    assert drawn(document)["first-deploy-gantt"] != on_page["first-deploy-gantt"]
