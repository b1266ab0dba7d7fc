"""The global HTTPS load balancer in front of the platform (seed sections 3.2 and 3.3)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import certificatemanager, compute, storage

from components.base import Component

# pulumi-gcp changed this default between majors; it is written out on every backend and rule.
SCHEME = "EXTERNAL_MANAGED"
# Google's preconfigured WAF rule sets for the OWASP Top 10 (ModSecurity CRS 3.3).
# Not methodenforcement-v33-stable: its one signature allows only GET, HEAD, POST and OPTIONS,
# so enforced it would block the API's own PUT, PATCH and DELETE. API_METHODS replaces it.
OWASP_RULE_SETS = (
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rfi-v33-stable",
    "rce-v33-stable",
    "scannerdetection-v33-stable",
    "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
)
# The methods the API answers (CORS preflight included); any other is denied at the edge.
API_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
MEDIA_SIGNING_KEY_NAME = "media-signing-key"
# Compute Engine names: RFC 1035, at most 63 characters. Pulumi's autoname appends "-" and
# 7 hex characters to the logical name, so a logical name may have 55.
GCE_NAME_MAX = 63
# Certificate Manager names: 1-64 characters, [a-zA-Z][a-zA-Z0-9_-]* (the provider's
# description of each resource's name; google-beta v7.45.0 services/certificatemanager).
CERTIFICATE_MANAGER_NAME_MAX = 64
AUTONAME_SUFFIX = 8
# How the proxy gets its certificates (stacks/config.py CertificateMode, docs/cutover.md).
CERTIFICATE_MODES = ("certificate-manager", "classic", "migrate-issue", "migrate-attach")


@dataclass(frozen=True, kw_only=True)
class ArmorArgs:
    rate_limit_requests: int
    rate_limit_interval_seconds: int
    ban_threshold_requests: int
    ban_interval_seconds: int
    ban_duration_seconds: int
    owasp_mode: str  # "preview" or "enforce"
    owasp_sensitivity: int


@dataclass(frozen=True, kw_only=True)
class EdgeArgs:
    project: str
    region: str
    static_ip_name: str
    site_hosts: Sequence[str]  # apex (and www): the web service, media under media_path
    api_host: str
    media_host: str | None  # when set, media is served on this host instead of media_path
    media_path: str
    # Cloud Run service names as configured, not the services' outputs: a serverless NEG may
    # name a service before it exists, so the edge need not wait for the services.
    api_service_name: str
    web_service_name: str
    web_cdn: bool
    media_bucket_name: pulumi.Input[str]
    # Key Cloud CDN checks media URLs against (base64url, 16 bytes); the API signs with it.
    media_signing_key: pulumi.Input[str]
    # Names Google's CDN fill account, the only reader of the private media bucket.
    project_number: pulumi.Input[str]
    armor: ArmorArgs
    # Strict-Transport-Security max-age on every HTTPS response; 0 sends no header.
    hsts_max_age_seconds: int = 31536000
    certificates: str = "certificate-manager"  # one of CERTIFICATE_MODES
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False

    def __post_init__(self) -> None:
        if self.certificates not in CERTIFICATE_MODES:
            raise ValueError(
                f"certificates: {self.certificates!r} is not one of {CERTIFICATE_MODES}"
            )


class Edge(Component):
    """Static IP → forwarding rules (443, and 80 that only redirects) → HTTPS proxy with one
    Google-managed certificate per host and a TLS 1.2+ MODERN policy → URL map → backends:
    the web service (Cloud CDN), the API and the media bucket (Cloud CDN). Cloud Armor guards
    both services: the API with the OWASP rules, its own methods and a rate limit with a ban,
    the web service with the rate limit and ban. Every backend adds Strict-Transport-Security
    to its responses, and port 80 answers 308 (a POST stays a POST) to the same URL on HTTPS.

    Certificates (`certificates`, docs/cutover.md): by default Certificate Manager, per host a
    DNS authorization and a managed certificate, in one certificate map (an entry per host and
    a PRIMARY entry for clients that send no name) that the proxy references. Google issues
    them from one CNAME per host (`acme_records`), before any A record points here. "classic"
    keeps one compute ManagedSslCertificate per host on the proxy instead; the two "migrate-"
    modes hold both, for moving a classic stack over without a host losing its certificate.

    One certificate per host, all auto-named: adding a host adds a certificate next to the
    others, and a changed one is created before the old one leaves the proxy (or the map), so
    no host loses TLS while a new certificate provisions.
    """

    ip_address: pulumi.Output[str]
    # Per host, in all_hosts order: {"host", "name", "type", "value"} of the CNAME that
    # authorizes its certificate (name and value fully qualified, as Google gives them).
    # Empty with classic certificates.
    acme_records: pulumi.Output[list[dict[str, str]]]
    backend_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("vidgo:platform:Edge", name, opts)
        address = compute.GlobalAddress(
            f"{name}-ip",
            project=args.project,
            name=args.static_ip_name,
            address_type="EXTERNAL",
            ip_version="IPV4",
            labels=dict(args.labels),
            # The address is what GoDaddy points at: losing it means new DNS records.
            opts=self.child(protect=args.protect),
        )
        api_armor = self._api_armor(name, args)
        web_armor = self._web_armor(name, args)
        api = self._serverless_backend(name, "api", args, args.api_service_name, armor=api_armor)
        web = self._serverless_backend(
            name, "web", args, args.web_service_name, armor=web_armor, cdn=args.web_cdn
        )
        media = self._media_backend(name, args)

        url_map = compute.URLMap(
            f"{name}-url-map",
            project=args.project,
            description="web by default; api host to the API; media from the bucket",
            default_service=web.id,
            host_rules=route_hosts(args),
            path_matchers=[
                compute.URLMapPathMatcherArgs(
                    name="api",
                    default_service=api.id,
                    # "/api/*" alone does not match "/api" itself.
                    path_rules=[
                        compute.URLMapPathMatcherPathRuleArgs(
                            paths=["/api", "/api/*"], service=api.id
                        )
                    ],
                ),
                compute.URLMapPathMatcherArgs(
                    name="site",
                    default_service=web.id,
                    path_rules=None
                    if args.media_host
                    else [
                        compute.URLMapPathMatcherPathRuleArgs(
                            paths=[args.media_path, f"{args.media_path}/*"], service=media.id
                        )
                    ],
                ),
                *(
                    [compute.URLMapPathMatcherArgs(name="media", default_service=media.id)]
                    if args.media_host
                    else []
                ),
            ],
            opts=self.child(),
        )
        classic, certificate_map, acme_records = self._certificates(name, args)
        tls_policy = compute.SSLPolicy(
            f"{name}-tls-policy",
            project=args.project,
            profile="MODERN",
            min_tls_version="TLS_1_2",
            opts=self.child(),
        )
        https_proxy = compute.TargetHttpsProxy(
            f"{name}-https-proxy",
            project=args.project,
            url_map=url_map.id,
            # With both (migrate-attach), Google serves the map's and ignores these.
            ssl_certificates=[cert.id for cert in classic] or None,
            certificate_map=certificate_map,
            ssl_policy=tls_policy.id,
            opts=self.child(),
        )
        self._listen(f"{name}-https-rule", args, address, "443", https_proxy)
        self._http_redirect(name, args, address)

        self.ip_address = address.address
        self.acme_records = acme_records
        # The load balancer's metrics name the backend service that served each request.
        self.backend_names = {"api": api.name, "web": web.name}
        self.register_outputs(
            {
                "ip_address": self.ip_address,
                "acme_records": acme_records,
                "backend_names": self.backend_names,
            }
        )

    def _certificates(
        self, name: str, args: EdgeArgs
    ) -> tuple[
        list[compute.ManagedSslCertificate],
        pulumi.Output[str] | None,
        pulumi.Output[list[dict[str, str]]],
    ]:
        """The classic certificates the proxy lists, the certificate map it references (the
        `//certificatemanager.googleapis.com/...` form), and the CNAMEs to publish."""
        mode, hosts = args.certificates, all_hosts(args)
        classic = []
        if mode != "certificate-manager":
            classic = [
                compute.ManagedSslCertificate(
                    certificate_name(name, host),
                    project=args.project,
                    managed=compute.ManagedSslCertificateManagedArgs(domains=[host]),
                    opts=self.child(),
                )
                for host in hosts
            ]
        if mode == "classic":
            return classic, None, pulumi.Output.from_input([])

        authorizations = {
            host: certificatemanager.DnsAuthorization(
                certificate_manager_name(name, "dns-auth", host),
                project=args.project,
                domain=host,
                # _acme-challenge.HOST, one fixed CNAME per host (a global authorization's
                # default, written out): renewals keep using it, so it stays forever.
                type="FIXED_RECORD",
                description=f"authorizes the certificate for {host}",
                labels=dict(args.labels),
                # A replaced authorization has a new CNAME value: the record at GoDaddy would
                # no longer authorize renewals. Like the static IP, it is protected.
                opts=self.child(protect=args.protect),
            )
            for host in hosts
        }
        certificates = {
            host: certificatemanager.Certificate(
                certificate_manager_name(name, "dns-cert", host),
                project=args.project,
                description=f"{host}, issued from its DNS authorization",
                managed=certificatemanager.CertificateManagedArgs(
                    domains=[host], dns_authorizations=[authorization.id]
                ),
                labels=dict(args.labels),
                opts=self.child(),
            )
            for host, authorization in authorizations.items()
        }
        cert_map = certificatemanager.CertificateMap(
            f"{name}-cert-map",
            project=args.project,
            description="one entry per host, and the apex's certificate for clients without SNI",
            labels=dict(args.labels),
            opts=self.child(),
        )
        entries = [
            certificatemanager.CertificateMapEntry(
                certificate_manager_name(name, "map-entry", host),
                project=args.project,
                map=cert_map.name,
                hostname=host,
                certificates=[certificate.id],
                labels=dict(args.labels),
                opts=self.child(),
            )
            for host, certificate in certificates.items()
        ]
        # A client that sends no server name (or an unknown one) gets the apex's certificate.
        entries.append(
            certificatemanager.CertificateMapEntry(
                f"{name}-map-entry-primary",
                project=args.project,
                map=cert_map.name,
                matcher="PRIMARY",
                certificates=[certificates[hosts[0]].id],
                labels=dict(args.labels),
                opts=self.child(),
            )
        )
        acme_records = pulumi.Output.all(
            *(authorizations[host].dns_resource_records for host in hosts)
        ).apply(lambda found: [acme_record(host, r) for host, r in zip(hosts, found, strict=True)])
        if mode == "migrate-issue":
            return classic, None, acme_records
        # The map is attached once its entries exist, so no host is missing from it.
        attached = pulumi.Output.all(cert_map.name, *(entry.id for entry in entries)).apply(
            lambda values: certificate_map_uri(args.project, values[0])
        )
        return classic, attached, acme_records

    def _api_armor(self, name: str, args: EdgeArgs) -> compute.SecurityPolicy:
        """The OWASP rule sets and the method rule (enforced, or preview), then the rate limit.

        Cloud Armor stops at the first rule that matches, and the rate limit matches every
        request (allowing those under the limit), so the WAF rules must come before it. JSON
        bodies are parsed, so the WAF inspects their values instead of matching on the JSON
        syntax (Google's advice for JSON APIs, against false positives).
        """
        preview = args.armor.owasp_mode == "preview"
        owasp_rules = [
            compute.SecurityPolicyRuleArgs(
                priority=1000 + index,
                action="deny(403)",
                preview=preview,
                description=f"OWASP: {rule_set}",
                match=compute.SecurityPolicyRuleMatchArgs(
                    expr=compute.SecurityPolicyRuleMatchExprArgs(
                        expression=f"evaluatePreconfiguredWaf('{rule_set}', "
                        f"{{'sensitivity': {args.armor.owasp_sensitivity}}})"
                    )
                ),
            )
            for index, rule_set in enumerate(OWASP_RULE_SETS)
        ]
        methods = "|".join(API_METHODS)
        method_rule = compute.SecurityPolicyRuleArgs(
            priority=900,
            action="deny(403)",
            preview=preview,
            description="methods the API does not answer",
            match=compute.SecurityPolicyRuleMatchArgs(
                expr=compute.SecurityPolicyRuleMatchExprArgs(
                    expression=f"!request.method.matches('^({methods})$')"
                )
            ),
        )
        return compute.SecurityPolicy(
            f"{name}-api-armor",
            project=args.project,
            type="CLOUD_ARMOR",
            description="VidGo API: OWASP rules, methods, rate limit and ban",
            advanced_options_config=compute.SecurityPolicyAdvancedOptionsConfigArgs(
                json_parsing="STANDARD"
            ),
            rules=[method_rule, *owasp_rules, rate_limit(args.armor), ALLOW_THE_REST],
            opts=self.child(),
        )

    def _web_armor(self, name: str, args: EdgeArgs) -> compute.SecurityPolicy:
        """The web app is static: the rate limit and ban keep a flood of uncacheable URLs
        from reaching Cloud Run. (Behind Cloud CDN, only cache misses are evaluated.)"""
        return compute.SecurityPolicy(
            f"{name}-web-armor",
            project=args.project,
            type="CLOUD_ARMOR",
            description="VidGo web: rate limit and ban",
            rules=[rate_limit(args.armor), ALLOW_THE_REST],
            opts=self.child(),
        )

    def _serverless_backend(
        self,
        name: str,
        kind: str,
        args: EdgeArgs,
        service_name: str,
        *,
        armor: compute.SecurityPolicy | None = None,
        cdn: bool = False,
    ) -> compute.BackendService:
        # No explicit NEG name: a changed NEG is created beside the old one, then swapped.
        neg = compute.RegionNetworkEndpointGroup(
            f"{name}-{kind}-neg",
            project=args.project,
            region=args.region,
            network_endpoint_type="SERVERLESS",
            cloud_run=compute.RegionNetworkEndpointGroupCloudRunArgs(service=service_name),
            opts=self.child(),
        )
        # Serverless NEGs take no health check, port name or timeout (the timeout is Cloud Run's).
        return compute.BackendService(
            f"{name}-{kind}-backend",
            project=args.project,
            protocol="HTTPS",
            load_balancing_scheme=SCHEME,
            backends=[compute.BackendServiceBackendArgs(group=neg.id)],
            log_config=compute.BackendServiceLogConfigArgs(enable=True, sample_rate=1.0),
            security_policy=armor.id if armor else None,
            custom_response_headers=hsts_headers(args),
            enable_cdn=cdn,
            cdn_policy=compute.BackendServiceCdnPolicyArgs(
                # Honour the app's Cache-Control (the seed's nginx marks assets immutable),
                # cache static content types that have none.
                cache_mode="CACHE_ALL_STATIC",
                # Google's default cache key, written out: the provider requires a cache key
                # policy or a signed-URL max age in every cdn_policy (AtLeastOneOf), and the
                # bridge does not count defaults.
                cache_key_policy=compute.BackendServiceCdnPolicyCacheKeyPolicyArgs(
                    include_host=True,
                    include_protocol=True,
                    include_query_string=True,
                ),
                default_ttl=3600,
                client_ttl=3600,
                max_ttl=86400,
                serve_while_stale=86400,
            )
            if cdn
            else None,
            opts=self.child(),
        )

    def _media_backend(self, name: str, args: EdgeArgs) -> compute.BackendBucket:
        """The media bucket behind Cloud CDN with signed URLs: the bucket stays private (public
        access prevention enforced) and only Google's CDN fill account may read it."""
        backend = compute.BackendBucket(
            f"{name}-media-backend",
            project=args.project,
            bucket_name=args.media_bucket_name,
            enable_cdn=True,
            custom_response_headers=hsts_headers(args),
            cdn_policy=compute.BackendBucketCdnPolicyArgs(
                cache_mode="CACHE_ALL_STATIC",
                default_ttl=3600,
                max_ttl=86400,
                signed_url_cache_max_age_sec=3600,
            ),
            opts=self.child(),
        )
        key = compute.BackendBucketSignedUrlKey(
            f"{name}-media-signing-key",
            project=args.project,
            name=MEDIA_SIGNING_KEY_NAME,
            backend_bucket=backend.name,
            key_value=pulumi.Output.secret(args.media_signing_key),
            opts=self.child(),
        )
        # Google creates the CDN fill account when the first signing key is added.
        storage.BucketIAMMember(
            f"{name}-cdn-reads-media",
            bucket=args.media_bucket_name,
            role="roles/storage.objectViewer",
            member=pulumi.Output.concat(
                "serviceAccount:service-",
                args.project_number,
                "@cloud-cdn-fill.iam.gserviceaccount.com",
            ),
            opts=self.child(depends_on=[key]),
        )
        return backend

    def _http_redirect(self, name: str, args: EdgeArgs, address: compute.GlobalAddress) -> None:
        """Port 80 answers every request with a redirect to HTTPS and serves nothing. 308, not
        301: a client may turn a redirected POST into a GET after a 301, never after a 308."""
        redirect_map = compute.URLMap(
            f"{name}-http-redirect",
            project=args.project,
            description="redirect every HTTP request to HTTPS",
            default_url_redirect=compute.URLMapDefaultUrlRedirectArgs(
                https_redirect=True,
                redirect_response_code="PERMANENT_REDIRECT",
                strip_query=False,
            ),
            opts=self.child(),
        )
        http_proxy = compute.TargetHttpProxy(
            f"{name}-http-proxy",
            project=args.project,
            url_map=redirect_map.id,
            opts=self.child(),
        )
        self._listen(f"{name}-http-rule", args, address, "80", http_proxy)

    def _listen(
        self,
        rule_name: str,
        args: EdgeArgs,
        address: compute.GlobalAddress,
        port: str,
        proxy: compute.TargetHttpsProxy | compute.TargetHttpProxy,
    ) -> None:
        """A global forwarding rule: the static IP and `port`, to `proxy`."""
        compute.GlobalForwardingRule(
            rule_name,
            project=args.project,
            target=proxy.id,
            ip_address=address.id,
            ip_protocol="TCP",
            port_range=port,
            load_balancing_scheme=SCHEME,
            labels=dict(args.labels),
            opts=self.child(),
        )


def certificate_name(component: str, host: str) -> str:
    """The logical name of `host`'s certificate: one per host, so a changed host is a new
    certificate created before the old one leaves the proxy (no TLS outage). Its autonamed name
    must fit Compute Engine's 63 characters."""
    return fitted(f"{component}-cert-{host.lower().replace('.', '-')}", host, GCE_NAME_MAX)


def certificate_manager_name(component: str, kind: str, host: str) -> str:
    """The logical name of `host`'s Certificate Manager resource of `kind`, whose autonamed name
    must fit 64 characters of [a-zA-Z][a-zA-Z0-9_-]*."""
    readable = f"{component}-{kind}-{host.lower().replace('.', '-')}"
    return fitted(readable, host, CERTIFICATE_MANAGER_NAME_MAX)


def fitted(readable: str, host: str, name_max: int) -> str:
    """`readable` when Pulumi's autonamed name (logical name + "-" + 7 hex) fits `name_max`;
    otherwise shortened, keeping a hash of the whole host, so two hosts never share a name.
    Hosts that fit keep their readable name unchanged."""
    room = name_max - AUTONAME_SUFFIX
    if len(readable) <= room:
        return readable
    digest = hashlib.sha256(host.lower().encode()).hexdigest()[:8]
    return f"{readable[: room - len(digest) - 1].rstrip('-')}-{digest}"


def certificate_map_uri(project: str, map_name: str) -> str:
    """The form a target HTTPS proxy's `certificate_map` accepts (google-beta v7.45.0,
    compute/resource_compute_target_https_proxy.go)."""
    return (
        f"//certificatemanager.googleapis.com/projects/{project}"
        f"/locations/global/certificateMaps/{map_name}"
    )


def acme_record(host: str, records: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    """The one CNAME a FIXED_RECORD authorization asks for, as the stack outputs carry it."""
    if not records:
        raise ValueError(f"the DNS authorization for {host} returned no DNS record")
    record = records[0]
    return {
        "host": host,
        "type": record["type"],
        "name": record["name"],
        "value": record["data"],
    }


EVERYONE = compute.SecurityPolicyRuleMatchArgs(
    versioned_expr="SRC_IPS_V1",
    config=compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
)
# Cloud Armor requires a rule at the lowest priority; it decides what no other rule matched.
ALLOW_THE_REST = compute.SecurityPolicyRuleArgs(
    priority=2147483647, action="allow", description="default", match=EVERYONE
)


def rate_limit(armor: ArmorArgs) -> compute.SecurityPolicyRuleArgs:
    """Per client IP: over the limit, 429; far over it for long, banned for a while.

    A rate-based ban rule is a throttle plus the ban: requests under the limit are allowed
    (and evaluation stops), those over it are denied, and a client whose denied requests pass
    the ban threshold is denied everything for the ban duration.
    """
    return compute.SecurityPolicyRuleArgs(
        priority=2000,
        action="rate_based_ban",
        description="per-client rate limit, ban on sustained abuse",
        match=EVERYONE,
        rate_limit_options=compute.SecurityPolicyRuleRateLimitOptionsArgs(
            enforce_on_key="IP",
            conform_action="allow",
            exceed_action="deny(429)",
            rate_limit_threshold=compute.SecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
                count=armor.rate_limit_requests, interval_sec=armor.rate_limit_interval_seconds
            ),
            ban_threshold=compute.SecurityPolicyRuleRateLimitOptionsBanThresholdArgs(
                count=armor.ban_threshold_requests, interval_sec=armor.ban_interval_seconds
            ),
            ban_duration_sec=armor.ban_duration_seconds,
        ),
    )


def hsts_headers(args: EdgeArgs) -> list[str] | None:
    if not args.hsts_max_age_seconds:
        return None
    return [f"Strict-Transport-Security: max-age={args.hsts_max_age_seconds}"]


def all_hosts(args: EdgeArgs) -> list[str]:
    return [*args.site_hosts, args.api_host, *([args.media_host] if args.media_host else [])]


def route_hosts(args: EdgeArgs) -> list[compute.URLMapHostRuleArgs]:
    rules = [
        compute.URLMapHostRuleArgs(hosts=[args.api_host], path_matcher="api"),
        compute.URLMapHostRuleArgs(hosts=list(args.site_hosts), path_matcher="site"),
    ]
    if args.media_host:
        rules.append(compute.URLMapHostRuleArgs(hosts=[args.media_host], path_matcher="media"))
    return rules
