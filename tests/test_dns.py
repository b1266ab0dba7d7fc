"""`vidgo-infra dns`: the GoDaddy records from saved outputs, and --check with fakes, no network."""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vidgo_infra import dns
from vidgo_infra.dns import Probe, Resolution

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


def dns_cli(argv: list[str], **inject: Any) -> int:
    parser = argparse.ArgumentParser(prog="vidgo-infra dns")
    dns.add_arguments(parser)
    return dns.run(parser.parse_args(argv), **inject)


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


def fake_resolver(answers: dict[str, Resolution]) -> Callable[[str], Resolution]:
    return lambda name: answers.get(name, Resolution(error="no such name"))


def resolved(ip: str = PROD_IP, *extra: str, ipv6: tuple[str, ...] = ()) -> Resolution:
    return Resolution(ipv4=(ip, *extra), ipv6=ipv6)


ALL_POINTED = {host: resolved() for host in PROD_HOSTS}


class FakeProber:
    """Valid certificates, except for the hosts given a failure detail; remembers what it probed."""

    def __init__(self, failures: dict[str, str] | None = None):
        self.failures = failures or {}
        self.calls: list[tuple[str, str]] = []

    def __call__(self, host: str, ip: str) -> Probe:
        self.calls.append((host, ip))
        if host in self.failures:
            return Probe(False, self.failures[host])
        return Probe(True, "valid certificate from Google Trust Services")


def check_prod(capsys: pytest.CaptureFixture[str], answers: dict[str, Resolution], prober=None):
    prober = prober or FakeProber()
    status = dns_cli(
        ["prod", "--outputs", str(PROD_OUTPUTS), "--check"],
        resolver=fake_resolver(answers),
        prober=prober,
    )
    out = capsys.readouterr().out
    return status, section(out, "DNS,"), section(out, "HTTPS at"), out


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
    prod_records = dns.parse_outputs(a_records_only(prod.outputs)).records
    assert [r.name for r in prod_records] == ["@", "www", "api"]
    assert [r.name for r in dns.parse_outputs(a_records_only(staging.outputs)).records] == [
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
        (["--server", "192.0.2.53"], "--server is used with --check"),
        (["--check", "--server", "dns.google"], "'dns.google' is not an IP address"),
    ],
)
def test_server_option_usage_errors(capsys, argv, message):
    assert dns_cli(["prod", "--outputs", str(PROD_OUTPUTS), *argv]) == 2
    assert message in capsys.readouterr().err


# --- --check ---------------------------------------------------------------------------------


def test_check_passes_when_every_record_points_at_the_ip_and_every_cert_is_valid(capsys):
    prober = FakeProber()
    status, records, hosts, out = check_prod(capsys, ALL_POINTED, prober)
    assert status == 0
    assert [line.split()[:2] for line in records] == [["ok", h] for h in PROD_HOSTS]
    assert [line.split()[:2] for line in hosts] == [["ok", h] for h in PROD_HOSTS]
    assert prober.calls == [(host, PROD_IP) for host in PROD_HOSTS]
    assert "Done: every record points at 198.51.100.20" in out


def test_record_still_on_godaddy_parking_ip_is_shown_with_that_ip(capsys):
    status, records, _, out = check_prod(
        capsys, {**ALL_POINTED, "api.vidgo.ai": resolved(PARKING_IP)}
    )
    assert status == 1
    [api] = line_for(records, "api.vidgo.ai")
    assert api.split()[0] == "FAIL"
    assert f"points elsewhere: {PARKING_IP}, not {PROD_IP}" in api
    assert [line.split()[0] for line in line_for(records, "vidgo.ai")] == ["ok"]
    assert "Not done: 1 of 3 records" in out


def test_parking_record_left_next_to_ours_is_reported(capsys):
    status, records, _, _ = check_prod(
        capsys, {**ALL_POINTED, "vidgo.ai": resolved(PROD_IP, PARKING_IP)}
    )
    assert status == 1
    [apex] = line_for(records, "vidgo.ai")
    assert f"also points at {PARKING_IP}: delete that A record" in apex


def test_aaaa_record_is_flagged_as_blocking_the_certificate(capsys):
    answers = {**ALL_POINTED, "vidgo.ai": resolved(ipv6=("2001:db8::1",))}
    status, records, _, _ = check_prod(capsys, answers)
    assert status == 1
    a_record, apex = line_for(records, "vidgo.ai")  # A and AAAA are judged separately
    assert a_record.split()[0] == "ok"
    assert apex.split()[0] == "FAIL"
    assert "has AAAA 2001:db8::1" in apex
    assert "blocks the Google-managed certificate" in apex


def test_name_that_does_not_resolve_is_reported(capsys):
    answers = {h: r for h, r in ALL_POINTED.items() if h != "www.vidgo.ai"}
    status, records, _, _ = check_prod(capsys, answers)
    assert status == 1
    [www] = line_for(records, "www.vidgo.ai")
    assert "does not resolve (no such name)" in www


def test_invalid_certificate_is_reported_even_when_dns_is_done(capsys):
    detail = (
        "certificate not valid: Hostname mismatch, certificate is not valid for 'api.vidgo.ai'."
    )
    prober = FakeProber({"api.vidgo.ai": detail})
    status, records, hosts, out = check_prod(capsys, ALL_POINTED, prober)
    assert status == 1
    assert all(line.split()[0] == "ok" for line in records)
    [api] = line_for(hosts, "api.vidgo.ai")
    assert api.split()[0] == "FAIL"
    assert detail in api
    assert "0 of 3 records and 1 of 3 hosts need attention" in out


def test_staging_check_resolves_the_full_staging_names(capsys):
    answers = {h: resolved(STAGING_IP) for h in ("staging.vidgo.ai", "api.staging.vidgo.ai")}
    prober = FakeProber()
    status = dns_cli(
        ["staging", "--outputs", str(STAGING_OUTPUTS), "--check"],
        resolver=fake_resolver(answers),
        prober=prober,
    )
    assert status == 0, capsys.readouterr().out
    assert prober.calls == [("staging.vidgo.ai", STAGING_IP), ("api.staging.vidgo.ai", STAGING_IP)]


# --- the real resolvers and prober, with the system calls faked -------------------------------


def test_system_resolver_reads_getaddrinfo(monkeypatch):
    def getaddrinfo(name, port, family, kind):
        if name == "vidgo.ai" and family == socket.AF_INET:
            # getaddrinfo repeats an address per socket type; the resolver reports it once.
            return [(socket.AF_INET, kind, 6, "", (PROD_IP, port))] * 2
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert dns.system_resolver("vidgo.ai") == Resolution(ipv4=(PROD_IP,))
    assert dns.system_resolver("www.vidgo.ai") == Resolution(error="Name or service not known")


def test_prober_reports_a_refused_connection(monkeypatch):
    def refused(address, timeout):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refused)
    probe = dns.probe_https("api.vidgo.ai", PROD_IP)
    assert probe == Probe(
        False, f"{PROD_IP}:443 refused the connection: is the HTTPS forwarding rule deployed?"
    )


def test_tls_failures_are_told_apart():
    mismatch = ssl.SSLCertVerificationError(1, "certificate verify failed")
    mismatch.verify_message = "Hostname mismatch, certificate is not valid for 'vidgo.ai'."
    assert dns.describe_tls_failure(mismatch, PROD_IP) == (
        "certificate not valid: Hostname mismatch, certificate is not valid for 'vidgo.ai'."
    )
    reset = ConnectionResetError(104, "Connection reset by peer")
    assert "no active certificate yet (still provisioning?)" in dns.describe_tls_failure(
        reset, PROD_IP
    )
    assert "within 10s" in dns.describe_tls_failure(TimeoutError("timed out"), PROD_IP)


# --- the DNS wire format ---------------------------------------------------------------------

QNAME_API = b"\x03api\x05vidgo\x02ai\x00"


def test_encode_query_is_an_rfc1035_question_with_recursion_desired():
    assert dns.encode_query("api.vidgo.ai", dns.QTYPE_A, 0x1234) == (
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + QNAME_API + b"\x00\x01\x00\x01"
    )


def test_encode_query_refuses_names_dns_cannot_carry():
    with pytest.raises(dns.DnsError, match="over-long label"):
        dns.encode_query("x" * 64 + ".vidgo.ai", dns.QTYPE_A, 1)


def rr(name: bytes, rtype: int, rdata: bytes) -> bytes:
    return name + struct.pack("!HHIH", rtype, 1, 600, len(rdata)) + rdata


def response(query_id: int, answers: list[bytes], rcode: int = 0, flags: int = 0x8180) -> bytes:
    header = struct.pack("!HHHHHH", query_id, flags | rcode, 1, len(answers), 0, 0)
    return header + QNAME_API + b"\x00\x01\x00\x01" + b"".join(answers)


def test_decode_follows_compressed_names_and_skips_the_cname():
    # api.vidgo.ai CNAME vidgo.ai (a pointer to offset 16), then vidgo.ai A and AAAA.
    packet = response(
        0xBEEF,
        [
            rr(b"\xc0\x0c", 5, b"\xc0\x10"),
            rr(b"\xc0\x10", dns.QTYPE_A, bytes([198, 51, 100, 20])),
            rr(b"\xc0\x10", dns.QTYPE_AAAA, bytes.fromhex("20010db8" + "0" * 23 + "1")),
        ],
    )
    assert dns.decode_response(packet, 0xBEEF) == dns.DnsAnswer(
        0, ((dns.QTYPE_A, PROD_IP), (dns.QTYPE_AAAA, "2001:db8::1"))
    )


def test_decode_reports_nxdomain_and_rejects_bad_replies():
    assert dns.decode_response(response(7, [], rcode=3), 7).rcode == 3
    good = response(7, [rr(b"\xc0\x0c", dns.QTYPE_A, bytes([198, 51, 100, 20]))])
    with pytest.raises(dns.DnsError, match="does not answer this query"):
        dns.decode_response(good, 8)
    with pytest.raises(dns.DnsError, match="does not answer this query"):
        dns.decode_response(response(7, [], flags=0x0180), 7)  # a query, not a response
    with pytest.raises(dns.DnsError, match="truncated"):
        dns.decode_response(response(7, [], flags=0x8380), 7)
    for cut in (5, len(good) - 2, len(good) - 12):
        with pytest.raises(dns.DnsError):
            dns.decode_response(good[:cut], 7)


class FakeDnsServer:
    """Answers queries the way a recursive server would, from a table of names → addresses."""

    def __init__(self, zone: dict[tuple[str, int], list[bytes]]):
        self.zone = zone
        self.queries: list[tuple[str, int]] = []

    def __call__(self, query: bytes) -> bytes:
        offset, labels = 12, []
        while query[offset]:
            labels.append(query[offset + 1 : offset + 1 + query[offset]].decode())
            offset += 1 + query[offset]
        question = query[12 : offset + 5]
        name, qtype = ".".join(labels), struct.unpack("!H", query[offset + 1 : offset + 3])[0]
        self.queries.append((name, qtype))
        known = any(known_name == name for known_name, _ in self.zone)
        answers = [rr(b"\xc0\x0c", qtype, rdata) for rdata in self.zone.get((name, qtype), [])]
        flags = 0x8180 | (0 if known else 3)
        header = struct.pack("!HHHHHH", int.from_bytes(query[:2]), flags, 1, len(answers), 0, 0)
        return header + question + b"".join(answers)


def test_server_resolver_asks_for_a_and_aaaa():
    server = FakeDnsServer(
        {
            ("vidgo.ai", dns.QTYPE_A): [bytes([198, 51, 100, 20])],
            ("vidgo.ai", dns.QTYPE_AAAA): [bytes.fromhex("20010db8" + "0" * 23 + "1")],
        }
    )
    resolver = dns.ServerResolver("192.0.2.53", exchange=server)
    assert resolver("vidgo.ai") == Resolution(ipv4=(PROD_IP,), ipv6=("2001:db8::1",))
    assert server.queries == [("vidgo.ai", dns.QTYPE_A), ("vidgo.ai", dns.QTYPE_AAAA)]
    assert resolver("www.vidgo.ai") == Resolution(error="no such name (NXDOMAIN)")


def test_server_resolver_gives_up_after_its_tries():
    calls = []

    def silent(query: bytes) -> bytes:
        calls.append(query)
        raise TimeoutError("timed out")

    resolver = dns.ServerResolver("192.0.2.53", exchange=silent, tries=2)
    with pytest.raises(
        dns.ResolverUnreachable, match=r"no answer from DNS server 192\.0\.2\.53 after 2"
    ):
        resolver("vidgo.ai")
    assert len(calls) == 2


def test_check_with_server_option_uses_the_dns_client(capsys, monkeypatch):
    a_record = [bytes([198, 51, 100, 20])]
    server = FakeDnsServer({(host, dns.QTYPE_A): a_record for host in PROD_HOSTS})
    monkeypatch.setattr(dns, "udp_exchange", lambda address, port, timeout: server)
    argv = ["prod", "--outputs", str(PROD_OUTPUTS), "--check", "--server", "192.0.2.53"]
    assert dns_cli(argv, prober=FakeProber()) == 0
    assert "DNS, as DNS server 192.0.2.53 answers:" in capsys.readouterr().out
    assert {name for name, _ in server.queries} == set(PROD_HOSTS)


def test_server_option_takes_a_port(capsys, monkeypatch):
    server = FakeDnsServer(
        {(host, dns.QTYPE_A): [bytes([198, 51, 100, 20])] for host in PROD_HOSTS}
    )
    asked = []

    def exchange(address, port, timeout):
        asked.append((address, port))
        return server

    monkeypatch.setattr(dns, "udp_exchange", exchange)
    for option, where in [
        ("192.0.2.53:5353", ("192.0.2.53", 5353)),
        ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
    ]:
        argv = ["prod", "--outputs", str(PROD_OUTPUTS), "--check", "--server", option]
        assert dns_cli(argv, prober=FakeProber()) == 0
        assert asked[-1] == where
    capsys.readouterr()
    argv = ["prod", "--outputs", str(PROD_OUTPUTS), "--check", "--server", "192.0.2.53:99999"]
    assert dns_cli(argv) == 2
    assert "the port must be a number from 1 to 65535" in capsys.readouterr().err


def test_a_server_that_never_answers_is_exit_2_not_not_done_yet(capsys, monkeypatch):
    def silent(query: bytes) -> bytes:
        raise TimeoutError("timed out")

    monkeypatch.setattr(dns, "udp_exchange", lambda address, port, timeout: silent)
    argv = ["prod", "--outputs", str(PROD_OUTPUTS), "--check", "--server", "192.0.2.53"]
    assert dns_cli(argv, prober=FakeProber()) == 2  # a wait loop on exit 1 would spin forever
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no answer from DNS server 192.0.2.53" in err


def test_a_failed_aaaa_lookup_keeps_the_correct_a_answer():
    a_only = FakeDnsServer({("vidgo.ai", dns.QTYPE_A): [bytes([198, 51, 100, 20])]})

    def servfail_for_aaaa(query: bytes) -> bytes:
        reply = bytearray(a_only(query))
        if query.endswith(struct.pack("!HH", dns.QTYPE_AAAA, 1)):
            reply[3] = (reply[3] & 0xF0) | 2  # SERVFAIL
        return bytes(reply)

    found = dns.ServerResolver("192.0.2.53", exchange=servfail_for_aaaa)("vidgo.ai")
    assert found.ipv4 == (PROD_IP,)
    assert found.ipv6_error == "192.0.2.53 answered SERVFAIL"
    problems = dns.record_problems(found, PROD_IP)
    assert problems == (
        "AAAA lookup failed (192.0.2.53 answered SERVFAIL): "
        "cannot tell whether an AAAA record blocks the certificate",
    )


def test_check_shows_a_right_a_record_as_ok_beside_an_aaaa_problem(capsys):
    answers = {**ALL_POINTED, "vidgo.ai": Resolution(ipv4=(PROD_IP,), ipv6_error="SERVFAIL")}
    status, records, _, _ = check_prod(capsys, answers)
    assert status == 1
    assert [line.split()[0] for line in line_for(records, "vidgo.ai")] == ["ok", "FAIL"]


def test_outputs_of_another_stack_are_refused(capsys):
    assert dns_cli(["staging", "--outputs", str(PROD_OUTPUTS)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "these are not the outputs of stack staging" in captured.err
    assert "staging.vidgo.ai, api.staging.vidgo.ai" in captured.err


# --- the DNS client over a real socket, on this machine only --------------------------------


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch):
    """Undo the no-network guard: these tests talk to 127.0.0.1 only."""
    monkeypatch.undo()
    connect = socket.socket.connect

    def local_only(sock, address):
        assert address[0] == "127.0.0.1", address
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


def test_udp_client_times_out_on_a_server_that_does_not_answer(loopback):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))  # receives, never answers
        port = quiet.getsockname()[1]
        resolver = dns.ServerResolver("127.0.0.1", port=port, tries=2, timeout=0.2)
        with pytest.raises(dns.ResolverUnreachable, match=r"after 2 tries of 0.2s"):
            resolver("vidgo.ai")
        assert quiet.recv(512)  # the query did arrive


def test_udp_client_says_when_it_cannot_reach_the_server(loopback):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    # Nothing listens there now: the kernel answers "port unreachable", seen as a refusal.
    resolver = dns.ServerResolver("127.0.0.1", port=port, tries=2, timeout=1)
    with pytest.raises(dns.ResolverUnreachable, match=r"cannot reach DNS server 127\.0\.0\.1:"):
        resolver("vidgo.ai")


def test_udp_client_reads_a_real_answer(loopback):
    server = FakeDnsServer({("vidgo.ai", dns.QTYPE_A): [bytes([198, 51, 100, 20])]})
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]

        def answer_twice():
            for _ in range(2):  # A, then AAAA
                query, client = udp.recvfrom(512)
                udp.sendto(server(query), client)

        thread = threading.Thread(target=answer_twice, daemon=True)
        thread.start()
        found = dns.ServerResolver("127.0.0.1", port=port, timeout=2)("vidgo.ai")
        thread.join(2)
    assert found == Resolution(ipv4=(PROD_IP,))
