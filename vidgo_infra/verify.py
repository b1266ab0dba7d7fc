"""`vidgo-infra verify STACK`: the live site checked the way seed sections 4.3 and 8 do by hand.

Per host: its `_acme-challenge` CNAME (Certificate Manager) points at the value Google gave; it
resolves to the static IP; its certificate is valid for it; TLS 1.0 and 1.1 are refused;
`http://` answers a permanent redirect to `https://`; `Strict-Transport-Security` is sent. Then:
`https://API_HOST/health` answers 200; the site root answers 200; `/api/...` on the site host
reaches the API; an unsigned media request is refused (403). With `--google` (gcloud
credentials) also each certificate's state at Google (with the reason when it failed) and each
Cloud Run service's readiness. The exit status knows the cut-over's phases (live/phase.py):
before the A records move, "ready to move the A records" is 3, not a failure.

One line per check and host, printed as it finishes; a check that needs a valid certificate is
`--` (not checked) when the host's certificate failed, and each address gets one timeout: later
checks to an address that did not answer are `--` with that cause. So the whole run takes at most
one --timeout per address (443 and 80: 2 x 10 s by default) plus the DNS lookups.
"""

from __future__ import annotations

import argparse
from typing import Any

from vidgo_infra import cutover, outputs
from vidgo_infra.live import checks, engine, phase
from vidgo_infra.live.engine import ERROR, FAIL, OK, Result
from vidgo_infra.outputs import Runner

SUMMARY = "check the live site: DNS, TLS, redirects, health"
TAKES_STACK = True
EXIT_CODES = {
    0: "every check passed",
    1: "something is not right yet (a FAIL line, or checks skipped because of one)",
    2: "a mistake (options, outputs of another stack, unreadable file) or could not check "
    "(the DNS server did not answer, gcloud failed)",
    3: "ready to move the A records: every CNAME in, every certificate ACTIVE, no A record "
    "moved yet (docs/cutover.md); the checks of the site wait for that",
}
EXAMPLES = (
    "vidgo-infra verify prod",
    "vidgo-infra verify staging --outputs staging.json --server 192.0.2.53",
    "vidgo-infra verify prod --connect 443:127.0.0.1:8443 --ca-file test-ca.pem --json",
)


# ---------------------------------------------------------------------------------------------
# With Google credentials


def google_checks(outputs: Any, project: str | None, region: str | None, runner: Runner):
    """Each Cloud Run service's readiness, with the operator's gcloud (the certificates' states
    are a table entry, live/checks.py)."""
    results = []
    for service in (outputs.get("cloud_run_services") or {}).values():
        command = ["gcloud", "run", "services", "describe", service, "--region", str(region),
                   "--project", str(project), "--format=json"]  # fmt: skip
        described = checks.gcloud_json(runner, command)
        if isinstance(described, str):
            results.append(Result(ERROR, "Cloud Run service ready", service, described))
            continue
        conditions = (described.get("status") or {}).get("conditions") or []
        ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
        ok = ready.get("status") == "True"
        detail = "Ready" if ok else ready.get("message") or f"Ready={ready.get('status', '?')}"
        results.append(Result(OK if ok else FAIL, "Cloud Run service ready", service, detail))
    return results


# ---------------------------------------------------------------------------------------------
# The command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--outputs", metavar="FILE", help="saved `pulumi stack output --json` of the stack"
    )
    engine.add_options(parser, "ask this DNS server (port 53 unless given)")
    parser.add_argument("--google", action="store_true", help="also ask Google (gcloud)")


def run(args: argparse.Namespace, *, runner: Runner | None = None) -> int:
    from vidgo_infra.dns import read_stack_outputs

    stack, raw, commands = read_stack_outputs(args, runner)
    context = engine.context_from(args, stack, outputs.site(stack))
    context.extra.update(gcloud=commands, project=stack.project)
    table = checks.pick(google=args.google)
    names = [*stack.hosts, *(r.fqdn(stack.zone) for r in stack.cnames)]
    printer = engine.Printer(args.json, [c.name for c in table] + ["Cloud Run service ready"],
                             names)  # fmt: skip
    for result in engine.run_checks(table, context):
        printer(result)
    if args.google:
        region = stack.region or str(raw.get("sql_connection_name", "::")).split(":")[1]
        for result in google_checks(raw, stack.project, region, commands):
            printer(result)
    results = printer.results
    failed = sum(r.status == FAIL for r in results)
    skipped = sum(r.status == engine.SKIPPED for r in results)
    unknown = sum(r.status == ERROR for r in results)
    report = phase.assess(context)
    status = engine.exit_status(results)
    if status == 1 and report.exit_code == cutover.EXIT_READY_TO_MOVE:
        status = cutover.EXIT_READY_TO_MOVE
    counts = (
        f"{len(results)} checks: {sum(r.status == OK for r in results)} ok, {failed} not right "
        f"yet, {skipped} not checked because of those, {unknown} could not be made"
    )
    if status in (1, cutover.EXIT_READY_TO_MOVE):
        counts += f". {phase.summary(report, args.stack, stack.static_ip, report.exit_code)}"
    printer.summary(counts, status, report.phase.value)
    return status
