"""`vidgo-infra dns STACK`: the records to enter at GoDaddy, and where the cut-over stands.

GoDaddy hosts the vidgo.ai zone, so DNS is the one step `pulumi up` cannot do. This reads the
stack's real outputs (`pulumi stack output`, or a saved JSON file; vidgo_infra/outputs.py is the
contract) and prints the records in the order they go in (vidgo_infra/cutover.py,
docs/cutover.md): one `_acme-challenge` CNAME per host, from which Google issues each
certificate, then, once every certificate is ACTIVE, the A records. With `--check` it asks DNS
(and the load balancer, and with --google Google) where the cut-over is: the live-site checker
`verify` uses, its cut-over entries only, and the phase as the exit status. Before the first
`pulumi up` has finished, the static IP and the CNAMEs' values are read from Google by the names
the stack's code gives them (vidgo_infra/address.py).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from vidgo_infra import cutover, outputs
from vidgo_infra.outputs import Runner, StackOutputs
from vidgo_infra.project import UsageError, shown

SUMMARY = "the GoDaddy records of a deployed stack, and --check them"
TAKES_STACK = True
EXIT_CODES = {
    0: "printed; with --check: done, every CNAME and A record in place and every certificate "
    "ACTIVE",
    1: "with --check: not yet (a CNAME missing or wrong, certificates not ACTIVE yet, or the A "
    "records part-way moved; the summary says which)",
    2: "a mistake (options, outputs of another stack, unreadable file) or could not check "
    "(the DNS server or gcloud did not answer)",
    3: "with --check: ready to move the A records (every CNAME in, every certificate ACTIVE, no "
    "A record moved yet; classic certificates: no A record moved yet): the operator's turn",
}
EXAMPLES = (
    "vidgo-infra dns prod",
    "vidgo-infra dns staging --outputs staging.json --check --server 192.0.2.53",
    "vidgo-infra dns prod --check --google",
    "until vidgo-infra dns prod --check; do [ $? = 1 ] || break; sleep 300; done",
)


# ---------------------------------------------------------------------------------------------
# What to enter at GoDaddy


def render(dns: StackOutputs, stack: str) -> str:
    title = (
        f"GoDaddy DNS records for stack {stack}: zone {dns.zone}, load balancer IP {dns.static_ip}"
    )
    if dns.cnames:
        title += f"; {len(dns.cnames)} CNAMEs first, then {len(dns.a_records)} A records"
    steps = cutover.render_instructions(dns.zone, dns.records, stack, dns.health_url)
    return f"{title}\n\n{steps}"


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
        help="resolve each record and try HTTPS on each host; the exit status is the cut-over's "
        "phase: 0 done, 3 ready to move the A records, 1 not yet",
    )
    parser.add_argument(
        "--google",
        action="store_true",
        help="with --check, also ask Google (gcloud) each certificate's state and why it failed",
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
            ("--google", args.google),
        )
        if value
    ]
    if given and not args.check:
        raise UsageError(f"{', '.join(given)}: used with --check")
    stack, _, commands = read_stack_outputs(args, runner, google_fallback=True)
    if not args.check:
        print(render(stack, args.stack))
        return 0
    return check(args, stack, commands)


def check(args: argparse.Namespace, stack: StackOutputs, gcloud: Runner | None = None) -> int:
    """The cut-over's entries of the live-site checker, then the phase (live/phase.py)."""
    from vidgo_infra.live import checks, engine, phase

    context = engine.context_from(args, stack)
    context.extra.update(gcloud=gcloud, project=stack.project)
    table = checks.pick(checks.DNS_CHECK, google=args.google)
    names = [*stack.hosts, *(r.fqdn(stack.zone) for r in stack.cnames)]
    printer = engine.Printer(args.json, [c.name for c in table], names)
    printer.text(
        f"Stack {args.stack}: static IP {stack.static_ip}; DNS as "
        f"{context.extra['resolver_label']} answers, HTTPS at {context.client.describe(443)}:"
    )
    for result in engine.run_checks(table, context):
        printer(result)
    report = phase.assess(context)
    status = phase.exit_status(printer.results, report)
    for note in report.notes:
        printer.text(f"Note: {note}")
    message = phase.summary(report, args.stack, stack.static_ip, status)
    printer.summary(message, status, report.phase.value)
    return status


def read_stack_outputs(
    args: argparse.Namespace, runner: Runner | None, google_fallback: bool = False
) -> tuple[StackOutputs, Any, Runner]:
    """The stack's outputs (--outputs FILE or `pulumi stack output`), checked against the
    contract and against the stack's own config (outputs of another stack are refused), and
    the runner that ran `pulumi` (gcloud runs through it too)."""
    project = args.project
    pulumi = runner or (lambda command: outputs.run_command(command, project.root))
    if args.outputs:
        raw, source = outputs.read_file(Path(args.outputs)), shown(Path(args.outputs))
    else:
        raw, source = outputs.pulumi_outputs(args.stack, pulumi), "`pulumi stack output`"
        if google_fallback:
            raw = _outputs_or_google(project, args.stack, raw, pulumi)
    stack = outputs.parse(raw)
    config = outputs.belongs_to_stack(stack, project, args.stack, source)
    # Outputs saved before the program exported its project: gcloud asks the configured one.
    stack = replace(stack, project=stack.project or config.project)
    return stack, raw, pulumi


def _outputs_or_google(project, stack: str, raw: Any, runner: Runner) -> Any:
    """While the first `pulumi up` runs there are no outputs: read the IP and the CNAMEs'
    values from Google."""
    from vidgo_infra import address

    if address.has_static_ip(raw):
        return raw
    try:
        return address.outputs_from_google(project, stack, runner)
    except address.AddressError as exc:
        raise UsageError(str(exc)) from None
