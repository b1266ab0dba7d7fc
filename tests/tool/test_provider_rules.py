"""The provider-rules check: what `pulumi preview` would reject, found offline.

The rules are data (vidgo_infra/provider_rules/rules.json) read from the google-beta provider
source by scripts/provider_rules.py (its reader is tested in test_provider_rules_generation.py);
these tests check each rule kind on a deliberately wrong input, and the program's real stacks
against the real data.
"""

from __future__ import annotations

import importlib.metadata
import io
import re
from contextlib import redirect_stderr, redirect_stdout

import pytest

from tests.bootstrap.harness import prod_config, run_bootstrap
from tests.kit import (
    ARMOR_POLICY,
    BACKEND_SERVICE,
    BUDGETED,
    CLASSIC_CERTIFICATE,
    DNS_AUTHORIZATION,
    REDIS,
    SECRET,
    SQL_INSTANCE,
    SSL_POLICY,
    URL_MAP,
    VM,
    planned,
    run_with,
)
from vidgo_infra import offline
from vidgo_infra.cli import main
from vidgo_infra.provider_rules import load
from vidgo_infra.provider_rules.check import (
    ResourceCheck,
    check_resource,
    check_run,
    plain,
    uncovered,
)

CDN_MESSAGE = (
    "edge-web-backend cdnPolicy: set cacheKeyPolicy or signedUrlCacheMaxAgeSec "
    "(provider rule: at least one of)"
)


def plan(stack: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["plan", stack])
    return status, out.getvalue(), err.getvalue()


# --- the program's stacks against the real data ----------------------------------------------
@pytest.mark.parametrize("stack", offline.stacks())
def test_every_stack_file_passes_the_providers_rules(stack):
    status, out, err = plan(stack)
    assert status == 0, err
    assert out.startswith(f"Offline plan of stack {stack}")


def test_the_web_cdn_without_a_cache_key_fails_the_plan_as_the_provider_would(monkeypatch):
    """The bug this check was made for: a cdn_policy with neither cacheKeyPolicy nor
    signedUrlCacheMaxAgeSec passes the mocks but not google-beta's AtLeastOneOf."""
    import components.edge

    monkeypatch.setattr(
        components.edge.compute, "BackendServiceCdnPolicyCacheKeyPolicyArgs", lambda **_: None
    )
    status, out, err = plan("prod")
    assert status == 1
    assert out == ""  # nothing is printed as ok
    assert CDN_MESSAGE in err
    assert "Pulumi.prod.yaml: vidgo-infra:edge.web_cdn" in err


LONG_DOMAIN = "video-platform-for-the-whole-fami.vidgo-example.ai"  # 50 characters


def long_domain(certificates: str = "classic") -> dict:
    return {
        "vidgo-infra:domain": LONG_DOMAIN,
        "vidgo-infra:dns_zone": None,
        "vidgo-infra:edge": {"certificates": certificates},
    }


def test_a_fifty_character_domain_gets_certificates_whose_names_fit():
    assert len(LONG_DOMAIN) == 50
    run = planned("prod", long_domain("classic"))
    certificates = run.by_type(CLASSIC_CERTIFICATE)
    assert len(certificates) == 3
    assert check_run(run) == []
    # Pulumi's name is the logical name + "-" + 7 hex: it fits 63, and each host has its own.
    assert all(len(c.name) + 8 <= 63 for c in certificates)
    assert len({c.name for c in certificates}) == 3


def test_certificate_names_built_from_hosts_alone_fail_the_check(monkeypatch):
    import components.edge

    monkeypatch.setattr(
        components.edge, "certificate_name", lambda c, host: f"{c}-cert-{host.replace('.', '-')}"
    )
    lines = [
        v.line("Pulumi.prod.yaml") for v in check_run(run_with("prod", long_domain()))
    ]  # patched: run afresh
    assert len(lines) == 3
    assert all("(provider rule: name length, autonamed)" in line for line in lines)
    assert all(line.endswith("Pulumi.prod.yaml: vidgo-infra:domain") for line in lines)


def test_a_fifty_character_domain_gets_certificate_manager_names_that_fit():
    """The provider describes each Certificate Manager name as 1-64 characters of
    [a-zA-Z][a-zA-Z0-9_-]*; Pulumi's name is the logical name + "-" + 7 hex."""
    run = planned("prod", long_domain("certificate-manager"))
    assert check_run(run) == []
    kinds = ("dnsAuthorization:DnsAuthorization", "certificate:Certificate")
    kinds += ("certificateMap:CertificateMap", "certificateMapEntry:CertificateMapEntry")
    for kind in kinds:
        resources = run.by_type(f"gcp:certificatemanager/{kind}")
        assert resources, kind
        names = [f"{r.name}-1a2b3c4" for r in resources]
        assert all(re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_-]{0,63}", n) for n in names), names
        assert len(set(names)) == len(names)
    authorizations = run.by_type(DNS_AUTHORIZATION)
    hosts = {r.inputs["domain"] for r in authorizations}
    assert LONG_DOMAIN in hosts and f"api.{LONG_DOMAIN}" in hosts


def test_the_rules_cover_every_type_the_program_declares(prod, staging):
    declared = {r.type for run in (prod, staging) for r in run.resources.values()}
    with_budget = planned("prod", BUDGETED)
    declared |= {r.type for r in with_budget.resources.values()}
    bootstrap = run_bootstrap("prod", prod_config())
    declared |= {r.type for r in bootstrap.resources.values()}
    assert uncovered(declared) == set(), "run scripts/provider_rules.py with the type added"
    assert check_run(with_budget) == [] and check_run(bootstrap) == []


def test_a_type_without_rules_is_reported_as_uncovered():
    assert uncovered({VM, "vidgo:platform:Edge"}) == {VM}


def test_the_data_names_the_installed_pulumi_gcp_and_its_provider_source():
    data = load()
    assert data["pulumi_gcp"] == importlib.metadata.version("pulumi_gcp"), (
        "rules.json is for another pulumi-gcp: regenerate it (docs/provider-rules.md)"
    )
    assert len(data["google_beta"]["commit"]) == 40
    assert data["google_beta"]["version"]


def test_plan_and_diff_stop_when_another_pulumi_gcp_is_installed(monkeypatch):
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: "10.2.0" if name == "pulumi_gcp" else real(name),
    )
    expected = (
        f"rules.json holds the provider rules of pulumi-gcp {load()['pulumi_gcp']}, but 10.2.0 "
        "is installed"
    )
    for argv in (["plan", "staging"], ["diff", "--snapshot", "staging"]):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = main(argv)
        assert status == 2, argv
        assert expected in err.getvalue() and out.getvalue() == "", argv


# --- each rule kind, on the real data ---------------------------------------------------------
def violations(type_: str, inputs: dict, name: str = "thing") -> list[str]:
    return [v.line() for v in check_resource(name, type_, inputs)]


def test_real_rules_unknown_property():
    assert violations(SSL_POLICY, {"profile": "MODERN", "minTlsVersoin": "TLS_1_2"}) == [
        "thing minTlsVersoin: remove it: this provider version has no minTlsVersoin "
        "(provider rule: unknown property)"
    ]


def test_a_field_the_sdk_type_has_but_this_resources_schema_lacks_is_rejected():
    """pulumi_gcp shares one Python type for a WAF exclusion between SecurityPolicy's rules and
    the SecurityPolicyRule resource; only the latter's schema has request_body."""
    exclusion = {"targetRuleSet": "sqli-v33-stable", "requestBodies": [{"operator": "EQUALS_ANY"}]}
    rule = {
        "action": "allow",
        "priority": 1000,
        "match": {"expr": {"expression": "true"}},
        "preconfiguredWafConfig": {"exclusions": [exclusion]},
    }
    lines = violations(ARMOR_POLICY, {"rules": [rule]})
    assert lines == [
        "thing rules[0].preconfiguredWafConfig.exclusions[0].requestBodies: remove it: the SDK "
        "type accepts requestBodies, the provider's schema for this resource has no such field "
        "(provider rule: unknown property); stack key vidgo-infra:edge.armor"
    ]


def test_real_rules_enum():
    (line,) = violations(SSL_POLICY, {"profile": "MODERNEST"})
    assert line.startswith("thing profile: 'MODERNEST' is not one of COMPATIBLE, MODERN")
    assert line.endswith("(provider rule: one of)")


def test_real_rules_required_and_autoname_exemption():
    # A URL map's name is required, but Pulumi names it; a path matcher's name is not.
    assert violations(
        URL_MAP,
        {"defaultService": "x", "pathMatchers": [{"defaultService": "x"}]},
    ) == ["thing pathMatchers[0].name: set name (provider rule: required)"]


def test_real_rules_int_range_and_output_only():
    assert violations(REDIS, {"memorySizeGb": 1, "host": "10.0.0.1"}, "redis") == [
        "redis host: remove it: the provider computes host (provider rule: output only); "
        "stack key vidgo-infra:redis"
    ]
    lines = violations(
        SQL_INSTANCE,
        {
            "databaseVersion": "POSTGRES_15",
            "settings": {"tier": "db-f1-micro", "maintenanceWindow": {"hour": 24}},
        },
    )
    assert lines == [
        "thing settings.maintenanceWindow.hour: 24 is outside 0..23 (provider rule: range); "
        "stack key vidgo-infra:database"
    ]


def test_real_rules_nested_at_least_one_of():
    lines = violations(BACKEND_SERVICE, {"cdnPolicy": {"cacheMode": "CACHE_ALL_STATIC"}})
    assert lines == [
        "thing cdnPolicy: set cacheKeyPolicy or signedUrlCacheMaxAgeSec (provider rule: "
        "at least one of); stack key vidgo-infra:edge.web_cdn"
    ]
    # An empty block is set, as in Terraform: the cache key policy then needs one of its own.
    (line,) = violations(BACKEND_SERVICE, {"cdnPolicy": {"cacheKeyPolicy": {}}})
    assert "thing cdnPolicy.cacheKeyPolicy: set includeHost or" in line


def test_real_rules_exactly_one_of():
    secret = SECRET
    assert violations(secret, {"secretId": "X", "replication": {"auto": {}}}) == []
    assert violations(
        secret,
        {"secretId": "X", "replication": {"auto": {}, "userManaged": {"replicas": []}}},
    ) == [
        "thing replication: set only one of auto, userManaged (provider rule: exactly one of)",
        "thing replication.userManaged.replicas: set replicas (provider rule: required)",
    ]
    # A URL map sends its default somewhere, one way only.
    assert violations(URL_MAP, {}) == [
        "thing: set defaultRouteAction.weightedBackendServices or defaultService or "
        "defaultUrlRedirect (provider rule: exactly one of)"
    ]


def test_real_rules_regex():
    (line,) = violations(REDIS, {"name": "Vidgo_Redis", "memorySizeGb": 1})
    assert "name: 'Vidgo_Redis' does not match" in line and "(provider rule: pattern)" in line


# --- each rule kind, on small rules written here ----------------------------------------------
RULES = {
    "autoname": {
        "property": "name",
        "max_length": 255,
        "random": 7,
        "limits": [{"kind": "length", "min": 1, "max": 63}],
    },
    "properties": {
        "name": {"tf": "name", "shape": "scalar", "required": True},
        "size": {
            "tf": "size",
            "shape": "scalar",
            "optional": True,
            "validators": [{"kind": "int_range", "min": 1, "max": 10}],
        },
        "ratio": {
            "tf": "ratio",
            "shape": "scalar",
            "optional": True,
            "validators": [{"kind": "number_range", "min": 0.0, "max": 1.0}],
        },
        "label": {
            "tf": "label",
            "shape": "scalar",
            "optional": True,
            "validators": [{"kind": "length", "min": 2, "max": 4}],
            "conflicts_with": ["other"],
        },
        "other": {"tf": "other", "shape": "scalar", "optional": True},
        "range": {
            "tf": "range",
            "shape": "scalar",
            "optional": True,
            "validators": [{"kind": "cidr"}],
            "required_with": ["label"],
        },
        "timeout": {
            "tf": "timeout",
            "shape": "scalar",
            "optional": True,
            "validators": [{"kind": "go_duration", "non_negative": True}],
        },
        "tags": {
            "tf": "tags",
            "shape": "list",
            "optional": True,
            "max_items": 2,
            "item_validators": [{"kind": "enum", "values": ["a", "b"], "ignore_case": False}],
        },
        "doc": {
            "tf": "doc",
            "shape": "scalar",
            "optional": True,
            "validators": [{"kind": "json"}, {"kind": "unsupported", "go": "validateDoc"}],
        },
    },
}


def synthetic(inputs: dict, name: str = "thing") -> list[str]:
    return [f"{v.path}: {v.rule}" for v in ResourceCheck(name, "t", RULES, plain(inputs)).run()]


def test_synthetic_rules_accept_a_right_input():
    assert synthetic({"size": 10, "ratio": 0.5, "label": "ab", "range": "10.0.0.0/28"}) == []


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"size": 11}, "size: range"),
        ({"size": 2.5}, "size: range"),
        ({"ratio": 1.5}, "ratio: range"),
        ({"label": "abcde"}, "label: length"),
        ({"label": "ab", "other": "x"}, "label: conflicts with"),
        ({"range": "10.0.0.0/33", "label": "ab"}, "range: CIDR"),
        ({"range": "10.0.0.0/28"}, "range: required with"),
        ({"timeout": "5 minutes"}, "timeout: duration"),
        ({"timeout": "-5s"}, "timeout: duration"),
        ({"tags": ["a", "c"]}, "tags[1]: one of"),
        ({"tags": ["a", "b", "a"]}, "tags: max items"),
        ({"doc": "{not json"}, "doc: JSON"),
        ({"sizes": 1}, "sizes: unknown property"),
    ],
)
def test_synthetic_rules_reject_each_wrong_input(inputs, expected):
    assert synthetic(inputs) == [expected]


def test_synthetic_autoname_length():
    assert synthetic({}, "x" * 55) == []
    assert synthetic({}, "x" * 56) == ["name: name length, autonamed"]
    assert synthetic({"name": "set-by-the-program"}, "x" * 80) == []


def test_values_known_only_after_up_are_not_checked():
    from pulumi.runtime import rpc

    assert synthetic({"size": rpc.UNKNOWN, "label": "ab", "range": "10.0.0.0/28"}) == []


def test_every_terraform_field_maps_to_a_pulumi_property_of_the_installed_sdk():
    """A field marked uncertain has no certain Pulumi name: review the mapping after a
    regeneration (scripts/provider_rules.py) before relying on its rules."""

    def uncertain(tree: dict, prefix: str = "") -> list[str]:
        found = []
        for name, rule in tree.items():
            if "uncertain" in rule:
                found.append(prefix + name)
            found += uncertain(rule.get("fields", {}), f"{prefix}{name}.")
        return found

    assert [
        f"{t} {path}" for t, e in load()["resources"].items() for path in uncertain(e["properties"])
    ] == []


def test_every_type_the_tests_name_is_one_the_installed_sdk_declares():
    """A misspelt token in the kit would make `by_type` find nothing, and a test asserting that
    something is absent would pass without checking anything."""
    import importlib
    import inspect

    from tests import kit

    tokens = {v for k, v in vars(kit).items() if k.isupper() and isinstance(v, str)}
    resources = {t for t in tokens if re.fullmatch(r"(gcp|random):\w+/\w+:\w+", t)}
    assert len(resources) > 50
    for token in resources:
        package, module_and_class = token.split(":", 1)
        module, name = module_and_class.split("/")[0], module_and_class.split(":")[1]
        sdk = importlib.import_module(
            f"pulumi_{package}" + ("" if module == "index" else f".{module}")
        )
        assert f"'{token}'" in inspect.getsource(getattr(sdk, name)), token
