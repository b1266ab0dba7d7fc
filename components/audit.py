"""Data Access audit logs for the services that hold data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import projects

from components.base import Component

DATA_SERVICES = (
    "cloudsql.googleapis.com",
    "storage.googleapis.com",
    "secretmanager.googleapis.com",
)


@dataclass(frozen=True, kw_only=True)
class AuditLogsArgs:
    project: str
    services: Sequence[str] = DATA_SERVICES


class AuditLogs(Component):
    """Admin Activity logs are always on; Data Access logs are off by default, so without this
    nobody could tell who read a secret or downloaded an object."""

    def __init__(self, name: str, args: AuditLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:AuditLogs", name, opts)
        for service in args.services:
            projects.IAMAuditConfig(
                f"{name}-{service.split('.')[0]}",
                project=args.project,
                service=service,
                audit_log_configs=[
                    projects.IAMAuditConfigAuditLogConfigArgs(log_type=log_type)
                    for log_type in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
                ],
                opts=self.child(),
            )
        self.register_outputs({"services": list(args.services)})
