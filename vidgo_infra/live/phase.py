"""Where the go-live cut-over stands, from what the checks found (vidgo_infra/cutover.py decides;
docs/cutover.md explains): the phase, the exit status `dns --check` and `verify` return, and
the one line that says what to do next.

The certificates' states come from Google when `--google` asked it (authoritative: it carries
the reason, e.g. CNAME_MISMATCH), else from the HTTPS probe of the static IP with each host's
name: a valid certificate served there is an ACTIVE one, whatever DNS says yet.
"""

from __future__ import annotations

from vidgo_infra import cutover
from vidgo_infra.cutover import Phase, Report
from vidgo_infra.live.checks import ANSWERS, GOOGLE, SERVED
from vidgo_infra.live.engine import ERROR, Context, Result

EXIT_COULD_NOT_CHECK = 2


def assess(context: Context) -> Report:
    google = context.extra.get(GOOGLE)
    certificates = google if isinstance(google, dict) else context.extra.get(SERVED)
    stack = context.stack
    return cutover.assess(
        stack.zone, stack.records, context.extra.get(ANSWERS, {}), certificates or {}
    )


def exit_status(results: list[Result], report: Report) -> int:
    """2 when something could not be checked (a wait loop stops), else the phase's code:
    0 done, 3 ready to move the A records, 1 not yet."""
    if any(r.status == ERROR for r in results):
        return EXIT_COULD_NOT_CHECK
    return report.exit_code


def summary(report: Report, stack_name: str, ip: str, status: int) -> str:
    if status == EXIT_COULD_NOT_CHECK:
        return "Could not check: see the ?? lines."
    checks = report.records
    cnames = [c for c in checks if c.record.type == "CNAME"]
    hosts = [c for c in checks if c.record.type == "A"]
    certificates = report.certificates or {}
    inactive = sum(
        (certificates.get(c.fqdn) or cutover.Certificate("UNKNOWN")).state != cutover.ACTIVE
        for c in hosts
    )
    steps = f"the steps: vidgo-infra dns {stack_name}"
    if report.phase is Phase.DONE:
        what = f"every record points at {ip} and every host has an ACTIVE certificate" + (
            "; keep the CNAMEs, renewals use them" if cnames else ""
        )
    elif report.phase is Phase.READY_TO_MOVE_A_RECORDS:
        what = (
            f"every CNAME is in and every certificate ACTIVE: point the A records at {ip} now "
            f"({steps})"
            if cnames
            else f"no record points at {ip} yet: point the A records there ({steps}); Google "
            "issues the classic certificates 15 to 60 minutes later"
        )
    elif report.phase is Phase.ADD_CNAMES:
        wrong = sum(not c.ok for c in cnames)
        what = (
            f"{wrong} of {len(cnames)} _acme-challenge CNAMEs missing or wrong ({steps}); Google "
            "issues (and renews) a certificate only from its CNAME"
        )
    elif report.phase is Phase.WAIT_FOR_CERTIFICATES:
        what = (
            f"every CNAME is in; {inactive} of {len(hosts)} certificates not ACTIVE yet (Google "
            "issues from the CNAMEs, minutes to a few hours): leave the A records until then"
            if cnames
            else f"DNS is done; {inactive} of {len(hosts)} hosts have no valid certificate yet: "
            "Google issues it 15 to 60 minutes after every record points at the IP"
        )
    else:
        wrong = sum(not c.ok for c in hosts)
        what = f"{wrong} of {len(hosts)} A records need attention ({steps})"
    return f"Phase: {report.phase.value} (exit {status}): {what}."
