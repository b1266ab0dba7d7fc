"""What every platform component shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi


class Component(pulumi.ComponentResource):
    """A component whose children wait for whatever the component was told to wait for.

    Pulumi does not hand a component's `depends_on` down to its children, so without this a
    Cloud SQL instance inside `Database(..., depends_on=[apis])` could be created before the
    SQL Admin API is enabled (a first-run "API has not been used" failure).
    """

    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None):
        super().__init__(type_, name, None, opts)
        waits_for = opts.depends_on if opts else None
        if isinstance(waits_for, pulumi.Output) or hasattr(waits_for, "__await__"):
            # Children take a list of what to wait for; a pending list cannot be spread into it.
            raise TypeError(f"{name}: depends_on must be a resource or a list of them")
        self._waits_for: list[pulumi.Input[pulumi.Resource]] = (
            list(waits_for) if isinstance(waits_for, Sequence) else [waits_for] if waits_for else []
        )

    def child(
        self,
        *,
        protect: bool = False,
        depends_on: Sequence[pulumi.Resource] = (),
        parent: pulumi.Resource | None = None,
        **options,
    ) -> pulumi.ResourceOptions:
        """Options for a child: parented here (or under `parent`), after the component's deps."""
        return pulumi.ResourceOptions(
            parent=parent or self,
            protect=protect,
            depends_on=[*self._waits_for, *depends_on],
            **options,
        )


@dataclass(frozen=True, kw_only=True)
class PrivateServiceArgs:
    """What a data service on the VPC's private services range (Cloud SQL, Redis) is given."""

    project: str
    region: str
    network_id: pulumi.Input[str]
    # The private services peering: the instance cannot get its address before it exists.
    private_services: pulumi.Resource
    labels: Mapping[str, str]
    protect: bool
