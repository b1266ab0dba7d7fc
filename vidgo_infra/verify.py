"""`vidgo-infra verify STACK`: the live site checked the way seed sections 4.3 and 8 do by hand.

Per host: it resolves to the static IP; its certificate is valid for it; TLS 1.0 and 1.1 are
refused; `http://` answers a permanent redirect to `https://`; `Strict-Transport-Security` is
sent. Then: `https://API_HOST/health` answers 200; the site root answers 200; `/api/...` on the
site host reaches the API; an unsigned media request is refused (403). With `--google` (gcloud
credentials) also each managed certificate's status and each Cloud Run service's readiness.

One line per check and host. Exit 0 all good, 1 something is not right yet, 2 could not check.
For tests and dry runs: `--server IP[:PORT]` asks that DNS server, `--connect [PORT:]HOST:PORT`
sends the HTTP(S) checks to another address (as curl's --connect-to; SNI and Host stay the real
name), `--ca-file` trusts another CA.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import ssl
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vidgo_infra import dns
from vidgo_infra.project import find_project

OK, FAIL, ERROR = "ok", "FAIL", "??"  # ERROR: the check could not be made
TIMEOUT_S = 10.0
PROBE_PATH = "/vidgo-infra-verify-unsigned-probe"


@dataclass(frozen=True)
class Result:
    status: str
    check: str
    host: str
    detail: str


@dataclass(frozen=True)
class Site:
    static_ip: str
    hosts: tuple[str, ...]
    api_host: str
    site_hosts: tuple[str, ...]
    health_path: str
    media_url: str  # https://HOST/PATH of the media, signed URLs only


def site_from_outputs(outputs: Any) -> Site:
    parsed = dns.parse_outputs(outputs)
    urls = outputs.get("service_urls") or {}
    try:
        api_host = urlsplit(urls["api"]).hostname
        health = urlsplit(outputs["health_url"])
        media_url = urls["media"]
    except (KeyError, TypeError):
        raise dns.InputError(
            "the stack outputs have no service_urls (api, media) or health_url"
        ) from None
    media = urlsplit(media_url)
    # Media on a path shares the site host; on its own host (edge.media_subdomain) it does not.
    media_host = media.hostname if media.path in ("", "/") else None
    site_hosts = tuple(h for h in parsed.hosts if h not in (api_host, media_host))
    return Site(parsed.static_ip, parsed.hosts, api_host, site_hosts, health.path, media_url)


# ---------------------------------------------------------------------------------------------
# Talking to the site


@dataclass
class Client:
    """HTTP(S) to the real host names, at the static IP or wherever --connect says."""

    static_ip: str
    connect: dict[int, tuple[str, int]] = field(default_factory=dict)  # port → (host, port)
    ca_file: str | None = None
    timeout: float = TIMEOUT_S

    def address(self, port: int) -> tuple[str, int]:
        return self.connect.get(port, (self.static_ip, port))

    def tls(self, host: str, version: ssl.TLSVersion | None = None) -> ssl.SSLSocket:
        """A TLS connection to `host`; `version` pins an old version and skips verification."""
        if version is None:
            context = ssl.create_default_context(cafile=self.ca_file)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with warnings.catch_warnings():  # offering an old version is the point here
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = version
            # OpenSSL's default security level refuses to offer TLS 1.0/1.1 at all.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        raw = socket.create_connection(self.address(443), timeout=self.timeout)
        try:
            return context.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise

    def get(self, scheme: str, host: str, path: str) -> http.client.HTTPResponse:
        port = 443 if scheme == "https" else 80
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, timeout=self.timeout)
            conn.sock = self.tls(host)
        else:
            conn = http.client.HTTPConnection(host, timeout=self.timeout)
            conn.sock = socket.create_connection(self.address(port), timeout=self.timeout)
        conn.request("GET", path, headers={"User-Agent": "vidgo-infra-verify"})
        response = conn.getresponse()
        response.read(65536)
        conn.close()
        return response


# ---------------------------------------------------------------------------------------------
# The checks


def verify(site: Site, resolver: dns.Resolver, client: Client) -> list[Result]:
    results = []
    for host in site.hosts:
        results += [
            _resolves(host, site, resolver),
            _certificate(host, client),
            *(_old_tls(host, client, name, v) for name, v in OLD_TLS),
            _redirect(host, client),
            _hsts(host, client),
        ]
    api = site.api_host
    results.append(_status(client, "health answers 200", api, site.health_path, {200}))
    for host in site.site_hosts:
        results.append(_status(client, "site root answers 200", host, "/", {200}))
        results.append(_reaches_api(host, client))
    media = urlsplit(site.media_url)
    path = media.path.rstrip("/") + PROBE_PATH
    results.append(_status(client, "unsigned media refused", media.hostname or "", path, {403}))
    return results


OLD_TLS = (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1))


def _resolves(host: str, site: Site, resolver: dns.Resolver) -> Result:
    try:
        found = resolver(host)
    except dns.ResolverUnreachable as exc:  # the server, not the record: could not check
        return Result(ERROR, "resolves to the static IP", host, str(exc))
    problems = dns.record_problems(found, site.static_ip)
    detail = "; ".join(problems) or f"→ {site.static_ip}"
    return Result(FAIL if problems else OK, "resolves to the static IP", host, detail)


def _certificate(host: str, client: Client) -> Result:
    check = "certificate valid"
    try:
        with client.tls(host) as tls:
            cert = tls.getpeercert() or {}
    except ssl.SSLCertVerificationError as exc:
        return Result(FAIL, check, host, f"not valid for {host}: {exc.verify_message or exc}")
    except OSError as exc:
        return Result(FAIL, check, host, dns.describe_tls_failure(exc, client.address(443)[0]))
    return Result(OK, check, host, f"valid until {cert.get('notAfter', '?')}")


def _old_tls(host: str, client: Client, name: str, version: ssl.TLSVersion) -> Result:
    check = f"{name} refused"
    try:
        with client.tls(host, version) as tls:
            accepted = tls.version()
    except ssl.SSLError:
        return Result(OK, check, host, "handshake refused")
    except OSError as exc:
        return Result(FAIL, check, host, f"cannot connect: {exc.strerror or exc}")
    return Result(FAIL, check, host, f"the server accepted {accepted}")


def _redirect(host: str, client: Client) -> Result:
    check = "http:// redirects to https://"
    try:
        response = client.get("http", host, "/")
    except OSError as exc:
        return Result(FAIL, check, host, f"no answer on port 80: {exc.strerror or exc}")
    location = response.getheader("Location") or ""
    if response.status not in (301, 308):
        return Result(FAIL, check, host, f"answered {response.status}, not 301 or 308")
    if not location.startswith(f"https://{host}"):
        return Result(FAIL, check, host, f"{response.status} to {location!r}, not https://{host}")
    return Result(OK, check, host, f"{response.status} → {location}")


def _hsts(host: str, client: Client) -> Result:
    check = "Strict-Transport-Security sent"
    try:
        response = client.get("https", host, "/")
    except OSError as exc:
        return Result(FAIL, check, host, f"no HTTPS answer: {exc}")
    value = response.getheader("Strict-Transport-Security")
    if not value or "max-age=0" in value.replace(" ", ""):
        return Result(FAIL, check, host, f"header {value!r}" if value else "header missing")
    return Result(OK, check, host, value)


def _status(client: Client, check: str, host: str, path: str, want: set[int]) -> Result:
    try:
        response = client.get("https", host, path)
    except OSError as exc:
        return Result(FAIL, check, host, f"GET {path}: {exc}")
    ok = response.status in want
    return Result(OK if ok else FAIL, check, host, f"GET {path} → {response.status}")


def _reaches_api(host: str, client: Client) -> Result:
    """The web service answers HTML for any path; the load balancer a 5xx when no backend
    answers. Anything else on /api/... came from the API."""
    check = "/api/ reaches the API"
    try:
        response = client.get("https", host, "/api/health")
    except OSError as exc:
        return Result(FAIL, check, host, f"GET /api/health: {exc}")
    kind = (response.getheader("Content-Type") or "").split(";")[0]
    if response.status >= 500 or kind == "text/html":
        return Result(FAIL, check, host, f"GET /api/health → {response.status} {kind}".rstrip())
    return Result(OK, check, host, f"GET /api/health → {response.status} {kind}".rstrip())


# ---------------------------------------------------------------------------------------------
# With Google credentials

Runner = dns.Runner


def google_checks(outputs: Any, runner: Runner) -> list[Result]:
    """Managed certificates' status and services' readiness, with the operator's gcloud."""
    project, region, _ = str(outputs.get("sql_connection_name", "::")).split(":", 2)
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
        ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
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
    parser.add_argument("stack")
    parser.add_argument("--outputs", metavar="FILE", type=Path, help="saved stack outputs (JSON)")
    parser.add_argument("--server", metavar="IP[:PORT]", help="ask this DNS server")
    parser.add_argument(
        "--connect",
        metavar="[PORT:]HOST:PORT",
        action="append",
        default=[],
        help="send connections for PORT (default 443) to HOST:PORT instead of the static IP",
    )
    parser.add_argument("--ca-file", metavar="FILE", help="trust these CA certificates")
    parser.add_argument("--google", action="store_true", help="also ask Google (gcloud)")


def parse_connect(values: Sequence[str]) -> dict[int, tuple[str, int]]:
    mapping = {}
    for value in values:
        parts = value.split(":")
        try:
            if len(parts) == 2:
                mapping[443] = (parts[0], int(parts[1]))
            elif len(parts) == 3:
                mapping[int(parts[0])] = (parts[1], int(parts[2]))
            else:
                raise ValueError
        except ValueError:
            raise dns.InputError(f"--connect {value!r} is not [PORT:]HOST:PORT") from None
    return mapping


def run(args: argparse.Namespace, *, runner: Runner | None = None) -> int:
    try:
        if args.outputs:
            raw, commands = dns.read_outputs_file(args.outputs), runner or dns.run_command
        else:
            # `pulumi stack output` reads the stacks of the project the tool acts on (-C), as dns.
            project = getattr(args, "project", None) or find_project()
            commands = runner or (lambda command: dns.run_command(command, project.root))
            raw = dns.pulumi_outputs(args.stack, commands)
        site = site_from_outputs(raw)
        connect = parse_connect(args.connect)
        if args.server:
            server, port = dns.parse_server(args.server)  # the one DNS client, as `dns --check`
            resolver: dns.Resolver = dns.ServerResolver(server, port=port)
        else:
            resolver = dns.system_resolver
    except dns.InputError as exc:
        print(f"vidgo-infra verify: error: {exc}", file=sys.stderr)
        return 2
    client = Client(site.static_ip, connect, args.ca_file)
    results = verify(site, resolver, client)
    if args.google:
        results += google_checks(raw, commands)
    width = max(len(r.check) for r in results)
    host_width = max(len(r.host or "") for r in results)
    for r in results:
        print(f"{r.status:4}  {r.check:{width}}  {r.host:{host_width}}  {r.detail}")
    failed = sum(r.status == FAIL for r in results)
    unknown = sum(r.status == ERROR for r in results)
    print(f"{len(results)} checks: {failed} not right yet, {unknown} could not be made")
    return 1 if failed else 2 if unknown else 0
