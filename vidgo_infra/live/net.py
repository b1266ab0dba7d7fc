"""HTTP(S) to the site's real host names, at the static IP or wherever --connect says.

Each address (IP and port) gets one timeout: once it has not answered in time, every later
connection to it is refused at once with that cause (`Unanswered`), so a listener that accepts
and never answers costs one timeout, not one per check.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from vidgo_infra.project import UsageError

TIMEOUT_S = 10.0
USER_AGENT = "vidgo-infra-verify"

Address = tuple[str, int]


class Unanswered(Exception):
    """The address already timed out; the message is the cause, for `not checked` lines."""


@dataclass
class Client:
    static_ip: str
    connect: dict[int, Address] = field(default_factory=dict)  # port → (host, port)
    ca_file: str | None = None
    timeout: float = TIMEOUT_S
    silent: dict[Address, str] = field(default_factory=dict)  # address → why it is skipped

    def __post_init__(self) -> None:
        # A mistyped or unreadable --ca-file is a mistake in the options, not a site that
        # fails every check: refuse it before any check runs.
        try:
            self._verifying = ssl.create_default_context(cafile=self.ca_file)
        except FileNotFoundError:
            raise UsageError(f"--ca-file {self.ca_file}: no such file") from None
        except (ssl.SSLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            raise UsageError(
                f"--ca-file {self.ca_file}: not PEM CA certificates ({reason})"
            ) from None

    def address(self, port: int) -> Address:
        return self.connect.get(port, (self.static_ip, port))

    def describe(self, port: int) -> str:
        host, real = self.address(port)
        return f"{host}:{real}"

    def _connect(self, port: int) -> socket.socket:
        address = self.address(port)
        if address in self.silent:
            raise Unanswered(self.silent[address])
        try:
            return socket.create_connection(address, timeout=self.timeout)
        except TimeoutError:
            self._went_silent(address)
            raise

    def _went_silent(self, address: Address) -> None:
        self.silent[address] = f"{address[0]}:{address[1]} did not answer within {self.timeout:g}s"

    def guarded(self, port: int, action):
        """Run `action()` (which talks to `port`), marking the address silent on a timeout."""
        try:
            return action()
        except TimeoutError:
            self._went_silent(self.address(port))
            raise

    def tls(self, host: str, version: ssl.TLSVersion | None = None) -> ssl.SSLSocket:
        """A TLS connection to `host`; `version` pins an old version and skips verification."""
        if version is None:
            context = self._verifying
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with warnings.catch_warnings():  # offering an old version is the point here
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = version
            # OpenSSL's default security level refuses to offer TLS 1.0/1.1 at all.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        raw = self._connect(443)
        try:
            return self.guarded(443, lambda: context.wrap_socket(raw, server_hostname=host))
        except BaseException:
            raw.close()
            raise

    def get(self, scheme: str, host: str, path: str) -> http.client.HTTPResponse:
        port = 443 if scheme == "https" else 80
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, timeout=self.timeout)
            conn.sock = self.tls(host)
        else:
            conn = http.client.HTTPConnection(host, timeout=self.timeout)
            conn.sock = self._connect(port)

        def exchange() -> http.client.HTTPResponse:
            conn.request("GET", path, headers={"User-Agent": USER_AGENT})
            response = conn.getresponse()
            response.read(65536)
            return response

        try:
            return self.guarded(port, exchange)
        finally:
            conn.close()


def parse_connect(values: Sequence[str]) -> dict[int, Address]:
    """--connect [PORT:]HOST:PORT, as curl's --connect-to: PORT 443 unless given."""
    mapping: dict[int, Address] = {}
    for value in values:
        parts = value.split(":")
        try:
            if len(parts) == 2:
                port, host, target = 443, parts[0], int(parts[1])
            elif len(parts) == 3:
                port, host, target = int(parts[0]), parts[1], int(parts[2])
            else:
                raise ValueError
            if not host or not (0 < port < 65536 and 0 < target < 65536):
                raise ValueError
        except ValueError:
            raise UsageError(
                f"--connect {value!r} is not [PORT:]HOST:PORT (e.g. 443:127.0.0.1:8443)"
            ) from None
        if port in mapping and mapping[port] != (host, target):
            raise UsageError(f"--connect gives port {port} twice")
        mapping[port] = (host, target)
    return mapping


def short_tls_failure(exc: OSError, where: str, timeout: float) -> str:
    """One short line for why a TLS connection failed (no 120-column OpenSSL strings)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        # "Hostname mismatch, certificate is not valid for 'HOST'.": the line names the host.
        reason = str(exc.verify_message or exc.reason or "verification failed").split(",")[0]
        return f"not valid: {reason}"
    if isinstance(exc, ssl.SSLError | ConnectionResetError):
        reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        return f"TLS handshake failed ({reason}): no active certificate yet (still provisioning?)"
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer within {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection: is the forwarding rule deployed?"
    return f"cannot connect to {where}: {exc.strerror or exc}"
