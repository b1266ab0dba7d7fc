"""A first `pulumi up`, simulated: when does the HTTPS edge exist, and how long until the end?

Certificate Manager's certificates (the default, docs/cutover.md) issue from one CNAME per host:
once each DNS authorization and certificate exist, the operator enters the CNAMEs and Google
issues, waiting neither for the forwarding rule nor for the A records. The report says when the
last certificate exists and that none waits for the rule. Classic certificates
(`edge.certificates: classic`) issue only once the HTTPS forwarding rule serves them on the
static IP and the GoDaddy records point there (15-60 minutes, seed section 4.2); for them, the
sooner that rule exists, the sooner issuance can run while Cloud SQL is still being created.

The graph is the program's own: the inventory (`vidgo-infra plan --json`) lists each resource's
dependencies as the engine received them, explicit `depends_on` and the implicit ones an
Output-typed input creates, and each resource's parent. Pulumi creates a resource once all of
those exist, and runs independent ones in parallel (`pulumi up` is unbounded by default). Each
resource type takes a typical creation time from CREATION below. Printed:

- the critical path: the longest chain, the simulated length of a first `pulumi up`;
- the serial sum: every creation one after another, as the seed's script (sections 3.1-3.3)
  runs its gcloud commands;
- when the HTTPS forwarding rule (port 443) exists, against both.

    .venv/bin/python benchmarks/first_deploy.py [--stack prod] [--inventory FILE]

The project is taken as bootstrapped (docs/delivery.md, section 3): bootstrap/ has enabled the
platform's APIs (PLATFORM_APIS), so the program's `projects.Service` resources only read.
`--without-bootstrap` simulates a project where the program enables them itself.

The figures are a model, not a measurement: no deploy ran. Every time below is an estimate, as
marked, because Google publishes no creation times; the note says what it rests on. Where the
Google provider's create makes a second operation after the insert, that step is added (STEPS).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components.project_services import PLATFORM_APIS  # noqa: E402

HTTPS_RULE_TYPE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
DNS_CERTIFICATE_TYPE = "gcp:certificatemanager/certificate:Certificate"
# The HTTPS rule within the first 10 % of the critical path: a goal withdrawn (the load
# balancer's own chain is the floor), still printed so a change that moves the rule shows.
TARGET_SHARE = 0.10


@dataclass(frozen=True)
class Timing:
    seconds: float
    source: str


_COMPUTE_OP = (
    "estimate: one global Compute Engine operation; apply logs typically show 10-25 s "
    "(the provider polls the operation every few seconds)"
)
_INSTANT = "estimate: a single synchronous API call"
_PROVIDER_LOCAL = "no API call: computed by the provider on this machine"

CREATION: dict[str, Timing] = {
    # Project-level
    "gcp:projects/service:Service": Timing(
        45, "estimate: Service Usage enable operation on a new project, typically 20-60 s"
    ),
    "gcp:projects/iAMMember:IAMMember": Timing(
        8, "estimate: read-modify-write of the project IAM policy"
    ),
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": Timing(
        8, "estimate: read-modify-write of the project IAM policy"
    ),
    "gcp:serviceaccount/account:Account": Timing(
        8, "estimate: create, then the provider waits until the account reads back"
    ),
    # Network
    "gcp:compute/network:Network": Timing(
        30, "estimate: global Compute Engine operation, typically 20-40 s"
    ),
    "gcp:compute/subnetwork:Subnetwork": Timing(20, _COMPUTE_OP),
    "gcp:compute/globalAddress:GlobalAddress": Timing(10, _COMPUTE_OP),
    "gcp:compute/firewall:Firewall": Timing(10, _COMPUTE_OP),
    "gcp:dns/policy:Policy": Timing(5, "estimate: a Cloud DNS change, applied in seconds"),
    "gcp:servicenetworking/connection:Connection": Timing(
        90, "estimate: VPC peering to Google's service producer network, typically 1-2 min"
    ),
    # Data
    "gcp:sql/databaseInstance:DatabaseInstance": Timing(
        720,
        "estimate: Cloud SQL for PostgreSQL with a private IP, typically 10-15 min "
        "(Google's docs say only 'several minutes')",
    ),
    "gcp:sql/database:Database": Timing(15, "estimate: a Cloud SQL admin operation"),
    "gcp:sql/user:User": Timing(10, "estimate: a Cloud SQL admin operation"),
    "gcp:redis/instance:Instance": Timing(
        360, "estimate: Memorystore for Redis, Basic tier, typically 5-7 min"
    ),
    "gcp:storage/bucket:Bucket": Timing(3, _INSTANT),
    "gcp:storage/bucketIAMMember:BucketIAMMember": Timing(5, _INSTANT),
    "gcp:secretmanager/secret:Secret": Timing(2, _INSTANT),
    "gcp:secretmanager/secretVersion:SecretVersion": Timing(2, _INSTANT),
    "gcp:secretmanager/secretIamMember:SecretIamMember": Timing(5, _INSTANT),
    "gcp:artifactregistry/repository:Repository": Timing(
        10, "estimate: an Artifact Registry long-running operation"
    ),
    # Cloud Run
    "gcp:cloudrunv2/service:Service": Timing(
        60, "estimate: first revision of the placeholder image until Ready, typically 30-90 s"
    ),
    "gcp:cloudrunv2/job:Job": Timing(
        10, "estimate: creating a job does not run it; an admin operation"
    ),
    # Load balancer
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": Timing(10, _COMPUTE_OP),
    "gcp:compute/securityPolicy:SecurityPolicy": Timing(
        25, "estimate: policy with its rules, a global Compute Engine operation"
    ),
    "gcp:compute/backendService:BackendService": Timing(20, _COMPUTE_OP),
    "gcp:compute/backendBucket:BackendBucket": Timing(15, _COMPUTE_OP),
    "gcp:compute/backendBucketSignedUrlKey:BackendBucketSignedUrlKey": Timing(10, _COMPUTE_OP),
    "gcp:compute/uRLMap:URLMap": Timing(12, _COMPUTE_OP),
    "gcp:compute/sSLPolicy:SSLPolicy": Timing(10, _COMPUTE_OP),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": Timing(
        10,
        "estimate: creating the certificate resource; issuance is separate (15-60 min, seed 4.2)",
    ),
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": Timing(
        10, "estimate: a Certificate Manager long-running operation; returns with its CNAME"
    ),
    "gcp:certificatemanager/certificate:Certificate": Timing(
        10,
        "estimate: creating the certificate resource (PROVISIONING); issuance follows once the "
        "CNAME resolves, separately",
    ),
    "gcp:certificatemanager/certificateMap:CertificateMap": Timing(
        10, "estimate: a Certificate Manager long-running operation"
    ),
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": Timing(
        10, "estimate: a Certificate Manager long-running operation"
    ),
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": Timing(12, _COMPUTE_OP),
    "gcp:compute/targetHttpProxy:TargetHttpProxy": Timing(12, _COMPUTE_OP),
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": Timing(
        25, "estimate: global forwarding rule, typically 20-30 s"
    ),
    # Monitoring and billing
    "gcp:monitoring/alertPolicy:AlertPolicy": Timing(3, _INSTANT),
    "gcp:monitoring/customService:CustomService": Timing(3, _INSTANT),
    "gcp:monitoring/slo:Slo": Timing(3, _INSTANT),
    "gcp:monitoring/dashboard:Dashboard": Timing(3, _INSTANT),
    "gcp:monitoring/metricDescriptor:MetricDescriptor": Timing(5, _INSTANT),
    "gcp:monitoring/notificationChannel:NotificationChannel": Timing(3, _INSTANT),
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": Timing(5, _INSTANT),
    "gcp:billing/budget:Budget": Timing(5, _INSTANT),
    "random:index/randomPassword:RandomPassword": Timing(0, _PROVIDER_LOCAL),
    "random:index/randomBytes:RandomBytes": Timing(0, _PROVIDER_LOCAL),
}
UNKNOWN = Timing(15, "estimate: type not in the table, a generic API operation")

SERVICE_TYPE = "gcp:projects/service:Service"
# What the bootstrap enables (bootstrap/platform_apis.py reads this same list).
BOOTSTRAPPED_APIS = frozenset(PLATFORM_APIS)
ALREADY_ENABLED = Timing(
    4,
    "estimate: the Google provider's create of a service already enabled only reads: it lists "
    "the project's enabled services and returns without an enable call (google-beta v7.45.0, "
    "the provider pulumi-gcp 9.35.0 runs: google-beta/services/resourcemanager/"
    "resource_google_project_service.go, resourceGoogleProjectServiceCreate). The list goes "
    "through the provider's request batcher, which waits DefaultBatchSendIntervalSec = 3 s "
    "(google-beta/transport/batcher.go), then one services.list call",
)


@dataclass(frozen=True)
class Step:
    """A second operation the provider's create makes after the insert, when `applies`."""

    applies: Callable[[dict[str, Any]], bool]
    timing: Timing


STEPS: dict[str, Step] = {
    "gcp:compute/backendService:BackendService": Step(
        lambda inputs: bool(inputs.get("securityPolicy")),
        Timing(
            12,
            "estimate: one more global Compute Engine operation. With a Cloud Armor policy the "
            "provider's create inserts the backend service, waits, then calls setSecurityPolicy "
            "and waits again (google-beta v7.45.0, google-beta/services/compute/"
            "resource_compute_backend_service.go, resourceComputeBackendServiceCreate: "
            "'security_policy isn't set by Create / Update')",
        ),
    ),
    # Not only when the program sets labels: the effective labels always hold the attribution
    # label the provider adds on create (goog-pulumi-provisioned; the provider option
    # add_terraform_attribution_label, default true, google-beta/provider/provider.go), so the
    # second call is made on every create unless that option is turned off.
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": Step(
        lambda inputs: True,
        Timing(
            12,
            "estimate: one more global Compute Engine operation. The provider's create inserts "
            "the rule, waits, then, with any effective labels, calls setLabels and waits again "
            "(google-beta v7.45.0, google-beta/services/compute/"
            "resource_compute_global_forwarding_rule.go, "
            "resourceComputeGlobalForwardingRuleCreate: 'Labels cannot be set in a create')",
        ),
    ),
}


def creation_time(
    entry: dict[str, Any],
    times: dict[str, Timing] = CREATION,
    enabled_apis: frozenset[str] = BOOTSTRAPPED_APIS,
) -> float:
    """Seconds from the start of `entry`'s create until it exists."""
    inputs = entry.get("inputs") or {}
    if entry["type"] == SERVICE_TYPE and inputs.get("service") in enabled_apis:
        return ALREADY_ENABLED.seconds
    seconds = times.get(entry["type"], UNKNOWN).seconds
    step = STEPS.get(entry["type"])
    if step and step.applies(inputs):
        seconds += step.timing.seconds
    return seconds


@dataclass(frozen=True)
class Simulation:
    finish: dict[str, float]  # resource → seconds after `pulumi up` starts when it exists
    duration: dict[str, float]  # resource → seconds its create takes
    came_from: dict[str, str | None]  # resource → the dependency it waited for last
    critical_path: list[str]  # the longest chain, first to last
    serial: float  # every creation one after another
    https_rule: str | None  # the port-443 forwarding rule's name
    unknown_types: set[str]

    @property
    def length(self) -> float:
        return max(self.finish.values(), default=0.0)

    @property
    def https_rule_at(self) -> float | None:
        return self.finish.get(self.https_rule) if self.https_rule else None


def is_component(entry: dict[str, Any]) -> bool:
    return not entry["type"].startswith(("gcp:", "random:"))


def creation_graph(document: dict[str, Any]) -> dict[str, set[str]]:
    """Resource → the resources that must exist before it is created.

    A resource waits for its own `depends_on` and for everything its parents wait for (the
    inventory lists only the difference). A component creates nothing itself; waiting for a
    component means waiting for every resource inside it. A custom parent must exist before its
    child.
    """
    resources = document["resources"]
    children: dict[str, list[str]] = {}
    for name, entry in resources.items():
        if entry.get("parent"):
            children.setdefault(entry["parent"], []).append(name)

    def created(name: str) -> set[str]:
        if not is_component(resources[name]):
            return {name}
        return set().union(*(created(child) for child in children.get(name, [])))

    def waits(name: str) -> set[str]:
        # The inventory lists what a resource waits for beyond what its parent waits for.
        entry = resources[name]
        found = set(entry.get("depends_on") or [])
        parent = entry.get("parent")
        if parent:
            found |= waits(parent)
            if not is_component(resources[parent]):
                found.add(parent)
        return found

    graph = {}
    for name, entry in resources.items():
        if not is_component(entry):
            graph[name] = set().union(*(created(dep) for dep in waits(name) if dep in resources))
    return graph


def upstream(graph: dict[str, set[str]], name: str) -> set[str]:
    """Everything `name` waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(graph[name])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(graph[current])
    return seen


def https_rule_name(document: dict[str, Any]) -> str | None:
    for name, entry in document["resources"].items():
        if entry["type"] == HTTPS_RULE_TYPE and str(entry["inputs"].get("portRange")) == "443":
            return name
    return None


def simulate(
    document: dict[str, Any],
    times: dict[str, Timing] = CREATION,
    enabled_apis: frozenset[str] = BOOTSTRAPPED_APIS,
) -> Simulation:
    """`enabled_apis`: the APIs on before `pulumi up` starts (the bootstrap's, by default)."""
    resources = document["resources"]
    graph = creation_graph(document)
    duration = {name: creation_time(resources[name], times, enabled_apis) for name in graph}
    finish: dict[str, float] = {}
    came_from: dict[str, str | None] = {}

    def finish_of(name: str, visiting: frozenset[str] = frozenset()) -> float:
        if name in finish:
            return finish[name]
        if name in visiting:
            raise ValueError(f"dependency cycle through {name}")
        done = {dep: finish_of(dep, visiting | {name}) for dep in graph[name]}
        latest = max(done, key=lambda dep: (done[dep], dep), default=None)
        start = done[latest] if latest else 0.0
        finish[name] = start + duration[name]
        came_from[name] = latest
        return finish[name]

    for name in sorted(graph):
        finish_of(name)
    last = max(finish, key=lambda n: (finish[n], n)) if finish else None
    unknown = {resources[n]["type"] for n in graph if resources[n]["type"] not in times}
    sim = Simulation(
        finish=finish,
        duration=duration,
        came_from=came_from,
        critical_path=[],
        serial=sum(duration.values()),
        https_rule=https_rule_name(document),
        unknown_types=unknown,
    )
    sim.critical_path.extend(chain_to(sim, last))
    return sim


ARMOR_TYPE = "gcp:compute/securityPolicy:SecurityPolicy"


def without_armor(document: dict[str, Any]) -> dict[str, Any]:
    """The same plan with backends created bare: what Cloud Armor costs the HTTPS edge.

    A what-if, not an option of the program: the backends would serve unprotected until a later
    update attached their policies, which the project does not accept.
    """
    resources = copy.deepcopy(document["resources"])
    armor = {name for name, entry in resources.items() if entry["type"] == ARMOR_TYPE}
    for name in armor:
        del resources[name]
    for entry in resources.values():
        entry["inputs"] = {k: v for k, v in entry["inputs"].items() if k != "securityPolicy"}
        if entry.get("depends_on"):
            entry["depends_on"] = [dep for dep in entry["depends_on"] if dep not in armor]
    return {**document, "resources": resources}


def chain_to(sim: Simulation, name: str | None) -> list[str]:
    """The chain `name` waited for, each resource after the dependency that finished last."""
    chain = []
    while name is not None:
        chain.append(name)
        name = sim.came_from[name]
    return chain[::-1]


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def report(
    document: dict[str, Any], sim: Simulation, enabled_apis: frozenset[str] = BOOTSTRAPPED_APIS
) -> list[str]:
    bootstrapped = bool(enabled_apis)
    lines = [
        f"First `pulumi up` of stack {document['stack']}, simulated ({len(sim.finish)} resources), "
        + (
            "project bootstrapped (its APIs already enabled)"
            if bootstrapped
            else "APIs enabled by the program itself (no bootstrap)"
        )
    ]
    lines.append("Critical path (each resource waits for the one above):")
    for name in sim.critical_path:
        lines.append(f"  {minutes(sim.finish[name]):>7}  +{sim.duration[name]:>4.0f}s  {name}")
    if sim.https_rule:
        lines.append("The HTTPS forwarding rule's chain:")
        for name in chain_to(sim, sim.https_rule):
            lines.append(f"  {minutes(sim.finish[name]):>7}  +{sim.duration[name]:>4.0f}s  {name}")
    at = sim.https_rule_at
    lines += [
        f"critical path (simulated first up): {minutes(sim.length)} ({sim.length:.0f} s)",
        f"serial sum (seed's script, one step after another): {minutes(sim.serial)} "
        f"({sim.serial:.0f} s); critical path / serial = {sim.length / sim.serial:.2f}",
    ]
    if at is None:
        lines.append("no HTTPS (port 443) forwarding rule declared")
    else:
        lines.append(
            f"HTTPS forwarding rule {sim.https_rule} exists at {minutes(at)} ({at:.0f} s): "
            f"{at / sim.length:.1%} of the critical path (withdrawn goal <= {TARGET_SHARE:.0%}), "
            f"{at / sim.serial:.1%} of the serial sum"
        )
        bare = simulate(without_armor(document), enabled_apis=enabled_apis)
        if bare.https_rule_at is not None and bare.https_rule_at < at:
            lines.append(
                f"  what-if, backends created without Cloud Armor (not done: they would serve "
                f"unprotected): {minutes(bare.https_rule_at)}, "
                f"{bare.https_rule_at / bare.length:.1%} of the critical path"
            )
    certificates = issuable(document, sim)
    if certificates:
        at, waiting = certificates
        lines.append(
            f"DNS-authorized certificates all exist at {minutes(at)} ({at:.0f} s): Google issues "
            "each once its CNAME resolves; "
            + (
                f"waiting for the forwarding rule or proxy: {', '.join(waiting)}"
                if waiting
                else "none waits for the forwarding rule, the proxy or the A records"
            )
        )
    if sim.unknown_types:
        lines.append(
            f"types without a time ({UNKNOWN.seconds:.0f} s assumed): "
            + ", ".join(sorted(sim.unknown_types))
        )
    return lines


def issuable(document: dict[str, Any], sim: Simulation) -> tuple[float, list[str]] | None:
    """When the last Certificate Manager certificate exists (issuance can start once its CNAME
    is in), and which of them wait for the load balancer's proxy or forwarding rules (none
    should). None with classic certificates."""
    resources = document["resources"]
    names = [n for n in sim.finish if resources[n]["type"] == DNS_CERTIFICATE_TYPE]
    if not names:
        return None
    graph = creation_graph(document)
    frontend = {
        n
        for n, entry in resources.items()
        if entry["type"] in (HTTPS_RULE_TYPE, "gcp:compute/targetHttpsProxy:TargetHttpsProxy")
    }
    waiting = sorted(n for n in names if upstream(graph, n) & frontend)
    return max(sim.finish[n] for n in names), waiting


def sources() -> list[str]:
    lines = [f"  {t.seconds:>5.0f} s  {typ}: {t.source}" for typ, t in sorted(CREATION.items())]
    lines.append(
        f"  {ALREADY_ENABLED.seconds:>5.0f} s  {SERVICE_TYPE}, already enabled: "
        f"{ALREADY_ENABLED.source}"
    )
    lines += [
        f"  +{step.timing.seconds:>4.0f} s  {typ}: {step.timing.source}"
        for typ, step in sorted(STEPS.items())
    ]
    return lines


def gantt(document: dict[str, Any], sim: Simulation) -> str:
    """The simulation as a Mermaid Gantt chart (the README's first-deploy figure): a bar per
    component from its first create to its last, the creates that take a minute or more, the
    certificates, and the moment the HTTPS rule exists. Seconds from the start of `pulumi up`."""
    resources = document["resources"]

    def top(name: str) -> str:
        while resources[name].get("parent"):
            name = resources[name]["parent"]
        return name

    def start(name: str) -> float:
        return sim.finish[name] - sim.duration[name]

    sections: dict[str, list[str]] = {}
    for name in sorted(sim.finish, key=lambda n: (start(n), n)):
        certificate = resources[name]["type"].endswith("ManagedSslCertificate")
        sections.setdefault("certificates" if certificate else top(name), []).append(name)
    lines = [
        "gantt",
        f"  title First pulumi up of {document['stack']}, simulated (estimated times)",
        "  dateFormat X",
        "  axisFormat %M:%S",
    ]
    for section, names in sections.items():
        lines.append(f"  section {section}")
        first, last = min(map(start, names)), max(sim.finish[n] for n in names)
        what = f"{len(names)} resources" if len(names) > 1 else names[0]
        lines.append(f"    {what} : {first:.0f}, {last:.0f}")
        for name in names:
            if sim.duration[name] >= 60 and len(names) > 1:
                lines.append(f"    {name} : {start(name):.0f}, {sim.finish[name]:.0f}")
            if name == sim.https_rule:
                at = sim.finish[name]
                lines.append(f"    HTTPS rule exists : milestone, {at:.0f}, {at:.0f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--inventory", type=Path, help="a saved inventory instead of the code now")
    parser.add_argument("--sources", action="store_true", help="list each type's time and source")
    parser.add_argument(
        "--without-bootstrap",
        action="store_true",
        help="the program enables its APIs itself (a project the bootstrap has not prepared)",
    )
    parser.add_argument("--gantt", action="store_true", help="print a Mermaid Gantt chart")
    args = parser.parse_args(argv)

    from vidgo_infra import inventory

    if args.inventory:
        document = inventory.load(args.inventory)
    else:
        from vidgo_infra.offline import run_program

        document = inventory.inventory(run_program(args.stack))
    enabled = frozenset() if args.without_bootstrap else BOOTSTRAPPED_APIS
    sim = simulate(document, enabled_apis=enabled)
    if args.gantt:
        print(gantt(document, sim), end="")
        return 0
    print("\n".join(report(document, sim, enabled_apis=enabled)))
    if args.sources:
        print("Creation times (seconds) and what each rests on:")
        print("\n".join(sources()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
