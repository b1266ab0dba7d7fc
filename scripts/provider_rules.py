"""Regenerate vidgo_infra/provider_rules/rules.json from local checkouts of the provider source.

    .venv/bin/python scripts/provider_rules.py \\
        --google-beta ~/src/terraform-provider-google-beta \\
        --pulumi-gcp ~/src/pulumi-gcp

`--google-beta`: a checkout of hashicorp/terraform-provider-google-beta at the version the
installed pulumi-gcp bridges. `--pulumi-gcp`: a checkout of pulumi/pulumi-gcp at the installed
version's tag (its provider/cmd/pulumi-resource-gcp/bridge-metadata.json and provider/resources.go).
No network: it reads those two trees and the installed pulumi_gcp package, whose Python types
give the exact Pulumi property names (camelCase, pluralised list blocks, single-item blocks as
objects). docs/provider-rules.md says how to find the versions.

It prints what the rules cover per type (properties, validators, cross-field rules) and what
they cannot see (validators it could not translate, free-form blocks), and refuses to write a
file that checks less than the committed one for any type unless --allow-loss says so.
The reader (scripts/goschema.py) lives here, not in the installed tool: only this script runs it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import rules_coverage  # noqa: E402
from scripts.goschema import (  # noqa: E402
    Field,
    SchemaReader,
    Source,
    matching,
    registrations,
    resource_schema,
)
from vidgo_infra.provider_rules import RULES_PATH  # noqa: E402

# Every type the program (infra/) and the bootstrap (bootstrap/) declare, and a few expected soon.
# tests/tool/test_provider_rules.py fails when the program declares a type missing here.
TYPES = [
    "gcp:artifactregistry/repository:Repository",
    "gcp:cloudrunv2/service:Service",
    "gcp:compute/backendBucket:BackendBucket",
    "gcp:compute/backendBucketSignedUrlKey:BackendBucketSignedUrlKey",
    "gcp:compute/backendService:BackendService",
    "gcp:compute/globalAddress:GlobalAddress",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule",
    "gcp:compute/managedSslCertificate:ManagedSslCertificate",
    "gcp:compute/network:Network",
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
    "gcp:compute/sSLPolicy:SSLPolicy",
    "gcp:compute/securityPolicy:SecurityPolicy",
    "gcp:compute/subnetwork:Subnetwork",
    "gcp:compute/targetHttpProxy:TargetHttpProxy",
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
    "gcp:compute/uRLMap:URLMap",
    "gcp:monitoring/alertPolicy:AlertPolicy",
    "gcp:monitoring/dashboard:Dashboard",
    "gcp:monitoring/metricDescriptor:MetricDescriptor",
    "gcp:monitoring/notificationChannel:NotificationChannel",
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    "gcp:projects/iAMAuditConfig:IAMAuditConfig",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:projects/service:Service",
    "gcp:redis/instance:Instance",
    "gcp:secretmanager/secret:Secret",
    "gcp:secretmanager/secretIamMember:SecretIamMember",
    "gcp:secretmanager/secretVersion:SecretVersion",
    "gcp:serviceaccount/account:Account",
    "gcp:servicenetworking/connection:Connection",
    "gcp:sql/database:Database",
    "gcp:sql/databaseInstance:DatabaseInstance",
    "gcp:sql/user:User",
    "gcp:storage/bucket:Bucket",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:vpcaccess/connector:Connector",
    "gcp:dns/policy:Policy",
    # budget (components/budget.py, when a billing account is configured) and bootstrap/
    "gcp:billing/budget:Budget",
    "gcp:billing/accountIamMember:AccountIamMember",
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
    "gcp:kms/keyRing:KeyRing",
    "gcp:kms/cryptoKey:CryptoKey",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:projects/iAMCustomRole:IAMCustomRole",
    "gcp:serviceaccount/iAMMember:IAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    "gcp:cloudrunv2/job:Job",
    "gcp:compute/firewall:Firewall",
    # Certificate Manager: certificates issued by DNS authorization, served through a map
    "gcp:certificatemanager/certificate:Certificate",
    "gcp:certificatemanager/certificateMap:CertificateMap",
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry",
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization",
    # SLOs and their burn-rate alerts
    "gcp:monitoring/customService:CustomService",
    "gcp:monitoring/slo:Slo",
    # the bootstrap's audit trail and out-of-reach backups
    "gcp:logging/metric:Metric",
    "gcp:backupdisasterrecovery/backupVault:BackupVault",
    "gcp:backupdisasterrecovery/backupPlan:BackupPlan",
    "gcp:backupdisasterrecovery/backupPlanAssociation:BackupPlanAssociation",
    "gcp:cloudscheduler/job:Job",
]

# Declared by the program but bridged from another provider (pulumi-random): not checked.
NOT_CHECKED = {
    "random:index/randomPassword:RandomPassword": "pulumi-random, not the google-beta provider",
    "random:index/randomBytes:RandomBytes": "pulumi-random, not the google-beta provider",
    "pulumi:providers:gcp": "an explicit provider: its configuration, not a resource schema",
}


def git_describe(path: Path) -> dict[str, str]:
    """{"commit": HEAD} of a checkout; {} for a tree without .git (an extracted archive)."""
    if not (path / ".git").exists():
        return {}
    result = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return {"commit": result.stdout.strip()} if result.returncode == 0 else {}


def source_commit(
    path: Path, previous: dict[str, Any] | None, same_version: bool, what: str
) -> dict[str, str]:
    """The tree's commit; for an extracted archive of the same version, the committed one."""
    found = git_describe(path)
    if found:
        return found
    if same_version and previous and previous.get("commit"):
        print(f"{what}: {path} is not a git checkout; kept the committed commit id")
        return {"commit": previous["commit"]}
    print(f"{what}: {path} is not a git checkout and the version changed: no commit recorded")
    return {}


# --- Pulumi names from the installed SDK ------------------------------------------------------
def args_class(token: str) -> type:
    _, module_path, name = token.split(":")
    module = importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}")
    return getattr(module, f"{name}Args")


def sdk_properties(cls: type) -> dict[str, tuple[str, str, type | None]]:
    """python name → (Pulumi name, shape, nested Args class) of an input type."""
    from pulumi._types import input_type_py_to_pulumi_names

    module = sys.modules[cls.__module__]
    found = {}
    for py, pulumi_name in input_type_py_to_pulumi_names(cls).items():
        annotation = str(getattr(cls, py).fget.__annotations__.get("return", ""))
        nested = re.search(r"(?:ForwardRef\(|\.)'?(\w+Args)\b", annotation)
        nested_cls = getattr(module, nested.group(1), None) if nested else None
        if "Sequence[" in annotation:
            shape = "list"
        elif "Mapping[" in annotation:
            shape = "map"
        else:
            shape = "object" if nested_cls else "scalar"
        found[py] = (pulumi_name, shape, nested_cls)
    return found


def plural(name: str) -> str:
    # As Pulumi's inflector: address -> addresses, status -> statuses, labels -> labels.
    if name.endswith(("ss", "us")):
        return name + "es"
    if name.endswith("s"):
        return name
    if re.search(r"[^aeiou]y$", name):
        return name[:-1] + "ies"
    if name.endswith(("x", "z", "ch", "sh")):
        return name + "es"
    return name + "s"


# --- one resource -----------------------------------------------------------------------------
def field_rules(
    tf_name: str, f: Field, sdk: tuple[str, str, type | None] | None, meta: dict[str, Any]
) -> dict[str, Any]:
    rule: dict[str, Any] = {"tf": tf_name}
    tf_shape = (
        "object"
        if f.fields is not None and f.max_items == 1
        else {"list": "list", "set": "list", "map": "map"}.get(f.type, "scalar")
    )
    if meta.get("maxItemsOne") is False and tf_shape == "object":
        tf_shape = "list"  # pulumi-gcp keeps this single-item block a list (bridge-metadata)
    if meta.get("maxItemsOne") is True and tf_shape == "list":
        tf_shape = "object"
    if sdk is None:
        rule["shape"] = tf_shape
        if f.optional or f.required:  # an output (computed only) is not an input property
            rule["uncertain"] = "no input property of the installed pulumi_gcp matches this field"
    else:
        rule["shape"] = sdk[1] if sdk[1] != "scalar" or tf_shape != "object" else tf_shape
        if tf_shape != rule["shape"] and not (tf_shape == "list" and rule["shape"] == "list"):
            rule["uncertain"] = f"Terraform shape {tf_shape}, installed SDK shape {sdk[1]}"
    for flag in ("required", "optional", "computed", "force_new", "deprecated", "write_only"):
        if getattr(f, flag):
            rule[flag] = True
    if f.max_items is not None and rule["shape"] == "list":
        rule["max_items"] = f.max_items
    if f.min_items:
        rule["min_items"] = f.min_items
    if f.default is not None:
        rule["default"] = f.default
    if f.validators:
        rule["validators"] = f.validators
    if f.item is not None and f.item.validators:
        rule["item_validators"] = f.item.validators
    if f.cross:
        rule["tf_cross"] = f.cross  # converted to Pulumi paths once the whole tree is named
    if f.unsupported:
        rule["unsupported"] = f.unsupported
    return rule


def name_tree(
    fields: dict[str, Field], cls: type | None, meta: dict[str, Any], output: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """TF fields → {Pulumi name: rule}, plus SDK properties the source does not have.

    `output`: the fields of a computed-only block (certificateMap's gclbTargets), which the
    SDK has no input type for, whatever the source says of each nested field."""
    sdk = sdk_properties(cls) if cls else {}
    used = set()
    tree: dict[str, Any] = {}
    for tf_name, f in sorted(fields.items()):
        # Python names join a digit to the word before it (layer_7_x → layer7_x).
        candidates = [tf_name, plural(tf_name)]
        candidates += [re.sub(r"_(\d)", r"\1", c) for c in candidates]
        py = next((c for c in candidates if c in sdk), None)
        if py is None and tf_name == "terraform_labels" and "pulumi_labels" in sdk:
            py = "pulumi_labels"  # pulumi-gcp's rename
        field_meta = (meta.get("fields") or {}).get(tf_name, {})
        info = sdk.get(py) if py else None
        rule = field_rules(tf_name, f, info, field_meta)
        if output:
            rule.pop("uncertain", None)
        if f.fields is not None:
            nested_cls = info[2] if info else None
            is_output = output or (info is None and not (f.optional or f.required))
            rule["fields"], extra = name_tree(
                f.fields, nested_cls, field_meta.get("elem", {}), is_output
            )
            if extra:
                rule["sdk_only"] = extra
        pulumi_name = info[0] if info else tf_name
        used.add(py)
        tree[pulumi_name] = rule
    extra = sorted(sdk[py][0] for py in sdk.keys() - used)
    return tree, extra


def pulumi_path(tree: dict[str, Any], tf_path: str) -> str | None:
    """ "cdn_policy.0.cache_key_policy" → "cdnPolicy.cacheKeyPolicy" ("rule[0].match" for lists)."""
    out, level, shape = "", tree, None
    for segment in tf_path.split("."):
        if segment.isdigit():
            if shape != "object":
                out += f"[{segment}]"
            continue
        match = next((p for p, r in level.items() if r["tf"] == segment), None)
        if match is None:
            return None
        out += ("." if out else "") + match
        shape = level[match]["shape"]
        level = level[match].get("fields", {})
    return out


def convert_cross(tree: dict[str, Any], root: dict[str, Any]) -> None:
    for rule in tree.values():
        for kind, paths in rule.pop("tf_cross", {}).items():
            converted = [pulumi_path(root, p) for p in paths]
            rule[re.sub(r"(?<!^)([A-Z])", r"_\1", kind).lower()] = [
                c if c is not None else f"(uncertain: {p})"
                for c, p in zip(converted, paths, strict=True)
            ]
        if "fields" in rule:
            convert_cross(rule["fields"], root)


def autoname(tf: str, fields: dict[str, Field], overrides: dict[str, dict]) -> dict | None:
    """How Pulumi names the resource when the program sets no name (provider/resources.go)."""
    if tf in overrides:
        rule = dict(overrides[tf])
    else:
        name = fields.get("name")
        if not name or name.type != "string" or not (name.optional or name.required):
            return None
        # prov.SetAutonaming(255, "-"): logical name + "-" + 7 random hex characters.
        rule = {"property": "name", "max_length": 255, "random": 7, "lowercase": False}
    target = fields.get(rule["property"].split(".")[-1] if rule["property"] else "name")
    limits = [v for v in (target.validators if target else []) if v["kind"] in ("regex", "length")]
    if limits:
        rule["limits"] = limits
        rule["limits_source"] = "the provider's validator of the name"
    elif target is not None and target.doc_rfc1035:
        rule["limits"] = [
            {"kind": "length", "min": 1, "max": 63},
            {"kind": "regex", "pattern": r"^[a-z]([-a-z0-9]*[a-z0-9])?$"},
        ]
        rule["limits_source"] = "the name's description (RFC 1035, 1-63 characters)"
    return rule


def autoname_overrides(resources_go: str) -> dict[str, dict]:
    """Per-resource autoname settings in pulumi-gcp's provider/resources.go."""
    overrides = {}
    for m in re.finditer(r'"(google_[a-z0-9_]+)":\s*\{', resources_go):
        body = resources_go[m.end() : matching(resources_go, m.end() - 1)]
        if "lowercaseAutoName()" in body:
            overrides[m.group(1)] = {
                "property": "name",
                "max_length": 63,
                "random": 7,
                "lowercase": True,
            }
            continue
        auto = re.search(r'"(\w+)":\s*(?:tfbridge|info)\.AutoName\("\w*",\s*(\d+),', body)
        if auto:
            overrides[m.group(1)] = {
                "property": auto.group(1),
                "max_length": int(auto.group(2)),
                "random": 7,
                "lowercase": False,
            }
    return overrides


def index_registrations(root: Path) -> dict[str, tuple[Path, str]]:
    found = {}
    for path in sorted((root / "google-beta" / "services").glob("*/*.go")):
        if path.name.endswith("_test.go") or path.name.startswith(("data_source", "list_")):
            continue
        text = path.read_text()
        if "registry.Schema{" not in text:
            continue
        for name, expr in registrations(text).items():
            found.setdefault(name, (path, expr))
    return found


def build_resources(
    google_beta: Path, metadata: dict[str, Any], overrides: dict[str, dict]
) -> dict[str, Any]:
    """{token: rules} for every type in TYPES, read from the google-beta checkout."""
    tf_of = {info["current"]: tf for tf, info in metadata.items()}
    registered = index_registrations(google_beta)
    reader = SchemaReader(Source(google_beta))
    resources = {}
    for token in TYPES:
        tf = tf_of[token]
        path, expr = registered[tf]
        fields = resource_schema(reader, expr, path.parent.name)
        tree, extra = name_tree(fields, args_class(token), metadata[tf])
        convert_cross(tree, tree)
        entry: dict[str, Any] = {
            "terraform": tf,
            "source": str(path.relative_to(google_beta)),
            "properties": tree,
        }
        if extra:
            entry["sdk_only"] = extra
        naming = autoname(tf, fields, overrides)
        if naming:
            entry["autoname"] = naming
        resources[token] = entry
    return resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--google-beta", type=Path, required=True)
    parser.add_argument("--pulumi-gcp", type=Path, required=True)
    parser.add_argument(
        "--google-beta-version",
        required=True,
        help="the provider version the checkout holds, as a reader should see it (e.g. v8.1.0)",
    )
    parser.add_argument(
        "--note", default="", help="how the provider version was chosen (kept in the data)"
    )
    parser.add_argument("--out", type=Path, default=RULES_PATH)
    parser.add_argument(
        "--allow-loss",
        action="store_true",
        help="write even when a type loses coverage against the file being replaced",
    )
    args = parser.parse_args(argv)
    previous = json.loads(args.out.read_text()) if args.out.exists() else None

    metadata_path = args.pulumi_gcp / "provider/cmd/pulumi-resource-gcp/bridge-metadata.json"
    metadata = json.loads(metadata_path.read_text())["auto-aliasing"]["resources"]
    overrides = autoname_overrides((args.pulumi_gcp / "provider/resources.go").read_text())
    resources = build_resources(args.google_beta, metadata, overrides)

    installed = importlib.metadata.version("pulumi_gcp")
    same_pin = bool(previous) and previous["pulumi_gcp"] == installed
    same_beta = same_pin and previous["google_beta"]["version"] == args.google_beta_version
    document = {
        "about": (
            "Schema rules of the provider pulumi-gcp bridges, for vidgo-infra's offline check "
            "(vidgo_infra/provider_rules). Generated by scripts/provider_rules.py; do not edit."
        ),
        "pulumi_gcp": installed,
        "google_beta": {
            "repository": "hashicorp/terraform-provider-google-beta",
            "version": args.google_beta_version,
            **source_commit(
                args.google_beta,
                previous and previous["google_beta"],
                same_beta,
                "google-beta",
            ),
            "note": args.note,
        },
        "pulumi_gcp_source": {
            "repository": "pulumi/pulumi-gcp",
            **source_commit(
                args.pulumi_gcp,
                previous and previous["pulumi_gcp_source"],
                same_pin,
                "pulumi-gcp",
            ),
            "used_for": "bridge-metadata.json (Terraform names, single-item blocks), "
            "provider/resources.go (autonaming)",
        },
        "names_from": f"the installed pulumi_gcp {installed} Python types",
        "not_checked": NOT_CHECKED,
        "resources": resources,
    }
    print(rules_coverage.report(document))
    lost = rules_coverage.losses(previous, document) if previous else []
    if lost:
        print(f"\n{len(lost)} check(s) of {args.out} would be lost:", file=sys.stderr)
        for line in lost:
            print(f"  {line}", file=sys.stderr)
        if not args.allow_loss:
            print("not written (--allow-loss writes it anyway)", file=sys.stderr)
            return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out} ({len(resources)} resource types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
