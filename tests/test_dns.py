"""`vidgo-infra dns`: the GoDaddy records from saved outputs, and --check with fakes, no network."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests import live_site
from tests.conftest import ROOT
from vidgo_infra import cli
from vidgo_infra import dns as dns_command
from vidgo_infra.outputs import parse as parse_outputs

FIXTURES = Path(__file__).parent / "fixtures"
PROD_OUTPUTS = FIXTURES / "outputs-prod.json"
STAGING_OUTPUTS = FIXTURES / "outputs-staging.json"
PROD_IP = "198.51.100.20"
STAGING_IP = "198.51.100.30"
PROD_HOSTS = ("vidgo.ai", "www.vidgo.ai", "api.vidgo.ai")  # the order the program exports
PARKING_IP = "192.0.2.80"  # stands in for the address GoDaddy's parked pages answer on


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve or connect fails the test instead of reaching the network."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the dns tests must not use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)


def dns_cli(argv: list[str], runner: Any = None) -> int:
    """The command as the CLI runs it (in this checkout), with `pulumi` replaced by `runner`."""
    if runner is None:
        return cli.main(["-C", str(ROOT), "dns", *argv])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dns_command.outputs, "run_command", lambda command, cwd=None: runner(command))
        return cli.main(["-C", str(ROOT), "dns", *argv])


def table_rows(out: str) -> list[list[str]]:
    """The rows under the Type/Name/Value/TTL header, split into cells."""
    lines = out.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.split() == ["Type", "Name", "Value", "TTL"]
    )
    rows = []
    for line in lines[start + 2 :]:  # past the header and its rule
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def section(out: str, header: str) -> list[str]:
    """The indented report lines under the line starting with `header`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        body.append(line)
    return body


def line_for(lines: list[str], name: str) -> list[str]:
    """The report lines about exactly `name` (so vidgo.ai does not match api.vidgo.ai)."""
    return [line for line in lines if line.split()[1] == name]


def steps_of(out: str) -> tuple[str, str]:
    """The steps as printed, and as prose with the line wrapping undone."""
    steps = out.split("Steps at GoDaddy:")[1]
    return steps, " ".join(steps.split())


def write_outputs(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    outputs = json.loads(PROD_OUTPUTS.read_text())
    change(outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


# --- the records and steps -----------------------------------------------------------------


def test_prod_records_are_the_apex_api_and_www_on_the_static_ip(capsys):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS)]) == 0
    assert table_rows(capsys.readouterr().out) == [
        ["A", "@", PROD_IP, "600"],
        ["A", "www", PROD_IP, "600"],
        ["A", "api", PROD_IP, "600"],
    ]


def test_staging_records_are_named_inside_the_vidgo_ai_zone(capsys):
    assert dns_cli(["staging", "--outputs", str(STAGING_OUTPUTS)]) == 0
    out = capsys.readouterr().out
    assert table_rows(out) == [
        ["A", "staging", STAGING_IP, "600"],
        ["A", "api.staging", STAGING_IP, "600"],
    ]
    assert "Domains → vidgo.ai → DNS" in out


def test_prod_steps_edit_the_apex_record_and_clear_what_blocks_the_certificate(capsys):
    dns_cli(["prod", "--outputs", str(PROD_OUTPUTS)])
    printed, steps = steps_of(capsys.readouterr().out)
    assert "My Products → Domains → vidgo.ai → DNS" in steps
    assert "Edit the existing A record named @" in steps
    assert "do not add a second one" in steps
    assert "Delete GoDaddy's parking records" in steps
    assert "every AAAA record" in steps
    # The CAA values are printed on lines of their own, to be typed exactly.
    assert '\n      CAA  @  0 issue "pki.goog"\n' in printed
    assert '\n      CAA  @  0 issue "letsencrypt.org"\n' in printed
    assert "15 to 60 minutes" in steps
    assert "`pulumi up` already attached the certificate to the HTTPS proxy" in steps
    assert "vidgo-infra dns prod --check" in steps
    assert "curl https://api.vidgo.ai/health" in steps


def test_staging_steps_do_not_send_the_operator_to_productions_apex_record(capsys):
    dns_cli(["staging", "--outputs", str(STAGING_OUTPUTS)])
    _, steps = steps_of(capsys.readouterr().out)
    assert "named @" not in steps
    assert "parked page is an A record on @" not in steps
    assert "every AAAA record on staging, api.staging" in steps
    assert "Add an A record named api.staging: Value 198.51.100.30, TTL 600 seconds" in steps


def a_records_only(outputs):
    # The CNAMEs that come first are vidgo_infra/cutover.py's (tests/test_cutover.py).
    return {**outputs, "dns_records": [r for r in outputs["dns_records"] if r["type"] == "A"]}


def test_the_programs_own_outputs_meet_the_dns_contract(prod, staging):
    # The program run under mocks (tests/conftest.py): the address is a stand-in, the shape is real.
    prod_records = parse_outputs(a_records_only(prod.outputs)).records
    assert [r.name for r in prod_records] == ["@", "www", "api"]
    assert [r.name for r in parse_outputs(a_records_only(staging.outputs)).records] == [
        "staging",
        "api.staging",
    ]


# --- reading the outputs -------------------------------------------------------------------


def test_outputs_come_from_pulumi_stack_output_for_the_named_stack(capsys):
    commands = []

    def runner(command):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, PROD_OUTPUTS.read_text(), "")

    assert dns_cli(["prod"], runner=runner) == 0
    assert commands == [
        ["pulumi", "stack", "output", "--json", "--show-secrets=false", "--stack", "prod"]
    ]
    assert table_rows(capsys.readouterr().out)[0] == ["A", "@", PROD_IP, "600"]


def test_pulumi_cli_not_on_path_is_a_clear_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no pulumi anywhere
    assert dns_cli(["prod"]) == 2
    captured = capsys.readouterr()
    assert "the pulumi CLI is not installed or not on PATH" in captured.err
    assert "--outputs FILE" in captured.err
    assert captured.out == ""


def test_pulumi_failing_shows_its_message(capsys):
    def runner(command):
        return subprocess.CompletedProcess(command, 255, "", "error: no stack named 'prod' found")

    assert dns_cli(["prod"], runner=runner) == 2
    err = capsys.readouterr().err
    assert "failed (exit 255)" in err
    assert "no stack named 'prod' found" in err


@pytest.mark.parametrize("key", ["static_ip", "dns_zone", "dns_records", "hosts"])
def test_missing_output_is_named_and_points_at_pulumi_up(capsys, tmp_path, key):
    path = write_outputs(tmp_path, lambda outputs: outputs.pop(key))
    assert dns_cli(["prod", "--outputs", str(path)]) == 2
    captured = capsys.readouterr()
    assert f"the stack outputs have no {key}:" in captured.err
    assert "has `pulumi up` run for this stack" in captured.err
    assert captured.out == ""


def test_a_stack_never_deployed_says_google_has_no_address_yet(capsys):
    def runner(command):
        if command[0] == "gcloud":  # no outputs: the address is looked up (tests/test_address.py)
            return subprocess.CompletedProcess(command, 1, "", "ERROR: ... was not found")
        return subprocess.CompletedProcess(command, 0, "{}\n", "")

    assert dns_cli(["prod"], runner=runner) == 2
    assert "Google has no address vidgo-ip in vidgo-ai-prod" in capsys.readouterr().err


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda outputs: outputs.__setitem__(key, value)


def _set_record(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda outputs: outputs["dns_records"][index].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("static_ip", "[secret]"), "static_ip is '[secret]', not an IPv4 address"),
        (_set_record(2, "value", PARKING_IP), "dns_records[2] (api) has value"),
        (_set_record(0, "ttl", "600"), "dns_records[0].ttl is '600'"),
        (_set_record(2, "type", "CNAME"), "dns_records[2] is a CNAME record"),
        (_set("hosts", ["vidgo.ai", "api.vidgo.ai", "www.vidgo.ai"]), "do not match dns_records"),
        (_set("dns_records", []), "dns_records is [], not a non-empty list"),
    ],
)
def test_outputs_that_break_the_contract_are_refused(capsys, tmp_path, change, message):
    assert dns_cli(["prod", "--outputs", str(write_outputs(tmp_path, change))]) == 2
    assert message in capsys.readouterr().err


def test_outputs_file_that_is_not_json_or_missing(capsys, tmp_path):
    bad = tmp_path / "outputs.json"
    bad.write_text("Current stack outputs (5):")
    assert dns_cli(["prod", "--outputs", str(bad)]) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert dns_cli(["prod", "--outputs", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--server", "192.0.2.53"], "--server: used with --check"),
        (["--check", "--server", "dns.google"], "'dns.google' is not an IP address"),
    ],
)
def test_server_option_usage_errors(capsys, argv, message):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS), *argv]) == 2
    assert message in capsys.readouterr().err


# --- --check: the live-site checker's DNS and certificate checks, on 127.0.0.1 ---------------


@pytest.fixture
def local_site(monkeypatch, tmp_path):
    """Undo the no-network guard (these talk to 127.0.0.1 only) and serve prod's hosts."""
    monkeypatch.undo()
    ca = live_site.certificate_authority()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    started = []

    def run(a: dict[str, list[str]], aaaa=None, cert_hosts=PROD_HOSTS) -> list[str]:
        resolver = live_site.DnsServer(a, aaaa)
        https = live_site.serve(BaseHTTPRequestHandler, live_site.tls_context(ca, [*cert_hosts]))
        started.extend([resolver, https])
        return ["prod", "--outputs", str(PROD_OUTPUTS), "--check", "--server", resolver.address,
                "--ca-file", str(ca_file), "--timeout", "3",
                "--connect", f"127.0.0.1:{https.server_address[1]}"]  # fmt: skip

    yield run
    for thing in started:
        (thing.shutdown() if hasattr(thing, "shutdown") else thing.close())


def rows(out: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in out.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=3)
        if parts[0] in ("ok", "FAIL", "--", "??") and len(parts) == 4:
            found[(parts[1], parts[2])] = parts[0]
    return found


def test_check_passes_when_every_record_points_at_the_ip_and_every_cert_is_valid(
    local_site, capsys
):
    argv = local_site({host: [PROD_IP] for host in PROD_HOSTS})
    assert dns_cli(argv) == 0
    out = capsys.readouterr().out
    assert set(rows(out).values()) == {"ok"} and len(rows(out)) == 2 * len(PROD_HOSTS)
    assert "Done: every record points at 198.51.100.20" in out


def test_a_parking_record_and_an_aaaa_record_are_named(local_site, capsys):
    a = {"vidgo.ai": [PARKING_IP], "www.vidgo.ai": [PROD_IP, PARKING_IP], "api.vidgo.ai": [PROD_IP]}
    argv = local_site(a, aaaa={"api.vidgo.ai": ["2001:db8::1"]})
    assert dns_cli(argv) == 1
    out = capsys.readouterr().out
    assert f"points elsewhere: {PARKING_IP}, not {PROD_IP}" in out
    assert f"also points at {PARKING_IP}: delete that A record" in out
    assert "has AAAA 2001:db8::1: delete it" in out
    assert "Not done: 3 of 3 records need attention" in out


def test_only_certificates_failing_does_not_blame_dns(local_site, capsys):
    argv = local_site({host: [PROD_IP] for host in PROD_HOSTS}, cert_hosts=["other.example"])
    assert dns_cli(argv) == 1
    out = capsys.readouterr().out
    assert "DNS is done; 3 of 3 hosts have no valid certificate yet" in out
    assert "records need attention" not in out


def test_a_name_that_does_not_exist_is_nxdomain(local_site, capsys):
    argv = local_site({"vidgo.ai": [PROD_IP], "www.vidgo.ai": [PROD_IP]})
    assert dns_cli(argv) == 1
    assert "does not resolve (no such name (NXDOMAIN))" in capsys.readouterr().out


def test_a_server_that_never_answers_is_exit_2_after_one_timeout(local_site, capsys):
    argv = local_site({})
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    argv[argv.index("--server") + 1] = f"127.0.0.1:{silent.getsockname()[1]}"
    argv[argv.index("--timeout") + 1] = "0.5"
    started = time.monotonic()
    try:
        assert dns_cli(argv) == 2
    finally:
        silent.close()
    assert time.monotonic() - started < 3
    out = capsys.readouterr().out
    assert out.count("no answer from DNS server") == len(PROD_HOSTS)


def test_check_options_without_check_are_refused(capsys):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS), "--ca-file", "x.pem"]) == 2
    assert "--ca-file: used with --check" in capsys.readouterr().err


def test_outputs_of_another_stack_are_refused(capsys):
    assert dns_cli(["staging", "--outputs", str(PROD_OUTPUTS)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "these are not the outputs of stack staging" in captured.err
    assert "staging.vidgo.ai, api.staging.vidgo.ai" in captured.err
