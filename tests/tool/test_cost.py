"""The cost estimate: each pricing rule, the stacks' totals, deltas, the budget guard.

Expected figures are computed here by hand from vidgo_infra/prices.yaml, read as plain YAML:
the test never asks the code under test what a price is or how a rule combines prices.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from stacks.usage import Budget, UsageProfile
from tests.kit import (
    ALERT_POLICY,
    API_SERVICE,
    ARMOR_POLICY,
    BACKEND_BUCKET,
    BACKEND_SERVICE,
    BILLING_BUDGET,
    BUCKET,
    BUDGETED,
    CLOUD_RUN_SERVICE,
    CONNECTOR,
    FORWARDING_RULE,
    GLOBAL_ADDRESS,
    REDIS,
    REPOSITORY,
    ROOT,
    SECRET,
    SERVERLESS_NEG,
    SERVICE_ACCOUNT,
    SQL_INSTANCE,
    UPTIME_CHECK,
    VM,
    planned,
)
from vidgo_infra import cost
from vidgo_infra.cli import main
from vidgo_infra.inventory import dump, inventory
from vidgo_infra.project import Project, UsageError
from vidgo_infra.stack import PlannedStack, stack_config

PRICE_FILE = yaml.safe_load((ROOT / "vidgo_infra" / "prices.yaml").read_text())
HOURS = 730
SECONDS = 730 * 3600  # 2,628,000 seconds in the 730-hour month the price file uses
TAIWAN = "asia-east1"


def usd(sku: str, region: str = TAIWAN) -> float:
    by_region = PRICE_FILE["prices"][sku]["usd"]
    return by_region[region] if region in by_region else by_region["global"]


def free(sku: str) -> float:
    return PRICE_FILE["prices"][sku].get("free_per_month", 0)


def doc(**resources) -> dict:
    """A hand-built inventory: name=(type token, inputs) or name=(type, inputs, extra fields)."""
    built = {}
    for name, spec in resources.items():
        kind, inputs, *extra = spec
        built[name] = {
            "type": kind,
            "parent": None,
            "inputs": inputs,
            **(extra[0] if extra else {}),
        }
    return {"version": 1, "stack": "test", "resources": built}


def lines(estimate, resource: str | None = None, item: str | None = None):
    """The lines of a resource and/or whose item starts with `item`."""
    return [
        line
        for line in estimate.lines
        if (resource is None or line.resource == resource)
        and (item is None or line.item.startswith(item))
    ]


def monthly(estimate, resource: str | None = None, item: str | None = None) -> float:
    return sum(line.monthly_usd or 0 for line in lines(estimate, resource, item))


def run_service(cpu="2", memory="2Gi", minimum=1, cpu_idle: bool | None = True, name="vidgo-api"):
    resources = {"limits": {"cpu": cpu, "memory": memory}}
    if cpu_idle is not None:
        resources["cpuIdle"] = cpu_idle
    return {
        "name": name,
        "location": TAIWAN,
        "template": {
            "containers": [{"resources": resources}],
            "scaling": {"minInstanceCount": minimum, "maxInstanceCount": 10},
        },
    }


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "vcpus"), [("2", 2.0), ("1000m", 1.0), ("0.5", 0.5), ("250m", 0.25)]
)
def test_cpu_limits_in_every_notation(text, vcpus):
    assert cost.parse_cpu(text) == vcpus


@pytest.mark.parametrize(("text", "gib"), [("512Mi", 0.5), ("2Gi", 2.0), ("1G", 1e9 / 2**30)])
def test_memory_limits_in_gib(text, gib):
    assert cost.parse_memory_gib(text) == pytest.approx(gib)


def test_an_unreadable_cpu_limit_is_unpriced_not_zero():
    estimate = cost.estimate(doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service(cpu="two"))}))
    (line,) = lines(estimate, "api-service")
    assert line.monthly_usd is None and "two" in line.note


# --- Cloud Run ----------------------------------------------------------------------------------


def test_request_based_service_bills_requests_and_idle_min_instances():
    usage = UsageProfile(api_requests=1_000_000, api_mean_request_seconds=0.5, free_tier=False)
    estimate = cost.estimate(doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service())}), usage)
    busy = 1_000_000 * 0.5  # 500,000 seconds serving requests
    idle = SECONDS - busy
    assert monthly(estimate, item="vCPU serving") == pytest.approx(2 * busy * 0.000024)
    assert usd("cloud_run.request.cpu") == 0.000024
    assert monthly(estimate, item="memory serving") == pytest.approx(2 * busy * 0.0000025)
    assert monthly(estimate, item="requests") == pytest.approx(1.0 * 0.40)
    assert monthly(estimate, item="idle min instances: vCPU") == pytest.approx(
        2 * idle * usd("cloud_run.request.idle_cpu")
    )
    assert monthly(estimate, item="idle min instances: memory") == pytest.approx(
        2 * idle * usd("cloud_run.request.idle_memory")
    )
    assert {line.kind for line in lines(estimate, item="idle")} == {"fixed"}


def test_instance_based_service_bills_the_whole_month_and_no_requests():
    usage = UsageProfile(free_tier=False)
    estimate = cost.estimate(
        doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service(cpu_idle=False))}), usage
    )
    # One always-on instance of 2 vCPU and 2 GiB, at the instance-based rates.
    expected = SECONDS * (2 * 0.000018 + 2 * 0.000002)
    assert usd("cloud_run.instance.cpu") == 0.000018
    assert usd("cloud_run.instance.memory") == 0.000002
    assert monthly(estimate, "api-service") == pytest.approx(expected)  # $105.12
    assert not lines(estimate, item="requests")


def test_instance_based_is_two_to_three_times_request_based_for_the_seed_api():
    usage = UsageProfile()
    request = cost.estimate(doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service())}), usage)
    instance = cost.estimate(
        doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service(cpu_idle=False))}), usage
    )
    # The expected "2-3x": for the seed's API alone it is about 3.1x ($99.90 against $31.81).
    ratio = monthly(instance, "api-service") / monthly(request, "api-service")
    assert 2 <= ratio <= 3.5


def test_cpu_idle_left_out_means_instance_based_when_resources_are_set():
    # Cloud Run v2: cpuIdle defaults to true only when `resources` is absent altogether.
    estimate = cost.estimate(
        doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service(cpu_idle=None))})
    )
    assert any("instance-based" in line.item for line in estimate.lines)
    bare = run_service()
    del bare["template"]["containers"][0]["resources"]
    estimate = cost.estimate(
        doc(**{"api-service": (CLOUD_RUN_SERVICE, bare)}), UsageProfile(free_tier=False)
    )
    # Cloud Run's defaults then: 1 vCPU, 512 MiB, request-based.
    idle = SECONDS - 500_000 * 0.5
    assert monthly(estimate, item="idle min instances: vCPU") == pytest.approx(1 * idle * 0.0000025)
    assert monthly(estimate, item="idle min instances: memory") == pytest.approx(
        0.5 * idle * 2.5e-6
    )


def test_millicores_price_like_whole_vcpus():
    one = cost.estimate(doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service(cpu="1"))}))
    millis = cost.estimate(doc(**{"api-service": (CLOUD_RUN_SERVICE, run_service(cpu="1000m"))}))
    assert one.total == pytest.approx(millis.total)


def test_the_free_tier_is_one_allotment_shared_by_both_services():
    services = doc(
        **{
            "api-service": (CLOUD_RUN_SERVICE, run_service(minimum=0)),
            "web-service": (
                CLOUD_RUN_SERVICE,
                run_service(cpu="1", memory="512Mi", minimum=0, name="vidgo-web"),
            ),
        }
    )
    usage = UsageProfile(api_requests=300_000, web_requests=1_000_000)
    estimate = cost.estimate(services, usage)
    vcpu_seconds = 2 * 300_000 * 0.5 + 1 * 1_000_000 * 0.05  # 300,000 + 50,000
    expected = (vcpu_seconds - free("cloud_run.request.cpu")) * usd("cloud_run.request.cpu")
    assert monthly(estimate, item="vCPU serving") == pytest.approx(expected)
    assert "free tier" in " ".join(estimate.assumptions).lower()


def test_a_service_with_no_usage_profile_is_reported():
    estimate = cost.estimate(
        doc(**{"worker-service": (CLOUD_RUN_SERVICE, run_service(name="vidgo-worker"))})
    )
    assert any(not line.priced and line.item == "requests" for line in estimate.lines)


# --- Cloud SQL, Memorystore ---------------------------------------------------------------------


def sql(tier="db-g1-small", availability="ZONAL", disk="PD_SSD", size=10):
    return {
        "databaseVersion": "POSTGRES_15",
        "region": TAIWAN,
        "settings": {
            "tier": tier,
            "edition": "ENTERPRISE",
            "availabilityType": availability,
            "diskType": disk,
            "diskSize": size,
            "backupConfiguration": {"enabled": True},
        },
    }


def test_cloud_sql_shared_core_storage_and_backups():
    estimate = cost.estimate(doc(db=(SQL_INSTANCE, sql())), UsageProfile(database_backup_gb=12))
    assert monthly(estimate, item="instance") == pytest.approx(730 * 0.035)  # $25.55
    assert usd("cloud_sql.shared.db-g1-small") == 0.035
    assert monthly(estimate, item="storage") == pytest.approx(10 * usd("cloud_sql.storage.ssd"))
    assert monthly(estimate, item="backup") == pytest.approx(12 * usd("cloud_sql.backup"))


def test_cloud_sql_high_availability_doubles_instance_and_disk():
    zonal = cost.estimate(doc(db=(SQL_INSTANCE, sql())))
    regional = cost.estimate(doc(db=(SQL_INSTANCE, sql(availability="REGIONAL"))))
    assert monthly(regional, item="instance") == pytest.approx(2 * monthly(zonal, item="instance"))
    assert monthly(regional, item="storage") == pytest.approx(2 * 10 * 0.17)
    assert monthly(regional, item="backup") == pytest.approx(monthly(zonal, item="backup"))


def test_cloud_sql_custom_tier_is_vcpus_plus_memory():
    estimate = cost.estimate(doc(db=(SQL_INSTANCE, sql(tier="db-custom-2-7680"))))
    expected = 2 * HOURS * usd("cloud_sql.custom.vcpu") + 7.5 * HOURS * usd(
        "cloud_sql.custom.memory"
    )
    assert monthly(estimate, item="instance") == pytest.approx(expected)  # $98.93


def test_cloud_sql_hdd_has_no_price_and_says_so():
    estimate = cost.estimate(doc(db=(SQL_INSTANCE, sql(disk="PD_HDD"))))
    (line,) = lines(estimate, item="storage")
    assert line.monthly_usd is None and "cloud_sql.storage.pd_hdd" in line.note


def test_memorystore_by_capacity_tier_and_region():
    taiwan = cost.estimate(
        doc(cache=(REDIS, {"tier": "BASIC", "memorySizeGb": 1, "region": TAIWAN}))
    )
    iowa = cost.estimate(
        doc(cache=(REDIS, {"tier": "BASIC", "memorySizeGb": 1, "region": "us-central1"}))
    )
    assert taiwan.total == pytest.approx(1 * HOURS * 0.064)  # $46.72, not the seed's $35
    assert iowa.total == pytest.approx(1 * HOURS * usd("memorystore.redis.basic.m1", "us-central1"))
    five = cost.estimate(doc(cache=(REDIS, {"tier": "BASIC", "memorySizeGb": 5, "region": TAIWAN})))
    assert five.total == pytest.approx(5 * HOURS * usd("memorystore.redis.basic.m2"))
    ha = cost.estimate(
        doc(cache=(REDIS, {"tier": "STANDARD_HA", "memorySizeGb": 1, "region": TAIWAN}))
    )
    assert ha.total == pytest.approx(HOURS * usd("memorystore.redis.standard.m1"))


def test_a_region_without_a_price_is_unpriced_not_zero():
    europe = cost.estimate(
        doc(cache=(REDIS, {"tier": "BASIC", "memorySizeGb": 1, "region": "europe-west1"}))
    )
    assert europe.total == 0
    assert [line.resource for line in europe.unpriced] == ["cache"]
    assert "europe-west1" in europe.unpriced[0].note


# --- load balancer, addresses, Cloud Armor ------------------------------------------------------


def test_the_first_five_forwarding_rules_are_one_flat_charge():
    two = cost.estimate(
        doc(**{f"rule-{i}": (FORWARDING_RULE, {"portRange": "443"}) for i in range(2)})
    )
    six = cost.estimate(
        doc(**{f"rule-{i}": (FORWARDING_RULE, {"portRange": "443"}) for i in range(6)})
    )
    flat = HOURS * usd("lb.forwarding_rule.global_first_5", "global")  # $18.25
    extra = HOURS * usd("lb.forwarding_rule.global_additional", "global")  # $7.30
    assert monthly(two, item="forwarding rule") == pytest.approx(flat)
    assert monthly(six, item="forwarding rule") == pytest.approx(flat + extra)
    covered = lines(two, "rule-1", "forwarding rule")[0]
    assert covered.monthly_usd == 0 and "flat charge on rule-0" in covered.waived


def test_a_static_ip_is_free_while_a_rule_uses_it_and_charged_when_idle():
    address = (GLOBAL_ADDRESS, {"name": "vidgo-ip", "addressType": "EXTERNAL"})
    used = cost.estimate(
        doc(ip=address, https=(FORWARDING_RULE, {"ipAddress": "vidgo-ip-id", "portRange": "443"}))
    )
    (line,) = lines(used, "ip")
    assert line.monthly_usd == 0 and "in use by https" in line.waived
    idle = cost.estimate(doc(ip=address))
    assert monthly(idle, "ip") == pytest.approx(HOURS * usd("ip.static_external.unused", "global"))
    internal = cost.estimate(
        doc(range=(GLOBAL_ADDRESS, {"addressType": "INTERNAL", "purpose": "VPC_PEERING"}))
    )
    assert not lines(internal, "range") and internal.not_billed == {GLOBAL_ADDRESS: 1}


def test_cloud_armor_policy_rules_and_the_requests_behind_it():
    rules = [{"priority": p} for p in (1000, 2000, 2001, 2147483647)]
    inventory_doc = doc(
        armor=(ARMOR_POLICY, {"rules": rules}),
        backend=(
            BACKEND_SERVICE,
            {"securityPolicy": "armor-id", "backends": [{"group": "neg-id"}]},
        ),
        neg=(
            SERVERLESS_NEG,
            {"cloudRun": {"service": "vidgo-api"}},
        ),
        **{"api-service": (CLOUD_RUN_SERVICE, run_service(), {"parent": "api"})},
    )
    estimate = cost.estimate(inventory_doc, UsageProfile(api_requests=2_000_000))
    assert (
        monthly(estimate, "armor", "security policy") == 5.0 == usd("cloud_armor.policy", "global")
    )
    assert monthly(estimate, "armor", "rules") == pytest.approx(
        4 * usd("cloud_armor.rule", "global")
    )
    assert monthly(estimate, "armor", "requests") == pytest.approx(2 * 0.75)


# --- storage, CDN, egress -----------------------------------------------------------------------


def test_bucket_storage_and_operations():
    usage = UsageProfile(storage_gb=200, storage_operations=300_000, storage_class_a_share=0.25)
    bucket = (BUCKET, {"location": "ASIA-EAST1", "storageClass": "STANDARD"})
    estimate = cost.estimate(doc(media=bucket), usage)
    assert monthly(estimate, "media", "storage") == pytest.approx(200 * 0.020)
    assert monthly(estimate, "media", "class A") == pytest.approx(75_000 / 1000 * 0.005)
    assert monthly(estimate, "media", "class B") == pytest.approx(225_000 / 1000 * 0.0004)


def test_cdn_serves_the_cacheable_share_and_the_rest_is_internet_egress():
    usage = UsageProfile(egress_gb=1000, cdn_cacheable_share=0.5, cdn_hit_ratio=0.8, upload_gb=20)
    inventory_doc = doc(
        https=(FORWARDING_RULE, {"portRange": "443"}),
        media=(BACKEND_BUCKET, {"enableCdn": True}),
    )
    estimate = cost.estimate(inventory_doc, usage)
    cached, misses, origin = 500, 500 * 0.2, 500
    assert monthly(estimate, item="CDN cache egress") == pytest.approx(cached * 0.09)
    assert monthly(estimate, item="CDN cache fill") == pytest.approx(
        misses * usd("cdn.cache_fill", "global")
    )
    assert monthly(estimate, item="internet egress") == pytest.approx(origin * 0.12)
    assert monthly(estimate, item="data processed, inbound") == pytest.approx(20 * 0.008)
    assert monthly(estimate, item="data processed, outbound") == pytest.approx(
        (origin + misses) * 0.008
    )
    no_cdn = cost.estimate(doc(https=(FORWARDING_RULE, {"portRange": "443"})), usage)
    assert monthly(no_cdn, item="internet egress") == pytest.approx(1000 * 0.12)


# --- networking, secrets, registry, monitoring --------------------------------------------------


def test_connector_vms_are_min_instances_times_machine_type():
    connector = (
        CONNECTOR,
        {"machineType": "e2-micro", "minInstances": 2, "region": TAIWAN},
    )
    estimate = cost.estimate(doc(connector=connector))
    assert estimate.total == pytest.approx(2 * HOURS * 0.009698985)  # $14.16
    f1 = (
        CONNECTOR,
        {"machineType": "f1-micro", "minInstances": 3, "region": TAIWAN},
    )
    assert cost.estimate(doc(connector=f1)).total == pytest.approx(
        3 * HOURS * usd("compute.vm.f1-micro")
    )


def test_secret_versions_and_accesses_above_the_free_allotment():
    secrets = {f"secret-{i}": (SECRET, {"replication": {"auto": {}}}) for i in range(10)}
    estimate = cost.estimate(doc(**secrets), UsageProfile(secret_accesses=25_000))
    assert monthly(estimate, item="active versions") == pytest.approx((10 - 6) * 0.06)
    assert monthly(estimate, item="access operations") == pytest.approx(
        (25_000 - 10_000) / 10_000 * 0.03
    )
    replicated = {
        "replication": {
            "userManaged": {"replicas": [{"location": "asia-east1"}, {"location": "asia-east2"}]}
        }
    }
    two = cost.estimate(doc(one=(SECRET, replicated)), UsageProfile(free_tier=False))
    assert monthly(two, item="active versions") == pytest.approx(2 * 0.06)


def test_artifact_registry_storage_above_half_a_gigabyte():
    repo = (REPOSITORY, {"location": TAIWAN})
    estimate = cost.estimate(doc(registry=repo), UsageProfile(artifact_registry_gb=3))
    assert monthly(estimate, "registry") == pytest.approx(
        (3 - 0.5) * usd("artifact_registry.storage", "global")
    )


def test_alert_conditions_and_uptime_checks():
    policy = (ALERT_POLICY, {"conditions": [{}, {}]})
    uptime = (UPTIME_CHECK, {"period": "60s"})
    checks = {f"uptime-{i}": uptime for i in range(4)}
    estimate = cost.estimate(doc(alerts=policy, **checks))
    assert monthly(estimate, "alerts", "alerting conditions") == pytest.approx(2 * 1.50)
    series = 2 * SECONDS / 30
    assert monthly(estimate, "alerts", "time series") == pytest.approx(series / 1e6 * 0.35)
    # Each check runs from 6 locations every minute: 262,800 executions, and the project's
    # free million covers three of them and most of the fourth.
    executions = 4 * SECONDS / 60 * 6
    assert monthly(estimate, item="uptime") == pytest.approx((executions - 1_000_000) / 1000 * 0.30)
    assert monthly(estimate, "uptime-0") == 0


# --- unknown types, free types ------------------------------------------------------------------


def test_an_unknown_resource_type_is_reported_unpriced_not_zeroed():
    vm = (VM, {"machineType": "n2-standard-8"})
    estimate = cost.estimate(doc(vm=vm, cache=(REDIS, {"memorySizeGb": 1, "region": TAIWAN})))
    (missing,) = estimate.unpriced
    assert missing.resource == "vm" and missing.monthly_usd is None
    assert estimate.total == pytest.approx(HOURS * 0.064)  # only the cache is in the total
    text = "\n".join(cost.render(estimate))
    assert "WARNING: 1 item(s) unpriced" in text and VM in text
    assert any("unpriced" in line for line in cost.summary(estimate))


def test_free_types_cost_nothing_and_are_counted():
    estimate = cost.estimate(doc(api=(API_SERVICE, {}), sa=(SERVICE_ACCOUNT, {})))
    assert estimate.unpriced == [] and estimate.not_billed == {
        API_SERVICE: 1,
        SERVICE_ACCOUNT: 1,
    }


def test_every_price_has_a_unit_a_source_and_the_check_date():
    for sku, entry in PRICE_FILE["prices"].items():
        assert entry["unit"] and entry["source"].startswith("https://"), sku
        # The file's check, or a later one for a price added since (never in the future).
        checked = entry["checked"]
        assert PRICE_FILE["meta"]["checked"] <= checked <= date.today().isoformat(), sku
        assert entry["confidence"], sku


# --- the real stacks ----------------------------------------------------------------------------


def seed_prod_total(document: dict) -> float:
    """Prod under the seed's usage (the UsageProfile defaults), item by item from the price file."""
    resources = document["resources"]
    secrets = sum(r["type"] == SECRET for r in resources.values())
    armor_rules = sum(
        len(resources[policy]["inputs"]["rules"]) for policy in ("edge-api-armor", "edge-web-armor")
    )
    conditions = sum(
        len(r["inputs"]["conditions"])
        for r in resources.values()
        if r["type"].endswith("AlertPolicy")
    )
    api_busy, web_busy = 500_000 * 0.5, 500_000 * 0.05
    vcpu_seconds = 2 * api_busy + 1 * web_busy  # api 2 vCPU, web 1 vCPU
    gib_seconds = 2 * api_busy + 0.5 * web_busy  # api 2 GiB, web 512 MiB
    items = {
        "run vCPU": (vcpu_seconds - 180_000) * 0.000024,
        "run memory": (gib_seconds - 360_000) * 0.0000025,
        "run requests (1M, under the 2M free)": 0,
        "api idle min instance": (SECONDS - api_busy) * (2 * 0.0000025 + 2 * 0.0000025),
        "db-g1-small": 730 * 0.035,
        "10 GB SSD": 10 * 0.17,
        "10 GB backups": 10 * 0.08,
        "redis standard (HA) 1 GB": 730 * 0.081,
        "50 GB stored": 50 * 0.020,
        "100K class A ops": 100 * 0.005,
        "80 GB from CDN cache": 80 * 0.09,
        "8 GB cache fill": 8 * 0.04,
        "1M cache lookups": 100 * 0.0075,
        "forwarding rules 1-5": 730 * 0.025,
        "10 GB processed in": 10 * 0.008,
        "28 GB processed out": 28 * 0.008,
        "20 GB internet egress": 20 * 0.12,
        "static IP in use": 0,
        # No connector: Direct VPC egress has no charge of its own.
        # The program's own (the application keys' are the bootstrap's, docs/delivery.md); the
        # first 6 active versions are free.
        "secret versions": max(secrets - 6, 0) * 0.06,
        # Two policies (API, web), each evaluating its service's 500K requests.
        "armor": 2 * 5 + armor_rules * 1 + 2 * 0.5 * 0.75,
        "registry 5 GB": 4.5 * 0.10,
        "alert conditions": conditions * 1.50 + conditions * SECONDS / 30 / 1e6 * 0.35,
        "flow logs 1 GiB": 1 * 0.25,
        "firewall logs 0.1 GiB (vended network logs)": 0.1 * 0.25,
        "DNS query logs 0.5 GiB (inside the 50 GiB free with the 10 GiB of other logs)": 0,
    }
    return sum(items.values())


@pytest.fixture(scope="module")
def prod_doc(prod):
    return inventory(prod)


@pytest.fixture(scope="module")
def staging_doc(staging):
    return inventory(staging)


def test_prod_total_under_the_seed_usage(prod_doc):
    estimate = cost.estimate(prod_doc, UsageProfile())
    assert estimate.total == pytest.approx(seed_prod_total(prod_doc), abs=0.01)
    # The seed's $142-192, for other reasons (docs/cost.md), plus $18 of SLO burn-rate alerts.
    assert 150 < estimate.total < 230
    assert {group for group in estimate.groups()} >= {
        "Cloud Run",
        "Cloud SQL",
        "Memorystore",
        "Cloud Storage + CDN",
        "Load Balancer",
        "Networking",
        "Secret Manager",
        "Cloud Armor",
        "Artifact Registry",
        "Monitoring & Logging",
    }
    # The only unpriced item is the flow logs' network telemetry, and it says so.
    assert [line.item for line in estimate.unpriced] == [
        "VPC flow logs generation (network telemetry)"
    ]


def settings(stack: str, root: Path = ROOT) -> tuple[UsageProfile, Budget]:
    """The stack's usage and budget, validated with the rest of its config (stacks/loader.py)."""
    config = stack_config(Project(root), stack).config
    return config.usage, config.budget


def test_prod_usage_in_the_stack_file_is_the_seed_usage():
    usage, _ = settings("prod")
    seed = UsageProfile()
    assert (
        (usage.api_requests, usage.storage_gb, usage.storage_operations, usage.egress_gb)
        == (
            seed.api_requests,
            seed.storage_gb,
            seed.storage_operations,
            seed.egress_gb,
        )
        == (500_000, 50, 100_000, 100)
    )


def test_staging_is_cheaper_than_prod(prod_doc, staging_doc):
    prod_usage, _ = settings("prod")
    staging_usage, _ = settings("staging")
    prod_total = cost.estimate(prod_doc, prod_usage).total
    staging_total = cost.estimate(staging_doc, staging_usage).total
    assert staging_total < prod_total


def test_raising_api_min_instances_from_one_to_two_costs_one_idle_instance(prod_doc):
    changed = copy.deepcopy(prod_doc)
    changed["resources"]["api-service"]["inputs"]["template"]["scaling"]["minInstanceCount"] = 2
    before = cost.estimate(prod_doc, UsageProfile())
    after = cost.estimate(changed, UsageProfile())
    # One more 2 vCPU / 2 GiB instance, idle all month, at the idle rates.
    expected = SECONDS * 2 * usd("cloud_run.request.idle_cpu") + SECONDS * 2 * usd(
        "cloud_run.request.idle_memory"
    )
    assert after.total - before.total == pytest.approx(expected)  # $26.28
    changes = cost.delta(before, after)
    assert {change.key[2] for change in changes} == {
        "idle min instances: vCPU",
        "idle min instances: memory",
    }
    assert sum(change.delta_usd for change in changes) == pytest.approx(expected)


# --- the command --------------------------------------------------------------------------------


def args(stack="prod", json=False, against=None):
    return argparse.Namespace(stack=stack, json=json, against=against, project=Project(ROOT))


SMALL = doc(cache=(REDIS, {"memorySizeGb": 1, "region": TAIWAN}))  # one Basic 1 GB Redis


def report(budget: Budget, saved=None, **options) -> int:
    """`cost` on a one-resource inventory with a chosen budget: no program run needed."""
    return cost.print_estimate(args(**options), SMALL, UsageProfile(), budget, saved)


def test_budget_guard_exits_1_over_budget_and_says_by_how_much(capsys):
    assert report(Budget(monthly_usd=40)) == 1
    out, err = capsys.readouterr()
    over = 730 * 0.064 - 40  # $6.72
    assert f"by ${over:,.2f}" in out
    # Said once: a terminal shows stdout and stderr together.
    assert (out + err).count("Budget: OVER") == 1


def test_budget_guard_exits_0_within_budget_or_without_one(capsys):
    assert report(Budget(monthly_usd=50)) == 0
    assert "$3.28 to spare" in capsys.readouterr().out
    assert report(Budget()) == 0


def test_json_output_has_lines_totals_and_budget(capsys):
    assert report(Budget(monthly_usd=40), json=True) == 1
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["total_usd"] == round(730 * 0.064, 2)
    assert document["budget"] == {"monthly_usd": 40, "over": True, "over_by_usd": 6.72}
    (line,) = [line for line in document["lines"] if line["resource"] == "cache"]
    assert line["sku"] == "memorystore.redis.basic.m1" and line["kind"] == "fixed"
    assert "Budget: OVER" in err  # the reason for exit status 1, beside machine-readable stdout


def test_json_money_is_rounded_to_the_cent(capsys, prod_doc):
    assert cost.print_estimate(args(json=True), prod_doc, UsageProfile(), Budget(), prod_doc) == 0
    document = json.loads(capsys.readouterr().out)

    def money(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from money(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from money(v, key)
        elif isinstance(value, float) and key.endswith("_usd") and key != "unit_usd":
            yield key, value

    amounts = list(money(document))
    assert len(amounts) > 20
    assert all(round(v, 2) == v for _, v in amounts), [a for a in amounts if round(a[1], 2) != a[1]]


def test_against_a_saved_inventory_prints_the_change(tmp_path, capsys):
    saved = copy.deepcopy(SMALL)
    saved["resources"]["cache"]["inputs"]["memorySizeGb"] = 2
    path = tmp_path / "prod.yaml"
    path.write_text(dump(saved))
    assert report(Budget(), saved, against=str(path)) == 0
    out = capsys.readouterr().out
    assert "-$46.72" in out
    assert "$93.44 [BASIC 2 GB, capacity tier M1] -> $46.72 [BASIC 1 GB" in out


def test_against_another_stacks_inventory_says_whose_usage_prices_it(capsys):
    saved = {**copy.deepcopy(SMALL), "stack": "staging"}
    assert report(Budget(), saved, stack="prod", against="tests/snapshots/staging.yaml") == 0
    note = capsys.readouterr().out.splitlines()[0]
    assert "stack staging's inventory" in note and "under prod's usage" in note


def test_bad_input_exits_2_before_any_program_runs(tmp_path, capsys):
    assert main(["cost", "no-such-stack"]) == 2
    assert "Pulumi.no-such-stack.yaml: no such stack file" in capsys.readouterr().err
    started = time.monotonic()
    assert main(["cost", "prod", "--against", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("version: 7\n")
    assert main(["cost", "prod", "--against", str(tmp_path / "bad.yaml")]) == 2
    assert "bad.yaml:1:1: not an inventory" in capsys.readouterr().err
    assert time.monotonic() - started < 3  # refused before the program ran (about 10 s)


def test_usage_and_budget_come_from_the_validated_stack_config(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: vidgo-infra\nruntime: python\n")
    config = {
        "gcp:project": "vidgo-ai-x",
        "gcp:region": "asia-east1",
        "vidgo-infra:usage": {"api_requests": 7},
        "vidgo-infra:budget": {"monthly_usd": 99},
    }
    (tmp_path / "Pulumi.x.yaml").write_text(yaml.safe_dump({"config": config}))
    usage, budget = settings("x", tmp_path)
    assert usage.api_requests == 7 and budget.monthly_usd == 99
    config["vidgo-infra:usage"] = {"api_requets": 7}
    (tmp_path / "Pulumi.y.yaml").write_text(yaml.safe_dump({"config": config}))
    with pytest.raises(UsageError, match=r"Pulumi.y.yaml:\d+:\d+: vidgo-infra:usage.api_requets"):
        settings("y", tmp_path)


def test_a_billing_account_needs_an_amount():
    with pytest.raises(ValueError, match="monthly_usd"):
        Budget(billing_account="012345-6789AB-CDEF01")


def test_cost_of_the_real_staging_stack_runs_end_to_end(capsys):
    assert main(["cost", "staging"]) == 0  # within staging's budget
    out = capsys.readouterr().out
    assert "Monthly cost estimate of staging" in out and "Total $" in out
    assert max(len(line) for line in out.splitlines()) <= 120


def test_summary_is_the_total_and_the_top_lines(prod_doc):
    estimate = cost.estimate(prod_doc, UsageProfile())
    text = cost.summary(estimate, top=3)
    assert text[0].startswith(f"${estimate.total:,.2f} a month")
    assert "Memorystore" in text[1]  # the largest line
    assert len([line for line in text if line.lstrip().startswith("$")]) == 3 + 1
    checked = stack_config(Project(ROOT), "prod")
    planned = PlannedStack(**vars(checked), run=None, inventory=prod_doc)
    plan = cost.summary_for_stack(planned)
    assert plan[0] == text[0] and plan[-1].startswith("Budget:")


def test_a_cloud_billing_budget_is_free_and_prices_nothing(prod_doc):
    budgeted = inventory(planned("prod", BUDGETED))
    assert cost.estimate(budgeted).total == pytest.approx(cost.estimate(prod_doc).total)
    assert cost.estimate(budgeted).not_billed[BILLING_BUDGET] == 1


# --- figures that add up -------------------------------------------------------------------------


def test_money_has_no_negative_zero():
    from vidgo_infra.cost.report import money

    assert money(-0.001) == "$0.00"
    assert money(-0.004, signed=True) == "+$0.00"
    assert money(-0.006, signed=True) == "-$0.01"


def test_the_printed_parts_add_up_to_the_printed_total(capsys):
    from vidgo_infra.cost.report import parts_to_total

    assert parts_to_total(120.0249, 118.9149, 1.11) == [118.91, 1.11]
    assert main(["cost", "staging"]) in (0, 1)
    line = next(x for x in capsys.readouterr().out.splitlines() if "Total $" in x)
    total, fixed, usage = (float(m.replace(",", "")) for m in re.findall(r"\$([\d,]+\.\d\d)", line))
    assert round(fixed + usage, 2) == total, line
