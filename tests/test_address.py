"""`vidgo-infra dns STACK` while the first `pulumi up` runs: the IP comes from Google by name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from vidgo_infra import cli, outputs

IP = "198.51.100.7"  # RFC 5737 documentation address
GCLOUD_PROD = [
    "gcloud",
    "compute",
    "addresses",
    "describe",
    "vidgo-ip",
    "--global",
    "--project",
    "vidgo-ai-prod",
    "--format=value(address)",
]


def dns_cli(argv: list[str], runner) -> int:
    """The command as the CLI runs it in this checkout, with `pulumi` and `gcloud` as `runner`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outputs, "run_command", lambda command, cwd=None: runner(command))
        return cli.main(["-C", str(ROOT), "dns", *argv])


def records(out: str) -> list[list[str]]:
    """The rows of the records table: type A and four cells."""
    rows = [line.split() for line in out.splitlines()]
    return [row for row in rows if len(row) == 4 and row[0] == "A" and row[3].isdigit()]


def no_outputs_yet(gcloud_result):
    commands = []

    def runner(command):
        commands.append(list(command))
        if command[0] == "pulumi":
            return subprocess.CompletedProcess(command, 0, "{}\n", "")  # up still running
        return gcloud_result(command)

    return runner, commands


def test_without_outputs_the_records_carry_the_address_google_holds(capsys):
    runner, commands = no_outputs_yet(lambda c: subprocess.CompletedProcess(c, 0, f"{IP}\n", ""))
    assert dns_cli(["prod"], runner) == 0
    assert commands[1] == GCLOUD_PROD
    out, err = capsys.readouterr()
    assert f"load balancer IP {IP}" in out
    assert records(out) == [["A", "@", IP, "600"], ["A", "www", IP, "600"], ["A", "api", IP, "600"]]
    assert "No stack outputs yet" in err


def test_staging_asks_its_own_project_and_names_its_records_in_the_shared_zone(capsys):
    runner, commands = no_outputs_yet(lambda c: subprocess.CompletedProcess(c, 0, f"{IP}\n", ""))
    assert dns_cli(["staging"], runner) == 0
    assert commands[1][commands[1].index("--project") + 1] == "vidgo-ai-staging"
    out = capsys.readouterr().out
    assert records(out) == [["A", "staging", IP, "600"], ["A", "api.staging", IP, "600"]]


def test_outputs_with_a_static_ip_are_used_as_they_are():
    outputs = (Path(__file__).parent / "fixtures" / "outputs-prod.json").read_text()
    commands = []

    def deployed(command):
        commands.append(list(command))
        return subprocess.CompletedProcess(command, 0, outputs, "")

    assert dns_cli(["prod"], deployed) == 0
    assert [c[0] for c in commands] == ["pulumi"]


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (lambda c: subprocess.CompletedProcess(c, 1, "", "ERROR: not found"), "try again shortly"),
        (lambda c: subprocess.CompletedProcess(c, 0, "pending\n", ""), "not an IPv4 address"),
    ],
)
def test_no_address_yet_is_a_clear_error(capsys, result, message):
    runner, _ = no_outputs_yet(result)
    assert dns_cli(["prod"], runner) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_gcloud_missing_says_what_to_do(capsys):
    def missing(command):
        raise FileNotFoundError(command[0])

    runner, _ = no_outputs_yet(missing)
    assert dns_cli(["prod"], runner) == 2
    assert "gcloud CLI is not installed" in capsys.readouterr().err
