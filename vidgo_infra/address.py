"""The static IP while the first `pulumi up` is still running.

A stack has outputs only once `pulumi up` finishes, but the load balancer's address exists in
its first minutes (the edge waits for nothing slow: docs/first-deploy.md). So when the stack
has no outputs yet, `vidgo-infra dns STACK` asks Google for the address by its configured name,
and takes the zone, hosts and records from the stack's own program run offline (through
vidgo_infra/stack.py, so the stack file is read and checked as `plan` reads and checks it): the
outputs that run exports (project, static_ip_name; vidgo_infra/outputs.py) name the address. The
operator can then enter the GoDaddy records, and Google issue the certificates, while Cloud SQL
is still being created.
"""

from __future__ import annotations

import ipaddress
import shlex
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from vidgo_infra.outputs import Runner
from vidgo_infra.project import Project, UsageError


class AddressError(Exception):
    """The address could not be read from Google; the message says why and what to do."""


def has_static_ip(outputs: Any) -> bool:
    return isinstance(outputs, Mapping) and bool(outputs.get("static_ip"))


def outputs_from_google(project: Project, stack: str, runner: Runner) -> dict[str, Any]:
    """The stack's DNS outputs as `pulumi up` will export them, with the address Google holds."""
    planned = planned_outputs(project, stack)
    ip = describe_address(planned["project"], planned["name"], runner)
    print(
        f"No stack outputs yet (is the first `pulumi up` still running?): static IP {ip} read "
        f"from Google ({planned['name']} in {planned['project']}).",
        file=sys.stderr,
    )
    records = [{**record, "value": ip} for record in planned["outputs"]["dns_records"]]
    return {**planned["outputs"], "static_ip": ip, "dns_records": records}


def planned_outputs(project: Project, stack: str) -> dict[str, Any]:
    """The stack's outputs and its load balancer address's name and project, from the program
    run offline with the stack's config (the same code `pulumi up` runs). A mistake in the stack
    file is the UsageError `plan` gives for it."""
    from vidgo_infra.stack import plan_stack

    outputs = plan_stack(project, stack).run.outputs
    name, gcp_project = outputs.get("static_ip_name"), outputs.get("project")
    if not isinstance(name, str) or not isinstance(gcp_project, str):
        raise UsageError(
            f"{project.root}: the program there exports no project and static_ip_name (an "
            "older checkout?); run that checkout's own vidgo-infra"
        )
    return {"outputs": outputs, "name": name, "project": gcp_project}


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
    try:
        done = runner(command)
    except FileNotFoundError:
        raise AddressError(
            "the stack has no outputs yet and the gcloud CLI is not installed to read the "
            f"address from Google; wait for `pulumi up` to finish, or run `{shlex.join(command)}`"
        ) from None
    except subprocess.TimeoutExpired:
        raise AddressError(f"`{shlex.join(command)}` did not finish in time") from None
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
