"""The HTTPS load balancer as declared: where each request goes, TLS and HSTS, port 80, the
backends and their logs, Cloud CDN and Cloud Armor (seed sections 3.2 and 3.3)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pulumi.runtime import rpc

from tests.kit import (
    ARMOR_POLICY,
    BACKEND_BUCKET,
    BACKEND_SERVICE,
    BUCKET,
    BUCKET_IAM_MEMBER,
    CERTIFICATE,
    CERTIFICATE_MAP,
    CERTIFICATE_MAP_ENTRY,
    CLASSIC_CERTIFICATE,
    CLOUD_RUN_SERVICE,
    DNS_AUTHORIZATION,
    FORWARDING_RULE,
    GLOBAL_ADDRESS,
    HTTP_PROXY,
    HTTPS_PROXY,
    SERVERLESS_NEG,
    SIGNED_URL_KEY,
    SSL_POLICY,
    STACKS,
    planned,
    refused,
    run_with,
    strings,
)
from vidgo_infra.offline import Resource, Run

SCHEME = "EXTERNAL_MANAGED"
API, WEB = ("run", "vidgo-api"), ("run", "vidgo-web")  # the seed's Cloud Run services
PROD_HOSTS = {"vidgo.ai", "www.vidgo.ai", "api.vidgo.ai"}  # seed 3.3, `ssl-certificates create`
STAGING_HOSTS = {"staging.vidgo.ai", "api.staging.vidgo.ai"}
DEFAULT_RULE_PRIORITY = 2147483647
HSTS_YEAR = "Strict-Transport-Security: max-age=31536000"


@pytest.fixture(scope="module")
def changed() -> Run:
    """Prod with media on its own host and a different rate limit."""
    return planned(
        "prod",
        {
            "vidgo-infra:edge": {
                "media_subdomain": "media",
                "armor": {
                    "rate_limit_requests": 123,
                    "rate_limit_interval_seconds": 30,
                },
            }
        },
    )


# --- routing ------------------------------------------------------------------------------------


def path_matches(pattern: str, path: str) -> int | None:
    """How specific a match `pattern` is for `path` (longer wins), or None.

    Google's PathRule: "/x/*" matches every path under "/x/" (not "/x" itself); any other
    pattern matches only that exact path.
    """
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        return len(prefix) if path.startswith(prefix) else None
    return len(pattern) + 1 if path == pattern else None  # exact beats "/x/*" on "/x/"


def route(url_map: dict[str, Any], host: str, path: str) -> str:
    """The backend id that a URL map sends (host, path) to, by Google's matching rules:
    the host rule that lists the host exactly, else the map's default service; within the
    host rule's path matcher the longest matching path rule, else the matcher's default."""
    # What this evaluator does not model must not be there.
    assert not {"defaultRouteAction", "defaultUrlRedirect"} & set(url_map)
    assert not [m["name"] for m in url_map.get("pathMatchers") or [] if m.get("routeRules")]
    assert not [h for r in url_map.get("hostRules") or [] for h in r["hosts"] if "*" in h]
    matchers = [
        rule["pathMatcher"] for rule in url_map.get("hostRules") or [] if host in rule["hosts"]
    ]
    assert len(matchers) <= 1, f"{host} is in {len(matchers)} host rules"
    if not matchers:
        return url_map["defaultService"]
    (matcher,) = [m for m in url_map["pathMatchers"] if m["name"] == matchers[0]]
    best, best_length = matcher["defaultService"], 0
    for rule in matcher.get("pathRules") or []:
        for pattern in rule["paths"]:
            length = path_matches(pattern, path)
            if length is not None and length > best_length:
                best, best_length = rule["service"], length
    return best


def target(run: Run, backend_id: str) -> tuple[str, str]:
    """What a backend serves: ("run", Cloud Run service name) or ("bucket", bucket name)."""
    backend = run.by_id(backend_id)
    if backend.type == BACKEND_BUCKET:
        return "bucket", backend.inputs["bucketName"]
    assert backend.type == BACKEND_SERVICE
    (group,) = [b["group"] for b in backend.inputs["backends"]]
    return "run", run.by_id(group).inputs["cloudRun"]["service"]


def site_map(run: Run) -> Resource:
    """The URL map behind the HTTPS proxy."""
    return run.by_id(run.one(HTTPS_PROXY).inputs["urlMap"])


def goes_to(run: Run, host: str, path: str) -> tuple[str, str]:
    return target(run, route(site_map(run).inputs, host, path))


def media(run: Run) -> tuple[str, str]:
    return "bucket", run.one(BUCKET).inputs["name"]


def test_the_evaluator_follows_googles_path_rules():
    url_map = {
        "defaultService": "default",
        "hostRules": [{"hosts": ["h"], "pathMatcher": "m"}],
        "pathMatchers": [
            {
                "name": "m",
                "defaultService": "m-default",
                "pathRules": [
                    {"paths": ["/x/*"], "service": "x"},
                    {"paths": ["/x/y/*"], "service": "xy"},
                ],
            }
        ],
    }
    assert route(url_map, "h", "/x") == "m-default"  # "/x/*" does not match "/x"
    assert route(url_map, "h", "/x/") == "x"
    assert route(url_map, "h", "/x/a") == "x"
    assert route(url_map, "h", "/xa") == "m-default"
    assert route(url_map, "h", "/x/y/z") == "xy"  # longest match wins, whatever the order
    assert route(url_map, "other", "/x/a") == "default"


@pytest.mark.parametrize("path", ["/", "/api", "/api/", "/api/v1/x", "/health"])
def test_api_host_goes_to_the_api(prod, path):
    assert goes_to(prod, "api.vidgo.ai", path) == API


@pytest.mark.parametrize("host", ["vidgo.ai", "www.vidgo.ai"])
@pytest.mark.parametrize("path", ["/", "/app", "/app/settings", "/mediakit"])
def test_site_hosts_go_to_the_web_service(prod, host, path):
    assert goes_to(prod, host, path) == WEB


@pytest.mark.parametrize("host", ["vidgo.ai", "www.vidgo.ai"])
def test_media_paths_on_the_site_come_from_the_bucket(prod, host):
    assert goes_to(prod, host, "/media/a.mp4") == media(prod)
    assert goes_to(prod, host, "/media/videos/b.mp4") == media(prod)


@pytest.mark.parametrize("host", ["unknown.example", "203.0.113.10", "api.staging.vidgo.ai"])
def test_an_unknown_host_goes_to_the_web_service(prod, host):
    assert goes_to(prod, host, "/") == WEB
    assert goes_to(prod, host, "/api/v1/x") == WEB


def test_staging_routes_its_own_hosts(staging):
    assert goes_to(staging, "api.staging.vidgo.ai", "/api/v1/x") == API
    assert goes_to(staging, "api.staging.vidgo.ai", "/api") == API
    assert goes_to(staging, "staging.vidgo.ai", "/") == WEB
    assert goes_to(staging, "staging.vidgo.ai", "/media/a.mp4") == media(staging)
    assert goes_to(staging, "api.vidgo.ai", "/api") == WEB  # prod's host is not staging's


def test_media_on_its_own_host(changed):
    assert goes_to(changed, "media.vidgo.ai", "/a.mp4") == media(changed)
    assert goes_to(changed, "media.vidgo.ai", "/videos/b.mp4") == media(changed)
    assert goes_to(changed, "api.vidgo.ai", "/api/v1/x") == API
    assert goes_to(changed, "vidgo.ai", "/") == WEB
    assert "media.vidgo.ai" in certificate_hosts(changed)


# --- port 80 ------------------------------------------------------------------------------------


def rule_on(run: Run, port: str) -> Resource:
    found = [r for r in run.by_type(FORWARDING_RULE) if r.inputs["portRange"] == port]
    assert len(found) == 1, f"{len(found)} forwarding rules on port {port}"
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_port_80_only_redirects_to_https(stack, request):
    run = request.getfixturevalue(stack)
    proxy = run.by_id(rule_on(run, "80").inputs["target"])
    assert proxy.type == HTTP_PROXY
    redirect_map = run.by_id(proxy.inputs["urlMap"])
    assert redirect_map.inputs["defaultUrlRedirect"]["httpsRedirect"] is True
    serving = {"defaultService", "hostRules", "pathMatchers", "defaultRouteAction"}
    assert not serving & set(redirect_map.inputs), "the :80 map serves requests"
    backend_ids = {r.id for r in [*run.by_type(BACKEND_SERVICE), *run.by_type(BACKEND_BUCKET)]}
    assert backend_ids
    assert not backend_ids & set(strings(redirect_map.inputs))


@pytest.mark.parametrize("stack", STACKS)
def test_the_https_redirect_keeps_method_path_and_query(stack, request):
    run = request.getfixturevalue(stack)
    proxy = run.by_id(rule_on(run, "80").inputs["target"])
    moved = run.by_id(proxy.inputs["urlMap"]).inputs["defaultUrlRedirect"]
    # 308: a redirected POST stays a POST with its body (after a 301 clients may send a GET).
    assert moved["redirectResponseCode"] == "PERMANENT_REDIRECT"
    assert moved["stripQuery"] is False
    assert not {"pathRedirect", "prefixRedirect", "hostRedirect"} & moved.keys()


@pytest.mark.parametrize("stack", STACKS)
def test_port_443_goes_to_the_https_proxy_on_the_same_address(stack, request):
    run = request.getfixturevalue(stack)
    https, http = rule_on(run, "443"), rule_on(run, "80")
    assert https.inputs["target"] == run.one(HTTPS_PROXY).id
    assert https.inputs["ipAddress"] == http.inputs["ipAddress"]
    address = run.by_id(https.inputs["ipAddress"])
    assert address.type == GLOBAL_ADDRESS
    assert address.inputs.get("addressType", "EXTERNAL") == "EXTERNAL"


def test_static_ip_is_protected_in_prod_only(prod, staging):
    assert prod.by_id(rule_on(prod, "443").inputs["ipAddress"]).protect
    assert not staging.by_id(rule_on(staging, "443").inputs["ipAddress"]).protect


@pytest.mark.parametrize("stack", STACKS)
def test_load_balancing_scheme_is_explicit_everywhere(stack, request):
    run = request.getfixturevalue(stack)
    declared = [*run.by_type(BACKEND_SERVICE), *run.by_type(FORWARDING_RULE)]
    assert len(declared) == 4  # API and web backends; :443 and :80 rules
    assert {r.name: r.inputs.get("loadBalancingScheme") for r in declared} == {
        r.name: SCHEME for r in declared
    }


# --- backends -----------------------------------------------------------------------------------


def backend_for(run: Run, service: tuple[str, str]) -> Resource:
    found = [b for b in run.by_type(BACKEND_SERVICE) if target(run, b.id) == service]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_backends_are_serverless_negs_of_the_cloud_run_services(stack, request):
    run = request.getfixturevalue(stack)
    services = {s.inputs["name"]: s for s in run.by_type(CLOUD_RUN_SERVICE)}
    assert {target(run, b.id) for b in run.by_type(BACKEND_SERVICE)} == {
        ("run", name) for name in services
    }
    for backend in run.by_type(BACKEND_SERVICE):
        for entry in backend.inputs["backends"]:
            neg = run.by_id(entry["group"])
            assert neg.type == SERVERLESS_NEG
            assert neg.inputs["networkEndpointType"] == "SERVERLESS"
            service = services[neg.inputs["cloudRun"]["service"]]
            assert neg.inputs["region"] == service.inputs["location"]
            assert "name" not in neg.inputs  # auto-named: a changed NEG is created beside
        # Serverless NEGs reject health checks and a timeout (the timeout is Cloud Run's).
        assert not {"healthChecks", "timeoutSec", "portName"} & set(backend.inputs)


@pytest.mark.parametrize("stack", STACKS)
def test_every_request_through_the_load_balancer_is_logged(stack, request):
    for backend in request.getfixturevalue(stack).by_type(BACKEND_SERVICE):
        assert backend.inputs["logConfig"] == {"enable": True, "sampleRate": 1}, backend.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_https_backend_sends_hsts(stack, request):
    run = request.getfixturevalue(stack)
    backends = run.by_type(BACKEND_SERVICE) + run.by_type(BACKEND_BUCKET)
    assert len(backends) == 3  # api, web, media: everything the HTTPS URL map serves
    assert [b.name for b in backends if HSTS_YEAR not in b.inputs["customResponseHeaders"]] == []


def test_hsts_max_age_comes_from_config_and_none_is_a_named_choice(warnings):
    day = planned("prod", {"vidgo-infra:edge": {"hsts_max_age_seconds": 86400}})
    headers = {h for b in day.by_type(BACKEND_SERVICE) for h in b.inputs["customResponseHeaders"]}
    assert headers == {"Strict-Transport-Security: max-age=86400"}
    (problem,) = refused("prod", {"vidgo-infra:edge": {"hsts_max_age_seconds": 0}})
    assert "vidgo-infra:edge.hsts_max_age_seconds" in problem and "[no-hsts]" in problem
    none = run_with(
        "prod",
        {"vidgo-infra:edge": {"hsts_max_age_seconds": 0}, "vidgo-infra:accept_weaker": ["no-hsts"]},
    )
    assert not [
        b.name for b in none.by_type(BACKEND_SERVICE) if b.inputs.get("customResponseHeaders")
    ]
    assert len([w for w in warnings if "no-hsts" in w]) == 1


def test_cdn_on_the_web_backend_not_on_the_api(prod, staging):
    assert backend_for(prod, WEB).inputs["enableCdn"] is True
    assert backend_for(staging, WEB).inputs.get("enableCdn") is not True  # staging: off
    for run in (prod, staging):
        api = backend_for(run, API).inputs
        assert api.get("enableCdn") is not True
        assert "cdnPolicy" not in api


def test_media_bucket_behind_cdn_with_signed_urls(prod):
    backend = prod.one(BACKEND_BUCKET)
    bucket = prod.one(BUCKET)
    assert backend.inputs["bucketName"] == bucket.inputs["name"]
    assert backend.inputs["enableCdn"] is True
    key = prod.one(SIGNED_URL_KEY)
    assert key.inputs["backendBucket"] == backend.inputs.get("name", backend.name)
    assert rpc.is_rpc_secret(key.inputs["keyValue"])


def test_only_the_cdn_reads_the_private_media_bucket(prod):
    bucket = prod.one(BUCKET)
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    fill = re.compile(r"serviceAccount:service-\d+@cloud-cdn-fill\.iam\.gserviceaccount\.com")
    readers = [
        m
        for m in prod.by_type(BUCKET_IAM_MEMBER)
        if m.inputs["bucket"] == bucket.inputs["name"] and fill.fullmatch(m.inputs["member"])
    ]
    assert [m.inputs["role"] for m in readers] == ["roles/storage.objectViewer"]


# --- TLS ----------------------------------------------------------------------------------------


def certificate_hosts(run: Run) -> list[str]:
    return [d for cert in run.by_type(CERTIFICATE) for d in cert.inputs["managed"]["domains"]]


def map_uri(run: Run) -> str:
    """The proxy's certificate map must be in the //certificatemanager form the provider takes."""
    uri = run.one(HTTPS_PROXY).inputs["certificateMap"]
    found = re.fullmatch(
        r"//certificatemanager\.googleapis\.com/projects/([a-z0-9-]+)"
        r"/locations/global/certificateMaps/([A-Za-z][A-Za-z0-9_-]*)",
        uri,
    )
    assert found, uri
    return found.group(2)


@pytest.mark.parametrize(("stack", "hosts"), [("prod", PROD_HOSTS), ("staging", STAGING_HOSTS)])
def test_each_host_has_an_authorization_a_certificate_and_a_map_entry(stack, hosts, request):
    """Read from the inventory: per host a DNS authorization, a managed certificate that it
    authorizes, and a map entry serving that certificate; the proxy serves the map only."""
    run = request.getfixturevalue(stack)
    authorizations = {a.inputs["domain"]: a for a in run.by_type(DNS_AUTHORIZATION)}
    assert set(authorizations) == hosts
    assert {a.inputs["type"] for a in authorizations.values()} == {"FIXED_RECORD"}
    certs = {c.inputs["managed"]["domains"][0]: c for c in run.by_type(CERTIFICATE)}
    assert set(certs) == hosts
    for host, cert in certs.items():
        assert cert.inputs["managed"]["domains"] == [host]
        assert cert.inputs["managed"]["dnsAuthorizations"] == [authorizations[host].id]
    [cert_map] = run.by_type(CERTIFICATE_MAP)
    entries = run.by_type(CERTIFICATE_MAP_ENTRY)
    # The mocks name an auto-named resource by its logical name.
    assert {e.inputs["map"] for e in entries} == {cert_map.name}
    by_host = {e.inputs["hostname"]: e for e in entries if "hostname" in e.inputs}
    assert set(by_host) == hosts
    for host, entry in by_host.items():
        assert entry.inputs["certificates"] == [certs[host].id]
    # A client without SNI gets the apex's certificate.
    [primary] = [e for e in entries if e.inputs.get("matcher") == "PRIMARY"]
    apex = "vidgo.ai" if stack == "prod" else "staging.vidgo.ai"
    assert primary.inputs["certificates"] == [certs[apex].id]
    proxy = run.one(HTTPS_PROXY)
    assert map_uri(run) == cert_map.name
    assert "sslCertificates" not in proxy.inputs
    assert not run.by_type(CLASSIC_CERTIFICATE)
    # No fixed names: a replaced certificate or entry is created before the old one leaves.
    named = [r.name for r in [*certs.values(), *entries, cert_map] if "name" in r.inputs]
    assert not named


def test_the_proxy_attaches_the_map_only_once_every_entry_exists(prod):
    proxy = prod.one(HTTPS_PROXY)
    entries = {e.urn for e in prod.by_type(CERTIFICATE_MAP_ENTRY)}
    assert entries <= set(proxy.dependencies)


def test_in_prod_the_authorizations_are_protected(prod, staging):
    """A replaced authorization has a new CNAME value: renewals would fail until GoDaddy changes."""
    assert all(a.protect for a in prod.by_type(DNS_AUTHORIZATION))
    assert not any(a.protect for a in staging.by_type(DNS_AUTHORIZATION))


def test_adding_a_host_leaves_the_other_certificates_alone(prod, changed):
    for kind in (CERTIFICATE, DNS_AUTHORIZATION, CERTIFICATE_MAP_ENTRY):
        before = {c.urn: c.inputs for c in prod.by_type(kind)}
        after = {c.urn: c.inputs for c in changed.by_type(kind)}
        assert len(after) == len(before) + 1, kind
        assert {urn: after.get(urn) for urn in before} == before, kind


def mode(value: str) -> Run:
    return planned("prod", {"vidgo-infra:edge": {"certificates": value}})


def test_classic_certificates_are_one_switch():
    run = mode("classic")
    classic = run.by_type(CLASSIC_CERTIFICATE)
    assert sorted(d for c in classic for d in c.inputs["managed"]["domains"]) == sorted(PROD_HOSTS)
    proxy = run.one(HTTPS_PROXY)
    assert sorted(proxy.inputs["sslCertificates"]) == sorted(c.id for c in classic)
    assert "certificateMap" not in proxy.inputs
    assert (
        not run.by_type(CERTIFICATE)
        and not run.by_type(DNS_AUTHORIZATION)
        and not run.by_type(CERTIFICATE_MAP)
    )
    assert [r["type"] for r in run.outputs["dns_records"]] == ["A"] * 3


def test_migrating_issues_the_new_certificates_while_the_classic_ones_serve():
    run = mode("migrate-issue")
    proxy = run.one(HTTPS_PROXY)
    assert len(run.by_type(CERTIFICATE)) == len(run.by_type(CLASSIC_CERTIFICATE)) == 3
    assert sorted(proxy.inputs["sslCertificates"]) == sorted(
        c.id for c in run.by_type(CLASSIC_CERTIFICATE)
    )
    assert "certificateMap" not in proxy.inputs  # not before its certificates are ACTIVE
    assert [r["type"] for r in run.outputs["dns_records"]] == ["CNAME"] * 3 + ["A"] * 3


def test_migrating_attaches_the_map_before_the_classic_ones_leave():
    run = mode("migrate-attach")
    proxy = run.one(HTTPS_PROXY)
    assert map_uri(run) == run.one(CERTIFICATE_MAP).name
    assert sorted(proxy.inputs["sslCertificates"]) == sorted(
        c.id for c in run.by_type(CLASSIC_CERTIFICATE)
    )


def test_the_certificate_manager_resources_keep_their_names_across_the_migration(prod):
    """Only the proxy and the classic certificates change between the steps: the certificates
    issued in migrate-issue are the ones the map serves at the end."""

    def urns(run: Run) -> set[str]:
        return {
            r.urn
            for t in (CERTIFICATE, DNS_AUTHORIZATION, CERTIFICATE_MAP, CERTIFICATE_MAP_ENTRY)
            for r in run.by_type(t)
        }

    assert urns(mode("migrate-issue")) == urns(mode("migrate-attach")) == urns(prod)


@pytest.mark.parametrize("stack", STACKS)
def test_tls_policy_modern_tls_1_2_on_the_proxy(stack, request):
    run = request.getfixturevalue(stack)
    policy = run.one(SSL_POLICY)
    assert policy.inputs["profile"] == "MODERN"
    assert policy.inputs["minTlsVersion"] == "TLS_1_2"
    assert run.one(HTTPS_PROXY).inputs["sslPolicy"] == policy.id


# --- Cloud Armor --------------------------------------------------------------------------------


def armor_rules(run: Run, backend: str = "api") -> list[dict[str, Any]]:
    return run.one(ARMOR_POLICY, f"edge-{backend}-armor").inputs["rules"]


def expression(rule: dict[str, Any]) -> str:
    return rule.get("match", {}).get("expr", {}).get("expression", "")


def owasp_rules(run: Run, backend: str = "api") -> list[dict[str, Any]]:
    return [r for r in armor_rules(run, backend) if "evaluatePreconfiguredWaf(" in expression(r)]


def test_armor_guards_both_services_each_with_its_own_policy(prod):
    api_armor = prod.one(ARMOR_POLICY, "edge-api-armor")
    web_armor = prod.one(ARMOR_POLICY, "edge-web-armor")
    assert backend_for(prod, API).inputs.get("securityPolicy") == api_armor.id
    assert backend_for(prod, WEB).inputs.get("securityPolicy") == web_armor.id


def throttle(run: Run, backend: str = "api") -> dict[str, Any]:
    (rule,) = [r for r in armor_rules(run, backend) if r["action"] == "rate_based_ban"]
    return rule["rateLimitOptions"]


@pytest.mark.parametrize("backend", ["api", "web"])
@pytest.mark.parametrize("stack", STACKS)
def test_a_client_over_the_rate_limit_is_told_429_per_ip(stack, backend, request):
    rules = armor_rules(request.getfixturevalue(stack), backend)
    assert len([r for r in rules if "rateLimitOptions" in r]) == 1
    (ban,) = [r for r in rules if r["action"] == "rate_based_ban"]
    options = ban["rateLimitOptions"]
    assert options["enforceOnKey"] == "IP"
    assert options["conformAction"] == "allow" and options["exceedAction"] == "deny(429)"


@pytest.mark.parametrize("backend", ["api", "web"])
def test_prod_bans_sustained_abuse(prod, backend):
    options = throttle(prod, backend)
    assert options["rateLimitThreshold"] == {"count": 600, "intervalSec": 60}
    assert options["banThreshold"] == {"count": 3000, "intervalSec": 600}
    assert options["banDurationSec"] == 600


def test_the_rate_limit_comes_from_config(changed):
    assert throttle(changed)["rateLimitThreshold"] == {"count": 123, "intervalSec": 30}


def test_owasp_rules_refuse_with_403_enforced_in_prod_and_preview_in_staging(prod, staging):
    for run in (prod, staging):  # the web's policy has rate limits only
        assert {r["action"] for r in owasp_rules(run)} == {"deny(403)"}
    sets = {re.search(r"'([a-z]+)-v33-stable'", expression(r))[1] for r in owasp_rules(prod)}
    assert {"sqli", "xss", "lfi", "rfi", "rce"} <= sets
    assert [r.get("preview", False) for r in owasp_rules(prod)] == [False] * len(owasp_rules(prod))
    previewed = owasp_rules(staging)
    assert len(previewed) == len(owasp_rules(prod))
    assert [r.get("preview") for r in previewed] == [True] * len(previewed)
    # JSON bodies are parsed, so the rules see inside the API's requests.
    assert armor_policy(prod)["advancedOptionsConfig"]["jsonParsing"] == "STANDARD"


def armor_policy(run: Run, backend: str = "api") -> dict[str, Any]:
    return run.one(ARMOR_POLICY, f"edge-{backend}-armor").inputs


def test_owasp_preview_in_prod_is_a_named_choice_and_warned(warnings):
    preview = {"vidgo-infra:edge": {"armor": {"owasp_mode": "preview"}}}
    (problem,) = refused("prod", preview)
    assert problem == (
        "Pulumi.prod.yaml: vidgo-infra:edge.armor.owasp_mode: weaker than the default; "
        "allowed only with accept_weaker: [owasp-preview] (the plan then warns)"
    )
    run = run_with("prod", {**preview, "vidgo-infra:accept_weaker": ["owasp-preview"]})
    assert all(r["preview"] for r in owasp_rules(run))
    assert [w for w in warnings if "owasp-preview" in w] == [
        "weaker by choice (accept_weaker: owasp-preview): edge.armor.owasp_mode: "
        "OWASP rules only log (preview): the WAF blocks nothing"
    ]


def denied_methods(run: Run) -> set[str]:
    """The methods the API's policy denies, evaluated as Cloud Armor would: `!method.matches()`."""
    (rule,) = [r for r in armor_rules(run) if "request.method" in expression(r)]
    assert rule["action"].startswith("deny(") and not rule.get("preview", False)
    pattern = re.fullmatch(r"!request\.method\.matches\('(.+)'\)", expression(rule))[1]
    methods = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"]
    return {m for m in methods if not re.search(pattern, m)}


def test_the_apis_own_methods_pass_and_others_are_denied(prod):
    assert denied_methods(prod) == {"TRACE", "CONNECT"}
    # CRS's method enforcement allows only GET/HEAD/POST/OPTIONS: enforced, it would block the
    # API's PUT, PATCH and DELETE, so it is not among the rule sets.
    assert not [r for r in owasp_rules(prod) if "methodenforcement" in str(r)]


@pytest.mark.parametrize("backend", ["api", "web"])
@pytest.mark.parametrize("stack", STACKS)
def test_only_the_last_rule_allows_what_nothing_else_matched(stack, backend, request):
    rules = armor_rules(request.getfixturevalue(stack), backend)
    (default,) = [r for r in rules if r["priority"] == DEFAULT_RULE_PRIORITY]
    assert default["match"]["config"]["srcIpRanges"] == ["*"]
    assert [r["priority"] for r in rules if r["action"] == "allow"] == [DEFAULT_RULE_PRIORITY]
    priorities = [r["priority"] for r in rules]
    assert len(set(priorities)) == len(priorities)
    assert max(priorities) == DEFAULT_RULE_PRIORITY


def test_waf_rules_are_evaluated_before_the_rate_limit(prod):
    # Cloud Armor stops at the first matching rule; the rate limit matches every request and
    # allows those under the limit, so a WAF rule after it would never be evaluated.
    (rate_limit,) = [r for r in armor_rules(prod) if r["action"] == "rate_based_ban"]
    assert max(r["priority"] for r in owasp_rules(prod)) < rate_limit["priority"]
