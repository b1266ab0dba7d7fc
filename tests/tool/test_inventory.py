"""The inventory lists, per resource, only what it waits for beyond what its parent waits for.

So a change to what a whole component waits for (one more API) shows once, on the component,
not on every resource inside it (docs/inventory.md).
"""

from __future__ import annotations

import copy

import pytest
import yaml

import infra.composition
from components.project_services import PLATFORM_APIS
from tests.kit import API_SERVICE
from vidgo_infra import inventory
from vidgo_infra.offline import Resource, Run, run_program

EXTRA_API, EXTRA_NAME = "aiplatform.googleapis.com", "apis-aiplatform"


@pytest.fixture(scope="module")
def one_more_api() -> Run:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(infra.composition, "PLATFORM_APIS", (*PLATFORM_APIS, EXTRA_API))
        return run_program("prod")


def test_adding_one_api_changes_only_the_lines_of_that_api(prod, one_more_api):
    before, after = inventory.inventory(prod), inventory.inventory(one_more_api)
    assert EXTRA_NAME in after["resources"] and EXTRA_NAME not in before["resources"]
    # Take the API back out of the new inventory by hand: what is left must be byte-identical.
    without = copy.deepcopy(after)
    del without["resources"][EXTRA_NAME]
    mentions = 0
    for resource in without["resources"].values():
        if EXTRA_NAME in resource.get("depends_on", []):
            mentions += 1
            resource["depends_on"].remove(EXTRA_NAME)
            if not resource["depends_on"]:
                del resource["depends_on"]
    without["counts"][API_SERVICE] -= 1
    assert inventory.dump(without) == inventory.dump(before)
    # Named once per component that waits for the APIs, not once per resource inside one.
    components = [r for r in before["resources"].values() if r["type"].startswith("vidgo:")]
    assert 0 < mentions <= len(components)


def test_what_a_component_waits_for_is_not_repeated_on_its_children(prod):
    document = inventory.inventory(prod)
    for name, resource in document["resources"].items():
        parent = document["resources"].get(resource["parent"] or "", {})
        repeated = set(resource.get("depends_on", [])) & set(parent.get("depends_on", []))
        assert not repeated, f"{name} repeats its parent's {sorted(repeated)}"


def test_the_database_instance_lists_what_it_waits_for_beyond_its_component(prod):
    document = inventory.inventory(prod)
    instance = document["resources"]["database-instance"]
    assert instance["parent"] == "database"
    assert "apis-sqladmin" in document["resources"]["database"]["depends_on"]
    assert "apis-sqladmin" not in instance.get("depends_on", [])
    assert "network-private-services" in instance["depends_on"]


def resource(name: str, parent: str | None, waits_for: list[str]) -> Resource:
    return Resource(
        urn=f"urn:{name}",
        id=f"{name}-id",
        type="test:index:Thing",
        name=name,
        parent=parent and f"urn:{parent}",
        custom=True,
        inputs={},
        dependencies=[f"urn:{d}" for d in waits_for],
        protect=False,
        ignore_changes=[],
        delete_before_replace=False,
        retain_on_delete=False,
    )


def test_a_child_that_skips_what_its_parent_waits_for_is_an_error_not_hidden():
    run = Run("test")
    for r in (
        resource("api", None, []),
        resource("group", None, ["api"]),
        resource("child", "group", []),
    ):
        run.resources[r.urn] = r
    with pytest.raises(ValueError, match="child does not wait for api"):
        inventory.inventory(run)


def test_a_version_1_inventory_loads_with_dependencies_beyond_the_parents(tmp_path):
    old = {
        "version": 1,
        "stack": "x",
        "resources": {
            "group": {"type": "t", "parent": None, "depends_on": ["api"], "inputs": {}},
            "child": {"type": "t", "parent": "group", "depends_on": ["api", "x"], "inputs": {}},
            "other": {"type": "t", "parent": "group", "depends_on": ["api"], "inputs": {}},
        },
    }
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(old))
    loaded = inventory.load(path)
    assert loaded["version"] == inventory.VERSION
    assert loaded["resources"]["group"]["depends_on"] == ["api"]
    assert loaded["resources"]["child"]["depends_on"] == ["x"]
    assert "depends_on" not in loaded["resources"]["other"]
