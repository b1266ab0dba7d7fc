"""A site on 127.0.0.1 for `verify` and `dns --check`: a DNS server (dnspython is its message
codec), HTTP and HTTPS servers with certificates from a test CA made in memory by trustme (no
openssl command), and a listener that accepts connections and never answers."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import trustme


class DnsServer:
    """Answers A, AAAA and CNAME questions from its tables (name → addresses, name → target);
    a name in no table is NXDOMAIN. A name with a CNAME answers every question with the CNAME,
    as an authoritative server does (its target is another zone's)."""

    def __init__(
        self,
        a: dict[str, list[str]],
        aaaa: dict[str, list[str]] | None = None,
        cname: dict[str, str] | None = None,
    ):
        self.a, self.aaaa, self.cname = a, aaaa or {}, cname or {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.sock.recvfrom(512)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True)
            reply = dns.message.make_response(query)
            table = self.a if question.rdtype == dns.rdatatype.A else self.aaaa
            if name in self.cname:
                target = self.cname[name].rstrip(".") + "."
                reply.answer.append(
                    dns.rrset.from_text_list(question.name, 60, "IN", "CNAME", [target])
                )
            elif name not in self.a and name not in self.aaaa:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.CNAME:
                pass  # the name exists, without a CNAME: an empty answer
            elif table.get(name):
                rdtype = dns.rdatatype.to_text(question.rdtype)
                reply.answer.append(
                    dns.rrset.from_text_list(question.name, 60, "IN", rdtype, table[name])
                )
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


class SilentListener:
    """Accepts TCP connections (the kernel does, from its backlog) and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


def certificate_authority() -> trustme.CA:
    return trustme.CA(organization_name="vidgo-infra test CA")


def tls_context(ca: trustme.CA, hosts: list[str], allow_tls10: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*hosts).configure_cert(context)
    if allow_tls10:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def serve(handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
