"""The Google APIs the platform calls, enabled before anything that needs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import projects

from components.base import Component

# The seed's list (section 3.1) plus what its own resources need and it forgot:
# private services access for Cloud SQL and Redis
# (servicenetworking), the image registry, IAM and service accounts, and the certificate and
# load balancer APIs that live under compute. The seed's Serverless VPC Access connector
# (vpcaccess) is gone: Direct VPC egress is part of Cloud Run and Compute Engine.
PLATFORM_APIS = (
    "run.googleapis.com",
    "sql-component.googleapis.com",
    "sqladmin.googleapis.com",
    "redis.googleapis.com",
    "storage.googleapis.com",
    "compute.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "secretmanager.googleapis.com",
    "monitoring.googleapis.com",
    "logging.googleapis.com",
    "servicenetworking.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    # The VPC's DNS server policy (query logging).
    "dns.googleapis.com",
    # The load balancer's DNS-authorized certificates and their certificate map.
    "certificatemanager.googleapis.com",
)


@dataclass(frozen=True, kw_only=True)
class ProjectServicesArgs:
    project: str
    apis: Sequence[str] = PLATFORM_APIS


class ProjectServices(Component):
    """Enables APIs and never disables them: turning an API off on `pulumi destroy` would break
    anything else in the project that uses it, and fails while resources still exist."""

    services: list[projects.Service]

    def __init__(
        self, name: str, args: ProjectServicesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("vidgo:platform:ProjectServices", name, opts)
        self._apis = list(args.apis)
        self.services = [
            projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=self.child(),
            )
            for api in args.apis
        ]
        self.register_outputs({"apis": [s.service for s in self.services]})

    def enabling(self, *apis: str) -> list[projects.Service]:
        """The resources that enable `apis`: what a component needing only those waits for."""
        found = [s for s, api in zip(self.services, self._apis, strict=True) if api in apis]
        if len(found) != len(apis):
            raise ValueError(f"not all of {', '.join(apis)} are enabled here")
        return found
