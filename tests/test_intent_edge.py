"""The edge's intent beyond routing (tests/test_edge.py): what a refused client is told, that the
HTTPS redirect keeps the request, and that every request through the load balancer is logged."""

from __future__ import annotations

from typing import Any

import pytest

from vidgo_infra.offline import Run

ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
BACKEND = "gcp:compute/backendService:BackendService"
RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
DEFAULT_RULE_PRIORITY = 2147483647


def policies(run: Run) -> list[tuple[str, list[dict[str, Any]]]]:
    """(name, rules) of every Cloud Armor policy: the API's and the web's."""
    found = [(p.name, p.inputs["rules"]) for p in run.by_type(ARMOR)]
    assert found
    return found


def redirect(run: Run) -> dict[str, Any]:
    (http,) = [r for r in run.by_type(RULE) if r.inputs["portRange"] == "80"]
    proxy = run.by_id(http.inputs["target"])
    return run.by_id(proxy.inputs["urlMap"]).inputs["defaultUrlRedirect"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_a_client_over_the_rate_limit_is_told_429_per_ip(stack, request):
    for name, rules in policies(request.getfixturevalue(stack)):
        limits = [r["rateLimitOptions"] for r in rules if "rateLimitOptions" in r]
        assert len(limits) == 1, name
        assert limits[0]["enforceOnKey"] == "IP", name
        assert limits[0]["conformAction"] == "allow", name
        assert limits[0]["exceedAction"] == "deny(429)", name


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_a_request_an_owasp_rule_matches_is_refused_with_403(stack, request):
    waf = [
        rule
        for _, rules in policies(request.getfixturevalue(stack))
        for rule in rules
        if "evaluatePreconfiguredWaf("
        in rule.get("match", {}).get("expr", {}).get("expression", "")
    ]
    assert waf
    assert {r["action"] for r in waf} == {"deny(403)"}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_only_the_last_rule_allows_what_nothing_else_matched(stack, request):
    for name, rules in policies(request.getfixturevalue(stack)):
        allowing = [r["priority"] for r in rules if r["action"] == "allow"]
        assert allowing == [DEFAULT_RULE_PRIORITY], name


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_https_redirect_keeps_method_path_and_query(stack, request):
    moved = redirect(request.getfixturevalue(stack))
    assert moved["httpsRedirect"] is True
    # 308: a redirected POST stays a POST with its body (after a 301 clients may send a GET).
    assert moved["redirectResponseCode"] == "PERMANENT_REDIRECT"
    assert moved["stripQuery"] is False
    assert not {"pathRedirect", "prefixRedirect", "hostRedirect"} & moved.keys()


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_request_through_the_load_balancer_is_logged(stack, request):
    for backend in request.getfixturevalue(stack).by_type(BACKEND):
        assert backend.inputs["logConfig"] == {"enable": True, "sampleRate": 1}, backend.name


# --- go-live without a TLS gap -------------------------------------------------------------------

CERT = "gcp:certificatemanager/certificate:Certificate"
AUTHORIZATION = "gcp:certificatemanager/dnsAuthorization:DnsAuthorization"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_certificate_can_issue_before_the_a_records_move(stack, request):
    """Each host's certificate is authorized by DNS (not by the load balancer answering on its
    A record), and its CNAME is listed before any A record for the operator to enter first."""
    run = request.getfixturevalue(stack)
    authorizations = {a.id: a.inputs["domain"] for a in run.by_type(AUTHORIZATION)}
    for cert in run.by_type(CERT):
        [host] = cert.inputs["managed"]["domains"]
        assert [authorizations[a] for a in cert.inputs["managed"]["dnsAuthorizations"]] == [host]
    zone = run.outputs["dns_zone"]
    records = run.outputs["dns_records"]
    first_a = [r["type"] for r in records].index("A")
    cnames_first = {
        f"{r['name']}.{zone}".removeprefix("_acme-challenge.")
        for r in records[:first_a]
        if r["type"] == "CNAME"
    }
    assert cnames_first == set(run.outputs["hosts"])
