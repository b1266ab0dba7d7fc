"""`vidgo-infra preview-guard` on samples shaped like `pulumi preview --json` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit import BUCKET, CLOUD_RUN_SERVICE, SECRET_VERSION, SQL_INSTANCE, STACK
from vidgo_infra.cli import main

PREFIX = f"urn:pulumi:prod::vidgo-infra::{STACK}$"
SQL_URN = f"{PREFIX}vidgo:platform:Database${SQL_INSTANCE}::database-instance"
VERSION_URN = (
    f"{PREFIX}vidgo:platform:AppSecrets${SECRET_VERSION}::app-secrets-sendgrid-api-key-version"
)
BUCKET_URN = f"{PREFIX}vidgo:platform:Media${BUCKET}::media-bucket"
SERVICE_URN = f"{PREFIX}vidgo:platform:CloudRunService${CLOUD_RUN_SERVICE}::api-service"


def step(op: str, urn: str, **extra) -> dict:
    type_ = urn.split("::")[2].rsplit("$", 1)[-1]
    return {"op": op, "urn": urn, "newState": {"urn": urn, "type": type_}, **extra}


def preview(*steps: dict) -> dict:
    return {
        "config": {"gcp:project": "vidgo-ai-prod"},
        "steps": [step("same", SERVICE_URN), *steps],
        "changeSummary": {},
    }


def guard(tmp_path: Path, document: dict, *args: str) -> int:
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(document))
    return main(["preview-guard", str(path), *args])


def test_a_database_replacement_fails_the_deploy_and_says_how_to_confirm(tmp_path, capsys):
    document = preview(
        step("replace", SQL_URN, replaceReasons=["databaseVersion"], diffReasons=["x"])
    )
    assert guard(tmp_path, document) == 1
    out = capsys.readouterr().out
    assert "BLOCKED  replace database-instance" in out
    assert "databaseVersion" in out
    assert "Confirm-replace: database-instance" in out


@pytest.mark.parametrize("op", ["create-replacement", "delete-replaced", "delete"])
def test_every_step_that_removes_a_stateful_resource_counts(tmp_path, op):
    assert guard(tmp_path, preview(step(op, BUCKET_URN))) == 1


def test_a_secret_version_rotation_and_service_updates_pass(tmp_path, capsys):
    # A new secret value replaces the version (versions are immutable): the normal rotation.
    document = preview(step("replace", VERSION_URN), step("update", SERVICE_URN))
    assert guard(tmp_path, document) == 0
    assert "No stateful resource" in capsys.readouterr().out


def test_updates_in_place_of_stateful_resources_pass(tmp_path):
    assert guard(tmp_path, preview(step("update", SQL_URN), step("create", BUCKET_URN))) == 0


def test_a_confirmation_by_name_or_urn_lets_exactly_that_resource_through(tmp_path):
    document = preview(step("replace", SQL_URN), step("delete", BUCKET_URN))
    assert guard(tmp_path, document, "--confirm", "database-instance") == 1
    assert guard(tmp_path, document, "--confirm", "database-instance", "--confirm", BUCKET_URN) == 0


def test_confirmations_come_from_the_commits_trailers(tmp_path, capsys):
    message = tmp_path / "message"
    message.write_text(
        "Move the database to PostgreSQL 16\n\nWhy: ...\n\nConfirm-replace: database-instance\n"
    )
    document = preview(step("replace", SQL_URN))
    assert guard(tmp_path, document, "--commit-message", str(message)) == 0
    assert "confirmed  replace database-instance" in capsys.readouterr().out
    message.write_text("Move the database\n\nConfirm-replace: media-bucket\n")
    assert guard(tmp_path, document, "--commit-message", str(message)) == 1


def test_the_type_is_read_from_the_urn_when_the_step_has_no_state(tmp_path):
    assert guard(tmp_path, {"steps": [{"op": "delete", "urn": SQL_URN}]}) == 1


def test_something_that_is_not_a_preview_is_an_error_not_a_pass(tmp_path, capsys):
    assert guard(tmp_path, {"diagnostics": []}) == 2
    assert "not the output of `pulumi preview --json`" in capsys.readouterr().err


# --- exit codes: 0 allowed, 1 blocked, 2 could not check --------------------------------------

ALLOWED, BLOCKED, COULD_NOT_CHECK = 0, 1, 2


def read_from_stdin(monkeypatch, text: str, *args: str) -> int:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    return main(["preview-guard", "-", *args])


def test_stdin_is_read_with_a_dash_and_gets_the_same_verdicts(monkeypatch, capsys):
    replaced = json.dumps(preview(step("replace", SQL_URN)))
    assert read_from_stdin(monkeypatch, replaced) == BLOCKED
    assert "BLOCKED  replace database-instance" in capsys.readouterr().out
    assert read_from_stdin(monkeypatch, replaced, "--confirm", "database-instance") == ALLOWED
    assert read_from_stdin(monkeypatch, json.dumps(preview())) == ALLOWED


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "stdin is not JSON"),
        ("", "stdin is not JSON"),
        ('{"steps": "none"}', "stdin has no list of `steps`"),
        ('{"steps": [1, 2]}', "stdin has no list of `steps`"),
        ("[]", "stdin has no list of `steps`"),
    ],
)
def test_malformed_input_is_could_not_check_in_one_line(monkeypatch, capsys, text, says):
    assert read_from_stdin(monkeypatch, text) == COULD_NOT_CHECK
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"vidgo-infra preview-guard: {says}")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_a_missing_preview_or_commit_message_is_could_not_check_not_blocked(tmp_path, capsys):
    document = preview(step("replace", SQL_URN))
    assert main(["preview-guard", str(tmp_path / "absent.json")]) == COULD_NOT_CHECK
    missing_message = ["--commit-message", str(tmp_path / "absent.txt")]
    assert guard(tmp_path, document, *missing_message) == COULD_NOT_CHECK
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert all(line.startswith("vidgo-infra preview-guard: cannot read ") for line in err)
    assert all(line.endswith("could not check") for line in err)


def test_a_commit_message_can_come_from_stdin(tmp_path, monkeypatch):
    import io

    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview(step("replace", SQL_URN))))
    monkeypatch.setattr("sys.stdin", io.StringIO("Move\n\nConfirm-replace: database-instance\n"))
    assert main(["preview-guard", str(path), "--commit-message", "-"]) == ALLOWED


def test_stdin_cannot_be_both_inputs(capsys):
    assert main(["preview-guard", "-", "--commit-message", "-"]) == COULD_NOT_CHECK
    assert "cannot both be read from stdin" in capsys.readouterr().err
