"""A Cloud Run job: a one-off task of a service's image, such as the database migrations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import cloudrunv2

from components.base import Component
from components.run_wiring import RunWiring

# The application's pipeline sets the job's image with each release (docs/operations.md,
# "Migrations"), as it does for the services: Pulumi keeps the deployed one.
PIPELINE_OWNED = ["template.template.containers[0].image", "client", "clientVersion"]


@dataclass(frozen=True, kw_only=True)
class CloudRunJobArgs:
    project: str
    region: str
    job_name: str
    image: str  # only at creation; the pipeline owns it after
    command: Sequence[str]  # the entrypoint and its arguments, run without a shell
    # The identity the task runs as, with its grants already in place (the service's).
    service_account_email: pulumi.Input[str]
    wiring: RunWiring
    cpu: str
    memory: str
    timeout_seconds: int
    max_retries: int
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False


class CloudRunJob(Component):
    """One task per execution, never run by Pulumi: whoever releases the image executes it
    (`gcloud run jobs execute NAME --wait`) and decides what a failure stops."""

    job_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: CloudRunJobArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("vidgo:platform:CloudRunJob", name, opts)
        wiring = args.wiring
        job = cloudrunv2.Job(
            f"{name}-job",
            project=args.project,
            name=args.job_name,
            location=args.region,
            deletion_protection=args.protect,
            labels=dict(args.labels),
            template=cloudrunv2.JobTemplateArgs(
                task_count=1,
                parallelism=1,
                template=cloudrunv2.JobTemplateTemplateArgs(
                    service_account=args.service_account_email,
                    timeout=f"{args.timeout_seconds}s",
                    # A migration half applied is not retried blindly: it fails the release.
                    max_retries=args.max_retries,
                    vpc_access=wiring.vpc_access(),
                    volumes=wiring.volumes(),
                    containers=[
                        cloudrunv2.JobTemplateTemplateContainerArgs(
                            image=args.image,
                            commands=list(args.command),
                            resources=cloudrunv2.JobTemplateTemplateContainerResourcesArgs(
                                limits={"cpu": args.cpu, "memory": args.memory}
                            ),
                            envs=wiring.envs(),
                            volume_mounts=wiring.volume_mounts(),
                        )
                    ],
                ),
            ),
            opts=self.child(ignore_changes=PIPELINE_OWNED),
        )
        self.job_name = job.name
        self.register_outputs({"job_name": self.job_name})
