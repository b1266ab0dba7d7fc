"""The media bucket: private, recoverable, reachable by browsers through the CDN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_gcp import storage

from components.base import Component
from components.secrets import SecretRef, stored_secret


@dataclass(frozen=True)
class LifecycleRule:
    action: str
    age_days: int
    storage_class: str | None = None
    matches_prefix: Sequence[str] = ()


@dataclass(frozen=True, kw_only=True)
class MediaArgs:
    project: str
    name: str
    location: str
    storage_class: str
    cors_origins: Sequence[str]
    cors_methods: Sequence[str]
    cors_response_headers: Sequence[str]
    cors_max_age_seconds: int
    main_page: str
    not_found_page: str
    soft_delete_days: int
    versioning: bool
    lifecycle: Sequence[LifecycleRule]
    labels: Mapping[str, str]
    protect: bool


class Media(Component):
    """Uniform bucket-level access and public access prevention *enforced*: no object is ever
    public. Browsers get media through the load balancer's backend bucket with Cloud CDN, which
    reads the bucket as Google's CDN fill account with signed URLs (components/edge.py), so the
    seed's public-bucket CDN works without an allUsers grant. Soft delete keeps deleted or
    overwritten objects recoverable for `soft_delete_days`.

    The URL signing key is generated here, with the bucket it unlocks: the edge installs it on
    the backend bucket, and the API reads it from Secret Manager (`MEDIA_URL_SIGNING_KEY`).
    """

    bucket_name: pulumi.Output[str]
    signing_key: pulumi.Output[str]
    signing_key_secret: SecretRef

    def __init__(self, name: str, args: MediaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Media", name, opts)
        bucket = storage.Bucket(
            f"{name}-bucket",
            project=args.project,
            name=args.name,
            location=args.location,
            storage_class=args.storage_class,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=not args.protect,
            cors=[
                storage.BucketCorArgs(
                    origins=list(args.cors_origins),
                    methods=list(args.cors_methods),
                    response_headers=list(args.cors_response_headers),
                    max_age_seconds=args.cors_max_age_seconds,
                )
            ],
            website=storage.BucketWebsiteArgs(
                main_page_suffix=args.main_page, not_found_page=args.not_found_page
            ),
            soft_delete_policy=storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=args.soft_delete_days * 86400
            ),
            versioning=storage.BucketVersioningArgs(enabled=args.versioning),
            lifecycle_rules=[_lifecycle_rule(rule) for rule in args.lifecycle],
            labels=dict(args.labels),
            opts=self.child(protect=args.protect),
        )
        self.bucket_name = bucket.name
        key = random.RandomBytes(f"{name}-signing-key", length=16, opts=self.child())
        # Cloud CDN wants the 128-bit key in base64url (RFC 4648 section 5).
        self.signing_key = pulumi.Output.secret(
            key.base64.apply(lambda b64: b64.replace("+", "-").replace("/", "_"))
        )
        self.signing_key_secret = stored_secret(
            f"{name}-signing-key-secret",
            project=args.project,
            secret_id="MEDIA_URL_SIGNING_KEY",
            value=self.signing_key,
            labels=args.labels,
            opts=self.child(protect=args.protect),
        )
        self.register_outputs({"bucket_name": self.bucket_name})


def _lifecycle_rule(rule: LifecycleRule) -> storage.BucketLifecycleRuleArgs:
    return storage.BucketLifecycleRuleArgs(
        action=storage.BucketLifecycleRuleActionArgs(
            type=rule.action, storage_class=rule.storage_class
        ),
        condition=storage.BucketLifecycleRuleConditionArgs(
            age=rule.age_days, matches_prefixes=list(rule.matches_prefix) or None
        ),
    )
