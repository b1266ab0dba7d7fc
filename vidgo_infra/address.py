"""The static IP and the certificates' CNAMEs while the first `pulumi up` is still running.

A stack has outputs only once `pulumi up` finishes, but the load balancer's address and the
DNS authorizations exist in its first minutes (the edge waits for nothing slow:
docs/first-deploy.md). So when the stack has no outputs yet, `vidgo-infra dns STACK` asks Google
for them,
and takes the zone, hosts and records from the stack's own program run offline (through
vidgo_infra/stack.py, so the stack file is read and checked as `plan` reads and checks it):

- the address by its configured name (the outputs project and static_ip_name;
  vidgo_infra/outputs.py);
- each host's DNS authorization by the name components/edge.py gives it, as the offline run
  registered it: Pulumi autonames it (that name, "-" and 7 random hex characters), so it is
  found in `gcloud certificate-manager dns-authorizations list` by that prefix and its domain,
  and its dnsResourceRecord is the CNAME to enter.

The operator can then add the CNAMEs, and Google issue the certificates, while Cloud SQL is
still being created.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from vidgo_infra.outputs import Record, Runner
from vidgo_infra.project import Project, UsageError

DNS_AUTHORIZATION = "gcp:certificatemanager/dnsAuthorization:DnsAuthorization"
AUTONAME = r"-[0-9a-f]{7}"  # what Pulumi appends to a logical name it autonames


class AddressError(Exception):
    """The address could not be read from Google; the message says why and what to do."""


def has_static_ip(outputs: Any) -> bool:
    return isinstance(outputs, Mapping) and bool(outputs.get("static_ip"))


def outputs_from_google(project: Project, stack: str, runner: Runner) -> dict[str, Any]:
    """The stack's DNS outputs as `pulumi up` will export them, with the address Google holds."""
    planned = planned_outputs(project, stack)
    ip = describe_address(planned["project"], planned["name"], runner)
    zone = planned["outputs"]["dns_zone"]
    records: list[dict[str, Any]] = []
    found: dict[str, Any] = {}
    for record in planned["outputs"]["dns_records"]:
        if record["type"] == "A":
            records.append({**record, "value": ip})
            continue
        if not found:  # one listing for every host
            found = authorization_records(planned["project"], planned["authorizations"], runner)
        host = Record(**record).host(zone)
        records.append({**record, "value": cname_value(record, zone, found[host])})
    read = f"static IP {ip}" + (f" and {len(found)} CNAMEs" if found else "")
    print(
        f"No stack outputs yet (is the first `pulumi up` still running?): {read} read from "
        f"Google ({planned['name']} in {planned['project']}).",
        file=sys.stderr,
    )
    return {**planned["outputs"], "static_ip": ip, "dns_records": records}


def planned_outputs(project: Project, stack: str) -> dict[str, Any]:
    """The stack's outputs and its load balancer address's name and project, from the program
    run offline with the stack's config (the same code `pulumi up` runs). A mistake in the stack
    file is the UsageError `plan` gives for it."""
    from vidgo_infra.stack import plan_stack

    run = plan_stack(project, stack).run
    outputs = run.outputs
    name, gcp_project = outputs.get("static_ip_name"), outputs.get("project")
    if not isinstance(name, str) or not isinstance(gcp_project, str):
        raise UsageError(
            f"{project.root}: the program there exports no project and static_ip_name (an "
            "older checkout?); run that checkout's own vidgo-infra"
        )
    # {host: logical name}: the names components/edge.py gives (certificate_manager_name).
    authorizations = {
        str(r.inputs["domain"]).lower(): r.name for r in run.by_type(DNS_AUTHORIZATION)
    }
    return {
        "outputs": outputs,
        "name": name,
        "project": gcp_project,
        "authorizations": authorizations,
    }


def authorization_records(
    project: str, authorizations: Mapping[str, str], runner: Runner
) -> dict[str, Mapping[str, str]]:
    """{host: dnsResourceRecord} of each planned DNS authorization, as Google holds it."""
    command = ["gcloud", "certificate-manager", "dns-authorizations", "list",
               "--location", "global", "--project", project, "--format=json"]  # fmt: skip
    done = _gcloud(command, runner)
    try:
        listing = json.loads(done.stdout or "null") if done.returncode == 0 else None
    except json.JSONDecodeError:
        raise AddressError(f"`{shlex.join(command)}` printed something that is not JSON") from None
    if not isinstance(listing, list):
        detail = " ".join((done.stderr or "").split())[-400:] or "no list"
        raise AddressError(f"`{shlex.join(command)}` failed: {detail}")
    found = {}
    for host, logical in authorizations.items():
        pattern = re.compile(re.escape(logical) + f"({AUTONAME})?")
        matches = [
            item
            for item in listing
            if isinstance(item, Mapping)
            and pattern.fullmatch(str(item.get("name", "")).rsplit("/", 1)[-1])
            and str(item.get("domain", "")).lower() == host
        ]
        record = (matches[0].get("dnsResourceRecord") or {}) if len(matches) == 1 else {}
        if len(matches) > 1:
            names = ", ".join(str(m.get("name", "")).rsplit("/", 1)[-1] for m in matches)
            raise AddressError(
                f"Google has {len(matches)} DNS authorizations for {host} in {project} ({names}): "
                "is `pulumi up` replacing one? Wait for it to finish, then use its outputs."
            )
        if not record.get("data"):
            raise AddressError(
                f"the stack has no outputs yet and Google has no DNS authorization {logical}-… "
                f"for {host} in {project} with its record (`{shlex.join(command)}`). `pulumi up` "
                "creates it in its first minutes: try again shortly."
            )
        found[host] = record
    return found


def cname_value(record: Mapping[str, Any], zone: str, google: Mapping[str, str]) -> str:
    """The CNAME's value as GoDaddy takes it (no final dot), once Google's record is the one the
    program names (the name follows from the host; only the value is Google's)."""
    expected = Record(**record).fqdn(zone)
    name = str(google.get("name", "")).lower().rstrip(".")
    if str(google.get("type", "")).upper() != "CNAME" or name != expected:
        raise AddressError(
            f"Google's DNS authorization for {expected.removeprefix('_acme-challenge.')} asks "
            f"for {google.get('type')} {google.get('name')}, not CNAME {expected}: "
            "enter what `gcloud certificate-manager dns-authorizations list` shows"
        )
    return str(google["data"]).rstrip(".")


def _gcloud(command: list[str], runner: Runner) -> subprocess.CompletedProcess[str]:
    try:
        return runner(command)
    except FileNotFoundError:
        raise AddressError(
            "the stack has no outputs yet and the gcloud CLI is not installed to read them "
            f"from Google; wait for `pulumi up` to finish, or run `{shlex.join(command)}`"
        ) from None
    except subprocess.TimeoutExpired:
        raise AddressError(f"`{shlex.join(command)}` did not finish in time") from None


def describe_address(project: str, name: str, runner: Runner) -> str:
    command = [
        "gcloud",
        "compute",
        "addresses",
        "describe",
        name,
        "--global",
        "--project",
        project,
        "--format=value(address)",
    ]
    done = _gcloud(command, runner)
    ip = (done.stdout or "").strip()
    if done.returncode == 0 and ip:
        try:
            return str(ipaddress.IPv4Address(ip))
        except ValueError:
            raise AddressError(
                f"`{shlex.join(command)}` printed {ip!r}, not an IPv4 address"
            ) from None
    detail = (done.stderr or "").strip()[-400:] or "no address"
    raise AddressError(
        f"the stack has no outputs yet and Google has no address {name} in {project} "
        f"(`{shlex.join(command)}`: {detail}). `pulumi up` creates it in its first minutes: "
        "try again shortly."
    )
