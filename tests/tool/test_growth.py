"""The cost of growth and the capacity a stack can read before traffic arrives.

docs/growth.md is generated from the code, the shipped profiles and the price file, and checked
here; the connection budget, the subnet and `cost --usage` are read as an operator reads them.
"""

from __future__ import annotations

import re

import pytest

from stacks.loader import validate
from stacks.usage import UsageProfile
from tests.kit import ROOT
from vidgo_infra import cli, cost
from vidgo_infra.cost import growth
from vidgo_infra.inventory import inventory
from vidgo_infra.offline import stack_config
from vidgo_infra.plan import render_capacity
from vidgo_infra.project import UsageError


@pytest.fixture(scope="module")
def prod_config():
    values, _ = stack_config("prod")
    return validate(values, "vidgo-infra", "prod")


@pytest.fixture(scope="module")
def prod_inventory(prod):
    return inventory(prod)


@pytest.fixture(scope="module")
def profiles():
    return [growth.load_usage(ROOT, name) for name in growth.SHIPPED]


@pytest.fixture(scope="module")
def grown(prod_config, prod_inventory, profiles):
    return {name: growth.assess(prod_config, prod_inventory, name, u) for name, u in profiles}


def test_prod_pays_for_no_connector_vms(prod_inventory):
    # Direct VPC egress has no VMs of its own: the connector's 2 x e2-micro all month ($14.16)
    # left the bill with it, and nothing of the connector is declared or priced.
    estimate = cost.estimate(prod_inventory)
    billed = " ".join(f"{line.resource} {line.item}".lower() for line in estimate.lines)
    assert "connector" not in billed and "e2-micro" not in billed
    assert not any(t.startswith("gcp:vpcaccess/") for t in estimate.not_billed)


def test_growth_doc_is_generated_from_the_code(prod_config, prod_inventory, profiles):
    expected = growth.render_doc("prod", prod_config, prod_inventory, profiles)
    written = (ROOT / "docs" / "growth.md").read_text()
    assert written == expected, "docs/growth.md is out of date: python -m vidgo_infra.cost.growth"


def test_growth_chart_plots_each_profiles_cost_against_its_users(grown):
    doc = (ROOT / "docs" / "growth.md").read_text()
    [chart] = re.findall(r"```mermaid\n(.*?)```", doc, re.S)
    assert chart.startswith("xychart-beta\n")
    users = re.search(r"x-axis .*\[(.*)\]", chart).group(1)
    assert users == ", ".join(f'"{g.usage.active_users:,}"' for g in grown.values())
    bars = [float(v) for v in re.search(r"bar \[(.*)\]", chart).group(1).split(", ")]
    assert bars == [round(g.estimate.total, 2) for g in grown.values()]


def test_the_shipped_profiles_scale_the_seeds_month():
    seed = growth.load_usage(ROOT, "seed")[1]
    assert seed == UsageProfile()  # the seed's profile is the defaults, written out
    for name, factor in (("10x", 10), ("100x", 100)):
        profile = growth.load_usage(ROOT, name)[1]
        for field in ("active_users", "api_requests", "egress_gb", "storage_gb", "log_gib"):
            assert getattr(profile, field) == pytest.approx(getattr(seed, field) * factor), field
        # How each user behaves does not change with their number.
        assert profile.api_mean_request_seconds == seed.api_mean_request_seconds
        assert profile.cdn_hit_ratio == seed.cdn_hit_ratio


def test_more_users_cost_more_but_less_per_user(grown):
    seed, ten, hundred = grown.values()
    assert seed.estimate.total < ten.estimate.total < hundred.estimate.total
    assert seed.per_thousand_users > ten.per_thousand_users > hundred.per_thousand_users
    assert ten.per_thousand_users == pytest.approx(ten.estimate.total / 10)


def test_the_seeds_month_fits_every_limit(grown):
    assert not [x.name for x in grown["seed"].limits if x.binds]


def test_at_100x_connections_and_redis_memory_bind_and_their_lifts_hold_the_peak(grown):
    from stacks import capacity

    limits = {x.name: x for x in grown["100x"].limits}
    connections = limits["database connections"]
    assert connections.binds and connections.demand > 40
    tier = connections.lift.removeprefix("database.tier: ")
    # The lifted tier's limit, less what is not the API's, holds the peak.
    assert capacity.database_connection_limit(tier) - 10 >= connections.demand
    assert connections.lift_usd > 0
    redis = limits["Redis memory"]
    assert redis.binds
    size = int(redis.lift.split(":")[1].split()[0])
    assert size * growth.REDIS_USABLE_SHARE >= redis.demand
    assert redis.lift_usd > 0
    assert grown["100x"].first is redis  # the most over of the resource limits


def test_an_unknown_profile_or_a_bad_file_is_one_line(tmp_path):
    with pytest.raises(UsageError, match=r"--usage 1000x: no such file, and not a profile \("):
        growth.load_usage(ROOT, "1000x")
    bad = tmp_path / "mine.yaml"
    bad.write_text("active_users: 0\napi_requestz: 5\n")
    with pytest.raises(UsageError) as error:
        growth.load_usage(ROOT, str(bad))
    assert "mine.yaml: not a usage profile: active_users" in str(error.value)
    assert "\n" not in str(error.value)


def test_prod_plan_prints_the_connection_budget(prod_config):
    lines = " ".join(line.strip() for line in render_capacity(prod_config))
    # db-g1-small's 50: 3 reserved + 2 migrations + 5 margin + 10 API instances x 4 = 50.
    assert "database connections: limit 50, per-instance pool 4, headroom 0" in lines
    assert "Redis clients: limit 65000, per-instance pool 50" in lines
    assert (
        "10.140.0.0/20 has 4092; Cloud Run needs about 32, 64 during a revision roll-out" in lines
    )


def test_cost_with_a_usage_profile_prints_its_limits(capsys):
    status = cli.main(["-C", str(ROOT), "cost", "prod", "--usage", "100x"])
    out = capsys.readouterr().out
    assert "Under usage profile 100x (100,000 active users)" in out
    assert re.search(r"BINDS database connections: \d+ / 40 connections", out)
    assert status == 1  # 100x is over prod's budget: the command says so by its exit status
