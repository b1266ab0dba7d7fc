"""A Cloud Run service running as its own least-privilege identity, reachable only through the LB.

The identity (a service account) is not created here: the bootstrap creates it, so the deploy
identity needs actAs on exactly that account and no service-account admin (docs/delivery.md).
This component grants it what the service needs: access to each secret it reads (those the
program creates, and the application keys' secrets the bootstrap declares), its buckets. Its
project roles (logs, metrics, traces, Cloud SQL client) are the bootstrap's too, so the deploy
identity needs no right to edit the project's IAM policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import cloudrunv2, secretmanager, storage

from components.base import Component
from components.run_wiring import RunWiring
from components.secrets import SecretRef

# The application's pipeline deploys new images (`gcloud run deploy --image ...`), so Pulumi must
# not put the config image back. With `refresh: always` (Pulumi.yaml) state holds the deployed
# image, and these fields keep it; see docs/operations.md, "Who owns the image".
PIPELINE_OWNED = ["template.containers[0].image", "client", "clientVersion"]


@dataclass(frozen=True, kw_only=True)
class CloudRunServiceArgs:
    project: str
    region: str
    service_name: str
    # The email of the service account the service runs as (made by the bootstrap).
    service_account: str
    image: str
    cpu: str
    memory: str
    min_instances: int
    max_instances: int
    concurrency: int
    timeout_seconds: int
    cpu_idle: bool
    startup_cpu_boost: bool
    health_path: str
    # The startup probe's path (None: health_path); see _container.
    ready_path: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    # Environment variable → secret; the identity gets accessor on exactly these secrets.
    secret_env: Mapping[str, SecretRef] = field(default_factory=dict)
    # Connection names of Cloud SQL instances to mount at /cloudsql (and to be a client of).
    cloudsql_instances: Sequence[pulumi.Input[str]] = ()
    # Direct VPC egress into this subnet of this network, for private ranges (Cloud SQL, Redis).
    vpc_network: pulumi.Input[str] | None = None
    vpc_subnetwork: pulumi.Input[str] | None = None
    # Buckets the service reads and writes objects in.
    buckets: Sequence[pulumi.Input[str]] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False

    @property
    def wiring(self) -> RunWiring:
        """Environment, secrets, Cloud SQL socket and egress: what a job of this image shares."""
        return RunWiring(
            env=self.env,
            secret_env=self.secret_env,
            cloudsql_instances=self.cloudsql_instances,
            vpc_network=self.vpc_network,
            vpc_subnetwork=self.vpc_subnetwork,
        )


class CloudRunService(Component):
    """Ingress is limited to internal and Cloud Load Balancing traffic and the run.app URL is
    off, so every request passes the load balancer (and its Cloud Armor policy). Anyone may
    invoke through it, as with the seed's --allow-unauthenticated: the invoker IAM check is
    disabled, as Google now recommends for public services, instead of an allUsers binding
    (which domain-restricted-sharing organisation policies reject)."""

    service_name: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    access_grants: list[pulumi.Resource]

    def __init__(
        self, name: str, args: CloudRunServiceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("vidgo:platform:CloudRunService", name, opts)
        grants = self._grant(name, args, f"serviceAccount:{args.service_account}")
        service = cloudrunv2.Service(
            f"{name}-service",
            project=args.project,
            name=args.service_name,
            location=args.region,
            ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            default_uri_disabled=True,
            invoker_iam_disabled=True,
            deletion_protection=args.protect,
            labels=dict(args.labels),
            template=cloudrunv2.ServiceTemplateArgs(
                service_account=args.service_account,
                timeout=f"{args.timeout_seconds}s",
                max_instance_request_concurrency=args.concurrency,
                scaling=cloudrunv2.ServiceTemplateScalingArgs(
                    min_instance_count=args.min_instances,
                    max_instance_count=args.max_instances,
                ),
                vpc_access=args.wiring.vpc_access(),
                volumes=args.wiring.volumes(),
                containers=[self._container(args)],
            ),
            # The revision must not start before its identity can read its secrets.
            opts=self.child(protect=args.protect, depends_on=grants, ignore_changes=PIPELINE_OWNED),
        )
        self.service_name = service.name
        self.service_account_email = pulumi.Output.from_input(args.service_account)
        # What a job running as this identity must wait for before its first execution.
        self.access_grants = grants
        self.register_outputs(
            {
                "service_name": self.service_name,
                "service_account_email": self.service_account_email,
            }
        )

    def _grant(self, name: str, args: CloudRunServiceArgs, member: str) -> list[pulumi.Resource]:
        # Per secret, never project-wide: the service reads only the secrets it is handed.
        grants: list[pulumi.Resource] = [
            secretmanager.SecretIamMember(
                f"{name}-reads-{env_name.lower().replace('_', '-')}",
                project=args.project,
                secret_id=ref.name,
                role="roles/secretmanager.secretAccessor",
                member=member,
                opts=self.child(),
            )
            for env_name, ref in sorted(args.secret_env.items())
        ]
        grants += [
            storage.BucketIAMMember(
                f"{name}-uses-bucket-{index}",
                bucket=bucket,
                role="roles/storage.objectUser",
                member=member,
                opts=self.child(),
            )
            for index, bucket in enumerate(args.buckets)
        ]
        return grants

    @staticmethod
    def _container(args: CloudRunServiceArgs) -> cloudrunv2.ServiceTemplateContainerArgs:
        ready = args.ready_path or args.health_path
        probe = cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs(path=ready)
        return cloudrunv2.ServiceTemplateContainerArgs(
            image=args.image,
            ports=cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=8080),
            resources=cloudrunv2.ServiceTemplateContainerResourcesArgs(
                limits={"cpu": args.cpu, "memory": args.memory},
                cpu_idle=args.cpu_idle,
                startup_cpu_boost=args.startup_cpu_boost,
            ),
            envs=args.wiring.envs(),
            volume_mounts=args.wiring.volume_mounts(),
            # No traffic until the ready path answers 200: up to 120 s, since Direct VPC egress
            # "might experience connection establishment delays of a minute or more on instance
            # startup" and Google recommends an HTTP startup probe that tests the egress
            # destinations, retried by its period and threshold
            # (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc#limitations).
            startup_probe=cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                http_get=probe, period_seconds=5, timeout_seconds=3, failure_threshold=24
            ),
            liveness_probe=cloudrunv2.ServiceTemplateContainerLivenessProbeArgs(
                http_get=cloudrunv2.ServiceTemplateContainerLivenessProbeHttpGetArgs(
                    path=args.health_path
                ),
                period_seconds=30,
                timeout_seconds=5,
                failure_threshold=3,
            ),
        )
