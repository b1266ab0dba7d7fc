"""Secret Manager secrets: the application's own, and those the platform generates.

Every version the program writes takes its value through the provider's write-only input
(`secret_data_wo`), so reading a version back (every refresh, every preview) is metadata only:
no identity that previews needs `secretmanager.versions.access`. What this does not do: the
Pulumi bridge still records write-only inputs in the stack's state, encrypted
(pulumi/pulumi-terraform-bridge#3201), so whoever decrypts a stack's state can read them; that
is why only the identities that deploy a stack, and its preview on main, can decrypt prod's.

A write-only value is not compared with the deployed one, so its version counter
(`secret_data_wo_version`) must change exactly when the value does: it is a digest of the
value (write_only_version), kept secret, so nothing derived from the value is in state
unencrypted. A new `pulumi config set --secret` value therefore rolls a new version, and the
services that read it a new revision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import secretmanager

from components.base import Component


@dataclass(frozen=True)
class SecretRef:
    """What a Cloud Run service needs to read a secret: its resource, and the version to read.

    `version` is the number of the version Pulumi wrote, so a new value rolls out a new
    revision; it is "latest" for a secret whose versions are added outside Pulumi.
    """

    secret: secretmanager.Secret
    version: pulumi.Input[str]


def stored_secret(
    name: str,
    *,
    project: str,
    secret_id: str,
    value: pulumi.Input[str] | None,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> SecretRef:
    """A secret, and a version holding `value` when there is one (`value` stays secret in state).

    `opts.protect` also sets the secret's own deletion guard.
    """
    protect = bool(opts.protect)
    secret = secretmanager.Secret(
        name,
        project=project,
        secret_id=secret_id,
        replication=secretmanager.SecretReplicationArgs(
            auto=secretmanager.SecretReplicationAutoArgs()
        ),
        labels=dict(labels),
        deletion_protection=protect,
        opts=opts,
    )
    if value is None:
        return SecretRef(secret, "latest")
    # Versions are immutable: a new value replaces the version, so it must not be protected
    # (the secret is). The old version is disabled, not destroyed, so a rollback is possible.
    secret_value = pulumi.Output.secret(value)
    version = secretmanager.SecretVersion(
        f"{name}-version",
        secret=secret.id,
        secret_data_wo=secret_value,
        secret_data_wo_version=write_only_version(secret_id, secret_value),
        deletion_policy="DISABLE",
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                parent=secret,
                protect=False,
                # The counter is secret as an input already; said again for its output.
                additional_secret_outputs=["secretDataWoVersion"],
            ),
        ),
    )
    return SecretRef(secret, version.version)


def write_only_version(scope: str, value: pulumi.Input[str]) -> pulumi.Output[int]:
    """A write-only input's version counter: it changes exactly when `value` does.

    48 bits of SHA-256 over `scope` and the value (an integer the provider accepts, collisions
    out of reach), marked secret, so the state holds it encrypted like the value itself. A plain
    counter bumped by hand would be forgotten; a plain digest would let anyone with the state
    file check a guess of the value.
    """

    def digest(plain: str) -> int:
        hashed = hashlib.sha256(f"{scope}\0{plain}".encode()).digest()
        return int.from_bytes(hashed[:6], "big")

    return pulumi.Output.secret(pulumi.Output.from_input(value).apply(digest))


@dataclass(frozen=True, kw_only=True)
class AppSecretsArgs:
    project: str
    names: list[str]
    # Values from the stack's encrypted config; a name missing here gets its versions elsewhere.
    values: Mapping[str, pulumi.Input[str]]
    labels: Mapping[str, str]
    protect: bool


class AppSecrets(Component):
    """The application's secrets (API keys and the like), one Secret Manager secret each.

    A value set with `pulumi config set --secret NAME` becomes a version Pulumi manages; a secret
    with no value in the stack is declared empty, for the operator to add versions with gcloud.
    """

    refs: dict[str, SecretRef]

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:AppSecrets", name, opts)
        self.refs = {
            secret_name: stored_secret(
                f"{name}-{secret_name.lower().replace('_', '-')}",
                project=args.project,
                secret_id=secret_name,
                value=args.values.get(secret_name),
                labels=args.labels,
                opts=self.child(protect=args.protect),
            )
            for secret_name in args.names
        }
        missing = [n for n in args.names if n not in args.values]
        if missing:
            # A revision that reads a secret with no version does not start: on a fresh project
            # the first `up` creates these secrets, then waits for their versions.
            pulumi.log.warn(
                "no value in the stack config for "
                + ", ".join(missing)
                + ": the API's revision starts once each has a version (gcloud secrets versions "
                "add NAME --data-file=-); on a fresh project run the first `pulumi up` with "
                "--continue-on-error, add them, `up` again (docs/delivery.md, section 5)",
                resource=self,
            )
        self.register_outputs({"secret_ids": {n: r.secret.secret_id for n, r in self.refs.items()}})
