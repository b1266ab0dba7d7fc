"""`vidgo-infra diff`: which change replaces or deletes what, stateful resources first.

Replacement comes from the provider's ForceNew marks (rules.json); these tests change a copy
of prod's config and compare it with the committed snapshot, as a pull request would.
"""

from __future__ import annotations

import io
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml

from tests.kit import (
    BUCKET,
    CLASSIC_CERTIFICATE,
    CLOUD_RUN_SERVICE,
    REDIS,
    SQL_INSTANCE,
    URL_MAP,
    config_with,
    linked_project,
    stack_file_text,
)
from vidgo_infra import diff, inventory
from vidgo_infra.cli import main
from vidgo_infra.provider_rules import replacements


def diff_snapshot(monkeypatch, changes: dict, *flags: str) -> tuple[int, str]:
    """`vidgo-infra diff --snapshot prod` with prod's stack file changed by `changes`."""
    config, _ = config_with("prod", changes)
    project = linked_project(Path(tempfile.mkdtemp()), prod=stack_file_text(config))
    snapshot = project / "tests" / "snapshots" / "prod.yaml"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text(inventory.snapshot_path("prod").read_text())
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["-C", str(project), "diff", "--snapshot", "prod", *flags])
    return status, out.getvalue()


def line_of(text: str, name: str) -> str:
    """The diff's own line for resource `name` (not the call-out above it)."""
    return next(
        line for line in text.splitlines() if not line[:1].isspace() and line.split()[2:3] == [name]
    )


def test_renaming_the_sql_instance_replaces_it_and_is_called_out_as_data_loss(monkeypatch):
    changes = {"vidgo-infra:database": {"instance_name": "vidgo-db-2"}}
    status, out = diff_snapshot(monkeypatch, changes, "--fail-on-stateful")
    assert status == 3  # its own status: data loss, not a mistake
    first = out.splitlines()[0]
    assert first.startswith("STATEFUL: 3 resource(s) replaced or deleted")
    callout = out.split("\n\n")[0]
    assert (
        "! REPLACE database-instance (gcp:sql/databaseInstance:DatabaseInstance): data loss"
        in callout
    )
    assert "forced by name" in callout and "protected" in callout
    # The database and user live on the instance: they go with it.
    assert "! REPLACE database-database" in callout and "! REPLACE database-user" in callout
    assert line_of(out, "database-instance").startswith("-/+ gcp:sql/databaseInstance")
    assert "REPLACE (forced by name)" in line_of(out, "database-instance")
    # The API only reads the new connection name: an update in place.
    assert "update in place" in line_of(out, "api-service")
    # Without the option the same report exits 0.
    assert diff_snapshot(monkeypatch, changes)[0] == 0


def test_a_new_tier_updates_the_instance_in_place(monkeypatch):
    status, out = diff_snapshot(
        monkeypatch, {"vidgo-infra:database": {"tier": "db-custom-2-7680"}}, "--fail-on-stateful"
    )
    assert status == 0
    assert "STATEFUL" not in out
    assert line_of(out, "database-instance").startswith("~ gcp:sql/databaseInstance")
    assert "update in place" in line_of(out, "database-instance")


def test_a_new_static_ip_name_is_an_address_change(monkeypatch):
    status, out = diff_snapshot(
        monkeypatch, {"vidgo-infra:edge": {"static_ip_name": "vidgo-ip-2"}}, "--fail-on-stateful"
    )
    assert status == 3
    assert "! REPLACE edge-ip (gcp:compute/globalAddress:GlobalAddress): address change" in out


def test_replacing_stateless_resources_is_marked_but_does_not_fail(monkeypatch):
    """A new domain replaces every certificate (new hosts, new names): no data is lost."""
    status, out = diff_snapshot(
        monkeypatch,
        {"vidgo-infra:domain": "vidgo.example", "vidgo-infra:dns_zone": None},
        "--fail-on-stateful",
    )
    assert status == 0, out
    assert "STATEFUL" not in out
    assert line_of(out, "edge-dns-cert-vidgo-ai").startswith("- gcp:certificatemanager/")
    assert "DELETE" in line_of(out, "edge-dns-cert-vidgo-ai")
    assert line_of(out, "edge-dns-cert-vidgo-example").startswith("+ ")


def test_deleting_the_media_bucket_is_called_out_first(tmp_path: Path):
    before = inventory.load(inventory.snapshot_path("prod"))
    after = yaml.safe_load(inventory.dump(before))
    del after["resources"]["media-bucket"]
    path_before, path_after = tmp_path / "before.yaml", tmp_path / "after.yaml"
    path_before.write_text(inventory.dump(before))
    path_after.write_text(inventory.dump(after))
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["diff", str(path_before), str(path_after), "--fail-on-stateful"])
    assert status == 3
    assert (
        out.getvalue()
        .splitlines()[1]
        .startswith("  ! DELETE media-bucket (gcp:storage/bucket:Bucket): data loss")
    )
    assert "- gcp:storage/bucket:Bucket  media-bucket  DELETE" in out.getvalue()


def test_paths_under_ignore_changes_change_nothing_at_up():
    before = inventory.load(inventory.snapshot_path("prod"))
    after = yaml.safe_load(inventory.dump(before))
    after["resources"]["api-service"]["inputs"]["template"]["containers"][0]["image"] = "x:2"
    (action,) = replacements.actions(diff.compare(before, after), before, after)
    assert action.kind == "none"


@pytest.mark.parametrize(
    ("type_", "path", "replaces"),
    [
        (SQL_INSTANCE, "name", True),
        (SQL_INSTANCE, "settings.tier", False),
        (SQL_INSTANCE, "databaseVersion", False),
        (REDIS, "authEnabled", False),
        (REDIS, "transitEncryptionMode", True),
        (BUCKET, "location", True),
        (CLASSIC_CERTIFICATE, "managed.domains[0]", True),
        (CLOUD_RUN_SERVICE, "template.containers[0].image", False),
        (URL_MAP, "noSuchProperty", None),
    ],
)
def test_force_new_comes_from_the_provider_schema(type_, path, replaces):
    assert replacements.forces_replacement(type_, path) is replaces


def test_comparing_two_stacks_marks_nothing_as_replaced():
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["diff", "prod", "staging", "--fail-on-stateful"]) == 0
    assert "STATEFUL" not in out.getvalue() and "REPLACE" not in out.getvalue()


def test_the_pull_request_summary_fails_on_stateful_loss():
    workflow = yaml.safe_load(Path(".github/workflows/pull-request.yml").read_text())
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any("vidgo-infra diff" in run and "--fail-on-stateful" in run for run in runs)
