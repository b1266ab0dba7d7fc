"""Check what the program declares against the provider's own schema rules, offline.

The bridge hands Terraform's validation exactly the inputs the program gave (no Terraform
defaults), so the recorded inputs of an offline run are what `pulumi preview` would check.
Rules: rules.json (this package). What is checked: unknown and output-only properties,
required ones, validators (enums, ranges, regular expressions, lengths, CIDRs, JSON,
durations), ConflictsWith / ExactlyOneOf / AtLeastOneOf / RequiredWith at any depth, list
sizes, and the length of the name Pulumi generates when the program sets none.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import rpc

from vidgo_infra.provider_rules import load

UNKNOWN = object()  # a value known only after `pulumi up`: not checked, as Terraform does
AUTONAME_SAMPLE = "abcdef0"  # the 7 random hex characters Pulumi appends

# The stack file's key that drives a property, where one does (type, property path prefix).
CONFIG_KEYS: dict[tuple[str, str], str] = {
    ("gcp:compute/managedSslCertificate:ManagedSslCertificate", "name"): "domain",
    ("gcp:compute/managedSslCertificate:ManagedSslCertificate", "managed"): "domain",
    ("gcp:compute/backendService:BackendService", "cdnPolicy"): "edge.web_cdn",
    ("gcp:compute/globalAddress:GlobalAddress", "name"): "edge.static_ip_name",
    ("gcp:compute/securityPolicy:SecurityPolicy", "rules"): "edge.armor",
    ("gcp:sql/databaseInstance:DatabaseInstance", "name"): "database.instance_name",
    ("gcp:sql/databaseInstance:DatabaseInstance", "databaseVersion"): "database.version",
    ("gcp:sql/databaseInstance:DatabaseInstance", "settings.tier"): "database.tier",
    ("gcp:sql/databaseInstance:DatabaseInstance", "settings.databaseFlags"): "database.flags",
    ("gcp:sql/databaseInstance:DatabaseInstance", "settings"): "database",
    ("gcp:sql/database:Database", "name"): "database.database_name",
    ("gcp:sql/user:User", "name"): "database.user_name",
    ("gcp:redis/instance:Instance", "name"): "redis.instance_name",
    ("gcp:redis/instance:Instance", ""): "redis",
    ("gcp:storage/bucket:Bucket", "name"): "media.name",
    ("gcp:storage/bucket:Bucket", ""): "media",
    ("gcp:artifactregistry/repository:Repository", ""): "registry",
    ("gcp:vpcaccess/connector:Connector", ""): "network",
    ("gcp:compute/network:Network", ""): "network",
    ("gcp:compute/subnetwork:Subnetwork", ""): "network",
    ("gcp:cloudrunv2/service:Service", ""): "services",
    ("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig", ""): "monitoring",
    ("gcp:monitoring/alertPolicy:AlertPolicy", ""): "monitoring",
}


@dataclass(frozen=True)
class Violation:
    resource: str  # the logical name
    type: str
    path: str  # Pulumi property path, e.g. cdnPolicy.cacheKeyPolicy
    rule: str  # the provider rule, e.g. "at least one of"
    advice: str  # what to do
    config_key: str | None = None

    def line(self, stack_file: str | None = None) -> str:
        where = f"{self.resource} {self.path}" if self.path else self.resource
        text = f"{where}: {self.advice} (provider rule: {self.rule})"
        if self.config_key:
            key = f"vidgo-infra:{self.config_key}"
            text += f"; set by {stack_file}: {key}" if stack_file else f"; stack key {key}"
        return text


def config_key(type_: str, path: str) -> str | None:
    best = None
    for (t, prefix), key in CONFIG_KEYS.items():
        matches = not prefix or path == prefix or path.startswith((prefix + ".", prefix + "["))
        if t == type_ and matches and (best is None or len(prefix) > len(best[0])):
            best = (prefix, key)
    return best[1] if best else None


def plain(value: Any, stand_ins: frozenset[str] = frozenset()) -> Any:
    """Recorded inputs → plain values: secrets unwrapped (checked, never printed), unknowns
    marked, whole floats as ints (the engine's wire format makes every number a float).

    `stand_ins` are the mocks' values for what the provider computes (ids): the real value
    differs, so they count as unknown, as they are at the first preview.
    """
    if rpc.is_rpc_secret(value):
        return plain(value["value"], stand_ins)
    if isinstance(value, dict):
        return {k: plain(v, stand_ins) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, stand_ins) for v in value]
    if value == rpc.UNKNOWN or (isinstance(value, str) and value in stand_ins):
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def lookup(inputs: Any, path: str) -> Any:
    """`cdnPolicy.cacheKeyPolicy`, `rules[0].match` → the value, None when absent.

    Also what the plan's key settings and the tests read inputs with: one reading of a path."""
    value = inputs
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if value is None or value is UNKNOWN:
            return value
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and len(value) > index else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def is_set(value: Any) -> bool:
    """Set in Terraform's sense: present, not null, not an empty list (an empty block,
    such as `replication: {auto: {}}`, is set)."""
    return value is not None and value != []


def relative(paths: list[str], base: str) -> list[str]:
    prefix = base + "." if base else ""
    return [p[len(prefix) :] if p.startswith(prefix) else p for p in paths]


def parent_of(path: str) -> str:
    return re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path) if "." in path or "[" in path else ""


def common_parent(paths: list[str]) -> str:
    parents = {parent_of(p) for p in paths}
    return parents.pop() if len(parents) == 1 else ""


def check_value(value: Any, validators: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(rule, advice) for each validator `value` fails."""
    failures = []
    for v in validators:
        kind = v["kind"]
        if value is UNKNOWN or kind == "unsupported":
            continue
        if v.get("allow_empty") and value == "":
            continue
        if kind == "enum":
            allowed = v["values"]
            ok = isinstance(value, str) and (
                value.lower() in {a.lower() for a in allowed}
                if v.get("ignore_case")
                else value in allowed
            )
            if not ok:
                shown = ", ".join(a for a in allowed if a) or "(empty)"
                failures.append(("one of", f"{value!r} is not one of {shown}"))
        elif kind in ("int_range", "number_range"):
            low, high = v.get("min"), v.get("max")
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if kind == "int_range" and number and value != int(value):
                number = False
            below = number and low is not None and value < low
            above = number and high is not None and value > high
            if not number or below or above:
                bounds = f"{_num(low)}..{_num(high)}" if high is not None else f">= {_num(low)}"
                failures.append(("range", f"{value!r} is outside {bounds}"))
        elif kind == "length":
            low, high = v.get("min") or 0, v.get("max")
            if not isinstance(value, str) or len(value) < low or (high and len(value) > high):
                limit = f"{low}..{high}" if high else f"at least {low}"
                failures.append(("length", f"{len(str(value))} characters, allowed {limit}"))
        elif kind == "regex":
            if not isinstance(value, str) or not re.search(go_regex(v["pattern"]), value):
                failures.append(("pattern", f"{value!r} does not match {v['pattern']}"))
        elif kind == "cidr":
            try:
                ipaddress.ip_network(value, strict=False)
            except (TypeError, ValueError):
                failures.append(("CIDR", f"{value!r} is not a CIDR range"))
        elif kind == "ip_address":
            try:
                ipaddress.ip_address(value)
            except (TypeError, ValueError):
                failures.append(("IP address", f"{value!r} is not an IP address"))
        elif kind == "json":
            try:
                json.loads(value)
            except (TypeError, ValueError):
                failures.append(("JSON", "is not valid JSON"))
        elif kind == "base64":
            try:
                base64.b64decode(value, validate=True)
            except (TypeError, ValueError):
                failures.append(("base64", "is not base64"))
        elif kind == "go_duration":
            if not isinstance(value, str) or not GO_DURATION.fullmatch(value):
                failures.append(("duration", f"{value!r} is not a duration like 300s or 1h"))
            elif v.get("non_negative") and value.startswith("-"):
                failures.append(("duration", f"{value!r} is negative"))
    return failures


GO_DURATION = re.compile(r"[-+]?(0|(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+")


def go_regex(pattern: str) -> str:
    """RE2 syntax Python spells differently: named groups `(?P<x>` are the same; `\\z` is not."""
    return pattern.replace(r"\z", r"\Z")


def _num(n: Any) -> str:
    return str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)


class ResourceCheck:
    def __init__(self, name: str, type_: str, rules: dict[str, Any], inputs: dict[str, Any]):
        self.name, self.type, self.rules, self.inputs = name, type_, rules, inputs
        self.found: dict[tuple[str, str, str], Violation] = {}

    def add(self, path: str, rule: str, advice: str) -> None:
        key = (path, rule, advice)
        if key not in self.found:
            self.found[key] = Violation(
                self.name, self.type, path, rule, advice, config_key(self.type, path)
            )

    def run(self) -> list[Violation]:
        self.block(self.rules["properties"], self.rules.get("sdk_only", []), self.inputs, "")
        self.autoname()
        return list(self.found.values())

    def block(self, tree: dict, sdk_only: list[str], values: dict, base: str) -> None:
        autonamed = (self.rules.get("autoname") or {}).get("property")
        for key in values:
            if key in sdk_only:
                # The Python type has it (shared with another resource's, or newer) but this
                # resource's schema in the pinned provider does not: rejected all the same.
                self.add(
                    join(base, key),
                    "unknown property",
                    f"remove it: the SDK type accepts {key}, the provider's schema for this "
                    "resource has no such field",
                )
            elif key not in tree:
                self.add(
                    join(base, key),
                    "unknown property",
                    f"remove it: this provider version has no {key}"
                    + (f" in {base}" if base else ""),
                )
        for key, rule in tree.items():
            path = join(base, key)
            value = values.get(key)
            present = is_set(value)
            if rule.get("required") and not present and not (not base and key == autonamed):
                self.add(path, "required", f"set {key}")
            self.cross(rule, path, present)
            if not present:
                continue
            if not rule.get("optional") and not rule.get("required"):
                self.add(path, "output only", f"remove it: the provider computes {key}")
                continue
            self.one(rule, value, path)

    def one(self, rule: dict, value: Any, path: str) -> None:
        for kind, advice in check_value(value, rule.get("validators", [])):
            self.add(path, kind, advice)
        if rule["shape"] == "list" and isinstance(value, list):
            if rule.get("max_items") and len(value) > rule["max_items"]:
                self.add(path, "max items", f"at most {rule['max_items']} items, has {len(value)}")
            if rule.get("min_items") and len(value) < rule["min_items"]:
                self.add(path, "min items", f"at least {rule['min_items']} items")
            for index, item in enumerate(value):
                for kind, advice in check_value(item, rule.get("item_validators", [])):
                    self.add(f"{path}[{index}]", kind, advice)
                if "fields" in rule and isinstance(item, dict):
                    self.block(rule["fields"], rule.get("sdk_only", []), item, f"{path}[{index}]")
        elif "fields" in rule and isinstance(value, dict):
            self.block(rule["fields"], rule.get("sdk_only", []), value, path)

    def cross(self, rule: dict, path: str, present: bool) -> None:
        """The cross-field rules, as Terraform's SDK applies them: paths are absolute."""

        def setting(paths: list[str]) -> list[str]:
            return [p for p in paths if is_set(lookup(self.inputs, p))]

        def unknown(paths: list[str]) -> bool:
            return any(lookup(self.inputs, p) is UNKNOWN for p in paths)

        for kind, label in (
            ("exactly_one_of", "exactly one of"),
            ("at_least_one_of", "at least one of"),
        ):
            paths = rule.get(kind)
            if not paths or unknown(paths) or any(p.startswith("(uncertain") for p in paths):
                continue
            chosen = setting(paths)
            base = common_parent(paths)
            names = " or ".join(relative(paths, base))
            if not chosen:
                self.add(base, label, f"set {names}")
            elif kind == "exactly_one_of" and len(chosen) > 1:
                self.add(base, label, f"set only one of {', '.join(relative(chosen, base))}")
        if not present:
            return
        conflicts = setting([p for p in rule.get("conflicts_with", []) if p != path])
        if conflicts:
            base = parent_of(path)
            self.add(
                path,
                "conflicts with",
                f"set either {relative([path], base)[0]} or "
                f"{', '.join(relative(conflicts, base))}, not both",
            )
        needed = [p for p in rule.get("required_with", []) if not is_set(lookup(self.inputs, p))]
        if needed and not unknown(rule.get("required_with", [])):
            base = parent_of(path)
            self.add(path, "required with", f"also set {', '.join(relative(needed, base))}")

    def autoname(self) -> None:
        naming = self.rules.get("autoname")
        if not naming or naming["property"] in self.inputs or not naming.get("limits"):
            return
        generated = f"{self.name}-{AUTONAME_SAMPLE}"
        if naming.get("lowercase"):
            generated = generated.lower()
        if len(generated) > naming["max_length"]:  # Pulumi shortens the prefix, keeps the suffix
            keep = naming["max_length"] - len(AUTONAME_SAMPLE) - 1
            generated = f"{self.name[:keep]}-{AUTONAME_SAMPLE}"
        for kind, _ in check_value(generated, naming["limits"]):
            self.add(
                naming["property"],
                f"name {kind}, autonamed",
                f"Pulumi would name it {self.name}-xxxxxxx, {len(generated)} characters "
                f"(RFC 1035, at most {limit(naming)}): shorten the logical name "
                f"or set {naming['property']}",
            )


def limit(naming: dict) -> int:
    return min(
        (v["max"] for v in naming["limits"] if v["kind"] == "length" and v.get("max")), default=63
    )


def join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def check_resource(
    name: str, type_: str, inputs: dict[str, Any], stand_ins: frozenset[str] = frozenset()
) -> list[Violation]:
    rules = load()["resources"].get(type_)
    if rules is None:
        return []
    return ResourceCheck(name, type_, rules, plain(inputs, stand_ins)).run()


def uncovered(types: set[str]) -> set[str]:
    """Resource types the data has no rules for (components excluded)."""
    data = load()
    return {
        t
        for t in types
        if not t.startswith("vidgo:")
        and t not in data["resources"]
        and t not in data["not_checked"]
    }


def check_run(run) -> list[Violation]:
    """Every violation in an offline run (`vidgo_infra.offline.Run`), in declaration order."""
    from vidgo_infra.offline import COMPUTED

    stand_ins = frozenset(
        [r.id for r in run.resources.values() if r.custom]
        + [v for values in COMPUTED.values() for v in values.values() if isinstance(v, str)]
    )
    violations = []
    for resource in run.resources.values():
        if resource.custom:
            violations += check_resource(resource.name, resource.type, resource.inputs, stand_ins)
    return violations


def source_line() -> str:
    data = load()
    beta = data["google_beta"]
    return (
        f"pulumi-gcp {data['pulumi_gcp']}, rules from {beta['repository']} "
        f"{beta['version']}; vidgo_infra/provider_rules/rules.json"
    )


def report(stack: str, violations: list[Violation]) -> str:
    """What `vidgo-infra plan` prints when the stack breaks the provider's rules."""
    stack_file = f"Pulumi.{stack}.yaml"
    lines = [
        f"vidgo-infra plan: stack {stack} breaks {len(violations)} rule(s) the provider checks "
        f"at pulumi preview ({source_line()}):"
    ]
    lines += [f"  {v.line(stack_file)}" for v in violations]
    return "\n".join(lines)
