"""Issue 11: data survives mistakes, the edge enforces its WAF, the alerts mean what they say,
and a stack can weaken any of it only by naming the choice (and the plan then says so)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from stacks.loader import ConfigError
from tests.conftest import run_with
from vidgo_infra.offline import Resource, Run

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
REDIS = "gcp:redis/instance:Instance"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
VPC = "gcp:compute/network:Network"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
PEERING = "gcp:servicenetworking/connection:Connection"
FIREWALL = "gcp:compute/firewall:Firewall"
DNS_POLICY = "gcp:dns/policy:Policy"
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
BACKEND = "gcp:compute/backendService:BackendService"
BACKEND_BUCKET = "gcp:compute/backendBucket:BackendBucket"
URL_MAP = "gcp:compute/uRLMap:URLMap"
BUCKET = "gcp:storage/bucket:Bucket"
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
PROVIDER_STATUS = "custom.googleapis.com/vidgo/provider_status"
HSTS_YEAR = "Strict-Transport-Security: max-age=31536000"


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """The warnings the program logs (pulumi.log.warn), as `pulumi preview` would show them."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                records.append(record.getMessage())

    handler = Keep()
    log = logging.getLogger("vidgo-infra.program")
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)


def refused(stack: str, changes: dict) -> list[str]:
    with pytest.raises(ConfigError) as error:
        run_with(stack, changes)
    return error.value.problems


# --- Redis ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_redis_snapshots_every_hour_and_has_a_maintenance_window(stack, request):
    redis = request.getfixturevalue(stack).one(REDIS).inputs
    assert redis["persistenceConfig"] == {"persistenceMode": "RDB", "rdbSnapshotPeriod": "ONE_HOUR"}
    (window,) = redis["maintenancePolicy"]["weeklyMaintenanceWindows"]
    assert window["day"] == "SUNDAY"
    assert window["startTime"]["hours"] == 5  # UTC, the hour after Cloud SQL's window


def test_prod_redis_fails_over_and_staging_keeps_one_node(prod, staging):
    assert prod.one(REDIS).inputs["tier"] == "STANDARD_HA"
    assert staging.one(REDIS).inputs["tier"] == "BASIC"


def test_redis_without_persistence_is_a_named_choice(warnings):
    off = {"vidgo-infra:redis": {"rdb_snapshot_period": "DISABLED"}}
    (problem,) = refused("prod", off)
    assert "vidgo-infra:redis.rdb_snapshot_period" in problem
    run = run_with("prod", {**off, "vidgo-infra:accept_weaker": ["no-redis-persistence"]})
    assert run.one(REDIS).inputs["persistenceConfig"]["persistenceMode"] == "DISABLED"
    assert [w for w in warnings if "no-redis-persistence" in w] != []


# --- registry, network: what survives a destroy --------------------------------------------------


def test_registry_is_protected_in_prod_only(prod, staging):
    assert prod.one(REPOSITORY).protect
    assert not staging.one(REPOSITORY).protect


def data_network(run: Run) -> list[Resource]:
    """What Cloud SQL and Redis stand on: the VPC, the private services range, the peering."""
    ranges = [a for a in run.by_type(ADDRESS) if a.inputs.get("purpose") == "VPC_PEERING"]
    return [run.one(VPC), *ranges, run.one(PEERING)]


def test_the_network_under_the_data_is_protected_in_prod_only(prod, staging):
    assert len(data_network(prod)) == 3
    assert [r.name for r in data_network(prod) if not r.protect] == []
    assert [r.name for r in data_network(staging) if r.protect] == []


# --- Cloud SQL -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_deleting_the_database_keeps_its_backups_and_takes_a_final_one(stack, request):
    instance = request.getfixturevalue(stack).one(SQL).inputs
    settings = instance["settings"]
    assert settings["retainBackupsOnDelete"] is True
    assert settings["finalBackupConfig"] == {"enabled": True, "retentionDays": 30}
    assert "vidgo-db" in instance["finalBackupDescription"]


def test_no_final_backup_sends_no_retention(warnings):
    # Cloud SQL rejects a retention on a disabled final backup.
    run = run_with(
        "staging",
        {
            "vidgo-infra:database": {"final_backup_retention_days": 0},
            "vidgo-infra:accept_weaker": ["unprotected", "owasp-preview", "no-retained-backups"],
        },
    )
    instance = run.one(SQL).inputs
    assert instance["settings"]["finalBackupConfig"] == {"enabled": False}
    assert "finalBackupDescription" not in instance


def test_a_major_version_change_is_refused_without_the_acknowledgement():
    problems = refused("prod", {"vidgo-infra:database": {"version": "POSTGRES_16"}})
    assert len(problems) == 1 and "\n" not in problems[0]
    (problem,) = problems
    assert problem.startswith("Pulumi.prod.yaml: vidgo-infra:database.version: ")
    assert "POSTGRES_15 -> POSTGRES_16" in problem
    assert "take a backup first" in problem
    assert "database.allow_major_upgrade_from: POSTGRES_15" in problem


def test_an_acknowledged_major_upgrade_is_declared():
    run = run_with(
        "prod",
        {
            "vidgo-infra:database": {
                "version": "POSTGRES_16",
                "allow_major_upgrade_from": "POSTGRES_15",
            }
        },
    )
    assert run.one(SQL).inputs["databaseVersion"] == "POSTGRES_16"


def test_an_acknowledgement_for_another_version_does_not_count():
    change = {"version": "POSTGRES_17", "allow_major_upgrade_from": "POSTGRES_14"}
    (problem,) = refused("prod", {"vidgo-infra:database": change})
    assert "take a backup first" in problem


def test_a_downgrade_is_refused():
    (problem,) = refused("prod", {"vidgo-infra:database": {"version": "POSTGRES_14"}})
    assert "vidgo-infra:database.version" in problem and "cannot downgrade" in problem


def test_the_deployed_version_is_recorded_in_both_stacks(prod, staging):
    # The guard compares with this record; without it a version change would go unnoticed.
    for run in (prod, staging):
        assert run.one(SQL).inputs["databaseVersion"] == "POSTGRES_15"
    assert refused("staging", {"vidgo-infra:database": {"version": "POSTGRES_16"}})


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_pgaudit_logs_ddl_and_role_changes_with_lock_waits_and_checkpoints(stack, request):
    flags = request.getfixturevalue(stack).one(SQL).inputs["settings"]["databaseFlags"]
    found = {flag["name"]: flag["value"] for flag in flags}
    assert found["cloudsql.enable_pgaudit"] == "on"
    assert set(found["pgaudit.log"].split(",")) == {"ddl", "role"}
    assert found["log_lock_waits"] == "on"
    assert found["log_checkpoints"] == "on"


def test_clients_without_a_trusted_certificate_are_a_named_choice():
    change = {"vidgo-infra:database": {"ssl_mode": "ENCRYPTED_ONLY"}}
    (problem,) = refused("prod", change)
    assert "vidgo-infra:database.ssl_mode" in problem and "no-client-certificates" in problem


# --- Cloud Armor ---------------------------------------------------------------------------------


def policy(run: Run, backend: str) -> dict:
    return run.one(ARMOR, f"edge-{backend}-armor").inputs


def waf_rules(rules: list[dict]) -> list[dict]:
    return [r for r in rules if "evaluatePreconfiguredWaf(" in expression(r)]


def expression(rule: dict) -> str:
    return rule.get("match", {}).get("expr", {}).get("expression", "")


def test_prod_enforces_the_owasp_rules_and_parses_json(prod):
    api = policy(prod, "api")
    assert api["advancedOptionsConfig"]["jsonParsing"] == "STANDARD"
    rules = waf_rules(api["rules"])
    assert {"sqli", "xss", "lfi", "rfi", "rce"} <= {
        re.search(r"'([a-z]+)-v33-stable'", expression(r))[1] for r in rules
    }
    assert [r.get("preview", False) for r in rules] == [False] * len(rules)
    assert all(r["action"] == "deny(403)" for r in rules)


def test_staging_keeps_the_owasp_rules_in_preview(staging):
    rules = waf_rules(policy(staging, "api")["rules"])
    assert rules and all(r["preview"] is True for r in rules)


def denied_methods(run: Run) -> set[str]:
    """The methods the API's policy denies, evaluated as Cloud Armor would: `!method.matches()`."""
    (rule,) = [r for r in policy(run, "api")["rules"] if "request.method" in expression(r)]
    assert rule["action"].startswith("deny(") and not rule.get("preview", False)
    pattern = re.fullmatch(r"!request\.method\.matches\('(.+)'\)", expression(rule))[1]
    methods = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"]
    return {m for m in methods if not re.search(pattern, m)}


def test_the_apis_own_methods_pass_and_others_are_denied(prod):
    assert denied_methods(prod) == {"TRACE", "CONNECT"}
    # CRS's method enforcement allows only GET/HEAD/POST/OPTIONS: enforced, it would block the
    # API's PUT, PATCH and DELETE, so it is not among the rule sets.
    assert not [r for r in waf_rules(policy(prod, "api")["rules"]) if "methodenforcement" in str(r)]


@pytest.mark.parametrize("backend", ["api", "web"])
def test_both_services_have_a_rate_limit_that_bans_sustained_abuse(prod, backend):
    rules = policy(prod, backend)["rules"]
    (ban,) = [r for r in rules if r["action"] == "rate_based_ban"]
    options = ban["rateLimitOptions"]
    assert options["enforceOnKey"] == "IP"
    assert options["conformAction"] == "allow" and options["exceedAction"] == "deny(429)"
    assert options["rateLimitThreshold"] == {"count": 600, "intervalSec": 60}
    assert options["banThreshold"] == {"count": 3000, "intervalSec": 600}
    assert options["banDurationSec"] == 600
    # The rule matches every request, so it comes after every WAF rule, before the default.
    assert all(r["priority"] < ban["priority"] for r in waf_rules(rules))
    assert max(r["priority"] for r in rules) == 2147483647


def test_owasp_preview_in_prod_is_a_named_choice_and_warned(warnings):
    preview = {"vidgo-infra:edge": {"armor": {"owasp_mode": "preview"}}}
    (problem,) = refused("prod", preview)
    assert problem == (
        "Pulumi.prod.yaml: vidgo-infra:edge.armor.owasp_mode: weaker than the default; "
        "allowed only with accept_weaker: [owasp-preview] (the plan then warns)"
    )
    run = run_with("prod", {**preview, "vidgo-infra:accept_weaker": ["owasp-preview"]})
    assert all(r["preview"] for r in waf_rules(policy(run, "api")["rules"]))
    assert [w for w in warnings if "owasp-preview" in w] == [
        "weaker by choice (accept_weaker: owasp-preview): edge.armor.owasp_mode: "
        "OWASP rules only log (preview): the WAF blocks nothing"
    ]


# --- HTTPS, HSTS, CORS ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_port_80_redirects_with_308(stack, request):
    run = request.getfixturevalue(stack)
    (redirect,) = [m for m in run.by_type(URL_MAP) if "defaultUrlRedirect" in m.inputs]
    assert redirect.inputs["defaultUrlRedirect"]["redirectResponseCode"] == "PERMANENT_REDIRECT"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_https_backend_sends_hsts(stack, request):
    run = request.getfixturevalue(stack)
    backends = run.by_type(BACKEND) + run.by_type(BACKEND_BUCKET)
    assert len(backends) == 3  # api, web, media: everything the HTTPS URL map serves
    assert [b.name for b in backends if HSTS_YEAR not in b.inputs["customResponseHeaders"]] == []


def test_hsts_max_age_comes_from_config_and_none_is_a_named_choice(warnings):
    day = run_with("prod", {"vidgo-infra:edge": {"hsts_max_age_seconds": 86400}})
    headers = {h for b in day.by_type(BACKEND) for h in b.inputs["customResponseHeaders"]}
    assert headers == {"Strict-Transport-Security: max-age=86400"}
    (problem,) = refused("prod", {"vidgo-infra:edge": {"hsts_max_age_seconds": 0}})
    assert "vidgo-infra:edge.hsts_max_age_seconds" in problem and "[no-hsts]" in problem
    none = run_with(
        "prod",
        {"vidgo-infra:edge": {"hsts_max_age_seconds": 0}, "vidgo-infra:accept_weaker": ["no-hsts"]},
    )
    assert not [b.name for b in none.by_type(BACKEND) if b.inputs.get("customResponseHeaders")]
    assert len([w for w in warnings if "no-hsts" in w]) == 1


def test_cors_origins_are_the_site_hosts_and_the_api(prod, staging):
    (prod_cors,) = prod.one(BUCKET).inputs["cors"]
    assert prod_cors["origins"] == [
        "https://vidgo.ai",
        "https://www.vidgo.ai",
        "https://api.vidgo.ai",
    ]
    (staging_cors,) = staging.one(BUCKET).inputs["cors"]  # staging serves no www host
    assert staging_cors["origins"] == ["https://staging.vidgo.ai", "https://api.staging.vidgo.ai"]


# --- the VPC: firewall and DNS logging -----------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_vpc_ends_with_a_logged_deny_all_ingress_rule(stack, request):
    run = request.getfixturevalue(stack)
    (rule,) = run.by_type(FIREWALL)
    inputs = rule.inputs
    assert inputs["network"] == run.one(VPC).id
    assert inputs["direction"] == "INGRESS"
    assert inputs["priority"] == 65535  # the lowest: every other rule is evaluated first
    assert inputs["sourceRanges"] == ["0.0.0.0/0"]
    assert inputs["denies"] == [{"protocol": "all"}]
    assert "allows" not in inputs
    assert inputs["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_dns_queries_from_the_vpc_are_logged(stack, request):
    run = request.getfixturevalue(stack)
    dns = run.one(DNS_POLICY).inputs
    assert dns["enableLogging"] is True
    assert dns["networks"] == [{"networkUrl": run.one(VPC).id}]


# --- alerts --------------------------------------------------------------------------------------


def test_the_availability_slos_count_server_errors_only(prod):
    slos = prod.by_type("gcp:monitoring/slo:Slo")
    slos = [s for s in slos if s.inputs["sloId"] == "availability"]
    assert len(slos) == 2  # api and web
    for slo in slos:
        ratio = slo.inputs["requestBasedSli"]["goodTotalRatio"]
        assert 'metric.labels.response_code_class="500"' in ratio["badServiceFilter"]
        assert "response_code_class" not in ratio["totalServiceFilter"]  # over all requests


def provider_down(run: Run) -> dict:
    (alert,) = [p for p in run.by_type(POLICY) if PROVIDER_STATUS in str(p.inputs["conditions"])]
    return alert.inputs


def test_provider_down_also_fires_when_the_status_stops_arriving(prod):
    alert = provider_down(prod)
    assert alert["combiner"] == "OR"
    (absent,) = [c["conditionAbsent"] for c in alert["conditions"] if "conditionAbsent" in c]
    assert f'metric.type="{PROVIDER_STATUS}"' in absent["filter"]
    assert absent["duration"] == "900s"
    (below,) = [c["conditionThreshold"] for c in alert["conditions"] if "conditionThreshold" in c]
    assert below["comparison"] == "COMPARISON_LT" and below["thresholdValue"] == 1


def test_the_absence_duration_comes_from_config():
    run = run_with("prod", {"vidgo-infra:monitoring": {"provider_status_absent_minutes": 30}})
    (absent,) = [
        c["conditionAbsent"] for c in provider_down(run)["conditions"] if "conditionAbsent" in c
    ]
    assert absent["duration"] == "1800s"


# --- weaker choices are named, and warned about once each ----------------------------------------


def test_unprotected_prod_is_refused_unless_named():
    (problem,) = refused("prod", {"vidgo-infra:protect": False})
    assert problem.startswith("Pulumi.prod.yaml: vidgo-infra:protect: ")
    assert "accept_weaker: [unprotected]" in problem


def test_naming_a_choice_the_stack_does_not_make_is_refused():
    (problem,) = refused("prod", {"vidgo-infra:accept_weaker": ["no-hsts"]})
    assert problem.startswith("Pulumi.prod.yaml: vidgo-infra:accept_weaker: ")
    assert "no-hsts" in problem


def test_prod_makes_no_weaker_choice(warnings):
    run_with("prod", {})
    from_prod = list(warnings)
    run_with("staging", {})  # which does warn: the capture works
    assert len(warnings) > len(from_prod), "the program's warnings were not captured"
    assert not [w for w in from_prod if "accept_weaker" in w]


def test_staging_names_its_weaker_choices_and_each_is_warned_once(warnings):
    run_with("staging", {})
    weaker = [w for w in warnings if w.startswith("weaker by choice")]
    assert weaker == [
        "weaker by choice (accept_weaker: unprotected): protect: stateful resources have no "
        "protect or deletion guard: a destroy deletes data",
        "weaker by choice (accept_weaker: owasp-preview): edge.armor.owasp_mode: OWASP rules "
        "only log (preview): the WAF blocks nothing",
    ]
