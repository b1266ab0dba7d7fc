"""`vidgo-infra dns STACK`: the records to enter at GoDaddy, and whether they have taken effect.

GoDaddy hosts the vidgo.ai zone, so DNS is the one step `pulumi up` cannot do. This reads the
stack's real outputs (`pulumi stack output`, or a saved JSON file; vidgo_infra/outputs.py is the
contract), prints the A records and the steps that keep the Google-managed certificate from
getting stuck (design/pitfalls.md, item 22), and with `--check` asks DNS and the load balancer
whether everything is in place yet (the live-site checker `verify` uses, its DNS and
certificate checks only). Before the first `pulumi up` has finished, the static IP is read from
Google by the name the stack's code gives it.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from vidgo_infra import outputs
from vidgo_infra.outputs import Runner, StackOutputs
from vidgo_infra.project import UsageError, shown

SUMMARY = "the GoDaddy records of a deployed stack, and --check them"
TAKES_STACK = True
EXIT_CODES = {
    0: "printed; with --check: every record points at the static IP and every host has a "
    "valid certificate",
    1: "with --check: not done yet (the summary says whether DNS or the certificate)",
    2: "a mistake (options, outputs of another stack, unreadable file) or could not check "
    "(the DNS server did not answer)",
}
EXAMPLES = (
    "vidgo-infra dns prod",
    "vidgo-infra dns staging --outputs staging.json --check --server 192.0.2.53",
    "until vidgo-infra dns prod --check; do [ $? = 1 ] || break; sleep 300; done",
)
WIDTH = 96  # the steps are wrapped to fit a terminal


# ---------------------------------------------------------------------------------------------
# What to enter at GoDaddy


def render_records(dns: StackOutputs, stack: str) -> str:
    rows = [("Type", "Name", "Value", "TTL")]
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


def render_steps(dns: StackOutputs, stack: str) -> str:
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


def _parking_step(dns: StackOutputs) -> str:
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


def _record_steps(dns: StackOutputs) -> list[str]:
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
# The command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vidgo_infra.live import engine

    parser.add_argument(
        "--outputs",
        metavar="FILE",
        help="saved `pulumi stack output --json` instead of running the pulumi CLI",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="resolve each record and try HTTPS on each host; exit 0 only when all is done",
    )
    engine.add_options(
        parser,
        "with --check, ask this DNS server (port 53 unless given) instead of the system resolver",
    )


def run(args: argparse.Namespace, *, runner: Runner | None = None) -> int:
    given = [
        option
        for option, value in (
            ("--server", args.server),
            ("--connect", args.connect),
            ("--ca-file", args.ca_file),
            ("--json", args.json),
        )
        if value
    ]
    if given and not args.check:
        raise UsageError(f"{', '.join(given)}: used with --check")
    stack, _, _ = read_stack_outputs(args, runner, google_fallback=True)
    if not args.check:
        print(render_records(stack, args.stack), end="\n\n")
        print(render_steps(stack, args.stack))
        return 0
    return check(args, stack)


def check(args: argparse.Namespace, stack: StackOutputs) -> int:
    from vidgo_infra.live import checks, engine

    context = engine.context_from(args, stack)
    table = checks.pick(checks.DNS_CHECK)
    printer = engine.Printer(args.json, [c.name for c in table], stack.hosts)
    printer.text(
        f"Stack {args.stack}: static IP {stack.static_ip}; DNS as "
        f"{context.extra['resolver_label']} answers, HTTPS at {context.client.describe(443)}:"
    )
    for result in engine.run_checks(table, context):
        printer(result)
    status = engine.exit_status(printer.results)
    printer.summary(_summary(printer.results, stack, args.stack, status), status)
    return status


def _summary(results, stack: StackOutputs, name: str, status: int) -> str:
    from vidgo_infra.live.engine import OK

    if status == 0:
        return (
            f"Done: every record points at {stack.static_ip}; every host has a valid certificate."
        )
    if status == 2:
        return "Could not check: see the ?? lines."
    records = [r for r in results if r.check == "resolves to the static IP" and r.status != OK]
    certs = [r for r in results if r.check == "certificate valid" and r.status != OK]
    if not records:
        return (
            f"DNS is done; {len(certs)} of {len(stack.hosts)} hosts have no valid certificate "
            "yet: Google issues it 15 to 60 minutes after every record points at the IP."
        )
    return (
        f"Not done: {len(records)} of {len(stack.records)} records need attention "
        f"(the steps: vidgo-infra dns {name}); {len(certs)} of {len(stack.hosts)} hosts have no "
        "valid certificate yet, which Google issues only after every record points at the IP."
    )


def read_stack_outputs(
    args: argparse.Namespace, runner: Runner | None, google_fallback: bool = False
) -> tuple[StackOutputs, Any, Runner]:
    """The stack's outputs (--outputs FILE or `pulumi stack output`), checked against the
    contract and against the stack's own config (outputs of another stack are refused)."""
    project = args.project
    pulumi = runner or (lambda command: outputs.run_command(command, project.root))
    if args.outputs:
        raw, source = outputs.read_file(Path(args.outputs)), shown(Path(args.outputs))
    else:
        raw, source = outputs.pulumi_outputs(args.stack, pulumi), "`pulumi stack output`"
        if google_fallback:
            raw = _outputs_or_google(project, args.stack, raw, pulumi)
    stack = outputs.parse(raw)
    outputs.belongs_to_stack(stack, project, args.stack, source)
    return stack, raw, pulumi


def _outputs_or_google(project, stack: str, raw: Any, runner: Runner) -> Any:
    """While the first `pulumi up` runs there are no outputs: read the IP from Google."""
    from vidgo_infra import address

    if address.has_static_ip(raw):
        return raw
    try:
        return address.outputs_from_google(project, stack, runner)
    except address.AddressError as exc:
        raise UsageError(str(exc)) from None
