"""The outputs contract: what the program exports (infra/composition.py) and the tool reads.

`dns`, `verify` and the address lookup read a stack's outputs only through here:

    project         "vidgo-prod"                    the Google Cloud project
    region          "asia-east1"
    static_ip_name  "vidgo-ip"                      the load balancer's global address, by name
    static_ip       "203.0.113.7"                   its IPv4 address
    dns_zone        "vidgo.ai"                      the zone the operator edits at GoDaddy
    dns_records     [{"type": "CNAME", "name": "_acme-challenge", "value": "….authorize.
                      certificatemanager.goog", "ttl": 600}, ...,
                     {"type": "A", "name": "@", "value": "203.0.113.7", "ttl": 600}, ...]
                    names relative to the zone, as GoDaddy's Name field wants them: first one
                    `_acme-challenge` CNAME per host (none with classic certificates), in the
                    hosts' order, then one A record per host at static_ip
    hosts           ["vidgo.ai", "www.vidgo.ai", ...]  the A records' full names, in their order
    health_url      "https://api.vidgo.ai/health"
    service_urls    {"web": ..., "api": ..., "media": ...}   (verify only)
    cloud_run_services {"api": NAME, "web": NAME}              (verify --google only)

Nothing here imports Pulumi or the program: the commands start at once.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vidgo_infra.project import Project, UsageError

REQUIRED = ("static_ip", "dns_zone", "dns_records", "hosts")
RECORD_KEYS = ("type", "name", "value", "ttl")
ACME_LABEL = "_acme-challenge"  # the name Google's DNS authorization asks a CNAME on
HOSTNAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+")  # a CNAME's value: a name, not a URL
PULUMI_TIMEOUT_S = 120

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Record:
    type: str
    name: str  # relative to the zone; "@" is the zone apex
    value: str
    ttl: int

    def fqdn(self, zone: str) -> str:
        return zone if self.name == "@" else f"{self.name}.{zone}"

    def host(self, zone: str) -> str:
        """The host the record serves: `_acme-challenge.api` authorizes api.ZONE."""
        return self.fqdn(zone).removeprefix(f"{ACME_LABEL}.")


@dataclass(frozen=True)
class StackOutputs:
    static_ip: str
    zone: str
    records: tuple[Record, ...]
    hosts: tuple[str, ...]
    health_url: str | None = None
    project: str | None = None
    region: str | None = None
    static_ip_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def cnames(self) -> tuple[Record, ...]:
        """The `_acme-challenge` CNAMEs (Certificate Manager); none with classic certificates."""
        return tuple(r for r in self.records if r.type == "CNAME")

    @property
    def a_records(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.type == "A")


def run_command(
    command: Sequence[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    # stdin is closed so that a passphrase or login prompt fails at once instead of hanging.
    # `pulumi` runs in the project the tool acts on, so it reads that project's stacks.
    return subprocess.run(
        list(command),
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=PULUMI_TIMEOUT_S,
        check=False,
    )


def pulumi_outputs(stack: str, runner: Runner = run_command) -> Any:
    """The stack's outputs as `pulumi stack output --json` prints them."""
    command = ["pulumi", "stack", "output", "--json", "--show-secrets=false", "--stack", stack]
    try:
        done = runner(command)
    except FileNotFoundError:
        raise UsageError(
            "the pulumi CLI is not installed or not on PATH "
            "(https://www.pulumi.com/docs/iac/download-install/); "
            "or pass --outputs FILE with the saved output of `pulumi stack output --json`"
        ) from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"`{shlex.join(command)}` did not finish in {PULUMI_TIMEOUT_S}s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip()[-800:] or "no message"
        detail = " ".join(detail.split())  # one line
        raise UsageError(f"`{shlex.join(command)}` failed (exit {done.returncode}): {detail}")
    return parse_json(done.stdout, "the output of `pulumi stack output --json`")


def read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_json(text, str(path))


def parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not JSON: {exc}") from None


def parse(outputs: Any) -> StackOutputs:
    """Check the outputs against the contract above."""
    if not isinstance(outputs, Mapping):
        raise UsageError("the stack outputs are not a JSON object")
    missing = [key for key in REQUIRED if key not in outputs]
    if missing:
        raise UsageError(
            f"the stack outputs have no {', '.join(missing)}: has `pulumi up` run for this stack "
            "(with the load balancer)? Outputs exist only once a stack is deployed."
        )
    ip = _ipv4(outputs["static_ip"])
    zone = _string(outputs["dns_zone"], "dns_zone").lower().rstrip(".")
    records = parse_records(outputs["dns_records"], ip)
    hosts = tuple(
        _string(item, f"hosts[{i}]").lower()
        for i, item in enumerate(_list(outputs["hosts"], "hosts"))
    )
    _match_hosts(records, hosts, zone)

    def optional(key: str) -> str | None:
        value = outputs.get(key)
        return value if isinstance(value, str) and value else None

    return StackOutputs(
        ip,
        zone,
        records,
        hosts,
        optional("health_url"),
        optional("project"),
        optional("region"),
        optional("static_ip_name"),
        outputs,
    )


@dataclass(frozen=True)
class Site:
    """What `verify` checks beyond the records: which host serves what."""

    api_host: str
    site_hosts: tuple[str, ...]
    health_path: str
    media_url: str  # https://HOST/PATH of the media, signed URLs only


def site(stack: StackOutputs) -> Site:
    urls = stack.raw.get("service_urls") or {}
    try:
        api_host = urlsplit(urls["api"]).hostname
        health = urlsplit(stack.raw["health_url"])
        media_url = urls["media"]
    except (KeyError, TypeError, AttributeError):
        raise UsageError(
            "the stack outputs have no service_urls (api, media) or health_url"
        ) from None
    if not api_host or api_host not in stack.hosts:
        raise UsageError(f"service_urls.api {urls['api']!r} is not one of the hosts")
    media = urlsplit(media_url)
    # Media on a path shares the site host; on its own host (edge.media_subdomain) it does not.
    media_host = media.hostname if media.path in ("", "/") else None
    site_hosts = tuple(h for h in stack.hosts if h not in (api_host, media_host))
    return Site(api_host, site_hosts, health.path or "/", media_url)


def belongs_to_stack(stack_outputs: StackOutputs, project: Project, stack: str, source: str):
    """Refuse outputs whose zone and hosts are not what the stack's config declares: records
    titled as staging but pointing prod's names at prod's IP would be entered (or checked) in
    the wrong place. Returns the stack's config."""
    from vidgo_infra.stack import stack_config

    config = stack_config(project, stack).config
    if stack_outputs.zone != config.zone or list(stack_outputs.hosts) != config.hosts:
        raise UsageError(
            f"{source}: these are not the outputs of stack {stack}: they name hosts "
            f"{', '.join(stack_outputs.hosts)} in zone {stack_outputs.zone}, and "
            f"Pulumi.{stack}.yaml declares {', '.join(config.hosts)} in zone {config.zone}; "
            f"use `pulumi stack output --json --stack {stack}`"
        )
    return config


def _ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise UsageError(f"static_ip is {value!r}, not an IPv4 address") from None


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where} is {value!r}, not a non-empty string")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{where} is {value!r}, not a non-empty list")
    return value


def parse_records(raw: Any, ip: str | None = None) -> tuple[Record, ...]:
    """`dns_records` checked: CNAMEs (on `_acme-challenge` names) first, then A records (at `ip`,
    when given). vidgo_infra/cutover.py reads them through here too."""
    records = tuple(
        _record(f"dns_records[{i}]", item, ip) for i, item in enumerate(_list(raw, "dns_records"))
    )
    kinds = [record.type for record in records]
    if "A" not in kinds:
        raise UsageError("dns_records has no A record")
    if "CNAME" in kinds[kinds.index("A") :]:
        raise UsageError("dns_records lists an A record before a CNAME; the CNAMEs go in first")
    return records


def _record(where: str, item: Any, ip: str | None) -> Record:
    if not isinstance(item, Mapping):
        raise UsageError(f"{where} is {item!r}, not an object")
    missing = [key for key in RECORD_KEYS if key not in item]
    if missing:
        raise UsageError(f"{where} has no {', '.join(missing)}")
    ttl = item["ttl"]
    if type(ttl) is not int or ttl <= 0:
        raise UsageError(f"{where}.ttl is {ttl!r}, not a positive whole number of seconds")
    kind, name = str(item["type"]).upper(), _string(item["name"], f"{where}.name")
    value = item["value"]
    if kind == "CNAME":
        if name != ACME_LABEL and not name.startswith(f"{ACME_LABEL}."):
            raise UsageError(f"{where} is a CNAME on {name!r}, not on an {ACME_LABEL} name")
        target = value.lower().rstrip(".") if isinstance(value, str) else ""
        if not HOSTNAME.fullmatch(target):
            raise UsageError(f"{where} ({name}) has value {value!r}, not a host name")
        return Record(kind, name, target, ttl)
    if kind != "A":
        raise UsageError(f"{where} is a {kind} record; expected CNAME or A")
    if ip is not None and value != ip:
        raise UsageError(f"{where} ({name}) has value {value!r}, not static_ip {ip}")
    return Record(kind, name, str(value), ttl)


def _match_hosts(records: Sequence[Record], hosts: Sequence[str], zone: str) -> None:
    # The check resolves hosts and the operator types names; a mismatch would check the wrong thing.
    names = [record.fqdn(zone) for record in records if record.type == "A"]
    if names != list(hosts):
        raise UsageError(
            f"hosts {list(hosts)} do not match dns_records in zone {zone} (which name {names})"
        )
    # One CNAME per host, or none (classic certificates): a host without one never gets its
    # certificate, and the phase could not be told.
    authorized = [record.host(zone) for record in records if record.type == "CNAME"]
    if authorized and authorized != list(hosts):
        raise UsageError(
            f"the {ACME_LABEL} CNAMEs in dns_records authorize {authorized}, not one per host "
            f"{list(hosts)}"
        )
