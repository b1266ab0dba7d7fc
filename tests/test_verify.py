"""`vidgo-infra verify` against a site on 127.0.0.1: a local DNS server, local HTTP and HTTPS
servers with a test CA made here by the openssl CLI, for a correct site and each wrong one."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT, linked_project
from vidgo_infra import cli, verify

IP, OTHER_IP = "203.0.113.10", "198.51.100.9"  # RFC 5737 documentation addresses
HOSTS = ["vidgo.ai", "www.vidgo.ai", "api.vidgo.ai"]
OUTPUTS = {
    "static_ip": IP,
    "dns_zone": "vidgo.ai",
    "dns_records": [
        {"type": "A", "name": name, "value": IP, "ttl": 600} for name in ("@", "www", "api")
    ],
    "hosts": HOSTS,
    "health_url": "https://api.vidgo.ai/health",
    "service_urls": {
        "web": "https://vidgo.ai",
        "api": "https://api.vidgo.ai",
        "media": "https://vidgo.ai/media",
    },
}

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl CLI")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A test CA, a certificate for the site's hosts and one for another name."""
    d = tmp_path_factory.mktemp("ca")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=vidgo-infra test CA")  # fmt: skip
    for name, sans in (("site", HOSTS), ("other", ["other.example"])):
        (d / f"{name}.ext").write_text(
            "subjectAltName=" + ",".join(f"DNS:{h}" for h in sans) + "\n"
        )
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={sans[0]}")  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile",
                f"{name}.ext")  # fmt: skip
    return d


# --- a tiny DNS server ----------------------------------------------------------------------


def dns_server(answers: dict[str, str]):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                query, peer = sock.recvfrom(512)
            except OSError:
                return
            ident = query[:2]
            end = query.index(b"\0", 12) + 1
            labels, i = [], 12
            while query[i]:
                labels.append(query[i + 1 : i + 1 + query[i]].decode())
                i += 1 + query[i]
            qtype = struct.unpack("!H", query[end : end + 2])[0]
            address = answers.get(".".join(labels)) if qtype == 1 else None
            header = ident + struct.pack("!HHHHH", 0x8180, 1, 1 if address else 0, 0, 0)
            reply = header + query[12 : end + 4]
            if address:
                reply += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(address)
            sock.sendto(reply, peer)

    threading.Thread(target=serve, daemon=True).start()
    return sock


# --- the site -------------------------------------------------------------------------------

CORRECT = dict(ip=IP, cert="site", tls10=False, redirect=301, hsts=True, health=200, media=403)


def handler(site: dict, https: bool):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            host = (self.headers["Host"] or "").split(":")[0]
            if not https:
                return self.answer(site["redirect"], location=f"https://{host}{self.path}")
            if host == "api.vidgo.ai":
                ok = self.path == "/health"
                return self.answer(site["health"] if ok else 404, kind="application/json")
            if self.path.startswith("/api/"):
                return self.answer(404, kind="application/json")  # the API's own 404
            if self.path.startswith("/media/"):
                return self.answer(site["media"], kind="image/png")
            return self.answer(200, kind="text/html")

        def answer(self, status: int, kind: str = "text/plain", location: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if location:
                self.send_header("Location", location)
            if https and site["hsts"]:
                self.send_header("Strict-Transport-Security", "max-age=31536000")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def start(server: ThreadingHTTPServer) -> ThreadingHTTPServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def serve(certs, tmp_path):
    """Serve a site shaped by `site` on 127.0.0.1; return the verify command's arguments."""
    started = []

    def run(**changes) -> list[str]:
        site = {**CORRECT, **changes}
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs / f"{site['cert']}.pem", certs / f"{site['cert']}.key")
        if site["tls10"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        https = ThreadingHTTPServer(("127.0.0.1", 0), handler(site, https=True))
        https.socket = context.wrap_socket(https.socket, server_side=True)
        plain = ThreadingHTTPServer(("127.0.0.1", 0), handler(site, https=False))
        resolver = dns_server(dict.fromkeys(HOSTS, site["ip"]))
        started.extend([start(https), start(plain), resolver])
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps(OUTPUTS))
        return ["prod", "--outputs", str(outputs), "--ca-file", str(certs / "ca.pem"),
                "--server", f"127.0.0.1:{resolver.getsockname()[1]}",
                "--connect", f"443:127.0.0.1:{https.server_address[1]}",
                "--connect", f"80:127.0.0.1:{plain.server_address[1]}"]  # fmt: skip

    yield run
    for thing in started:
        (thing.shutdown() if isinstance(thing, ThreadingHTTPServer) else thing.close())


def verify_cli(argv: list[str], capsys) -> tuple[int, list[list[str]]]:
    parser = argparse.ArgumentParser()
    verify.add_arguments(parser)
    code = verify.run(parser.parse_args(argv))
    lines = capsys.readouterr().out.splitlines()
    return code, [line.split("  ", 1) for line in lines[:-1]]


def statuses(rows, check: str) -> set[str]:
    return {status.strip() for status, rest in rows if rest.strip().startswith(check)}


def test_a_correct_site_passes_every_check(serve, capsys):
    code, rows = verify_cli(serve(), capsys)
    assert {status.strip() for status, _ in rows} == {"ok"}, rows
    assert code == 0
    # Per host: DNS, certificate, TLS 1.0, TLS 1.1, redirect, HSTS; then health, root and
    # /api/ for each site host, and media.
    assert len(rows) == 6 * len(HOSTS) + 1 + 2 * 2 + 1


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"ip": OTHER_IP}, "resolves to the static IP"),
        ({"cert": "other"}, "certificate valid"),
        ({"tls10": True}, ("TLS 1.0 refused", "TLS 1.1 refused")),
        ({"redirect": 302}, "http:// redirects to https://"),
        ({"hsts": False}, "Strict-Transport-Security sent"),
        ({"health": 500}, "health answers 200"),
        ({"media": 200}, "unsigned media refused"),
    ],
)
def test_each_wrong_site_fails_its_check(serve, capsys, change, failing):
    failing = (failing,) if isinstance(failing, str) else failing
    code, rows = verify_cli(serve(**change), capsys)
    assert code == 1
    for check in failing:
        assert statuses(rows, check) == {"FAIL"}, rows
    if "cert" not in change:  # a wrong certificate fails every HTTPS check after it
        others = {s.strip() for s, rest in rows if not rest.strip().startswith(failing)}
        assert others == {"ok"}, rows


def test_a_dns_server_that_does_not_answer_means_could_not_check(serve, capsys, monkeypatch):
    monkeypatch.setattr(verify.dns, "DNS_TIMEOUT_S", 0.2)
    argv = serve()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # receives, never answers
    argv[argv.index("--server") + 1] = f"127.0.0.1:{silent.getsockname()[1]}"
    try:
        code, rows = verify_cli(argv, capsys)
    finally:
        silent.close()
    assert statuses(rows, "resolves to the static IP") == {"??"}
    assert code == 2


def test_bad_arguments_exit_2(capsys, tmp_path):
    outputs = tmp_path / "o.json"
    outputs.write_text(json.dumps(OUTPUTS))
    parser = argparse.ArgumentParser()
    verify.add_arguments(parser)
    args = parser.parse_args(["prod", "--outputs", str(outputs), "--connect", "nonsense"])
    assert verify.run(args) == 2
    assert "--connect" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ("dns.google", "is not an IP address"),
        ("192.0.2.53:99999", "the port must be a number from 1 to 65535"),
        ("192.0.2.53:", "the port must be a number from 1 to 65535"),
    ],
)
def test_a_bad_server_is_refused_before_any_check(capsys, tmp_path, server, message):
    """`verify --server` reads IP[:PORT] exactly as `dns --check --server` does."""
    outputs = tmp_path / "o.json"
    outputs.write_text(json.dumps(OUTPUTS))
    parser = argparse.ArgumentParser()
    verify.add_arguments(parser)
    assert (
        verify.run(parser.parse_args(["prod", "--outputs", str(outputs), "--server", server])) == 2
    )
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1
    assert captured.out == ""


def test_google_reports_certificates_and_services():
    def gcloud(command):
        if "ssl-certificates" in command:
            certs = [
                {"managed": {"status": "ACTIVE", "domains": ["vidgo.ai"],
                             "domainStatus": {"vidgo.ai": "ACTIVE"}}},
                {"managed": {"status": "PROVISIONING", "domains": ["api.vidgo.ai"],
                             "domainStatus": {"api.vidgo.ai": "FAILED_NOT_VISIBLE"}}},
            ]  # fmt: skip
            return subprocess.CompletedProcess(command, 0, json.dumps(certs), "")
        ready = "True" if "vidgo-api" in command else "False"
        service = {"status": {"conditions": [{"type": "Ready", "status": ready}]}}
        return subprocess.CompletedProcess(command, 0, json.dumps(service), "")

    outputs = {
        "sql_connection_name": "vidgo-ai-prod:asia-east1:vidgo-db",
        "cloud_run_services": {"api": "vidgo-api", "web": "vidgo-web"},
    }
    results = {(r.check, r.host): r.status for r in verify.google_checks(outputs, gcloud)}
    assert results == {
        ("managed certificate ACTIVE", "vidgo.ai"): "ok",
        ("managed certificate ACTIVE", "api.vidgo.ai"): "FAIL",
        ("Cloud Run service ready", "vidgo-api"): "ok",
        ("Cloud Run service ready", "vidgo-web"): "FAIL",
    }


def test_outputs_come_from_the_project_named_with_dash_c(tmp_path, monkeypatch):
    """Without --outputs, `pulumi stack output` runs in the -C project, as `dns` runs it."""
    project = linked_project(tmp_path / "other", prod=(ROOT / "Pulumi.prod.yaml").read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "cwd.txt"
    fake_pulumi = bin_dir / "pulumi"
    fake_pulumi.write_text(f"#!/bin/sh\npwd > '{seen}'\necho 'no such stack' >&2\nexit 1\n")
    fake_pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert cli.main(["-C", str(project), "verify", "prod"]) == 2
    assert Path(seen.read_text().strip()).resolve() == project.resolve()
