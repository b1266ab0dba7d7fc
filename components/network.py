"""The VPC, the subnet Cloud Run egresses into (Direct VPC egress), and private services access."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute, dns, servicenetworking

from components.base import Component


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    project: str
    region: str
    name: str
    subnet_range: str
    flow_log_sampling: float
    private_services_range: str
    # Protects what Cloud SQL and Redis stand on: the VPC, the range and the peering.
    protect: bool = False


class Network(Component):
    """A custom-mode VPC with one regional subnet, and a peering to Google's service producers so
    that Cloud SQL and Memorystore get private addresses only.

    Cloud Run reaches them by Direct VPC egress: its instances take addresses in the subnet
    (no connector VMs to pay for or to cap throughput). The subnet must hold about four addresses
    per instance during a revision roll-out (stacks/capacity.py checks it), and after the last
    instance is gone Cloud Run keeps its addresses for an hour or two, so a subnet cannot be
    deleted right after its services (docs/capacity.md, "Direct VPC egress").

    The seed asks for an auto-mode VPC. Auto mode makes a subnet in every region and cannot
    declare flow logs on them, which the CIS GCP benchmark (3.8) requires. The platform lives in
    one region, so it gets one subnet, on the range auto mode would have used there, with flow
    logs on.

    Ingress: the VPC ends with an explicit deny-all rule at the lowest priority (65535), logged,
    so every connection that no other rule allows shows in Firewall Rules Logging (Google's
    implied deny is not logged). DNS: a Cloud DNS server policy logs every query made from the VPC
    (CIS 2.12).

    In a protected stack the VPC, the private services range and the peering are protected:
    deleting or replacing any of them takes Cloud SQL's and Redis's private addresses away.
    """

    network_id: pulumi.Output[str]
    # Where Cloud Run services and jobs take their addresses (Direct VPC egress).
    subnetwork_id: pulumi.Output[str]
    # Cloud SQL and Redis must wait for the peering: nothing else orders them after it.
    private_services: servicenetworking.Connection

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Network", name, opts)
        child = self.child()
        underneath_data = self.child(protect=args.protect)

        vpc = compute.Network(
            f"{name}-vpc",
            project=args.project,
            name=args.name,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=underneath_data,
        )
        compute.Firewall(
            f"{name}-deny-all-ingress",
            project=args.project,
            name=f"{args.name}-deny-all-ingress",
            network=vpc.id,
            description="Explicit lowest-priority deny of all ingress, logged",
            direction="INGRESS",
            priority=65535,
            source_ranges=["0.0.0.0/0"],
            denies=[compute.FirewallDenyArgs(protocol="all")],
            log_config=compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )
        dns.Policy(
            f"{name}-dns-policy",
            project=args.project,
            name=f"{args.name}-dns-logging",
            description="Log every DNS query from the VPC (CIS 2.12)",
            enable_logging=True,
            networks=[dns.PolicyNetworkArgs(network_url=vpc.id)],
            opts=child,
        )
        subnet = compute.Subnetwork(
            f"{name}-subnet",
            project=args.project,
            name=f"{args.name}-{args.region}",
            region=args.region,
            network=vpc.id,
            ip_cidr_range=args.subnet_range,
            private_ip_google_access=True,
            log_config=compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_SEC",
                flow_sampling=args.flow_log_sampling,
                metadata="INCLUDE_ALL_METADATA",
            ),
            opts=child,
        )

        services_range = ipaddress.IPv4Network(args.private_services_range)
        peering_range = compute.GlobalAddress(
            f"{name}-private-services-range",
            project=args.project,
            name=f"{args.name}-private-services",
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(services_range.network_address),
            prefix_length=services_range.prefixlen,
            network=vpc.id,
            opts=underneath_data,
        )
        self.private_services = servicenetworking.Connection(
            f"{name}-private-services",
            network=vpc.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[peering_range.name],
            # Deleting the peering fails while Cloud SQL still holds an address in it
            # ("producer services still using this connection"); abandon it instead: it goes
            # with the VPC.
            deletion_policy="ABANDON",
            opts=underneath_data,
        )

        self.network_id = vpc.id
        self.subnetwork_id = subnet.id
        self.register_outputs(
            {
                "network_id": self.network_id,
                "subnetwork_id": self.subnetwork_id,
            }
        )
