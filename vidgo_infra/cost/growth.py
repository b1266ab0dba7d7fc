"""The cost of growth: a stack priced under another usage profile, and the limit it meets first.

    load_usage(root, "10x" | "path.yaml") -> (name, UsageProfile)    a shipped profile or a file
    assess(config, inventory, name, usage) -> Growth                 cost, limits, the first to bind
    render_doc(stack, config, inventory, profiles) -> str            docs/growth.md

`vidgo-infra cost STACK --usage 10x` prints the estimate under the profile, then its limits.
`python -m vidgo_infra.cost.growth [--check]` writes (or checks) docs/growth.md for prod from the
shipped profiles (stacks/profiles/); tests/tool/test_growth.py fails when it is out of date.

Each limit compares what the profile's peak hour asks with what the stack's config allows, and
names the config change that lifts it, priced by re-estimating the inventory with that change.
The demand model is ours and simple on purpose (docs/growth.md lists it): peak concurrent API
requests = monthly requests / seconds in a month x peak_to_average x mean request seconds; each
holds one database connection; Redis holds redis_kib_per_active_user per active user.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgo_infra.project import UsageError, shown

if TYPE_CHECKING:
    from stacks.config import PlatformConfig
    from stacks.usage import UsageProfile
    from vidgo_infra.cost.model import Estimate

PROFILES_DIR = Path("stacks") / "profiles"
SHIPPED = ("seed", "10x", "100x")
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
REDIS = "gcp:redis/instance:Instance"
# Memorystore's guidance: keep used memory under 80 % of the instance (the rest is for
# fragmentation, replication and snapshots; https://cloud.google.com/memorystore/docs/redis/
# memory-management-best-practices#monitor_memory_usage).
REDIS_USABLE_SHARE = 0.8


def load_usage(root: Path, spec: str) -> tuple[str, UsageProfile]:
    """A shipped profile by name (stacks/profiles/NAME.yaml) or a YAML file of UsageProfile
    fields; a mistake is one line naming the file."""
    import yaml
    from pydantic import ValidationError

    from stacks.usage import UsageProfile

    named = root / PROFILES_DIR / f"{spec}.yaml"
    path = named if named.is_file() else Path(spec)
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml")))
        raise UsageError(f"--usage {spec}: no such file, and not a profile ({names})")
    try:
        values = yaml.safe_load(path.read_text()) or {}
        return path.stem, UsageProfile.model_validate(values)
    except (yaml.YAMLError, ValidationError) as error:
        first = str(error).splitlines()
        detail = "; ".join(line.strip() for line in first[1:3]) if len(first) > 1 else first[0]
        raise UsageError(f"{shown(path)}: not a usage profile: {detail}") from None


@dataclass(frozen=True)
class Limit:
    name: str
    demand: float
    capacity: float
    unit: str
    lift: str  # the config change that lifts it
    lift_usd: float | None  # what that change adds to the month (None: not priced)
    resource: bool = True  # False: a guard of ours (the budget), not something that fails

    @property
    def use(self) -> float:
        return self.demand / self.capacity if self.capacity else math.inf

    @property
    def binds(self) -> bool:
        return self.demand > self.capacity


@dataclass(frozen=True)
class Growth:
    name: str
    usage: UsageProfile
    estimate: Estimate
    limits: list[Limit]

    @property
    def per_thousand_users(self) -> float:
        return self.estimate.total / self.usage.active_users * 1000

    @property
    def first(self) -> Limit:
        """The resource limit that binds first: the most used (demand grows with users, so the
        most used now is the first to be met), whether or not it is met yet."""
        return max((x for x in self.limits if x.resource), key=lambda limit: limit.use)

    @property
    def budget(self) -> Limit | None:
        return next((x for x in self.limits if not x.resource), None)

    @property
    def lifted_total(self) -> float:
        return self.estimate.total + sum(x.lift_usd or 0 for x in self.limits if x.binds)


def peak_concurrent_requests(usage: UsageProfile, seconds_per_month: float) -> float:
    rate = usage.api_requests / seconds_per_month * usage.peak_to_average
    return rate * usage.api_mean_request_seconds


def assess(
    config: PlatformConfig, inventory: dict[str, Any], name: str, usage: UsageProfile
) -> Growth:
    from stacks import capacity
    from vidgo_infra.cost.estimator import estimate
    from vidgo_infra.cost.prices import load_prices

    prices = load_prices()
    base = estimate(inventory, usage, prices)

    def lift_cost(type_token: str, path: tuple[str, ...], value: Any) -> float | None:
        changed = _with_input(inventory, type_token, path, value)
        after = estimate(changed, usage, prices)
        return None if after.unpriced != base.unpriced else after.total - base.total

    api = config.services.api
    concurrent = peak_concurrent_requests(usage, prices.seconds_per_month)
    instances = max(1, math.ceil(concurrent / api.concurrency))
    db = config.database_budget
    limits = []

    # Each in-flight request holds one database connection (ours, conservative).
    wanted = math.ceil(concurrent)
    fixed = db.reserved + db.migrations + db.operator_margin
    tier = capacity.smallest_database_tier(wanted + fixed, config.database.tier)
    limits.append(
        Limit(
            "database connections",
            wanted,
            db.pool * db.api_max_instances,
            "connections",
            f"database.tier: {tier}" if tier else "beyond db-custom-32-122880: a connection pooler",
            lift_cost(SQL, ("settings", "tier"), tier) if tier else None,
        )
    )
    limits.append(
        Limit(
            "API max instances",
            instances,
            api.max_instances,
            "instances",
            f"services.api.max_instances: {instances} (billed per request: no fixed cost; "
            "the connection budget must still fit)",
            0.0,
        )
    )
    redis = config.redis
    needed_gib = usage.active_users * usage.redis_kib_per_active_user / 2**20
    size = max(redis.memory_size_gb, math.ceil(needed_gib / REDIS_USABLE_SHARE))
    limits.append(
        Limit(
            "Redis memory",
            round(needed_gib, 2),
            redis.memory_size_gb * REDIS_USABLE_SHARE,
            "GiB (80 % of the instance)",
            f"redis.memory_size_gb: {size} (a new instance: docs/operations.md, Redis)",
            lift_cost(REDIS, ("memorySizeGb",), size),
        )
    )
    budget = config.budget.monthly_usd
    if budget:
        cdn = sum(x.monthly_usd or 0 for x in base.lines if (x.sku or "").startswith("cdn."))
        limits.append(
            Limit(
                f"monthly budget (CDN egress ${cdn:,.0f} of it)",
                round(base.total, 2),
                budget,
                "USD",
                f"budget.monthly_usd: {math.ceil(base.total / 10) * 10} (the guard, not a charge)",
                0.0,
                resource=False,
            )
        )
    return Growth(name, usage, base, limits)


def _with_input(
    inventory: dict[str, Any], type_token: str, path: tuple[str, ...], value: Any
) -> dict[str, Any]:
    changed = copy.deepcopy(inventory)
    for resource in (changed.get("resources") or {}).values():
        if resource.get("type") == type_token:
            node = resource.setdefault("inputs", {})
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value
    return changed


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.2f}"


def limit_lines(growth: Growth) -> list[str]:
    """What `cost --usage` prints after the estimate."""
    out = [
        f"Under usage profile {growth.name} ({growth.usage.active_users:,} active users): "
        f"{_usd(growth.estimate.total)} a month, {_usd(growth.per_thousand_users)} per 1,000 "
        "active users. Limits at the peak hour (demand / what the config allows):"
    ]
    for limit in growth.limits:
        mark = "BINDS" if limit.binds else "ok"
        out.append(
            f"  {mark:<5} {limit.name}: {limit.demand:g} / {limit.capacity:g} {limit.unit} "
            f"({limit.use:.0%})"
            + (f"; lift: {limit.lift}, {_usd(limit.lift_usd)} a month" if limit.binds else "")
        )
    return out


# --- docs/growth.md -------------------------------------------------------------------------------


def render_doc(
    stack: str, config: PlatformConfig, inventory: dict[str, Any], profiles: list[tuple[str, Any]]
) -> str:
    grown = [assess(config, inventory, name, usage) for name, usage in profiles]
    out = [
        "# Growth: what more users cost, and what must change first",
        "",
        "<!-- Generated by `python -m vidgo_infra.cost.growth`; tests/tool/test_growth.py fails",
        "     when it is out of date. Do not edit by hand. -->",
        "",
        f"Stack **{stack}** as the code declares it, priced under the usage profiles in "
        "`stacks/profiles/` (`vidgo-infra cost STACK --usage NAME` prints one). Each profile "
        "scales every per-user volume of the seed's month; prices are list prices "
        f"({grown[0].estimate.region}, checked {grown[0].estimate.prices_checked}).",
        "",
        "| profile | active users | monthly cost | per 1,000 active users | binds first "
        "| the change that lifts it | what it adds a month | budget |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for g in grown:
        first = g.first
        binds = f"{first.name} ({first.use:.0%})"
        if not first.binds:
            binds = f"nothing yet; closest: {binds}"
        change = f"`{first.lift.split(' (')[0]}`" if first.binds else "-"
        adds = _usd(first.lift_usd) if first.binds else "-"
        budget = g.budget
        within = "-"
        if budget is not None:
            within = f"{'over' if budget.binds else 'within'} ${budget.capacity:,.0f}"
        out.append(
            f"| {g.name} | {g.usage.active_users:,} | {_usd(g.estimate.total)} | "
            f"{_usd(g.per_thousand_users)} | {binds} | {change} | {adds} | {within} |"
        )
    out += ["", *_chart(stack, grown), ""]
    for g in grown:
        out += [
            f"## {g.name}: {g.usage.active_users:,} active users",
            "",
            f"{_usd(g.estimate.total)} a month as declared (fixed {_usd(g.estimate.fixed)}, usage "
            f"{_usd(g.estimate.variable)}); {_usd(g.lifted_total)} with every binding limit "
            "lifted.",
            "",
            "| limit | peak demand | the config allows | use | lift | adds a month |",
            "| --- | ---: | ---: | ---: | --- | ---: |",
        ]
        for limit in g.limits:
            key, _, why = limit.lift.partition(" (")
            lift = f"`{key}`" + (f" ({why}" if why else "") if limit.binds else "-"
            out.append(
                f"| {limit.name} | {limit.demand:g} | {limit.capacity:g} {limit.unit} | "
                f"{limit.use:.0%} | {lift} | {_usd(limit.lift_usd) if limit.binds else '-'} |"
            )
        out.append("")
    out += _assumptions(config)
    return "\n".join(out).rstrip() + "\n"


def _chart(stack: str, grown: list[Growth]) -> list[str]:
    users = ", ".join(f'"{g.usage.active_users:,}"' for g in grown)
    top = max(g.lifted_total for g in grown)
    return [
        "```mermaid",
        "xychart-beta",
        f'    title "{stack}: USD a month against active users (bar: as declared, line: limits '
        'lifted)"',
        f'    x-axis "active users" [{users}]',
        f'    y-axis "USD a month" 0 --> {math.ceil(top / 100) * 100}',
        f"    bar [{', '.join(f'{g.estimate.total:.2f}' for g in grown)}]",
        f"    line [{', '.join(f'{g.lifted_total:.2f}' for g in grown)}]",
        "```",
    ]


def _assumptions(config: PlatformConfig) -> list[str]:
    db = config.database_budget
    return [
        "## How the limits are read",
        "",
        "- **Peak hour.** Concurrent API requests = monthly API requests / seconds in a month x "
        "`peak_to_average` (10, ours) x the mean request time (0.5 s, ours). The services "
        "scale to it; the limits below are met there, not on average.",
        "- **Database connections.** Each request in flight holds one connection (a session "
        f"per request, ours). The API may open {db.pool} per instance x "
        f"{db.api_max_instances} max instances = {db.pool * db.api_max_instances} "
        f"(`{config.database.tier}`: {db.limit}, less {db.reserved} reserved, "
        f"{db.migrations} for migrations and {db.operator_margin} operator margin; "
        "stacks/capacity_limits.yaml). The lift is the smallest tier whose limit holds the peak.",
        "- **API max instances.** Instances needed = peak concurrent requests / "
        "`services.api.concurrency`. Raising max instances costs nothing fixed (requests are "
        "billed the same), but every instance takes its pool from the connection budget, which "
        "the config check enforces.",
        "- **Redis memory.** `redis_kib_per_active_user` (50 KiB, ours: sessions, cached "
        "responses, queued jobs) per active user, against 80 % of the instance (Memorystore's "
        "guidance). Resizing a deployed instance is a migration (docs/operations.md, Redis).",
        "- **Redis clients** are not shown: 65,000 per instance (Redis 7 with TLS) is far above "
        "any profile here; the config check still enforces them.",
        "- **CDN egress** has no hard limit; it is what pushes the estimate over "
        "`budget.monthly_usd`, which `vidgo-infra cost` enforces. Lifting it is a decision to "
        "spend, not a resource.",
        "- **Not modelled**: Cloud Run CPU saturation below the concurrency setting, Cloud SQL "
        "CPU and disk throughput, the 1 Gbps per instance of Direct VPC egress, and revisions "
        "overlapping during a roll-out (both can hold pools at once; the operator margin and "
        "headroom are what absorbs it).",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    from vidgo_infra.project import find_project, use_project_code
    from vidgo_infra.stack import plan_stack

    parser = argparse.ArgumentParser(prog="python -m vidgo_infra.cost.growth")
    parser.add_argument("stack", nargs="?", default="prod")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/growth.md differs")
    args = parser.parse_args(argv)
    project = find_project(None)
    use_project_code(project.root)
    planned = plan_stack(project, args.stack)
    profiles = [load_usage(project.root, name) for name in SHIPPED]
    text = render_doc(args.stack, planned.config, planned.inventory, profiles)
    target = project.root / "docs" / "growth.md"
    if args.check:
        same = target.is_file() and target.read_text() == text
        print(f"{shown(target)}: {'up to date' if same else 'out of date'}")
        return 0 if same else 1
    target.write_text(text)
    print(f"wrote {shown(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
