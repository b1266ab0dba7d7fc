"""The go-live cut-over at GoDaddy, decided from plain data: which phase a stack is in, and the
two-phase instructions. Pure: no network, no Pulumi, no gcloud; the caller asks DNS (and,
optionally, Google) and passes the answers in. docs/cutover.md is the operator's side.

The order (Certificate Manager, the default):
    1. add one CNAME per host, `_acme-challenge.HOST` → `….authorize.certificatemanager.goog`
       (they stay: renewals use them);
    2. wait until every certificate is ACTIVE (Google issues from the CNAME; the A records
       still point wherever they did, so visitors see the old site, or nothing, throughout);
    3. move the A records to the static IP; HTTPS works on each host as soon as it resolves.
With classic certificates (no CNAMEs in the outputs) Google issues only after the A records
point at the load balancer, so steps 2 and 3 swap and HTTPS fails in between.

API:
    records = expected_records(outputs)           # from `pulumi stack output --json`
    report = assess(records, answers, certificates)
    report.phase, report.exit_code, render_report(report)
    render_instructions(records, zone, stack)      # the GoDaddy steps, CNAMEs first

    answers: {fully qualified name: Answer}, what the resolver found for every record's name
             (Answer(cname=...) for `_acme-challenge.*`, Answer(ipv4=..., ipv6=...) for hosts).
    certificates: {host: Certificate} or None. Fill it from Google (`certificate_states` reads
             `gcloud certificate-manager certificates list --format=json`) or from an HTTPS
             probe of the static IP with the host's SNI (a valid certificate served there is
             an ACTIVE one: Certificate(ACTIVE)). None: not checked, so "ready to move the A
             records" and "done" cannot be claimed.

Exit codes (report.exit_code; the command adds 2 for its own usage and input errors):
    0  done: every CNAME right, every A record at the static IP only, every certificate ACTIVE
    1  not yet: a CNAME missing or wrong, certificates still provisioning (or failed, or not
       checked), or the A records part-way moved
    3  ready to move the A records: every CNAME right, every certificate ACTIVE, no A record
       at the static IP yet; the operator's turn (a wait loop on exit 0 keeps waiting)
"""

from __future__ import annotations

import enum
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vidgo_infra.outputs import Record, parse_records
from vidgo_infra.project import UsageError

ACTIVE, PROVISIONING, FAILED = "ACTIVE", "PROVISIONING", "FAILED"
EXIT_DONE, EXIT_NOT_YET, EXIT_READY_TO_MOVE = 0, 1, 3
WIDTH = 96


class Phase(enum.Enum):
    ADD_CNAMES = "add the CNAMEs"
    WAIT_FOR_CERTIFICATES = "wait for the certificates"
    READY_TO_MOVE_A_RECORDS = "ready to move the A records"
    A_RECORDS_MOVING = "A records moving"
    DONE = "done"


@dataclass(frozen=True)
class Answer:
    """What a resolver found for one name. `error` says why nothing was found (NXDOMAIN,
    SERVFAIL, a timeout), so a missing record and a failed lookup read differently."""

    cname: str | None = None
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Certificate:
    """A certificate's state: ACTIVE, PROVISIONING or FAILED, with Google's reason."""

    state: str
    reason: str | None = None


@dataclass(frozen=True)
class RecordCheck:
    record: Record
    fqdn: str
    ok: bool
    status: str  # "ok", "CNAME missing", "CNAME wrong", "not moved", "moved", "also elsewhere", ...
    detail: str = ""


@dataclass(frozen=True)
class Report:
    zone: str
    phase: Phase
    records: tuple[RecordCheck, ...]
    certificates: Mapping[str, Certificate] | None
    notes: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        if self.phase is Phase.DONE:
            return EXIT_DONE
        if self.phase is Phase.READY_TO_MOVE_A_RECORDS:
            return EXIT_READY_TO_MOVE
        return EXIT_NOT_YET


# ---------------------------------------------------------------------------------------------
# The stack's outputs


def expected_records(outputs: Mapping[str, Any]) -> tuple[str, tuple[Record, ...]]:
    """(zone, records) from the stack outputs `dns_zone` and `dns_records`, checked by the
    outputs contract (vidgo_infra/outputs.py); raises ValueError naming the offending record."""
    zone = str(outputs.get("dns_zone") or "").lower().rstrip(".")
    if not zone:
        raise ValueError("the stack outputs have no dns_zone")
    try:
        return zone, parse_records(outputs.get("dns_records"))
    except UsageError as error:
        raise ValueError(str(error)) from None


def cnames(records: Iterable[Record]) -> list[Record]:
    return [r for r in records if r.type == "CNAME"]


def a_records(records: Iterable[Record]) -> list[Record]:
    return [r for r in records if r.type == "A"]


def host_of(record: Record, zone: str) -> str:
    """The host a record serves: `_acme-challenge.api` authorizes api.ZONE."""
    return record.host(zone)


# ---------------------------------------------------------------------------------------------
# Google's certificate states


def certificate_states(listing: Iterable[Mapping[str, Any]]) -> dict[str, Certificate]:
    """{host: Certificate} from `gcloud certificate-manager certificates list --format=json`
    (the API's Certificate resources). A FAILED certificate, or a domain whose authorization
    attempt failed, carries Google's reason, e.g. "CONFIG: CNAME_MISMATCH"."""
    states: dict[str, Certificate] = {}
    for certificate in listing:
        managed = certificate.get("managed") or {}
        state = str(managed.get("state") or "STATE_UNSPECIFIED")
        issue = managed.get("provisioningIssue") or {}
        attempts = {a.get("domain"): a for a in managed.get("authorizationAttemptInfo") or []}
        for domain in managed.get("domains") or []:
            attempt = attempts.get(domain) or {}
            reason = _attempt_reason(attempt) or _issue_reason(issue)
            states[str(domain).lower()] = Certificate(state, reason)
    return states


def classic_certificate_states(listing: Iterable[Mapping[str, Any]]) -> dict[str, Certificate]:
    """{host: Certificate} from `gcloud compute ssl-certificates list --format=json` (classic
    certificates): ACTIVE only when the certificate and the host's domain status both are; the
    domain status (e.g. FAILED_NOT_VISIBLE) is the reason otherwise."""
    states: dict[str, Certificate] = {}
    for certificate in listing:
        managed = certificate.get("managed") or {}
        overall = str(managed.get("status") or "STATUS_UNSPECIFIED")
        for domain in managed.get("domains") or []:
            status = str((managed.get("domainStatus") or {}).get(domain, overall))
            if overall == ACTIVE and status == ACTIVE:
                states[str(domain).lower()] = Certificate(ACTIVE)
            else:
                state = FAILED if "FAILED" in overall else PROVISIONING
                states[str(domain).lower()] = Certificate(state, f"{overall}, domain {status}")
    return states


def _attempt_reason(attempt: Mapping[str, Any]) -> str | None:
    if attempt.get("state") != "FAILED":
        return None
    issues = (attempt.get("troubleshooting") or {}).get("issues") or []
    parts = [attempt.get("failureReason"), *issues]
    text = ": ".join(str(p) for p in parts if p)
    details = attempt.get("details")
    return f"{text} ({details})" if details and text else (text or details or "FAILED")


def _issue_reason(issue: Mapping[str, Any]) -> str | None:
    reason, details = issue.get("reason"), issue.get("details")
    if not reason and not details:
        return None
    return f"{reason} ({details})" if reason and details else str(reason or details)


# ---------------------------------------------------------------------------------------------
# The phase


def _name(value: str | None) -> str:
    return (value or "").lower().rstrip(".")


def check_cname(record: Record, fqdn: str, answer: Answer | None) -> RecordCheck:
    if answer is None or not answer.cname:
        why = (answer.error if answer else None) or "no CNAME record"
        return RecordCheck(record, fqdn, False, "CNAME missing", why)
    if _name(answer.cname) != _name(record.value):
        return RecordCheck(
            record, fqdn, False, "CNAME wrong", f"points to {answer.cname}, not {record.value}"
        )
    return RecordCheck(record, fqdn, True, "ok", f"→ {record.value}")


def check_a(record: Record, fqdn: str, answer: Answer | None) -> RecordCheck:
    ip = record.value
    found = answer.ipv4 if answer else ()
    if ip not in found:
        why = ", ".join(found) if found else ((answer.error if answer else None) or "no A record")
        return RecordCheck(record, fqdn, False, "not moved", f"resolves to {why}, not {ip}")
    others = [address for address in found if address != ip]
    if others:
        return RecordCheck(
            record, fqdn, False, "also elsewhere", f"also {', '.join(others)}: delete that A record"
        )
    if answer and answer.ipv6:
        return RecordCheck(
            record, fqdn, False, "AAAA left", f"AAAA {', '.join(answer.ipv6)}: delete it"
        )
    return RecordCheck(record, fqdn, True, "ok", f"→ {ip}")


def assess(
    zone: str,
    records: Sequence[Record],
    answers: Mapping[str, Answer],
    certificates: Mapping[str, Certificate] | None = None,
) -> Report:
    """The cut-over's phase, from the expected records, what DNS answered for each record's
    name, and (optionally) each host's certificate state."""
    checks = []
    for record in records:
        fqdn = record.fqdn(zone)
        answer = answers.get(fqdn)
        check = check_cname if record.type == "CNAME" else check_a
        checks.append(check(record, fqdn, answer))
    cname_checks = [c for c in checks if c.record.type == "CNAME"]
    a_checks = [c for c in checks if c.record.type == "A"]
    hosts = [c.fqdn for c in a_checks]
    moved = [c for c in a_checks if c.status != "not moved"]
    certs_active = certificates is not None and all(
        (certificates.get(h) or Certificate("UNKNOWN")).state == ACTIVE for h in hosts
    )
    notes = []
    if certificates is None:
        notes.append(
            "Certificate states not checked: ask Google (--google) or probe HTTPS at the IP."
        )

    if not cname_checks:  # classic certificates: issued only once the A records resolve here
        notes.append(
            "Classic certificates: Google issues them only after every A record points at the "
            "load balancer, and HTTPS fails the handshake until then."
        )
        if not moved:
            phase = Phase.READY_TO_MOVE_A_RECORDS
        elif not all(c.ok for c in a_checks):
            phase = Phase.A_RECORDS_MOVING
        else:
            phase = Phase.DONE if certs_active else Phase.WAIT_FOR_CERTIFICATES
    elif not all(c.ok for c in cname_checks):
        phase = Phase.ADD_CNAMES
    elif not certs_active:
        phase = Phase.WAIT_FOR_CERTIFICATES
    elif not moved:
        phase = Phase.READY_TO_MOVE_A_RECORDS
    elif not all(c.ok for c in a_checks):
        phase = Phase.A_RECORDS_MOVING
    else:
        phase = Phase.DONE
    if cname_checks and moved and not certs_active:
        notes.append(
            "The A records already point at the load balancer while a certificate is not "
            "ACTIVE (or not checked): HTTPS visitors to that host get a handshake failure."
        )
    return Report(zone, phase, tuple(checks), certificates, tuple(notes))


# ---------------------------------------------------------------------------------------------
# Rendering


def _table(records: Sequence[Record]) -> list[str]:
    rows = [("Type", "Name", "Value", "TTL")]
    rows += [(r.type, r.name, r.value, str(r.ttl)) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "    " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _step(number: int, text: str) -> str:
    # Only the prose is wrapped: the lines after it are values to type exactly as shown.
    prose, *verbatim = text.split("\n")
    wrapped = textwrap.fill(
        prose,
        WIDTH,
        initial_indent=f"{number}. ",
        subsequent_indent="   ",
        break_on_hyphens=False,
    )
    return "\n".join([wrapped, *(f"     {line}" for line in verbatim)])


CAA_STEP = (
    "Look for CAA records on @. With none, any certificate authority may issue: nothing to do. "
    "If there is any, add these two (Type CAA, Name @, Flags 0, Tag issue), because Google's "
    "certificates come from Google Trust Services (pki.goog), or from Let's Encrypt when "
    "pki.goog cannot issue:"
    '\nCAA  @  0 issue "pki.goog"\nCAA  @  0 issue "letsencrypt.org"'
)


def render_instructions(
    zone: str, records: Sequence[Record], stack: str, health_url: str | None = None
) -> str:
    """The GoDaddy steps in their order: the CNAMEs, the wait, then the A records."""
    lines = [
        f"GoDaddy, zone {zone}, stack {stack}: sign in at https://dcc.godaddy.com/, then",
        f"My Products → Domains → {zone} → DNS.",
        "",
    ]
    acme, hosts = cnames(records), a_records(records)
    steps: list[str | list[str]] = []
    if acme:
        steps.append(
            "Add these CNAME records (Type CNAME; Name as shown, GoDaddy appends the zone; "
            "Value as shown). Keep them for good: Google renews each certificate from its "
            "CNAME. Nothing changes for visitors yet."
        )
        steps.append(_table(acme))
        steps.append(CAA_STEP)
        steps.append(
            "Wait until every certificate is ACTIVE (Google issues once the CNAMEs "
            f"resolve; from minutes to a few hours): `vidgo-infra dns {stack} --check` "
            f"exits {EXIT_READY_TO_MOVE} (ready to move the A records). The site still "
            "answers from where the A records point."
        )
        intro = "Only then point the A records at the load balancer"
    else:
        steps.append(CAA_STEP)
        intro = (
            "Point the A records at the load balancer (classic certificates: Google issues them "
            "only after this, 15-60 minutes in which HTTPS fails the handshake)"
        )
    apex = any(r.name == "@" for r in hosts)
    named = [r.name for r in hosts if r.name != "@"]
    steps.append(
        f"{intro}: edit each existing A record (the parked @ one included) rather than "
        "adding a second (with two, some visitors get the old site), and delete every AAAA "
        "record on these names (the load balancer has no IPv6 address"
        + (")." if acme else "; an AAAA record also stops Google issuing a classic certificate).")
        + (" Do @ last: it is the site most visitors use." if apex and len(hosts) > 1 else "")
        + (
            " If Forwarding is set for the domain, remove it: it keeps its own A records on @."
            if apex
            else ""
        )
        + (
            f" If {' or '.join(named)} has a CNAME record (GoDaddy's default zone has www → @), "
            "delete it first: a name with a CNAME can have no other record."
            if named
            else ""
        )
    )
    steps.append(_table(hosts))
    steps.append(
        f"`vidgo-infra dns {stack} --check` exits {EXIT_DONE} when every A record points "
        "at the load balancer and every host serves its certificate."
        + (f" Then: curl {health_url}" if health_url else "")
    )
    number = 0
    for step in steps:
        if isinstance(step, list):
            lines += step
        else:
            number += 1
            lines.append(_step(number, step))
    return "\n".join(lines)


def render_report(report: Report) -> str:
    width = max(len(c.fqdn) for c in report.records)
    lines = []
    for kind, title in (("CNAME", "CNAMEs (certificate authorization):"), ("A", "A records:")):
        checks = [c for c in report.records if c.record.type == kind]
        if not checks:
            continue
        lines.append(title)
        for c in checks:
            mark = "ok" if c.ok else c.status
            lines.append(f"  {mark:<15} {c.fqdn:<{width}}  {c.detail}".rstrip())
    if report.certificates is not None:
        lines.append("Certificates:")
        for c in report.records:
            if c.record.type != "A":
                continue
            cert = report.certificates.get(c.fqdn) or Certificate("UNKNOWN", "no certificate found")
            reason = f"  {cert.reason}" if cert.reason else ""
            lines.append(f"  {cert.state:<15} {c.fqdn:<{width}}{reason}")
    lines += [f"Note: {note}" for note in report.notes]
    lines.append(f"Phase: {report.phase.value} (exit {report.exit_code})")
    return "\n".join(lines)
