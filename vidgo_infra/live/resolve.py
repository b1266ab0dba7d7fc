"""Name → addresses (A, AAAA) and name → CNAME target, as the system's resolver answers or as
one DNS server does (dnspython).

`--server` asks that server directly, bypassing this machine's resolver and its caches: what
GoDaddy's name servers (or a public resolver) say now. dnspython follows CNAME chains, retries
over TCP when an answer is truncated, and gives NXDOMAIN and SERVFAIL apart. Without --server,
addresses come from getaddrinfo (what browsers see) and CNAMEs from the name servers the system
is configured with (/etc/resolv.conf, read by dnspython): getaddrinfo cannot ask for a CNAME.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.rdatatype
import dns.resolver

from vidgo_infra.project import UsageError

DNS_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Resolution:
    """What a resolver found for one name; `error` says why there is no IPv4 answer, and
    `ipv6_error` why the AAAA question went unanswered (each is judged on its own)."""

    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    error: str | None = None
    ipv6_error: str | None = None


@dataclass(frozen=True)
class CnameFound:
    """The CNAME on a name: `target` (without the final dot), or `error` saying why there is
    none (no such name, a name with other records but no CNAME, a server failure)."""

    target: str | None = None
    error: str | None = None


class ResolverUnreachable(Exception):
    """The DNS server never answered: the checks that need it are not made (exit status 2)."""


Resolver = Callable[[str], Resolution]  # full name → what it resolves to
CnameLookup = Callable[[str], CnameFound]  # full name → its CNAME


def system_resolver(name: str) -> Resolution:
    """Ask the system's resolver (what this machine's browsers and tools see)."""
    ipv4, error = _system_lookup(name, socket.AF_INET)
    ipv6, _ = _system_lookup(name, socket.AF_INET6)
    return Resolution(ipv4, ipv6, error)


class SystemCnames:
    """CNAMEs from the name servers this machine is configured with (dnspython reads
    /etc/resolv.conf), with one timeout for them as for --server."""

    def __init__(self, timeout: float = DNS_TIMEOUT_S):
        self.timeout = timeout
        self._servers: ServerResolver | None = None

    def __call__(self, name: str) -> CnameFound:
        if self._servers is None:
            try:
                configured = dns.resolver.Resolver(configure=True)
            except (OSError, dns.exception.DNSException) as exc:
                raise ResolverUnreachable(
                    f"no system DNS configuration to ask for CNAMEs ({exc}); "
                    "give --server IP[:PORT]"
                ) from None
            # resolv.conf names addresses; dnspython keeps them as text.
            servers = [
                s if isinstance(s, str) else s.answer_nameserver() for s in configured.nameservers
            ]
            self._servers = ServerResolver(
                servers, configured.port, self.timeout, "the system's DNS servers"
            )
        return self._servers.cname(name)


def _system_lookup(name: str, family: int) -> tuple[tuple[str, ...], str | None]:
    try:
        infos = socket.getaddrinfo(name, 443, family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return (), getattr(exc, "strerror", None) or str(exc)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos)), None


class ServerResolver:
    """Ask one DNS server (or a list, as configured) for A, AAAA and CNAME; one timeout for the
    server, then it is not asked again."""

    def __init__(
        self,
        server: str | list[str],
        port: int = 53,
        timeout: float = DNS_TIMEOUT_S,
        label: str | None = None,
    ):
        servers = [server] if isinstance(server, str) else list(server)
        where = servers[0] if port == 53 else _with_port(servers[0], port)
        self.label = label or f"DNS server {where}"
        self.timeout = timeout
        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = servers
        self._resolver.port = port
        self._resolver.lifetime = timeout
        self._resolver.cache = None
        self._unreachable: str | None = None

    def __call__(self, name: str) -> Resolution:
        ipv4, error = self._answer(name, dns.rdatatype.A)
        ipv6, ipv6_error = self._answer(name, dns.rdatatype.AAAA)
        # A name that does not exist fails both questions the same way: say it once.
        return Resolution(ipv4, ipv6, error, None if ipv6_error == error else ipv6_error)

    def cname(self, name: str) -> CnameFound:
        """The CNAME on `name` itself (not followed: its target is Google's to answer)."""
        found, error = self._answer(name, dns.rdatatype.CNAME)
        if found:
            return CnameFound(found[0])
        return CnameFound(None, error or "no CNAME record (the name has other records)")

    def _answer(
        self, name: str, rdtype: dns.rdatatype.RdataType
    ) -> tuple[tuple[str, ...], str | None]:
        if self._unreachable:
            raise ResolverUnreachable(self._unreachable)
        try:
            answer = self._resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return (), "no such name (NXDOMAIN)"
        except dns.resolver.NoNameservers as exc:
            return (), f"{self.label} gave no usable answer ({_first_error(exc)})"
        except dns.exception.Timeout:
            self._unreachable = (
                f"no answer from {self.label} within {self.timeout:g}s; check --server IP[:PORT]"
            )
            raise ResolverUnreachable(self._unreachable) from None
        except (OSError, dns.exception.DNSException) as exc:
            return (), f"{self.label}: {exc}"
        if rdtype == dns.rdatatype.CNAME:
            rrset = answer.rrset  # only the name's own CNAME, not one met on a chain
            return tuple(r.target.to_text(omit_final_dot=True) for r in rrset or ()), None
        return tuple(rdata.address for rdata in answer), None


def _first_error(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    return str(errors[0][3]) if errors else "SERVFAIL or REFUSED"


def _with_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_server(text: str) -> tuple[str, int]:
    """`--server` as IP, IP:PORT, IPv6 or [IPv6]:PORT → (address, port)."""
    host, port = text, "53"
    if text.startswith("[") and "]" in text:
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"--server {text!r}: expected [IPv6]:PORT")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise UsageError(
            f"--server {text!r} is not an IP address; give IP or IP:PORT (e.g. 192.0.2.53:5353)"
        ) from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--server {text!r}: the port must be a number from 1 to 65535")
    return address, int(port)


def record_problems(found: Resolution, ip: str) -> tuple[str, ...]:
    """Why the name does not (only) point at `ip`; A and AAAA judged apart."""
    problems = []
    others = [address for address in found.ipv4 if address != ip]
    if not found.ipv4:
        problems.append(f"does not resolve ({found.error or 'no A record'})")
    elif len(others) == len(found.ipv4):
        problems.append(f"points elsewhere: {', '.join(others)}, not {ip}")
    elif others:
        problems.append(f"also points at {', '.join(others)}: delete that A record")
    if found.ipv6:
        problems.append(
            f"has AAAA {', '.join(found.ipv6)}: delete it, the load balancer has no IPv6 "
            "address (and a classic certificate is not issued while it is there)"
        )
    elif found.ipv6_error:
        problems.append(
            f"AAAA lookup failed ({found.ipv6_error}): "
            "cannot tell whether an AAAA record blocks the certificate"
        )
    return tuple(problems)
