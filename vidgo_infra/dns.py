"""`vidgo-infra dns STACK`: the records to enter at GoDaddy, and whether they have taken effect.

GoDaddy hosts the vidgo.ai zone, so DNS is the one step `pulumi up` cannot do. This reads the
stack's real outputs (`pulumi stack output`, or a saved JSON file), prints the A records and the
steps that keep the Google-managed certificate from getting stuck (design/pitfalls.md, item 22),
and with `--check` asks DNS and the load balancer whether everything is in place yet.

Nothing here imports Pulumi: the command must start at once. The resolver and the HTTPS prober
are plain callables passed into `check`, so the tests need no network.

Outputs contract (what the program exports):
    static_ip    "203.0.113.7"                      the load balancer's global IPv4 address
    dns_zone     "vidgo.ai"                         the zone the operator edits at GoDaddy
    dns_records  [{"type": "A", "name": "@", "value": "203.0.113.7", "ttl": 600}, ...]
                 names relative to the zone, as GoDaddy's Name field wants them
    hosts        ["vidgo.ai", "www.vidgo.ai", ...]  the records' full names, in the same order
    health_url   "https://api.vidgo.ai/health"      optional here: only shown as the last step
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import secrets
import shlex
import socket
import ssl
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidgo_infra.project import Project, UsageError, find_project, shown

REQUIRED_OUTPUTS = ("static_ip", "dns_zone", "dns_records", "hosts")
RECORD_KEYS = ("type", "name", "value", "ttl")
PULUMI_TIMEOUT_S = 120
DNS_TIMEOUT_S = 3.0
DNS_TRIES = 2
HTTPS_TIMEOUT_S = 10.0
WIDTH = 96  # the steps are wrapped to fit a terminal


# A usage error, unreadable outputs, or outputs that break the contract: exit status 2.
InputError = UsageError


# ---------------------------------------------------------------------------------------------
# The stack's outputs


@dataclass(frozen=True)
class Record:
    type: str
    name: str  # relative to the zone; "@" is the zone apex
    value: str
    ttl: int

    def fqdn(self, zone: str) -> str:
        return zone if self.name == "@" else f"{self.name}.{zone}"


@dataclass(frozen=True)
class StackDns:
    static_ip: str
    zone: str
    records: tuple[Record, ...]
    hosts: tuple[str, ...]
    health_url: str | None = None


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def run_command(
    command: Sequence[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    # stdin is closed so that a passphrase or login prompt fails at once instead of hanging.
    # `pulumi` runs in the project the tool acts on, so it reads that project's stacks.
    return subprocess.run(
        list(command),
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=PULUMI_TIMEOUT_S,
        check=False,
    )


def pulumi_outputs(stack: str, runner: Runner = run_command) -> Any:
    """The stack's outputs as `pulumi stack output --json` prints them."""
    command = ["pulumi", "stack", "output", "--json", "--show-secrets=false", "--stack", stack]
    try:
        done = runner(command)
    except FileNotFoundError:
        raise InputError(
            "the pulumi CLI is not installed or not on PATH "
            "(https://www.pulumi.com/docs/iac/download-install/); "
            "or pass --outputs FILE with the saved output of `pulumi stack output --json`"
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"`{shlex.join(command)}` did not finish in {PULUMI_TIMEOUT_S}s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip()[-800:] or "no message"
        raise InputError(f"`{shlex.join(command)}` failed (exit {done.returncode}): {detail}")
    return _parse_json(done.stdout, "the output of `pulumi stack output --json`")


def read_outputs_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _parse_json(text, str(path))


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not JSON: {exc}") from None


def parse_outputs(outputs: Any) -> StackDns:
    """Check the outputs against the contract above and keep what the dns command needs."""
    if not isinstance(outputs, Mapping):
        raise InputError("the stack outputs are not a JSON object")
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise InputError(
            f"the stack outputs have no {', '.join(missing)}: has `pulumi up` run for this stack "
            "(with the load balancer)? Outputs exist only once a stack is deployed."
        )
    ip = _ipv4(outputs["static_ip"])
    zone = _string(outputs["dns_zone"], "dns_zone").lower().rstrip(".")
    records = tuple(
        _record(f"dns_records[{i}]", item, ip)
        for i, item in enumerate(_list(outputs["dns_records"], "dns_records"))
    )
    hosts = tuple(
        _string(item, f"hosts[{i}]").lower()
        for i, item in enumerate(_list(outputs["hosts"], "hosts"))
    )
    _match_hosts(records, hosts, zone)
    health = outputs.get("health_url")
    return StackDns(ip, zone, records, hosts, health if isinstance(health, str) else None)


def _ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise InputError(f"static_ip is {value!r}, not an IPv4 address") from None


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{where} is {value!r}, not a non-empty string")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InputError(f"{where} is {value!r}, not a non-empty list")
    return value


def _record(where: str, item: Any, ip: str) -> Record:
    if not isinstance(item, Mapping):
        raise InputError(f"{where} is {item!r}, not an object")
    missing = [key for key in RECORD_KEYS if key not in item]
    if missing:
        raise InputError(f"{where} has no {', '.join(missing)}")
    ttl = item["ttl"]
    if type(ttl) is not int or ttl <= 0:
        raise InputError(f"{where}.ttl is {ttl!r}, not a positive whole number of seconds")
    kind, name = str(item["type"]).upper(), _string(item["name"], f"{where}.name")
    if kind != "A":
        raise InputError(f"{where} is a {kind} record; this command knows only A records")
    if item["value"] != ip:
        raise InputError(f"{where} ({name}) has value {item['value']!r}, not static_ip {ip}")
    return Record(kind, name, ip, ttl)


def _match_hosts(records: Sequence[Record], hosts: Sequence[str], zone: str) -> None:
    # The check resolves hosts and the operator types names; a mismatch would check the wrong thing.
    names = [record.fqdn(zone) for record in records]
    if names != list(hosts):
        raise InputError(
            f"hosts {list(hosts)} do not match dns_records in zone {zone} (which name {names})"
        )


# ---------------------------------------------------------------------------------------------
# What to enter at GoDaddy


def render_records(dns: StackDns, stack: str) -> str:
    rows: list[tuple[str, ...]] = [("Type", "Name", "Value", "TTL")]
    rows += [(r.type, r.name, r.value, str(r.ttl)) for r in dns.records]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    rows.insert(1, tuple("-" * width for width in widths))
    table = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    title = (
        f"GoDaddy DNS records for stack {stack}: zone {dns.zone}, load balancer IP {dns.static_ip}"
    )
    return "\n".join([title, "", *(f"  {line}" for line in table)])


def render_steps(dns: StackDns, stack: str) -> str:
    steps = [
        "Sign in at https://dcc.godaddy.com/ and open "
        f"My Products → Domains → {dns.zone} → DNS (the DNS Records tab).",
        *_record_steps(dns),
        _parking_step(dns),
        "Look for CAA records. With none, any certificate authority may issue: nothing to do. If "
        "there is any, add these two (at GoDaddy: Type CAA, Name @, Flags 0, Tag issue, and the "
        "authority), because Google-managed certificates come from Google Trust Services "
        "(pki.goog) and Google falls back to Let's Encrypt when pki.goog cannot issue:"
        '\n  CAA  @  0 issue "pki.goog"\n  CAA  @  0 issue "letsencrypt.org"',
        "Save. Resolvers may keep the old answers for as long as the old records' TTL.",
        f"Run `vidgo-infra dns {stack} --check` until every record points at {dns.static_ip}.",
        "Google then issues the certificate, usually 15 to 60 minutes after every host resolves to "
        f"{dns.static_ip} (sometimes longer); until then HTTPS to these hosts fails the handshake. "
        "Nothing to attach by hand: `pulumi up` already attached the certificate to the HTTPS "
        "proxy. If it stays PROVISIONING (FAILED_NOT_VISIBLE), recheck the records, the AAAA "
        "records and the CAA records above.",
    ]
    if dns.health_url:
        steps.append(f"When the check passes: curl {dns.health_url}")
    return "\n".join(["Steps at GoDaddy:", *(_numbered(n, s) for n, s in enumerate(steps, 1))])


def _numbered(number: int, step: str) -> str:
    # Only the prose is wrapped: the lines after it are values to type exactly as shown.
    prose, *verbatim = step.split("\n")
    wrapped = textwrap.fill(prose, WIDTH, initial_indent=f"{number:>2}. ", subsequent_indent="    ")
    return "\n".join([wrapped, *(f"    {line}" for line in verbatim)])


def _parking_step(dns: StackDns) -> str:
    names = ", ".join(record.name for record in dns.records)
    # Staging's names share the zone with production: the parked page on @ is not theirs to delete.
    at_apex = any(record.name == "@" for record in dns.records)
    parked = " (GoDaddy's parked page is an A record on @)" if at_apex else ""
    return (
        f"Delete GoDaddy's parking records: every other A record and every AAAA record on {names}"
        f"{parked}. An AAAA record left on a name blocks the Google-managed certificate: Google "
        "issues it only when every address the name resolves to serves it, and this load "
        "balancer has no IPv6 address."
    )


def _record_steps(dns: StackDns) -> list[str]:
    steps = []
    for record in dns.records:
        what = f"Value {record.value}, TTL {record.ttl} seconds"
        if record.name == "@":
            steps.append(
                f"Edit the existing A record named @ (GoDaddy's parking record): {what}. Edit it, "
                "do not add a second one: with two, some visitors and Google's certificate check "
                "get the parked page. If Forwarding is set for the domain, remove it: it keeps "
                "its own A records on @."
            )
        else:
            steps.append(
                f"Add an A record named {record.name}: {what} "
                f"(or edit the record named {record.name} if there is one)."
            )
    if any(record.name != "@" for record in dns.records):
        steps.append(
            "If one of these names is a CNAME (GoDaddy's default zone has www → @), delete the "
            "CNAME before adding the A record: a name with a CNAME can have no other records."
        )
    return steps


# ---------------------------------------------------------------------------------------------
# --check: have the records and the certificate taken effect?


@dataclass(frozen=True)
class Resolution:
    """What a resolver found for one name; `error` says why there is no IPv4 answer, and
    `ipv6_error` why the AAAA question went unanswered (each is judged on its own)."""

    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    error: str | None = None
    ipv6_error: str | None = None


class ResolverUnreachable(UsageError):
    """The DNS server asked for never answered: a mistake in --server, not a record not in place
    yet, so a wait loop on `--check` stops instead of spinning forever (exit status 2)."""


@dataclass(frozen=True)
class Probe:
    """Whether a host answered HTTPS at the load balancer's IP with a valid certificate."""

    ok: bool
    detail: str


Resolver = Callable[[str], Resolution]  # full name → what it resolves to
Prober = Callable[[str, str], Probe]  # (host, ip) → HTTPS at ip with SNI host


@dataclass(frozen=True)
class RecordCheck:
    record: Record
    fqdn: str
    found: Resolution
    problems: tuple[str, ...]


@dataclass(frozen=True)
class HostCheck:
    host: str
    probe: Probe


@dataclass(frozen=True)
class CheckReport:
    records: tuple[RecordCheck, ...]
    hosts: tuple[HostCheck, ...]

    @property
    def done(self) -> bool:
        return not any(r.problems for r in self.records) and all(h.probe.ok for h in self.hosts)


def check(dns: StackDns, resolver: Resolver, prober: Prober) -> CheckReport:
    records = []
    for record in dns.records:
        fqdn = record.fqdn(dns.zone)
        found = resolver(fqdn)
        records.append(RecordCheck(record, fqdn, found, record_problems(found, dns.static_ip)))
    # Probing the static IP directly shows the certificate's state even before DNS points there.
    hosts = tuple(HostCheck(host, prober(host, dns.static_ip)) for host in dns.hosts)
    return CheckReport(tuple(records), hosts)


def record_problems(found: Resolution, ip: str) -> tuple[str, ...]:
    problems = []
    others = [address for address in found.ipv4 if address != ip]
    if not found.ipv4:
        problems.append(f"does not resolve ({found.error or 'no A record'})")
    elif len(others) == len(found.ipv4):
        problems.append(f"points elsewhere: {', '.join(others)}, not {ip}")
    elif others:
        problems.append(f"also points at {', '.join(others)}: delete that A record")
    if found.ipv6:
        problems.append(
            f"has AAAA {', '.join(found.ipv6)}: delete it, it blocks the Google-managed certificate"
        )
    elif found.ipv6_error:
        problems.append(
            f"AAAA lookup failed ({found.ipv6_error}): "
            "cannot tell whether an AAAA record blocks the certificate"
        )
    return tuple(problems)


def render_check(report: CheckReport, dns: StackDns, resolver_label: str) -> str:
    width = max(len(name) for name in (*dns.hosts, *(r.fqdn for r in report.records)))
    lines = [f"DNS, as {resolver_label} answers:"]
    for r in report.records:
        if set(r.found.ipv4) == {dns.static_ip}:  # the A answer is right, whatever AAAA says
            lines.append(f"  {'ok':4}  {r.fqdn:{width}}  → {dns.static_ip}")
        for problem in r.problems:
            lines.append(f"  {'FAIL':4}  {r.fqdn:{width}}  {problem}")
    lines.append(f"HTTPS at {dns.static_ip}, with each host's name (SNI):")
    for h in report.hosts:
        lines.append(f"  {'ok' if h.probe.ok else 'FAIL':4}  {h.host:{width}}  {h.probe.detail}")
    lines.append(_summary(report, dns))
    return "\n".join(lines)


def _summary(report: CheckReport, dns: StackDns) -> str:
    if report.done:
        return (
            f"Done: every record points at {dns.static_ip} and every host has a valid certificate."
        )
    bad_records = sum(1 for r in report.records if r.problems)
    bad_hosts = sum(1 for h in report.hosts if not h.probe.ok)
    return (
        f"Not done: {bad_records} of {len(report.records)} records and {bad_hosts} of "
        f"{len(report.hosts)} hosts need attention. Google issues the certificate only after "
        "every record points at the IP, then takes 15 to 60 minutes."
    )


# ---------------------------------------------------------------------------------------------
# The real resolvers and prober


def system_resolver(name: str) -> Resolution:
    """Ask the system's resolver (what this machine's browsers and tools see)."""
    ipv4, error = _system_lookup(name, socket.AF_INET)
    ipv6, _ = _system_lookup(name, socket.AF_INET6)
    return Resolution(ipv4, ipv6, error)


def _system_lookup(name: str, family: int) -> tuple[tuple[str, ...], str | None]:
    try:
        infos = socket.getaddrinfo(name, 443, family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return (), getattr(exc, "strerror", None) or str(exc)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos)), None


def probe_https(host: str, ip: str) -> Probe:
    """TLS handshake with `ip`:443 for `host`, verifying the certificate like a browser would."""
    context = ssl.create_default_context()
    try:
        with (
            socket.create_connection((ip, 443), timeout=HTTPS_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            certificate = tls.getpeercert() or {}
    except OSError as exc:  # ssl.SSLError and socket timeouts are OSErrors too
        return Probe(False, describe_tls_failure(exc, ip))
    return Probe(True, _describe_certificate(certificate))


def describe_tls_failure(exc: OSError, ip: str) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not valid: {exc.verify_message or exc}"
    # A Google load balancer with no active certificate for the name fails or drops the handshake.
    if isinstance(exc, ssl.SSLError | ConnectionResetError):
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        return f"TLS handshake failed ({reason}): no active certificate yet (still provisioning?)"
    if isinstance(exc, TimeoutError):
        return f"no answer from {ip}:443 within {HTTPS_TIMEOUT_S:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return f"{ip}:443 refused the connection: is the HTTPS forwarding rule deployed?"
    return f"cannot connect to {ip}:443: {exc.strerror or exc}"


def _describe_certificate(certificate: Mapping[str, Any]) -> str:
    issuer = dict(pair for rdn in certificate.get("issuer", ()) for pair in rdn)
    by = issuer.get("organizationName") or issuer.get("commonName") or "an unknown issuer"
    return f"valid certificate from {by}, expires {certificate.get('notAfter', '?')}"


# ---------------------------------------------------------------------------------------------
# A minimal DNS client (RFC 1035, A and AAAA over UDP) for --server. The standard library has no
# resolver that can be pointed at a given server, and this is too small to justify dnspython.

QTYPE_A, QTYPE_AAAA = 1, 28
RCODE_NAMES = {1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
_HEADER = struct.Struct("!HHHHHH")  # id, flags, qdcount, ancount, nscount, arcount
_RR = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_FLAG_RESPONSE, _FLAG_TRUNCATED, _FLAG_RECURSION = 0x8000, 0x0200, 0x0100
_ADDRESS_FAMILY = {QTYPE_A: (socket.AF_INET, 4), QTYPE_AAAA: (socket.AF_INET6, 16)}

Exchange = Callable[[bytes], bytes]  # one query datagram → one response datagram


class DnsError(Exception):
    pass


@dataclass(frozen=True)
class DnsAnswer:
    rcode: int
    addresses: tuple[tuple[int, str], ...]  # (QTYPE_A or QTYPE_AAAA, address) from the answers


def encode_query(name: str, qtype: int, query_id: int) -> bytes:
    header = _HEADER.pack(query_id, _FLAG_RECURSION, 1, 0, 0, 0)
    return header + _encode_name(name) + struct.pack("!HH", qtype, 1)  # class IN


def _encode_name(name: str) -> bytes:
    encoded = b""
    for label in name.rstrip(".").split("."):
        try:
            raw = label.encode("ascii")
        except UnicodeEncodeError:
            raise DnsError(f"{name!r} is not an ASCII host name") from None
        if not 0 < len(raw) < 64:
            raise DnsError(f"{name!r} has an empty or over-long label")
        encoded += bytes([len(raw)]) + raw
    return encoded + b"\0"


def decode_response(packet: bytes, query_id: int) -> DnsAnswer:
    ident, flags, qdcount, ancount, _, _ = _unpack(_HEADER, packet, 0)
    if ident != query_id or not flags & _FLAG_RESPONSE:
        raise DnsError("the server's reply does not answer this query")
    if flags & _FLAG_TRUNCATED:
        raise DnsError("the server's reply was truncated")
    offset = _HEADER.size
    for _ in range(qdcount):
        offset = _skip_name(packet, offset) + 4  # qtype, qclass
    addresses = []
    for _ in range(ancount):
        offset = _skip_name(packet, offset)
        rtype, _, _, length = _unpack(_RR, packet, offset)
        offset += _RR.size
        rdata = packet[offset : offset + length]
        offset += length
        if len(rdata) != length:
            raise DnsError("the server's reply ends inside a record")
        family, size = _ADDRESS_FAMILY.get(rtype, (None, None))
        if family is not None and length == size:  # CNAMEs in the chain are skipped
            addresses.append((rtype, socket.inet_ntop(family, rdata)))
    return DnsAnswer(flags & 0xF, tuple(addresses))


def _unpack(layout: struct.Struct, packet: bytes, offset: int) -> tuple[Any, ...]:
    try:
        return layout.unpack_from(packet, offset)
    except struct.error:
        raise DnsError("the server's reply is cut short") from None


def _skip_name(packet: bytes, offset: int) -> int:
    while True:
        if offset >= len(packet):
            raise DnsError("the server's reply is cut short")
        length = packet[offset]
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name
            return offset + 2
        if length & 0xC0:
            raise DnsError("the server's reply uses an unknown label type")
        offset += 1 + length
        if length == 0:
            return offset


def udp_exchange(server: str, port: int = 53, timeout: float = DNS_TIMEOUT_S) -> Exchange:
    family = socket.AF_INET6 if ":" in server else socket.AF_INET

    def exchange(query: bytes) -> bytes:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            # A connected UDP socket only receives datagrams from the server it asked.
            sock.connect((server, port))
            sock.send(query)
            return sock.recv(4096)

    return exchange


class ServerResolver:
    """Ask one DNS server directly, bypassing this machine's resolver and its caches."""

    def __init__(
        self,
        server: str,
        exchange: Exchange | None = None,
        tries: int = DNS_TRIES,
        port: int = 53,
        timeout: float | None = None,
    ):
        self.server = server if port == 53 else _with_port(server, port)
        self.tries = tries
        self.timeout = DNS_TIMEOUT_S if timeout is None else timeout
        self._exchange = exchange or udp_exchange(server, port, self.timeout)

    def __call__(self, name: str) -> Resolution:
        ipv4, error = self._answer(name, QTYPE_A)
        ipv6, ipv6_error = self._answer(name, QTYPE_AAAA)
        # A name that does not exist fails both questions the same way: say it once.
        return Resolution(ipv4, ipv6, error, None if ipv6_error == error else ipv6_error)

    def _answer(self, name: str, qtype: int) -> tuple[tuple[str, ...], str | None]:
        try:
            return self._lookup(name, qtype), None
        except DnsError as exc:
            return (), str(exc)

    def _lookup(self, name: str, qtype: int) -> tuple[str, ...]:
        query_id = secrets.randbelow(0x10000)  # unpredictable, so a forged reply is unlikely to fit
        answer = decode_response(self._ask(encode_query(name, qtype, query_id)), query_id)
        if answer.rcode == 3:
            raise DnsError("no such name (NXDOMAIN)")
        if answer.rcode:
            raise DnsError(f"{self.server} answered {RCODE_NAMES.get(answer.rcode, answer.rcode)}")
        return tuple(address for rtype, address in answer.addresses if rtype == qtype)

    def _ask(self, query: bytes) -> bytes:
        for _ in range(self.tries):
            try:
                return self._exchange(query)
            except TimeoutError:
                continue
            except OSError as exc:
                raise ResolverUnreachable(
                    f"cannot reach DNS server {self.server}: {exc.strerror or exc}; "
                    "check --server IP[:PORT]"
                ) from None
        raise ResolverUnreachable(
            f"no answer from DNS server {self.server} after {self.tries} tries "
            f"of {self.timeout:g}s; check --server IP[:PORT]"
        )


def _with_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_server(text: str) -> tuple[str, int]:
    """`--server` as IP, IP:PORT, IPv6 or [IPv6]:PORT → (address, port)."""
    host, port = text, "53"
    if text.startswith("[") and "]" in text:
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise InputError(f"--server {text!r}: expected [IPv6]:PORT")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise InputError(
            f"--server {text!r} is not an IP address; give IP or IP:PORT (e.g. 192.0.2.53:5353)"
        ) from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--server {text!r}: the port must be a number from 1 to 65535")
    return address, int(port)


# ---------------------------------------------------------------------------------------------
# The command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="the stack whose outputs to read (prod, staging)")
    parser.add_argument(
        "--outputs",
        metavar="FILE",
        type=Path,
        help="saved `pulumi stack output --json` instead of running the pulumi CLI",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="resolve each record and try HTTPS on each host; exit 0 only when all is done",
    )
    parser.add_argument(
        "--server",
        metavar="IP[:PORT]",
        help="with --check, ask this DNS server (port 53 unless given) instead of the system "
        "resolver; exit 2 if it does not answer",
    )


def run(
    args: argparse.Namespace,
    *,
    runner: Runner | None = None,
    resolver: Resolver | None = None,
    prober: Prober = probe_https,
) -> int:
    """Print the records and steps (or, with --check, the records and their state).

    Exit status: 0 done, 1 --check found something not done yet, 2 usage or input error
    (including outputs of another stack and a DNS server that does not answer).
    """
    try:
        project = getattr(args, "project", None) or find_project()
        label, resolver = _choose_resolver(args, resolver)
        if args.outputs:
            raw, source = read_outputs_file(args.outputs), shown(args.outputs)
        else:
            pulumi = runner or (lambda command: run_command(command, project.root))
            raw, source = pulumi_outputs(args.stack, pulumi), "`pulumi stack output`"
            raw = _outputs_or_google(project, args.stack, raw, pulumi)
        dns = parse_outputs(raw)
        _belongs_to_stack(dns, project, args.stack, source)
        print(render_records(dns, args.stack), end="\n\n")
        if not args.check:
            print(render_steps(dns, args.stack))
            return 0
        report = check(dns, resolver, prober)
    except InputError as exc:
        sys.stdout.flush()
        print(f"vidgo-infra dns: {exc}", file=sys.stderr)
        return 2
    print(render_check(report, dns, label))
    if not report.done:
        print(f"The steps to fix these: vidgo-infra dns {args.stack}")
    return 0 if report.done else 1


def _outputs_or_google(project: Project, stack: str, outputs: Any, runner: Runner) -> Any:
    """While the first `pulumi up` runs there are no outputs: read the IP from Google."""
    from vidgo_infra import address

    if address.has_static_ip(outputs):
        return outputs
    try:
        return address.outputs_from_google(project, stack, runner)
    except address.AddressError as exc:
        raise InputError(str(exc)) from None


def _belongs_to_stack(dns: StackDns, project: Project, stack: str, source: str) -> None:
    """Refuse outputs whose zone and hosts are not what the stack's config declares: records
    titled as staging but pointing prod's names at prod's IP would be entered in the wrong place."""
    from vidgo_infra.stack import stack_config

    config = stack_config(project, stack).config
    if dns.zone != config.zone or list(dns.hosts) != config.hosts:
        raise InputError(
            f"{source}: these are not the outputs of stack {stack}: they name hosts "
            f"{', '.join(dns.hosts)} in zone {dns.zone}, and Pulumi.{stack}.yaml declares "
            f"{', '.join(config.hosts)} in zone {config.zone}; "
            f"use `pulumi stack output --json --stack {stack}`"
        )


def _choose_resolver(args: argparse.Namespace, injected: Resolver | None) -> tuple[str, Resolver]:
    if args.server is None:
        return "the system resolver", injected or system_resolver
    if not args.check:
        raise InputError("--server is used with --check")
    address, port = parse_server(args.server)
    label = f"DNS server {args.server if port != 53 else address}"
    return label, injected or ServerResolver(address, port=port)
