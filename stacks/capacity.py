"""Capacity a stack can read before traffic arrives: its connection budgets and its subnet.

Two budgets, one shape. Cloud SQL accepts a fixed number of connections for its tier (and Redis a
fixed number of clients); every API instance holds its own pool, so the limit is shared by the
API's *maximum* instances, the migrations job and an operator's margin. The pool each API
instance may open is what is left, divided by max instances. A stack whose smallest acceptable
pool does not fit is refused at plan and at `pulumi up` (stacks/config.py), and the pool sizes
reach the application as environment variables (docs/capacity.md, "Connection budget").

The limits per tier are data (stacks/capacity_limits.yaml, each with its source and date).
Nothing here knows the config model: stacks/config.py calls it with the numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LIMITS_FILE = Path(__file__).resolve().parent / "capacity_limits.yaml"


@cache
def limits() -> dict[str, Any]:
    return yaml.safe_load(LIMITS_FILE.read_text())


def database_connection_limit(tier: str, flags: dict[str, str] | None = None) -> int:
    """max_connections of a Cloud SQL for PostgreSQL instance: the flag when set, else the
    default for the tier (Google's table, by memory for custom tiers)."""
    if flags and "max_connections" in flags:
        return int(flags["max_connections"])
    table = limits()["cloud_sql_postgres"]
    if tier in table["shared_core"]:
        return int(table["shared_core"][tier])
    custom = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    if not custom:
        raise ValueError(f"no connection limit known for Cloud SQL tier {tier!r}")
    gib = int(custom.group(2)) / 1024
    found = [connections for start, connections in table["by_memory_gib"] if gib >= start]
    return int(found[-1])


def database_reserved_connections(flags: dict[str, str] | None = None) -> int:
    if flags and "superuser_reserved_connections" in flags:
        return int(flags["superuser_reserved_connections"])
    return int(limits()["cloud_sql_postgres"]["reserved_for_superusers"])


def redis_capacity_tier(size_gb: float) -> str:
    """Memorystore for Redis capacity tiers: M1 1-4 GB, M2 5-10, M3 11-35, M4 36-100, M5 101+."""
    for bound, tier in ((4, "M1"), (10, "M2"), (35, "M3"), (100, "M4")):
        if size_gb <= bound:
            return tier
    return "M5"


def redis_client_limit(size_gb: float, version: str, tls: bool) -> int:
    """Connected clients a Memorystore for Redis instance accepts."""
    table = limits()["memorystore_redis"]
    if tls and version in ("REDIS_4_0", "REDIS_5_0", "REDIS_6_X"):
        return int(table["tls_before_7"][redis_capacity_tier(size_gb)])
    return int(table["max_clients"])


@dataclass(frozen=True)
class Budget:
    """One service's connection budget: what the limit leaves each API instance."""

    what: str  # "database connections", "Redis clients"
    limit: int  # what the service accepts
    reserved: int  # slots the application cannot use (superusers)
    migrations: int  # held by the migrations job while it runs
    operator_margin: int  # kept free for an operator's psql / redis-cli, a second job
    api_max_instances: int
    min_pool: int  # the smallest pool an API instance may work with
    max_pool: int  # no instance needs more than this, however much the limit leaves

    @property
    def for_api(self) -> int:
        return self.limit - self.reserved - self.migrations - self.operator_margin

    @property
    def pool(self) -> int:
        """Connections one API instance may open: the API's share over its max instances."""
        if self.api_max_instances <= 0:
            return 0
        return max(0, min(self.max_pool, self.for_api // self.api_max_instances))

    @property
    def demand(self) -> int:
        """What the stack may open at once: every API instance's pool, the job, the margin."""
        return (
            self.reserved
            + self.migrations
            + self.operator_margin
            + self.api_max_instances * (self.pool)
        )

    @property
    def headroom(self) -> int:
        return self.limit - self.demand

    @property
    def fits(self) -> bool:
        return self.pool >= self.min_pool

    def max_instances_that_fit(self) -> int:
        return max(0, self.for_api // self.min_pool)

    def wanted(self, min_pool: int | None = None) -> int:
        """What the stack needs with every API instance at `min_pool` (default: its minimum)."""
        pool = self.min_pool if min_pool is None else min_pool
        fixed = self.reserved + self.migrations + self.operator_margin
        return fixed + self.api_max_instances * pool

    def line(self) -> str:
        """One line for the plan: limit, per-instance pool, headroom."""
        return (
            f"{self.what}: limit {self.limit}, per-instance pool {self.pool}, headroom "
            f"{self.headroom} ({self.reserved} reserved + {self.migrations} migrations + "
            f"{self.operator_margin} margin + {self.api_max_instances} API instances x "
            f"{self.pool} = {self.demand})"
        )


# Cloud SQL shapes to suggest when a budget does not fit, smallest first: the shared-core tiers,
# then 1 vCPU with 3.75 GiB and doublings (Enterprise custom shapes).
DATABASE_TIER_STEPS = (
    "db-f1-micro",
    "db-g1-small",
    "db-custom-1-3840",
    "db-custom-2-7680",
    "db-custom-4-15360",
    "db-custom-8-30720",
    "db-custom-16-61440",
    "db-custom-32-122880",
)


def smallest_database_tier(connections: int, at_least: str | None = None) -> str | None:
    """The smallest tier in DATABASE_TIER_STEPS (from `at_least` up) whose limit holds
    `connections`; None when none does."""
    steps: tuple[str, ...] = DATABASE_TIER_STEPS
    if at_least in steps:
        steps = steps[steps.index(at_least) :]
    for tier in steps:
        if database_connection_limit(tier) >= connections:
            return tier
    return None


# Google's sizing guidance for Direct VPC egress: Cloud Run takes about twice as many addresses
# as instances, and up to four times during a revision roll-out, while old and new instances
# overlap; it reserves them in blocks of 16, and needs a /26 or larger subnet.
# https://cloud.google.com/run/docs/configuring/vpc-direct-vpc#direct-vpc-ip-allocation and
# https://cloud.google.com/run/docs/configuring/networking-best-practices#monitor-ip-usage
ADDRESSES_PER_INSTANCE_STEADY = 2
ADDRESSES_PER_INSTANCE_ROLLOUT = 4
SMALLEST_SUBNET_PREFIX = 26
# A subnet's first two and last two addresses are Google's (network, gateway, two reserved).
GOOGLE_RESERVED_ADDRESSES = 4


@dataclass(frozen=True)
class SubnetNeed:
    prefix: int
    usable: int
    instances: int  # the max instances of everything on the subnet

    @property
    def steady(self) -> int:
        return ADDRESSES_PER_INSTANCE_STEADY * self.instances

    @property
    def rollout(self) -> int:
        return ADDRESSES_PER_INSTANCE_ROLLOUT * self.instances

    @property
    def problem(self) -> str | None:
        if self.prefix > SMALLEST_SUBNET_PREFIX:
            return f"/{self.prefix} is smaller than the /26 Direct VPC egress needs"
        if self.rollout > self.usable:
            return (
                f"/{self.prefix} has {self.usable} usable addresses; Cloud Run needs about "
                f"{self.rollout} during a revision roll-out ({ADDRESSES_PER_INSTANCE_ROLLOUT} per "
                f"instance, {self.instances} max instances on the subnet)"
            )
        return None


def subnet_need(prefix: int, instances: int) -> SubnetNeed:
    usable = 2 ** (32 - prefix) - GOOGLE_RESERVED_ADDRESSES
    return SubnetNeed(prefix=prefix, usable=usable, instances=instances)


def smallest_prefix_for(instances: int) -> int:
    """The largest prefix (smallest subnet) that holds a roll-out of `instances`."""
    needed = ADDRESSES_PER_INSTANCE_ROLLOUT * instances + GOOGLE_RESERVED_ADDRESSES
    return min(SMALLEST_SUBNET_PREFIX, 32 - math.ceil(math.log2(max(needed, 2))))
