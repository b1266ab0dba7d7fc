"""What a Cloud Run service and a Cloud Run job running the same image share: its environment,
its secrets, the Cloud SQL socket and Direct VPC egress into the subnet.

Service and job templates have distinct input classes with the same fields, so these are built
as plain dicts in the provider's input shape, which both accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi

from components.secrets import SecretRef

CLOUDSQL_VOLUME, CLOUDSQL_MOUNT = "cloudsql", "/cloudsql"

# A nested input as a dict: Pulumi takes it for the service's or the job's Args class alike,
# which the SDK's types (one class per resource) cannot say.
InputBlock = Any


@dataclass(frozen=True, kw_only=True)
class RunWiring:
    env: Mapping[str, str] = field(default_factory=dict)
    # Environment variable → secret; the identity needs accessor on exactly these secrets.
    secret_env: Mapping[str, SecretRef] = field(default_factory=dict)
    # Connection names of Cloud SQL instances to mount at /cloudsql (and to be a client of).
    cloudsql_instances: Sequence[pulumi.Input[str]] = ()
    # Direct VPC egress: instances take addresses in this subnet of this network and send
    # private-range traffic (Cloud SQL, Redis) through it; the rest goes direct.
    vpc_network: pulumi.Input[str] | None = None
    vpc_subnetwork: pulumi.Input[str] | None = None

    def envs(self) -> list[InputBlock]:
        plain = [{"name": key, "value": value} for key, value in sorted(self.env.items())]
        secret = [
            {
                "name": key,
                "value_source": {
                    "secret_key_ref": {"secret": ref.secret_id, "version": ref.version}
                },
            }
            for key, ref in sorted(self.secret_env.items())
        ]
        return plain + secret

    def volumes(self) -> list[InputBlock] | None:
        if not self.cloudsql_instances:
            return None
        instances = {"instances": list(self.cloudsql_instances)}
        return [{"name": CLOUDSQL_VOLUME, "cloud_sql_instance": instances}]

    def volume_mounts(self) -> list[InputBlock] | None:
        if not self.cloudsql_instances:
            return None
        return [{"name": CLOUDSQL_VOLUME, "mount_path": CLOUDSQL_MOUNT}]

    def vpc_access(self) -> InputBlock | None:
        if self.vpc_subnetwork is None:
            return None
        interface = {"network": self.vpc_network, "subnetwork": self.vpc_subnetwork}
        # The API calls AI providers on the internet: only private ranges enter the VPC
        # (all-traffic egress would need Cloud NAT).
        return {
            "network_interfaces": [{k: v for k, v in interface.items() if v is not None}],
            "egress": "PRIVATE_RANGES_ONLY",
        }

    def with_env(self, **env: str) -> RunWiring:
        """The same wiring with `env` set over this environment (a job's own pool sizes)."""
        return replace(self, env={**self.env, **env})
