"""`vidgo-infra graph STACK [--resources]`: the architecture as a Mermaid flowchart, from the code.

Drawn from the inventory (`plan --json`), never from a hand list: each component is a subgraph,
and an arrow A --> B is a dependency the engine sees (A waits for B: it takes B's output, or
lists it in depends_on) or a data path the inputs name (a serverless NEG names its Cloud Run
service, a service's environment names the media bucket). Arrows point the way requests and
reads go: the Internet reaches the static IP, which the forwarding rules serve.

The default draws the components and their key resources (the KINDS marked key); every other
resource is folded into the key resource it configures (a database user into its instance, a
proxy into its URL map's path), and same-kind key resources of one component are drawn as one
(the 8 application secrets). Dependencies on enabled APIs are not drawn there: every component
has them. `--resources` draws every resource and every dependency, an arrow to a whole subgraph
where a resource waits for all of a component.

Limits: mermaid's defaults, which GitHub's renderer applies: maxTextSize 50,000 characters
(a diagram over it is not drawn) and maxEdges 500 (a flowchart over it is refused).
`diagram()` raises DiagramTooLarge past either, so nothing is printed that would not render.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vidgo_infra.project import UsageError

MAX_TEXT = 50_000  # mermaid's maxTextSize default
MAX_EDGES = 500  # mermaid's maxEdges default

INTERNET = "internet"
API_TYPE = "gcp:projects/service:Service"
ADDRESS_TYPE = "gcp:compute/globalAddress:GlobalAddress"


@dataclass(frozen=True)
class Kind:
    label: str  # short: what a reader calls it
    key: bool = False  # drawn in the default view
    shape: str = "box"  # box, store (a cylinder: holds data), shield (hexagon), round
    plural: str = ""  # the label of several in one node


KINDS: dict[str, Kind] = {
    "gcp:cloudrunv2/service:Service": Kind("Cloud Run service", True, "round"),
    "gcp:cloudrunv2/job:Job": Kind("Cloud Run job", True, "round"),
    "gcp:sql/databaseInstance:DatabaseInstance": Kind("Cloud SQL", True, "store"),
    "gcp:sql/database:Database": Kind("database"),
    "gcp:sql/user:User": Kind("database user"),
    "gcp:redis/instance:Instance": Kind("Memorystore Redis", True, "store"),
    "gcp:storage/bucket:Bucket": Kind("bucket", True, "store"),
    "gcp:storage/bucketIAMMember:BucketIAMMember": Kind("bucket access"),
    "gcp:secretmanager/secret:Secret": Kind("secret", True, "store", "secrets"),
    "gcp:secretmanager/secretVersion:SecretVersion": Kind("secret version"),
    "gcp:secretmanager/secretIamMember:SecretIamMember": Kind("secret access"),
    "gcp:artifactregistry/repository:Repository": Kind("Artifact Registry", True, "store"),
    "gcp:compute/network:Network": Kind("VPC", True),
    "gcp:compute/subnetwork:Subnetwork": Kind("subnet"),
    "gcp:compute/firewall:Firewall": Kind("firewall rule"),
    "gcp:dns/policy:Policy": Kind("DNS policy"),
    "gcp:vpcaccess/connector:Connector": Kind("VPC connector", True),
    "gcp:servicenetworking/connection:Connection": Kind("private services access", True),
    ADDRESS_TYPE: Kind("static IP", True),  # an internal range is not key: see _is_key
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": Kind("forwarding rule", True),
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": Kind("HTTPS proxy", True),
    "gcp:compute/targetHttpProxy:TargetHttpProxy": Kind("HTTP proxy", True),
    "gcp:compute/uRLMap:URLMap": Kind("URL map", True),
    "gcp:compute/sSLPolicy:SSLPolicy": Kind("TLS policy"),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": Kind(
        "certificate", True, "box", "certificates"
    ),
    "gcp:compute/securityPolicy:SecurityPolicy": Kind("Cloud Armor", True, "shield"),
    "gcp:compute/backendService:BackendService": Kind("backend", True),
    "gcp:compute/backendBucket:BackendBucket": Kind("CDN backend bucket", True),
    "gcp:compute/backendBucketSignedUrlKey:BackendBucketSignedUrlKey": Kind("signed URL key"),
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": Kind("serverless NEG"),
    "gcp:monitoring/alertPolicy:AlertPolicy": Kind("alert policy", True, "box", "alert policies"),
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": Kind("uptime check", True),
    "gcp:monitoring/dashboard:Dashboard": Kind("dashboard", True),
    "gcp:monitoring/notificationChannel:NotificationChannel": Kind("notification channel"),
    "gcp:monitoring/metricDescriptor:MetricDescriptor": Kind("metric descriptor"),
    "gcp:projects/iAMMember:IAMMember": Kind("project role"),
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": Kind(
        "audit log config", True, "box", "audit log configs"
    ),
    API_TYPE: Kind("API", True, "box", "APIs enabled"),
    "gcp:billing/budget:Budget": Kind("budget", True),
    "random:index/randomPassword:RandomPassword": Kind("random password"),
    "random:index/randomBytes:RandomBytes": Kind("random key"),
}
# What a component is, in a subgraph's title.
COMPONENT_KINDS = {
    "vidgo:platform:Edge": "HTTPS load balancer",
    "vidgo:platform:CloudRunService": "Cloud Run service",
    "vidgo:platform:CloudRunJob": "Cloud Run job",
    "vidgo:platform:ProjectServices": "project APIs",
}
# Keys whose value names the resource itself, not another one it uses.
OWN_NAME_KEYS = {"name", "secretId", "repositoryId", "displayName", "description"}
NOT_REFERENCES = {"labels", "userLabels"}

# Highlighting a change (pr_comment.py): the action → Mermaid class, worst first.
STATUS_ORDER = ("delete", "replace", "create", "update")
STATUS_STYLE = {
    "delete": "fill:#ffebe9,stroke:#cf222e,stroke-width:3px,stroke-dasharray:5 3",
    "replace": "fill:#ffebe9,stroke:#cf222e,stroke-width:3px",
    "create": "fill:#dafbe1,stroke:#1a7f37,stroke-width:3px",
    "update": "fill:#fff8c5,stroke:#9a6700,stroke-width:3px",
}


class DiagramTooLarge(ValueError):
    """Over mermaid's maxTextSize or maxEdges: GitHub would not draw it."""


@dataclass
class Diagram:
    text: str
    nodes: int
    edges: int


@dataclass
class _Node:
    id: str
    label: str
    shape: str
    component: str | None
    members: list[str] = field(default_factory=list)


# --- the inventory as a graph ----------------------------------------------------------------


def kind(entry: dict[str, Any]) -> Kind:
    found = KINDS.get(entry["type"])
    if found is None:  # a type added since: drawn with its type's own name
        return Kind(_words(entry["type"].rsplit(":", 1)[-1]))
    return found


def is_component(entry: dict[str, Any]) -> bool:
    return not entry["type"].startswith(("gcp:", "random:"))


def _is_key(entry: dict[str, Any]) -> bool:
    inputs = entry.get("inputs") or {}
    if entry["type"] == ADDRESS_TYPE and inputs.get("addressType") == "INTERNAL":
        return False  # a private services range: part of the peering, not an entry point
    return kind(entry).key


def _words(camel: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", camel)


def top_component(resources: dict[str, Any], name: str) -> str:
    while resources[name].get("parent"):
        name = resources[name]["parent"]
    return name


def references(resources: dict[str, Any]) -> dict[str, set[str]]:
    """Resource → the resources its inputs name by their configured `name` (data paths that are
    not dependencies: a NEG names its service, a service's environment names the bucket)."""
    owners: dict[str, set[str]] = {}
    for name, entry in resources.items():
        own = (entry.get("inputs") or {}).get("name")
        if isinstance(own, str):
            owners.setdefault(own, set()).add(name)
    found: dict[str, set[str]] = {}
    for name, entry in resources.items():
        for value in _referring_strings(entry.get("inputs") or {}):
            for target in owners.get(value, ()):
                if target != name:
                    found.setdefault(name, set()).add(target)
    return found


def _referring_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in OWN_NAME_KEYS | NOT_REFERENCES:
                yield from _referring_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _referring_strings(item)


def uses(resources: dict[str, Any]) -> dict[str, set[str]]:
    """Resource → what it uses: its own dependencies and the resources its inputs name."""
    found = {name: set(entry.get("depends_on") or []) for name, entry in resources.items()}
    for name, targets in references(resources).items():
        found[name] |= targets
    return {name: {t for t in targets if t in resources} for name, targets in found.items()}


# --- building the diagram --------------------------------------------------------------------


def diagram(
    document: dict[str, Any],
    every_resource: bool = False,
    status: dict[str, str] | None = None,
    title: str | None = None,
) -> Diagram:
    """The Mermaid flowchart of an inventory. `status`: resource → create/update/replace/delete,
    drawn highlighted (a deleted resource must be in `document`, e.g. merged from the base)."""
    resources = document["resources"]
    status = status or {}
    builder = _Builder(resources, every_resource)
    text, edges = builder.render(status, title)
    if len(text) > MAX_TEXT:
        raise DiagramTooLarge(
            f"{len(text):,} characters, over mermaid's maxTextSize of {MAX_TEXT:,}"
        )
    if edges > MAX_EDGES:
        raise DiagramTooLarge(f"{edges} arrows, over mermaid's maxEdges of {MAX_EDGES}")
    return Diagram(text, len(builder.nodes), edges)


class _Builder:
    def __init__(self, resources: dict[str, Any], every_resource: bool):
        self.resources = resources
        self.every = every_resource
        self.components = {n for n, e in resources.items() if is_component(e) and not e["parent"]}
        self.component_of = {n: top_component(resources, n) for n in resources}
        self.uses = uses(resources)
        self.users: dict[str, set[str]] = {n: set() for n in resources}
        for name, targets in self.uses.items():
            for target in targets:
                self.users[target].add(name)
        self.nodes: dict[str, _Node] = {}
        self.node_of: dict[str, str] = {}  # resource → the node it is drawn in
        self._place()

    # Which node each resource is drawn in.
    def _place(self) -> None:
        drawn = [
            n
            for n, e in sorted(self.resources.items())
            if not (is_component(e) and not e["parent"])
        ]
        drawn = [n for n in drawn if not is_component(self.resources[n])]
        if self.every:
            for name in drawn:
                self._node_for([name])
            return
        groups: dict[tuple[str, str], list[str]] = {}
        for name in drawn:
            entry = self.resources[name]
            if _is_key(entry):
                groups.setdefault((self.component_of[name], entry["type"]), []).append(name)
        for (_, type_), names in sorted(groups.items()):
            if KINDS.get(type_, Kind("")).plural and len(names) > 1:
                self._node_for(names)
            else:
                for name in names:
                    self._node_for([name])
        for name in drawn:
            if name not in self.node_of:
                self.node_of[name] = self._fold(name)

    def _node_for(self, names: list[str]) -> None:
        first = self.resources[names[0]]
        component = self.component_of[names[0]]
        if len(names) == 1:
            node_id = _id("n", names[0])
            label = _label(names[0], first, component)
        else:
            node_id = _id("g", f"{component}-{first['type'].rsplit(':', 1)[-1]}")
            details = [_detail(n, self.resources[n], component) for n in names]
            label = f"{len(names)} {kind(first).plural}"
            if len(names) <= 3:
                label += "<br/>" + ", ".join(details)
        shape = kind(first).shape
        component_id = component if component in self.components else None
        self.nodes[node_id] = _Node(node_id, label, shape, component_id, list(names))
        for name in names:
            self.node_of[name] = node_id

    def _fold(self, name: str) -> str:
        """The node a resource not drawn by itself belongs to: its nearest drawn ancestor, else
        the nearest drawn resource of its component it uses, else one that uses it."""
        parent = self.resources[name].get("parent")
        while parent and not is_component(self.resources[parent]):
            if parent in self.node_of:
                return self.node_of[parent]
            parent = self.resources[parent].get("parent")
        component = self.component_of[name]
        for links in (self.uses, self.users):
            found = self._nearest(name, links, component)
            if found:
                return found
        return self._component_node(component)

    def _nearest(self, start: str, links: dict[str, set[str]], component: str) -> str | None:
        level, seen = {start}, {start}
        while level:
            following = {
                t for n in level for t in links.get(n, ()) if self.component_of[t] == component
            } - seen
            seen |= following
            drawn = sorted(self.node_of[t] for t in following if t in self.node_of)
            drawn += sorted(
                self._ancestor_node(t) or "" for t in following if t not in self.node_of
            )
            drawn = [d for d in drawn if d]
            if drawn:
                return drawn[0]
            level = following
        return None

    def _ancestor_node(self, name: str) -> str | None:
        parent = self.resources[name].get("parent")
        while parent and not is_component(self.resources[parent]):
            if parent in self.node_of:
                return self.node_of[parent]
            parent = self.resources[parent].get("parent")
        return None

    def _component_node(self, component: str) -> str:
        node_id = _id("c", component) + "_self"
        if node_id not in self.nodes:
            entry = self.resources[component]
            label = COMPONENT_KINDS.get(entry["type"], _words(entry["type"].rsplit(":", 1)[-1]))
            self.nodes[node_id] = _Node(node_id, label, "box", component)
        return node_id

    # The arrows.
    def edges(self) -> tuple[set[tuple[str, str]], dict[str, str]]:
        """(from, to) pairs of node or subgraph ids; and the node → its entry edge's label."""
        pairs: set[tuple[str, str]] = set()
        for name, targets in sorted(self.uses.items()):
            entry = self.resources[name]
            if is_component(entry):
                source = _id("c", name) if name in self.components else None
            else:
                source = self.node_of.get(name)
            if source is None:
                continue
            for target in self._targets(name, targets):
                if target != source:
                    pairs.add((source, target))
        pairs = {self._entry_direction(a, b) for a, b in pairs}
        entries: dict[str, str] = {}
        for name, entry in sorted(self.resources.items()):
            inputs = entry.get("inputs") or {}
            if entry["type"] == ADDRESS_TYPE and inputs.get("addressType") == "EXTERNAL":
                node = self.node_of[name]
                pairs.add((INTERNET, node))
                entries[node] = "HTTPS, HTTP"
        return pairs, entries

    def _targets(self, name: str, targets: set[str]) -> set[str]:
        """Where the arrows of `name` point: one per target node, or one to a whole component
        (subgraph) when `name` waits for every resource of it (--resources)."""
        out: set[str] = set()
        by_component: dict[str, set[str]] = {}
        for target in targets:
            if self.resources[target]["type"] == API_TYPE and not self.every:
                continue  # every component waits for its APIs: drawn only with --resources
            by_component.setdefault(self.component_of[target], set()).add(target)
        for component, found in by_component.items():
            members = {
                n
                for n, e in self.resources.items()
                if self.component_of[n] == component and not is_component(e)
            }
            whole = component in self.components and len(found) > 1 and found >= members
            if whole and self.every:
                out.add(_id("c", component))
                continue
            for target in found:
                if is_component(self.resources[target]):
                    if target in self.components:
                        out.add(_id("c", target))
                elif target in self.node_of:
                    out.add(self.node_of[target])
        return out

    def _entry_direction(self, source: str, target: str) -> tuple[str, str]:
        # A forwarding rule uses the static IP; requests reach the IP first, then the rule.
        addresses = {
            self.node_of[n]
            for n, e in self.resources.items()
            if e["type"] == ADDRESS_TYPE
            and (e.get("inputs") or {}).get("addressType") == "EXTERNAL"
        }
        return (target, source) if target in addresses else (source, target)

    # The text.
    def render(self, status: dict[str, str], title: str | None) -> tuple[str, int]:
        pairs, entries = self.edges()
        lines = ["flowchart LR"]
        if title:
            lines.insert(0, f"---\ntitle: {_text(title)}\n---")
        lines.append(f'  {INTERNET}(("Internet"))')
        for component in self._component_order(pairs):
            entry = self.resources[component]
            what = COMPONENT_KINDS.get(entry["type"], _words(entry["type"].rsplit(":", 1)[-1]))
            title = component if what.lower() == component else f"{component}: {what}"
            lines.append(f'  subgraph {_id("c", component)}["{_text(title)}"]')
            for node in sorted(self.nodes.values(), key=lambda n: n.id):
                if node.component == component:
                    lines.append("    " + _shape(node))
            lines.append("  end")
        for node in sorted(self.nodes.values(), key=lambda n: n.id):
            if node.component is None:
                lines.append("  " + _shape(node))
        for source, target in sorted(pairs):
            label = entries.get(target) if source == INTERNET else None
            arrow = f" -->|{_text(label)}| " if label else " --> "
            lines.append(f"  {source}{arrow}{target}")
        lines += self._highlight(status)
        return "\n".join(lines) + "\n", len(pairs)

    def _component_order(self, pairs: set[tuple[str, str]]) -> list[str]:
        """Subgraphs in the order requests reach them from the Internet (then the rest)."""
        owner = {node.id: node.component for node in self.nodes.values()}
        owner |= {_id("c", c): c for c in self.components}
        order: list[str] = []
        level = [INTERNET]
        seen = {INTERNET}
        while level:
            following = sorted({t for s, t in pairs if s in level} - seen)
            seen |= set(following)
            for target in following:
                component = owner.get(target)
                if component and component not in order:
                    order.append(component)
            level = following
        return order + sorted(self.components - set(order))

    def _highlight(self, status: dict[str, str]) -> list[str]:
        if not status:
            return []
        worst_node: dict[str, str] = {}
        worst_component: dict[str, str] = {}
        for name, action in status.items():
            if action not in STATUS_STYLE or name not in self.resources:
                continue
            targets = []
            if name in self.node_of:
                targets.append((worst_node, self.node_of[name]))
            component = self.component_of[name]
            if component in self.components:
                targets.append((worst_component, _id("c", component)))
            for table, key in targets:
                current = table.get(key)
                if current is None or STATUS_ORDER.index(action) < STATUS_ORDER.index(current):
                    table[key] = action
        lines = [f"  classDef {action} {STATUS_STYLE[action]}" for action in STATUS_ORDER]
        for node, action in sorted(worst_node.items()):
            lines.append(f"  class {node} {action}")
        for subgraph, action in sorted(worst_component.items()):
            lines.append(f"  style {subgraph} {STATUS_STYLE[action]}")
        return lines


def _id(prefix: str, name: str) -> str:
    return f"{prefix}_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _text(value: str) -> str:
    """Safe inside a quoted Mermaid label: no quote, no markup but our own line breaks."""
    return (
        value.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _detail(name: str, entry: dict[str, Any], component: str) -> str:
    """What tells this one from others of its kind: its name in Google, or its logical name."""
    inputs = entry.get("inputs") or {}
    port = inputs.get("portRange")
    if entry["type"].endswith("GlobalForwardingRule") and port:
        return f":{port}"
    if inputs.get("defaultUrlRedirect", {}).get("httpsRedirect"):
        return "redirect to HTTPS"
    keys: tuple[str, ...] = ("secretId", "repositoryId", "name")
    if entry["type"] in (API_TYPE, "gcp:projects/iAMAuditConfig:IAMAuditConfig"):
        keys = ("service",)
    elif "iAMMember" in entry["type"] or "IamMember" in entry["type"]:
        keys = ("role",)
    for key in keys:
        value = inputs.get(key)
        if isinstance(value, str):
            return value.removesuffix(".googleapis.com").removeprefix("roles/")
    domains = (inputs.get("managed") or {}).get("domains")
    if domains:
        return ", ".join(domains)
    # The logical name, less its component and the words the kind already says.
    said = set(kind(entry).label.lower().split())
    words = name.removeprefix(f"{component}-").split("-")
    return " ".join(w for w in words if w.lower() not in said)


def _label(name: str, entry: dict[str, Any], component: str) -> str:
    detail = _detail(name, entry, component)
    label = _text(kind(entry).label)
    return f"{label}<br/>{_text(detail)}" if detail else label


def _shape(node: _Node) -> str:
    label = node.label if "<br/>" in node.label else _text(node.label)
    opening, closing = {
        "store": ("[(", ")]"),
        "shield": ("{{", "}}"),
        "round": ("([", "])"),
    }.get(node.shape, ("[", "]"))
    return f'{node.id}{opening}"{label}"{closing}'


# --- the command -----------------------------------------------------------------------------

SUMMARY = "the architecture as a Mermaid flowchart drawn from a stack's inventory"
EXIT_CODES = {0: "printed", 2: "a mistake, or a diagram too large for Mermaid to render"}
EXAMPLES = (
    "vidgo-infra graph prod",
    "vidgo-infra graph staging --resources",
    "vidgo-infra graph tests/snapshots/prod.yaml --markdown",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="a stack (staging, prod) or a saved inventory (.yaml)")
    parser.add_argument(
        "--resources", action="store_true", help="every resource, not only the key ones"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="inside a ```mermaid fence, as GitHub draws it"
    )


def run(args: argparse.Namespace) -> int:
    from vidgo_infra.commands.diff import load_inventories

    ((document, _),) = load_inventories(args.project, [args.stack])
    try:
        drawn = diagram(document, every_resource=args.resources)
    except DiagramTooLarge as error:
        raise UsageError(
            f"the diagram would not render: {error}; draw it without --resources"
        ) from None
    print(fenced(drawn.text) if args.markdown else drawn.text, end="")
    return 0


def fenced(text: str) -> str:
    return f"```mermaid\n{text}```\n"
