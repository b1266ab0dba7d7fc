"""The Artifact Registry Docker repository the application's images are pushed to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import artifactregistry

from components.base import Component


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    project: str
    region: str
    repository: str
    keep_recent_versions: int
    delete_untagged_after_days: int
    labels: Mapping[str, str]
    protect: bool = False


class Registry(Component):
    """`REGION-docker.pkg.dev/PROJECT/REPOSITORY`, the seed's image path. Cleanup deletes
    untagged images after a while but always keeps the most recent versions, so a rollback
    target is never cleaned away. Protected in prod: deleting it deletes every image, including
    the ones the services run."""

    path: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Registry", name, opts)
        repository = artifactregistry.Repository(
            f"{name}-repository",
            project=args.project,
            location=args.region,
            repository_id=args.repository,
            format="DOCKER",
            description="VidGo application images",
            labels=dict(args.labels),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                        keep_count=args.keep_recent_versions
                    ),
                ),
                artifactregistry.RepositoryCleanupPolicyArgs(
                    id="delete-stale-untagged",
                    action="DELETE",
                    condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED",
                        older_than=f"{args.delete_untagged_after_days * 86400}s",
                    ),
                ),
            ],
            opts=self.child(protect=args.protect),
        )
        self.path = pulumi.Output.concat(
            args.region, "-docker.pkg.dev/", args.project, "/", repository.repository_id
        )
        self.register_outputs({"path": self.path})
