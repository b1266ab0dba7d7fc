"""`vidgo-infra dns STACK` while the first `pulumi up` runs: the IP and the CNAMEs come from Google
by the names the stack's code gives them (gcloud faked: no cloud account here)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from components.edge import certificate_manager_name
from tests.kit import FIXTURES, ROOT, config_with, linked_project, stack_file_text
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
LIST_AUTHORIZATIONS = ["gcloud", "certificate-manager", "dns-authorizations", "list",
                       "--location", "global", "--project"]  # fmt: skip
PROD_HOSTS = ["vidgo.ai", "www.vidgo.ai", "api.vidgo.ai"]
STAGING_HOSTS = ["staging.vidgo.ai", "api.staging.vidgo.ai"]


def value_for(host: str) -> str:
    return f"{host.replace('.', '-')}-5e6f.7.authorize.certificatemanager.goog."


def authorization(host: str, project: str = "vidgo-ai-prod", suffix: str = "-1a2b3c4") -> dict:
    """A DNS authorization as gcloud lists it: named as components/edge.py names it, plus the
    suffix Pulumi's autonaming adds, with the one CNAME Google asks for."""
    name = certificate_manager_name("edge", "dns-auth", host) + suffix
    return {
        "name": f"projects/{project}/locations/global/dnsAuthorizations/{name}",
        "domain": host,
        "type": "FIXED_RECORD",
        "dnsResourceRecord": {
            "name": f"_acme-challenge.{host}.",
            "type": "CNAME",
            "data": value_for(host),
        },
    }


def google(listing: list[dict], address: str = IP):
    """gcloud as Google would answer: the address, and the project's DNS authorizations."""

    def answer(command):
        if command[:4] == GCLOUD_PROD[:4]:
            return subprocess.CompletedProcess(command, 0, f"{address}\n", "")
        if command[: len(LIST_AUTHORIZATIONS)] == LIST_AUTHORIZATIONS:
            return subprocess.CompletedProcess(command, 0, json.dumps(listing), "")
        raise AssertionError(f"unexpected command {command}")

    return answer


def dns_cli(argv: list[str], runner, project: Path = ROOT) -> int:
    """The command as the CLI runs it, with `pulumi` and `gcloud` as `runner`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outputs, "run_command", lambda command, cwd=None: runner(command))
        return cli.main(["-C", str(project), "dns", *argv])


def records(out: str) -> list[list[str]]:
    """The rows of the records tables: type, name, value, TTL."""
    rows = [line.split() for line in out.splitlines()]
    return [row for row in rows if len(row) == 4 and row[0] in ("A", "CNAME")]


def no_outputs_yet(gcloud_result):
    commands = []

    def runner(command):
        commands.append(list(command))
        if command[0] == "pulumi":
            return subprocess.CompletedProcess(command, 0, "{}\n", "")  # up still running
        return gcloud_result(command)

    return runner, commands


def test_without_outputs_the_records_carry_what_google_holds(capsys):
    leftover = authorization("vidgo.ai")  # another program's authorization for the same domain
    leftover["name"] = leftover["name"].replace("edge-dns-auth", "old-dns-auth")
    leftover["dnsResourceRecord"]["data"] = "not-this.authorize.certificatemanager.goog."
    listing = [leftover, *(authorization(host) for host in PROD_HOSTS)]
    runner, commands = no_outputs_yet(google(listing))
    assert dns_cli(["prod"], runner) == 0
    assert commands[1] == GCLOUD_PROD
    assert commands[2] == [*LIST_AUTHORIZATIONS, "vidgo-ai-prod", "--format=json"]
    assert len(commands) == 3  # one listing for every host
    out, err = capsys.readouterr()
    assert f"load balancer IP {IP}" in out
    assert records(out) == [
        ["CNAME", "_acme-challenge", value_for("vidgo.ai").rstrip("."), "600"],
        ["CNAME", "_acme-challenge.www", value_for("www.vidgo.ai").rstrip("."), "600"],
        ["CNAME", "_acme-challenge.api", value_for("api.vidgo.ai").rstrip("."), "600"],
        ["A", "@", IP, "600"],
        ["A", "www", IP, "600"],
        ["A", "api", IP, "600"],
    ]
    assert "No stack outputs yet" in err and f"static IP {IP} and 3 CNAMEs read" in err


def test_staging_asks_its_own_project_and_names_its_records_in_the_shared_zone(capsys):
    listing = [authorization(host, "vidgo-ai-staging") for host in STAGING_HOSTS]
    runner, commands = no_outputs_yet(google(listing))
    assert dns_cli(["staging"], runner) == 0
    assert all(c[c.index("--project") + 1] == "vidgo-ai-staging" for c in commands[1:])
    out = capsys.readouterr().out
    assert records(out) == [
        ["CNAME", "_acme-challenge.staging", value_for("staging.vidgo.ai").rstrip("."), "600"],
        ["CNAME", "_acme-challenge.api.staging", value_for(STAGING_HOSTS[1]).rstrip("."), "600"],
        ["A", "staging", IP, "600"],
        ["A", "api.staging", IP, "600"],
    ]


def test_an_authorization_not_created_yet_says_to_try_again(capsys):
    listing = [authorization(host) for host in PROD_HOSTS[:2]]  # api's not there yet
    runner, _ = no_outputs_yet(google(listing))
    assert dns_cli(["prod"], runner) == 2
    captured = capsys.readouterr()
    assert "Google has no DNS authorization edge-dns-auth-api-vidgo-ai-…" in captured.err
    assert "for api.vidgo.ai in vidgo-ai-prod" in captured.err
    assert "try again shortly" in captured.err
    assert captured.out == ""


def test_two_authorizations_for_one_host_are_not_guessed_between(capsys):
    listing = [
        *(authorization(host) for host in PROD_HOSTS),
        authorization("vidgo.ai", suffix="-9f8e7d6"),
    ]
    runner, _ = no_outputs_yet(google(listing))
    assert dns_cli(["prod"], runner) == 2
    err = capsys.readouterr().err
    assert "Google has 2 DNS authorizations for vidgo.ai" in err
    assert "is `pulumi up` replacing one?" in err


def test_classic_certificates_ask_google_for_the_address_only(tmp_path, capsys):
    config, _ = config_with("staging", {"vidgo-infra:edge": {"certificates": "classic"}})
    project = linked_project(tmp_path / "classic", staging=stack_file_text(config))
    runner, commands = no_outputs_yet(google([]))
    assert dns_cli(["staging"], runner, project) == 0
    assert [c[:3] for c in commands[1:]] == [["gcloud", "compute", "addresses"]]
    assert [row[0] for row in records(capsys.readouterr().out)] == ["A", "A"]


def test_outputs_with_a_static_ip_are_used_as_they_are():
    outputs = (FIXTURES / "outputs-prod.json").read_text()
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
