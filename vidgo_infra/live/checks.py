"""The checks, one table: what seed sections 4.3 and 8 check by hand, host by host, and the
cut-over's (docs/cutover.md): each `_acme-challenge` CNAME, each certificate's state at Google.

`verify` runs every entry; `dns --check` those that say where the cut-over is (DNS_CHECK).
The entries "google" run only with --google. The checks of the cut-over also note what they
found in `context.extra` (ANSWERS, SERVED, GOOGLE), from which live/phase.py tells the phase.
"""

from __future__ import annotations

import json
import ssl
import subprocess
from typing import cast
from urllib.parse import urlsplit

from vidgo_infra import cutover
from vidgo_infra.live.engine import ERROR, FAIL, OK, Check, Context, Outcome
from vidgo_infra.live.net import short_tls_failure
from vidgo_infra.live.resolve import record_problems

PROBE_PATH = "/vidgo-infra-verify-unsigned-probe"
# What the cut-over checks found, by name, in context.extra (live/phase.py reads them).
ANSWERS, SERVED, GOOGLE = "dns answers", "certificates served", "certificates at Google"


def acme_cname(context: Context, name: str) -> Outcome:
    """`_acme-challenge.HOST` is a CNAME to the value Google's DNS authorization gave."""
    [record] = [r for r in context.stack.cnames if r.fqdn(context.stack.zone) == name]
    assert context.cnames is not None
    found = context.cnames(name)
    answer = cutover.Answer(cname=found.target, error=found.error)
    context.extra.setdefault(ANSWERS, {})[name] = answer
    checked = cutover.check_cname(record, name, answer)
    return (OK, checked.detail) if checked.ok else (FAIL, f"{checked.status}: {checked.detail}")


def resolves(context: Context, host: str) -> Outcome:
    found = context.resolver(host)
    answer = cutover.Answer(ipv4=found.ipv4, ipv6=found.ipv6, error=found.error)
    context.extra.setdefault(ANSWERS, {})[host] = answer
    problems = record_problems(found, context.stack.static_ip)
    return (FAIL, "; ".join(problems)) if problems else (OK, f"→ {context.stack.static_ip}")


def certificate(context: Context, host: str) -> Outcome:
    """The load balancer (at the static IP, whatever DNS says) serves a valid certificate for
    `host`: the certificate is ACTIVE, and clients trust it."""
    client = context.client
    served = context.extra.setdefault(SERVED, {})
    try:
        with client.tls(host) as tls:
            cert = tls.getpeercert() or {}
    except OSError as exc:  # ssl errors and timeouts are OSErrors too
        detail = short_tls_failure(exc, client.describe(443), client.timeout)
        served[host] = cutover.Certificate("NOT SERVED", detail)
        return FAIL, detail
    served[host] = cutover.Certificate(cutover.ACTIVE)
    # getpeercert(): issuer is a tuple of RDNs, each a tuple of (name, value) pairs.
    rdns = cast("tuple[tuple[tuple[str, str], ...], ...]", cert.get("issuer", ()))
    issuer = dict(pair for rdn in rdns for pair in rdn)
    by = issuer.get("organizationName") or issuer.get("commonName") or "an unknown issuer"
    return OK, f"from {by}, valid until {cert.get('notAfter', '?')}"


def google_certificate(context: Context, host: str) -> Outcome:
    """The host's certificate as Google reports it (gcloud, the operator's credentials):
    Certificate Manager's when the stack has CNAMEs, else the classic one."""
    states = _google_states(context)
    if isinstance(states, str):
        first = not context.extra.get("gcloud reported")
        context.extra["gcloud reported"] = True
        return ERROR, states if first else "not checked: gcloud failed (above)"
    found = states.get(host)
    if found is None:
        return FAIL, "Google has no certificate for this host (has `pulumi up` created it?)"
    if found.state == cutover.ACTIVE:
        return OK, cutover.ACTIVE
    return FAIL, f"{found.state}: {found.reason}" if found.reason else found.state


def _google_states(context: Context) -> dict[str, cutover.Certificate] | str:
    """{host: Certificate} from one gcloud listing, or why there is none (cached)."""
    if GOOGLE in context.extra:
        return context.extra[GOOGLE]
    project = context.extra["project"]
    if context.stack.cnames:
        command = ["gcloud", "certificate-manager", "certificates", "list",
                   "--location", "global", "--project", project, "--format=json"]  # fmt: skip
        read = cutover.certificate_states
    else:
        command = ["gcloud", "compute", "ssl-certificates", "list",
                   "--project", project, "--format=json"]  # fmt: skip
        read = cutover.classic_certificate_states
    listing = gcloud_json(context.extra["gcloud"], command)
    context.extra[GOOGLE] = listing if isinstance(listing, str) else read(listing or [])
    return context.extra[GOOGLE]


def gcloud_json(runner, command: list[str]):
    """gcloud's JSON, or one line saying why there is none."""
    try:
        done = runner(command)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        return f"cannot run gcloud: {exc}"
    if done.returncode != 0:
        detail = " ".join((done.stderr or "").split())[-300:] or f"exit {done.returncode}"
        return f"`{' '.join(command[:4])}` failed: {detail}"
    try:
        return json.loads(done.stdout or "null")
    except json.JSONDecodeError:
        return "gcloud printed something that is not JSON"


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
    return urlsplit(context.verified_site.media_url).path.rstrip("/") + PROBE_PATH


def _hosts(context: Context):
    return context.stack.hosts


def _acme_names(context: Context):
    return [record.fqdn(context.stack.zone) for record in context.stack.cnames]


def _api_host(context: Context):
    return [context.verified_site.api_host]


def _site_hosts(context: Context):
    return context.verified_site.site_hosts


def _media_host(context: Context):
    return [urlsplit(context.verified_site.media_url).hostname]


CHECKS: tuple[Check, ...] = (
    Check("acme", "CNAME for the certificate", _acme_names, acme_cname),
    Check("google", "certificate ACTIVE at Google", _hosts, google_certificate),
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

DNS_CHECK = ("acme", "google", "dns", "certificate")
GOOGLE_ONLY = ("google",)


def pick(keys: tuple[str, ...] | None = None, google: bool = False) -> tuple[Check, ...]:
    """The entries `keys` names (all by default); those that ask Google only with `google`."""
    return tuple(
        c
        for c in CHECKS
        if (keys is None or c.key in keys) and (google or c.key not in GOOGLE_ONLY)
    )
