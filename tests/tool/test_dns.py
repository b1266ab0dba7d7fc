"""`vidgo-infra dns`: the GoDaddy records from saved outputs (CNAMEs first), and --check against
a DNS server and an HTTPS server on 127.0.0.1: each phase of the cut-over with its exit code."""

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
from tests.kit import FIXTURES, ROOT
from vidgo_infra import cli
from vidgo_infra import dns as dns_command

PROD_OUTPUTS = FIXTURES / "outputs-prod.json"
STAGING_OUTPUTS = FIXTURES / "outputs-staging.json"
PROD_IP = "198.51.100.20"
STAGING_IP = "198.51.100.30"
PROD_HOSTS = ("vidgo.ai", "www.vidgo.ai", "api.vidgo.ai")  # the order the program exports
PARKING_IP = "192.0.2.80"  # stands in for the address GoDaddy's parked pages answer on
ACME = {  # _acme-challenge.HOST → the CNAME value the fixture's DNS authorization gave
    f"{record['name']}.vidgo.ai": record["value"]
    for record in json.loads(PROD_OUTPUTS.read_text())["dns_records"]
    if record["type"] == "CNAME"
}


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
    """The rows of every Type/Name/Value/TTL table, in the order printed, split into cells."""
    rows = [line.split() for line in out.splitlines()]
    return [row for row in rows if len(row) == 4 and row[0] in ("A", "CNAME")]


def prose(out: str) -> str:
    """The printed steps with the line wrapping undone."""
    return " ".join(out.split())


def a_records_only(outputs):
    """The outputs of a stack with classic certificates: no CNAMEs."""
    return {**outputs, "dns_records": [r for r in outputs["dns_records"] if r["type"] == "A"]}


def write_outputs(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    outputs = json.loads(PROD_OUTPUTS.read_text())
    change(outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


# --- the records and steps -----------------------------------------------------------------


def test_prod_prints_the_cnames_first_then_the_a_records_on_the_static_ip(capsys):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS)]) == 0
    assert table_rows(capsys.readouterr().out) == [
        ["CNAME", "_acme-challenge", ACME["_acme-challenge.vidgo.ai"], "600"],
        ["CNAME", "_acme-challenge.www", ACME["_acme-challenge.www.vidgo.ai"], "600"],
        ["CNAME", "_acme-challenge.api", ACME["_acme-challenge.api.vidgo.ai"], "600"],
        ["A", "@", PROD_IP, "600"],
        ["A", "www", PROD_IP, "600"],
        ["A", "api", PROD_IP, "600"],
    ]


def test_staging_records_are_named_inside_the_vidgo_ai_zone(capsys):
    assert dns_cli(["staging", "--outputs", str(STAGING_OUTPUTS)]) == 0
    out = capsys.readouterr().out
    assert [row[:2] for row in table_rows(out)] == [
        ["CNAME", "_acme-challenge.staging"],
        ["CNAME", "_acme-challenge.api.staging"],
        ["A", "staging"],
        ["A", "api.staging"],
    ]
    assert [row[2] for row in table_rows(out)][2:] == [STAGING_IP, STAGING_IP]
    assert "Domains → vidgo.ai → DNS" in out


def test_prod_steps_wait_for_the_certificates_between_the_cnames_and_the_a_records(capsys):
    dns_cli(["prod", "--outputs", str(PROD_OUTPUTS)])
    out = capsys.readouterr().out
    steps = prose(out)
    assert out.index("_acme-challenge.api") < out.index("Wait until every certificate is ACTIVE")
    assert out.index("Wait until every certificate is ACTIVE") < out.index(f"A     @     {PROD_IP}")
    assert "Keep them for good" in steps
    assert "`vidgo-infra dns prod --check` exits 3 (ready to move the A records)" in steps
    assert "edit each existing A record (the parked @ one included) rather than adding a" in steps
    assert "delete every AAAA record on these names" in steps
    assert "If Forwarding is set for the domain, remove it" in steps
    assert "If www or api has a CNAME record" in steps
    # The CAA values are printed on lines of their own, to be typed exactly.
    assert '\n     CAA  @  0 issue "pki.goog"\n' in out
    assert '\n     CAA  @  0 issue "letsencrypt.org"\n' in out
    assert "`vidgo-infra dns prod --check` exits 0" in steps
    assert "curl https://api.vidgo.ai/health" in steps


def test_staging_steps_do_not_send_the_operator_to_productions_apex_record(capsys):
    dns_cli(["staging", "--outputs", str(STAGING_OUTPUTS)])
    steps = prose(capsys.readouterr().out)
    assert "Do @ last" not in steps
    assert "Forwarding" not in steps
    assert "If staging or api.staging has a CNAME record" in steps


def test_classic_certificates_keep_the_old_order(capsys, tmp_path):
    path = write_outputs(tmp_path, lambda o: o.update(a_records_only(o)))
    assert dns_cli(["prod", "--outputs", str(path)]) == 0
    out = capsys.readouterr().out
    assert [row[0] for row in table_rows(out)] == ["A", "A", "A"]
    steps = prose(out)
    assert "Wait until every certificate is ACTIVE" not in steps
    assert "15-60 minutes in which HTTPS fails the handshake" in steps
    assert "also stops Google issuing a classic certificate" in steps


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
    assert table_rows(capsys.readouterr().out)[3] == ["A", "@", PROD_IP, "600"]


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
        if command[0] == "gcloud":  # no outputs: the address is looked up (test_address.py)
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
        (_set_record(5, "value", PARKING_IP), "dns_records[5] (api) has value"),
        (_set_record(0, "ttl", "600"), "dns_records[0].ttl is '600'"),
        (_set_record(5, "type", "CNAME"), "dns_records[5] is a CNAME on 'api', not on an"),
        (_set_record(3, "type", "TXT"), "dns_records[3] is a TXT record; expected CNAME or A"),
        (_set_record(1, "value", "https://example.com/x"), "(_acme-challenge.www) has value"),
        (_set_record(1, "name", "_acme-challenge.media"), "not one per host"),
        (_set("hosts", ["vidgo.ai", "api.vidgo.ai", "www.vidgo.ai"]), "do not match dns_records"),
        (_set("dns_records", []), "dns_records is [], not a non-empty list"),
        (
            lambda o: o.__setitem__("dns_records", o["dns_records"][3:] + o["dns_records"][:3]),
            "the CNAMEs go in first",
        ),
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
        (["--google"], "--google: used with --check"),
        (["--check", "--server", "dns.google"], "'dns.google' is not an IP address"),
    ],
)
def test_server_option_usage_errors(capsys, argv, message):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS), *argv]) == 2
    assert message in capsys.readouterr().err


# --- --check: the cut-over's phases, against servers on 127.0.0.1 ---------------------------


@pytest.fixture
def local_site(monkeypatch, tmp_path):
    """Undo the no-network guard (these talk to 127.0.0.1 only) and serve prod's hosts: a DNS
    server with the given records, and the load balancer (HTTPS, a test CA) at --connect."""
    monkeypatch.undo()
    ca = live_site.certificate_authority()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    started = []

    def run(a: dict[str, list[str]], aaaa=None, cname=None, cert_hosts=PROD_HOSTS,
            outputs=PROD_OUTPUTS) -> list[str]:  # fmt: skip
        resolver = live_site.DnsServer(a, aaaa, ACME if cname is None else cname)
        https = live_site.serve(BaseHTTPRequestHandler, live_site.tls_context(ca, [*cert_hosts]))
        started.extend([resolver, https])
        return ["prod", "--outputs", str(outputs), "--check", "--server", resolver.address,
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


def detail(out: str, check: str, name: str) -> str:
    [line] = [
        line for line in out.splitlines() if re.search(rf"  {check}  +{re.escape(name)}  ", line)
    ]
    return line.split(f"{name}  ", 1)[1].strip()


MOVED = {host: [PROD_IP] for host in PROD_HOSTS}
PARKED = {host: [PARKING_IP] for host in PROD_HOSTS}  # GoDaddy's records, before the move
CNAME_CHECK = "CNAME for the certificate"


def test_done_when_every_cname_and_a_record_is_in_and_every_certificate_served(local_site, capsys):
    assert dns_cli(local_site(MOVED)) == 0
    out = capsys.readouterr().out
    assert set(rows(out).values()) == {"ok"} and len(rows(out)) == 3 * len(PROD_HOSTS)
    assert "Phase: done (exit 0): every record points at 198.51.100.20" in out
    assert "keep the CNAMEs, renewals use them" in out


def test_a_cname_missing_is_named_and_is_exit_1(local_site, capsys):
    cnames = {**ACME}
    del cnames["_acme-challenge.www.vidgo.ai"]
    assert dns_cli(local_site(PARKED, cname=cnames)) == 1
    out = capsys.readouterr().out
    assert rows(out)[(CNAME_CHECK, "_acme-challenge.www.vidgo.ai")] == "FAIL"
    assert detail(out, CNAME_CHECK, "_acme-challenge.www.vidgo.ai") == (
        "CNAME missing: no such name (NXDOMAIN)"
    )
    assert rows(out)[(CNAME_CHECK, "_acme-challenge.api.vidgo.ai")] == "ok"
    assert "Phase: add the CNAMEs (exit 1): 1 of 3 _acme-challenge CNAMEs missing or wrong" in out


def test_a_cname_on_a_name_with_other_records_only_is_missing(local_site, capsys):
    cnames = {**ACME}
    del cnames["_acme-challenge.vidgo.ai"]
    # A TXT-style leftover: the name exists (here with an address), but has no CNAME.
    argv = local_site({**PARKED, "_acme-challenge.vidgo.ai": [PARKING_IP]}, cname=cnames)
    assert dns_cli(argv) == 1
    out = capsys.readouterr().out
    assert detail(out, CNAME_CHECK, "_acme-challenge.vidgo.ai").startswith(
        "CNAME missing: no CNAME record"
    )


def test_a_cname_to_another_value_is_wrong_and_is_exit_1(local_site, capsys):
    other = "f0e1d2c3-staging-0.4.authorize.certificatemanager.goog"
    argv = local_site(MOVED, cname={**ACME, "_acme-challenge.api.vidgo.ai": other})
    assert dns_cli(argv) == 1  # even with every A record moved: a renewal would fail
    out = capsys.readouterr().out
    assert detail(out, CNAME_CHECK, "_acme-challenge.api.vidgo.ai") == (
        f"CNAME wrong: points to {other}, not {ACME['_acme-challenge.api.vidgo.ai']}"
    )
    assert "Phase: add the CNAMEs (exit 1)" in out


def test_cnames_in_and_certificates_not_served_yet_is_waiting(local_site, capsys):
    assert dns_cli(local_site(PARKED, cert_hosts=["other.example"])) == 1
    out = capsys.readouterr().out
    assert "Phase: wait for the certificates (exit 1): every CNAME is in; 3 of 3" in out
    assert "leave the A records until then" in out


def test_ready_to_move_the_a_records_is_exit_3(local_site, capsys):
    """Every CNAME in, the load balancer serves every certificate at the static IP, and the
    A records still point at GoDaddy's parked pages: the operator's turn."""
    assert dns_cli(local_site(PARKED)) == 3
    out = capsys.readouterr().out
    assert {rows(out)[(CNAME_CHECK, name)] for name in ACME} == {"ok"}
    assert {rows(out)[("certificate valid", host)] for host in PROD_HOSTS} == {"ok"}
    assert {rows(out)[("resolves to the static IP", host)] for host in PROD_HOSTS} == {"FAIL"}
    assert "Phase: ready to move the A records (exit 3)" in out
    assert f"point the A records at {PROD_IP} now" in out


def test_a_records_part_way_moved_is_exit_1(local_site, capsys):
    assert dns_cli(local_site({**PARKED, "api.vidgo.ai": [PROD_IP]})) == 1
    assert "Phase: A records moving (exit 1): 2 of 3 A records need attention" in (
        capsys.readouterr().out
    )


def test_json_lines_carry_the_phase(local_site, capsys):
    assert dns_cli([*local_site(PARKED), "--json"]) == 3
    *results, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert summary["phase"] == "ready to move the A records" and summary["exit_status"] == 3
    assert {r["check"] for r in results} == {CNAME_CHECK, "resolves to the static IP",
                                             "certificate valid"}  # fmt: skip


# --- --check --google: the certificates' states at Google --------------------------------------


def certificate_manager(domains_state: dict[str, dict]) -> list[dict]:
    return [{"name": f"projects/vidgo-ai-prod/locations/global/certificates/c{i}",
             "managed": {"domains": [host], **state}}
            for i, (host, state) in enumerate(domains_state.items())]  # fmt: skip


def gcloud_answering(listing, seen):
    def runner(command):
        seen.append(list(command))
        return subprocess.CompletedProcess(command, 0, json.dumps(listing), "")

    return runner


def test_google_states_show_why_a_certificate_failed(local_site, capsys):
    mismatch = {
        "state": "PROVISIONING",
        "authorizationAttemptInfo": [{
            "domain": "api.vidgo.ai", "state": "FAILED", "failureReason": "CONFIG",
            "troubleshooting": {"issues": ["CNAME_MISMATCH"]},
        }],
    }  # fmt: skip
    listing = certificate_manager(
        {"vidgo.ai": {"state": "ACTIVE"}, "www.vidgo.ai": {"state": "ACTIVE"},
         "api.vidgo.ai": mismatch}
    )  # fmt: skip
    seen = []
    argv = [*local_site(PARKED), "--google"]
    assert dns_cli(argv, runner=gcloud_answering(listing, seen)) == 1
    out = capsys.readouterr().out
    assert seen == [["gcloud", "certificate-manager", "certificates", "list", "--location",
                     "global", "--project", "vidgo-ai-prod", "--format=json"]]  # fmt: skip
    google = "certificate ACTIVE at Google"
    assert rows(out)[(google, "vidgo.ai")] == "ok"
    assert detail(out, google, "api.vidgo.ai") == "PROVISIONING: CONFIG: CNAME_MISMATCH"
    # Google's word decides the phase, though the test load balancer serves every certificate.
    assert "Phase: wait for the certificates (exit 1)" in out


def test_google_all_active_and_nothing_moved_is_ready(local_site, capsys):
    listing = certificate_manager({host: {"state": "ACTIVE"} for host in PROD_HOSTS})
    argv = [*local_site(PARKED), "--google"]
    assert dns_cli(argv, runner=gcloud_answering(listing, [])) == 3


def test_gcloud_failing_is_could_not_check_once(local_site, capsys):
    def failing(command):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: (gcloud) not logged in")

    assert dns_cli([*local_site(MOVED), "--google"], runner=failing) == 2
    out = capsys.readouterr().out
    assert out.count("not logged in") == 1
    assert "Could not check" in out


# --- classic certificates: the A records first ---------------------------------------------


@pytest.fixture
def classic_outputs(tmp_path) -> Path:
    return write_outputs(tmp_path, lambda o: o.update(a_records_only(o)))


def test_classic_nothing_moved_is_ready_to_move(local_site, classic_outputs, capsys):
    argv = local_site(PARKED, cert_hosts=["other.example"], outputs=classic_outputs)
    assert dns_cli(argv) == 3
    out = capsys.readouterr().out
    assert CNAME_CHECK not in out
    assert "Google issues the classic certificates 15 to 60 minutes later" in out


def test_classic_a_parking_record_and_an_aaaa_record_are_named(local_site, classic_outputs, capsys):
    a = {"vidgo.ai": [PARKING_IP], "www.vidgo.ai": [PROD_IP, PARKING_IP], "api.vidgo.ai": [PROD_IP]}
    argv = local_site(a, aaaa={"api.vidgo.ai": ["2001:db8::1"]}, outputs=classic_outputs)
    assert dns_cli(argv) == 1
    out = capsys.readouterr().out
    assert f"points elsewhere: {PARKING_IP}, not {PROD_IP}" in out
    assert f"also points at {PARKING_IP}: delete that A record" in out
    assert "has AAAA 2001:db8::1: delete it" in out
    assert "Phase: A records moving (exit 1): 3 of 3 A records need attention" in out


def test_classic_only_certificates_failing_does_not_blame_dns(local_site, classic_outputs, capsys):
    argv = local_site(MOVED, cert_hosts=["other.example"], outputs=classic_outputs)
    assert dns_cli(argv) == 1
    out = capsys.readouterr().out
    assert "DNS is done; 3 of 3 hosts have no valid certificate yet" in out
    assert "need attention" not in out


def test_classic_done(local_site, classic_outputs, capsys):
    assert dns_cli(local_site(MOVED, outputs=classic_outputs)) == 0
    assert "Phase: done (exit 0)" in capsys.readouterr().out


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
    assert out.count("no answer from DNS server") == len(ACME) + len(PROD_HOSTS)


def test_check_options_without_check_are_refused(capsys):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS), "--ca-file", "x.pem"]) == 2
    assert "--ca-file: used with --check" in capsys.readouterr().err


def test_outputs_of_another_stack_are_refused(capsys):
    assert dns_cli(["staging", "--outputs", str(PROD_OUTPUTS)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "these are not the outputs of stack staging" in captured.err
    assert "staging.vidgo.ai, api.staging.vidgo.ai" in captured.err
