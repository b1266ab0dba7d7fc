"""Secret Manager secrets: those the platform generates, and references to the application's.

Every version the program writes takes its value through the provider's write-only input
(`secret_data_wo`), so reading a version back (every refresh, every preview) is metadata only:
no identity that previews needs `secretmanager.versions.access`. What this does not do: the
Pulumi bridge still records write-only inputs in the stack's state, encrypted
(pulumi/pulumi-terraform-bridge#3201), so whoever decrypts a stack's state can read them; that
is why only the identities that deploy a stack, and its preview on main, can decrypt prod's.

A write-only value is not compared with the deployed one, so its version counter
(`secret_data_wo_version`) must change exactly when the value does: it is a digest of the
value (write_only_version), kept secret, so nothing derived from the value is in state
unencrypted. A new generated value therefore rolls a new version, and the services that read it
a new revision.

The application's own keys (third-party API keys) are not the program's at all: the bootstrap
declares their secrets and the operator adds their versions (`gcloud secrets versions add`), so
they exist, with a value, before the program's first `pulumi up`, and no value of theirs is in
the program's config or state. The program only names them (operator_secret) and grants the
API's identity access to each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import secretmanager


@dataclass(frozen=True)
class SecretRef:
    """What a Cloud Run service needs to read a secret: its names, and the version to read.

    `version` is the number of the version Pulumi wrote, so a new value rolls out a new
    revision; it is "latest" for a secret whose versions are added outside Pulumi.
    """

    # The secret's id in its project (`DATABASE_URL`): what a Cloud Run env var names.
    secret_id: pulumi.Input[str]
    # `projects/PROJECT/secrets/ID`: what an IAM binding on the secret names.
    name: pulumi.Input[str]
    version: pulumi.Input[str]


def operator_secret(project: str, secret_id: str) -> SecretRef:
    """A secret the bootstrap declares and the operator fills (`gcloud secrets versions add`).

    Named, not declared: the program neither creates it nor reads it back, so a preview needs
    no access to it, and a revision reads whatever version the operator added last.
    """
    return SecretRef(secret_id, f"projects/{project}/secrets/{secret_id}", "latest")


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
        return SecretRef(secret.secret_id, secret.id, "latest")
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
    return SecretRef(secret.secret_id, secret.id, version.version)


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
