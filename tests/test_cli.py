"""The vidgo-infra command: the offline plan, its --json inventory, diff and snapshot."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
import yaml

from tests.conftest import config_with
from vidgo_infra import inventory, offline
from vidgo_infra.cli import main
from vidgo_infra.offline import PLACEHOLDER_IP


@pytest.fixture(scope="module")
def staging_plan() -> str:
    """`vidgo-infra plan staging`, run once for the tests that read its text."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["plan", "staging"]) == 0
    return out.getvalue()


def test_plan_lists_every_resource_under_its_component(staging_plan, staging):
    lines = staging_plan.splitlines()
    assert lines[0].startswith("Offline plan of stack staging")
    assert "Not a diff against what is deployed" in staging_plan
    for resource in staging.resources.values():
        assert f"{resource.type}  {resource.name}" in staging_plan, resource.name
    # A component's children are drawn below it, one level deeper.
    database = next(
        i for i, line in enumerate(lines) if "vidgo:platform:Database  database" in line
    )
    instance = next(i for i, line in enumerate(lines) if "database-instance" in line)
    assert instance > database
    assert lines[instance].index("gcp:sql") > lines[database].index("vidgo:platform")


def test_plan_shows_key_settings_and_protection(staging_plan):
    instance = next(line for line in staging_plan.splitlines() if "  database-instance" in line)
    assert "tier=db-f1-micro" in instance
    assert "public_ip=False" in instance
    assert "[protected]" not in staging_plan  # staging protects nothing
    connector = next(line for line in staging_plan.splitlines() if "network-connector" in line)
    assert "range=10.8.0.0/28" in connector


def test_plan_counts_resources_by_type(staging_plan, staging):
    counts = staging_plan.split("Resources by type:")[1]
    secrets = len(staging.by_type("gcp:secretmanager/secret:Secret"))
    line = next(x for x in counts.splitlines() if "gcp:secretmanager/secret:Secret " in x)
    assert line.split()[-1] == str(secrets)


def test_plan_shows_the_godaddy_records_with_the_address_unknown(staging_plan):
    records = staging_plan.split("GoDaddy DNS records")[1].split("\n\n")[0]
    assert PLACEHOLDER_IP not in staging_plan  # a stand-in is never shown as an address
    for name in ("staging", "api.staging"):
        row = next(x for x in records.splitlines() if x.split()[1:2] == [name])
        assert row.split()[0] == "A"
        assert "(known after pulumi up)" in row
        assert row.split()[-1] == "600"


def test_plan_json_is_the_documented_inventory(capsys, staging):
    assert main(["plan", "staging", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == inventory.VERSION
    assert document["stack"] == "staging"
    names = set(document["resources"])
    assert names == {r.name for r in staging.resources.values()}
    for name, resource in document["resources"].items():
        assert set(resource) <= {
            "type",
            "parent",
            "protect",
            "ignore_changes",
            "depends_on",
            "inputs",
        }
        assert resource["parent"] is None or resource["parent"] in names, name
        assert set(resource.get("depends_on", [])) <= names, name
    assert sum(document["counts"].values()) == len(names)
    assert document["outputs"]["dns_zone"] == "vidgo.ai"


def test_plan_json_redacts_every_secret(capsys):
    assert main(["plan", "prod", "--json"]) == 0
    text = capsys.readouterr().out
    document = json.loads(text)
    versions = [
        r
        for r in document["resources"].values()
        if r["type"] == "gcp:secretmanager/secretVersion:SecretVersion"
    ]
    assert versions and all(v["inputs"]["secretDataWo"] == "[secret]" for v in versions)
    user = next(r for r in document["resources"].values() if r["type"] == "gcp:sql/user:User")
    assert user["inputs"]["passwordWo"] == "[secret]"
    for stand_in in ("mock-password", "mock-auth-string", "offline-stand-in-for"):
        assert stand_in not in text


def test_invalid_config_exits_2_with_the_key_and_no_traceback(monkeypatch, capsys):
    broken = config_with("staging", {"vidgo-infra:network": {"connector_range": "10.8.0.0/24"}})
    monkeypatch.setattr(offline, "stack_config", lambda stack, root=offline.ROOT: broken)
    assert main(["plan", "staging"]) == 2
    captured = capsys.readouterr()
    assert "Pulumi.staging.yaml: vidgo-infra:network.connector_range" in captured.err
    assert "/28" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_unknown_stack_exits_2(capsys):
    assert main(["plan", "nosuchstack"]) == 2
    assert "no stack file Pulumi.nosuchstack.yaml" in capsys.readouterr().err


def test_diff_between_stacks_names_changed_properties(capsys):
    prod = str(inventory.snapshot_path("prod"))
    staging = str(inventory.snapshot_path("staging"))
    assert main(["diff", prod, staging]) == 0
    out = capsys.readouterr().out
    changed = out.split("~ gcp:sql/databaseInstance:DatabaseInstance  database-instance")[1]
    assert "inputs.settings.tier: 'db-g1-small' → 'db-f1-micro'" in changed.split("\n~ ")[0]
    # www exists only in prod: its certificate is removed going to staging.
    assert (
        "- gcp:compute/managedSslCertificate:ManagedSslCertificate  edge-cert-www-vidgo-ai" in out
    )


def test_diff_against_the_snapshot_reports_an_unreviewed_change(tmp_path, capsys):
    document = yaml.safe_load(inventory.snapshot_path("staging").read_text())
    document["resources"]["redis-instance"]["inputs"]["memorySizeGb"] = 5
    del document["resources"]["edge-http-rule"]
    edited = tmp_path / "staging.yaml"
    edited.write_text(inventory.dump(document))
    assert main(["diff", str(edited), "staging"]) == 0
    out = capsys.readouterr().out
    assert "inputs.memorySizeGb: 5 → 1" in out
    assert "+ gcp:compute/globalForwardingRule:GlobalForwardingRule  edge-http-rule" in out


def test_diff_of_identical_inventories_says_so(capsys):
    path = str(inventory.snapshot_path("prod"))
    assert main(["diff", path, path]) == 0
    assert "No differences" in capsys.readouterr().out


def test_snapshot_writes_the_inventory_the_snapshot_test_compares(tmp_path, monkeypatch, staging):
    monkeypatch.setattr(inventory, "SNAPSHOTS", tmp_path)
    assert main(["snapshot", "staging"]) == 0
    assert (tmp_path / "staging.yaml").read_text() == inventory.dump(inventory.inventory(staging))
