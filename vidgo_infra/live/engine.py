"""Run checks, stream their results, and turn them into an exit status."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from vidgo_infra.live.net import Client, Unanswered, parse_connect
from vidgo_infra.live.resolve import (
    CnameLookup,
    Resolver,
    ResolverUnreachable,
    ServerResolver,
    SystemCnames,
    parse_server,
    system_resolver,
)
from vidgo_infra.outputs import Site, StackOutputs

OK, FAIL, SKIPPED, ERROR = "ok", "FAIL", "--", "??"  # ERROR: the check could not be made
JSON_STATUS = {OK: "ok", FAIL: "fail", SKIPPED: "not_checked", ERROR: "could_not_check"}


@dataclass(frozen=True)
class Result:
    status: str
    check: str
    host: str
    detail: str


@dataclass
class Context:
    stack: StackOutputs
    resolver: Resolver
    client: Client
    cnames: CnameLookup | None = None  # the `_acme-challenge` lookups
    site: Site | None = None  # verify only
    extra: dict[str, Any] = field(default_factory=dict)  # what a check needs beyond these

    @property
    def verified_site(self) -> Site:
        """The site's URLs, which only `verify` gives (its checks run with them)."""
        if self.site is None:
            raise ValueError("a check of the site ran without the site: only verify runs it")
        return self.site


Outcome = tuple[str, str]  # (status, detail)


@dataclass(frozen=True)
class Check:
    key: str  # what `needs` names
    name: str  # what the line says
    hosts: Callable[[Context], Iterable[str]]
    run: Callable[[Context, str], Outcome]
    needs: tuple[str, ...] = ()  # checks of the same host that must be ok first


def run_checks(checks: Iterable[Check], context: Context) -> Iterator[Result]:
    """Each result as soon as it is known, in table order."""
    failed: dict[tuple[str, str], str] = {}  # (check key, host) → the failure, for dependents
    for check in checks:
        for host in check.hosts(context):
            blocked = next(
                (f"{dep} failed for {host}" for dep in check.needs if (dep, host) in failed), None
            )
            if blocked:
                status, detail = SKIPPED, f"not checked: {blocked} (above)"
            else:
                try:
                    status, detail = check.run(context, host)
                except (Unanswered, ResolverUnreachable) as cause:
                    status, detail = (
                        SKIPPED if isinstance(cause, Unanswered) else ERROR,
                        f"not checked: {cause}",
                    )
            if status != OK:
                failed[(check.key, host)] = detail
            yield Result(status, check.name, host, detail)


def add_options(parser: argparse.ArgumentParser, dns_server_help: str) -> None:
    """The options `verify` and `dns --check` share."""
    parser.add_argument("--server", metavar="IP[:PORT]", help=dns_server_help)
    parser.add_argument(
        "--connect",
        metavar="[PORT:]HOST:PORT",
        action="append",
        default=[],
        help="send connections for PORT (default 443) to HOST:PORT instead of the static IP "
        "(as curl's --connect-to: the TLS name and Host stay the real host's)",
    )
    parser.add_argument("--ca-file", metavar="FILE", help="trust these CA certificates (PEM)")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="how long each address (and the DNS server) may take to answer, once (default 10)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: each result as it finishes, then the summary",
    )


def context_from(args: argparse.Namespace, stack: StackOutputs, site: Site | None = None):
    """The resolver and client the options ask for; a mistake in them is exit 2 before any check."""
    from vidgo_infra.project import UsageError

    if not 0 < args.timeout <= 300:
        raise UsageError(f"--timeout {args.timeout:g}: give seconds from 0 to 300")
    connect = parse_connect(args.connect)
    if args.server:
        server, port = parse_server(args.server)
        asked = ServerResolver(server, port, timeout=min(args.timeout, 5.0))
        resolver: Resolver = asked
        cnames: CnameLookup = asked.cname
        label = asked.label
    else:
        resolver, label = system_resolver, "the system resolver"
        cnames = SystemCnames(timeout=min(args.timeout, 5.0))
    client = Client(stack.static_ip, connect, args.ca_file, args.timeout)
    context = Context(stack, resolver, client, cnames, site)
    context.extra["resolver_label"] = label
    return context


class Printer:
    """Results as lines (fixed columns, so they can stream) or JSON Lines."""

    def __init__(self, as_json: bool, names: Iterable[str], hosts: Iterable[str]):
        self.as_json = as_json
        self.check_width = max((len(n) for n in names), default=10)
        self.host_width = max((len(h) for h in hosts), default=10)
        self.results: list[Result] = []

    def __call__(self, result: Result) -> None:
        self.results.append(result)
        if self.as_json:
            line = json.dumps({**asdict(result), "status": JSON_STATUS[result.status]})
        else:
            line = (
                f"{result.status:4}  {result.check:{self.check_width}}  "
                f"{result.host:{self.host_width}}  {result.detail}"
            )
        print(line, flush=True)

    def text(self, line: str) -> None:
        if not self.as_json:
            print(line, flush=True)

    def summary(self, message: str, status: int, phase: str | None = None) -> None:
        counts = {JSON_STATUS[s]: sum(r.status == s for r in self.results) for s in JSON_STATUS}
        if self.as_json:
            line = {"summary": message, "counts": counts, "exit_status": status}
            print(json.dumps({**line, "phase": phase} if phase else line))
        else:
            print(message)
        sys.stdout.flush()


def exit_status(results: list[Result]) -> int:
    """0 all ok; 2 something could not be checked (a wait loop stops); 1 not right yet."""
    if any(r.status == ERROR for r in results):
        return 2
    return 1 if any(r.status in (FAIL, SKIPPED) for r in results) else 0
