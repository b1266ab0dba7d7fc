"""`vidgo-infra verify STACK`: the live site checked the way seed sections 4.3 and 8 do by hand.

Per host: it resolves to the static IP; its certificate is valid for it; TLS 1.0 and 1.1 are
refused; `http://` answers a permanent redirect to `https://`; `Strict-Transport-Security` is
sent. Then: `https://API_HOST/health` answers 200; the site root answers 200; `/api/...` on the
site host reaches the API; an unsigned media request is refused (403). With `--google` (gcloud
credentials) also each managed certificate's status and each Cloud Run service's readiness.

One line per check and host, printed as it finishes; a check that needs a valid certificate is
`--` (not checked) when the host's certificate failed, and each address gets one timeout: later
checks to an address that did not answer are `--` with that cause. So the whole run takes at most
one --timeout per address (443 and 80: 2 x 10 s by default) plus the DNS lookups.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from typing import Any

from vidgo_infra import outputs
from vidgo_infra.live import checks, engine
from vidgo_infra.live.engine import ERROR, FAIL, OK, Result
from vidgo_infra.outputs import Runner

SUMMARY = "check the live site: DNS, TLS, redirects, health"
TAKES_STACK = True
EXIT_CODES = {
    0: "every check passed",
    1: "something is not right yet (a FAIL line, or checks skipped because of one)",
    2: "a mistake (options, outputs of another stack, unreadable file) or could not check "
    "(the DNS server did not answer, gcloud failed)",
}
EXAMPLES = (
    "vidgo-infra verify prod",
    "vidgo-infra verify staging --outputs staging.json --server 192.0.2.53",
    "vidgo-infra verify prod --connect 443:127.0.0.1:8443 --ca-file test-ca.pem --json",
)


# ---------------------------------------------------------------------------------------------
# With Google credentials


def google_checks(outputs: Any, runner: Runner) -> list[Result]:
    """Managed certificates' status and services' readiness, with the operator's gcloud."""
    project, region, _ = str(outputs.get("sql_connection_name", "::")).split(":", 2)
    project, region = outputs.get("project") or project, outputs.get("region") or region
    results = []
    certs = _gcloud_json(runner, ["compute", "ssl-certificates", "list", "--project", project])
    if isinstance(certs, Result):
        return [certs]
    for cert in certs:
        managed = cert.get("managed") or {}
        for domain in managed.get("domains") or []:
            status = (managed.get("domainStatus") or {}).get(domain, managed.get("status", "?"))
            ok = managed.get("status") == "ACTIVE" and status == "ACTIVE"
            results.append(Result(OK if ok else FAIL, "managed certificate ACTIVE", domain, status))
    for service in (outputs.get("cloud_run_services") or {}).values():
        described = _gcloud_json(
            runner,
            ["run", "services", "describe", service, "--region", region, "--project", project],
        )
        if isinstance(described, Result):
            results.append(described)
            continue
        conditions = (described.get("status") or {}).get("conditions") or []
        ready = next((c for c in conditions if c.get("type") == "Ready"), {})
        ok = ready.get("status") == "True"
        detail = "Ready" if ok else ready.get("message") or f"Ready={ready.get('status', '?')}"
        results.append(Result(OK if ok else FAIL, "Cloud Run service ready", service, detail))
    return results


def _gcloud_json(runner: Runner, args: list[str]) -> Any:
    command = ["gcloud", *args, "--format=json"]
    try:
        done = runner(command)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        return Result(ERROR, "gcloud", args[0], f"cannot run gcloud: {exc}")
    if done.returncode != 0:
        return Result(ERROR, "gcloud", args[0], (done.stderr or "").strip()[-300:])
    try:
        return json.loads(done.stdout or "null")
    except json.JSONDecodeError:
        return Result(ERROR, "gcloud", args[0], "gcloud printed something that is not JSON")


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
    table = checks.pick()
    printer = engine.Printer(args.json, [c.name for c in table] + ["Cloud Run service ready"],
                             stack.hosts)  # fmt: skip
    for result in engine.run_checks(table, context):
        printer(result)
    if args.google:
        for result in google_checks(raw, commands):
            printer(result)
    results = printer.results
    failed = sum(r.status == FAIL for r in results)
    skipped = sum(r.status == engine.SKIPPED for r in results)
    unknown = sum(r.status == ERROR for r in results)
    status = engine.exit_status(results)
    printer.summary(
        f"{len(results)} checks: {sum(r.status == OK for r in results)} ok, {failed} not right "
        f"yet, {skipped} not checked because of those, {unknown} could not be made",
        status,
    )
    return status
