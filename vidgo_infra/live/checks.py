"""The checks, one table: what seed sections 4.3 and 8 check by hand, host by host.

`verify` runs every entry; `dns --check` the two that say whether the records and the
certificate are in place (DNS_CHECK).
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from vidgo_infra.live.engine import FAIL, OK, Check, Context, Outcome
from vidgo_infra.live.net import short_tls_failure
from vidgo_infra.live.resolve import record_problems

PROBE_PATH = "/vidgo-infra-verify-unsigned-probe"


def resolves(context: Context, host: str) -> Outcome:
    problems = record_problems(context.resolver(host), context.stack.static_ip)
    return (FAIL, "; ".join(problems)) if problems else (OK, f"→ {context.stack.static_ip}")


def certificate(context: Context, host: str) -> Outcome:
    client = context.client
    try:
        with client.tls(host) as tls:
            cert = tls.getpeercert() or {}
    except OSError as exc:  # ssl errors and timeouts are OSErrors too
        return FAIL, short_tls_failure(exc, client.describe(443), client.timeout)
    issuer = dict(pair for rdn in cert.get("issuer", ()) for pair in rdn)
    by = issuer.get("organizationName") or issuer.get("commonName") or "an unknown issuer"
    return OK, f"from {by}, valid until {cert.get('notAfter', '?')}"


def old_tls(version: ssl.TLSVersion):
    def refused(context: Context, host: str) -> Outcome:
        client = context.client
        try:
            with client.tls(host, version) as tls:
                accepted = tls.version()
        except ssl.SSLError:
            return OK, "handshake refused"
        except OSError as exc:
            return FAIL, short_tls_failure(exc, client.describe(443), client.timeout)
        return FAIL, f"the server accepted {accepted}"

    return refused


def redirect(context: Context, host: str) -> Outcome:
    client = context.client
    try:
        response = client.get("http", host, "/")
    except OSError as exc:
        return FAIL, short_tls_failure(exc, client.describe(80), client.timeout)
    location = response.getheader("Location") or ""
    if response.status not in (301, 308):
        return FAIL, f"answered {response.status}, not 301 or 308"
    if not location.startswith(f"https://{host}"):
        return FAIL, f"{response.status} to {location!r}, not https://{host}"
    return OK, f"{response.status} → {location}"


def _https(context: Context, host: str, path: str):
    """The response, or the FAIL outcome saying why there is none."""
    client = context.client
    try:
        return client.get("https", host, path)
    except OSError as exc:
        return FAIL, f"GET {path}: " + short_tls_failure(exc, client.describe(443), client.timeout)


def hsts(context: Context, host: str) -> Outcome:
    response = _https(context, host, "/")
    if isinstance(response, tuple):
        return response
    value = response.getheader("Strict-Transport-Security")
    if not value or "max-age=0" in value.replace(" ", ""):
        return FAIL, f"header {value!r}" if value else "header missing"
    return OK, value


def status_is(path_of, *wanted: int):
    def check(context: Context, host: str) -> Outcome:
        path = path_of(context)
        response = _https(context, host, path)
        if isinstance(response, tuple):
            return response
        return (OK if response.status in wanted else FAIL), f"GET {path} → {response.status}"

    return check


def reaches_api(context: Context, host: str) -> Outcome:
    """The web service answers HTML for any path; the load balancer a 5xx when no backend
    answers. Anything else on /api/... came from the API."""
    response = _https(context, host, "/api/health")
    if isinstance(response, tuple):
        return response
    kind = (response.getheader("Content-Type") or "").split(";")[0]
    detail = f"GET /api/health → {response.status} {kind}".rstrip()
    return (FAIL if response.status >= 500 or kind == "text/html" else OK), detail


def _media_probe(context: Context) -> str:
    return urlsplit(context.site.media_url).path.rstrip("/") + PROBE_PATH


def _hosts(context: Context):
    return context.stack.hosts


def _api_host(context: Context):
    return [context.site.api_host]


def _site_hosts(context: Context):
    return context.site.site_hosts


def _media_host(context: Context):
    return [urlsplit(context.site.media_url).hostname]


CHECKS: tuple[Check, ...] = (
    Check("dns", "resolves to the static IP", _hosts, resolves),
    Check("certificate", "certificate valid", _hosts, certificate),
    Check("tls1.0", "TLS 1.0 refused", _hosts, old_tls(ssl.TLSVersion.TLSv1)),
    Check("tls1.1", "TLS 1.1 refused", _hosts, old_tls(ssl.TLSVersion.TLSv1_1)),
    Check("redirect", "http:// redirects to https://", _hosts, redirect),
    Check("hsts", "Strict-Transport-Security sent", _hosts, hsts, needs=("certificate",)),
    Check(
        "health",
        "health answers 200",
        _api_host,
        status_is(lambda c: c.site.health_path, 200),
        needs=("certificate",),
    ),
    Check(
        "root",
        "site root answers 200",
        _site_hosts,
        status_is(lambda c: "/", 200),
        needs=("certificate",),
    ),
    Check("api", "/api/ reaches the API", _site_hosts, reaches_api, needs=("certificate",)),
    Check(
        "media",
        "unsigned media refused",
        _media_host,
        status_is(_media_probe, 403),
        needs=("certificate",),
    ),
)

DNS_CHECK = ("dns", "certificate")


def pick(keys: tuple[str, ...] | None = None) -> tuple[Check, ...]:
    return CHECKS if keys is None else tuple(c for c in CHECKS if c.key in keys)
