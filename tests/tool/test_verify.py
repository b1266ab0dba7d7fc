"""`vidgo-infra verify` against a site on 127.0.0.1 (tests/live_site.py): a local DNS server,
local HTTP and HTTPS servers with a test CA made by trustme, for a correct site and each wrong
one, the cut-over's "ready to move the A records", and a listener that never answers."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import live_site
from tests.kit import ROOT, linked_project
from vidgo_infra import cli
from vidgo_infra import outputs as outputs_module

IP, OTHER_IP = "203.0.113.10", "198.51.100.9"  # RFC 5737 documentation addresses
HOSTS = ["vidgo.ai", "www.vidgo.ai", "api.vidgo.ai"]
ACME = {f"_acme-challenge.{host}": f"{host[:3]}-9a8b.4.authorize.certificatemanager.goog"
        for host in HOSTS}  # fmt: skip
OUTPUTS = {
    "project": "vidgo-ai-prod",
    "region": "asia-east1",
    "static_ip": IP,
    "dns_zone": "vidgo.ai",
    "dns_records": [
        *(
            {"type": "CNAME", "name": fqdn.removesuffix(".vidgo.ai"), "value": value, "ttl": 600}
            for fqdn, value in ACME.items()
        ),
        *({"type": "A", "name": name, "value": IP, "ttl": 600} for name in ("@", "www", "api")),
    ],
    "hosts": HOSTS,
    "health_url": "https://api.vidgo.ai/health",
    "service_urls": {
        "web": "https://vidgo.ai",
        "api": "https://api.vidgo.ai",
        "media": "https://vidgo.ai/media",
    },
}


def cli_main(argv: list[str]) -> int:
    return cli.main(["-C", str(ROOT), "verify", *argv])


# --- the site -------------------------------------------------------------------------------

CORRECT = dict(ip=IP, cert="site", tls10=False, redirect=301, hsts=True, health=200, media=403,
               acme=ACME)  # fmt: skip


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


@pytest.fixture(scope="module")
def ca():
    return live_site.certificate_authority()


@pytest.fixture
def serve(ca, tmp_path):
    """Serve a site shaped by `site` on 127.0.0.1; return the verify command's arguments."""
    started = []
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def run(**changes) -> list[str]:
        site = {**CORRECT, **changes}
        names = HOSTS if site["cert"] == "site" else ["other.example"]
        context = live_site.tls_context(ca, names, allow_tls10=site["tls10"])
        https = live_site.serve(handler(site, https=True), context)
        plain = live_site.serve(handler(site, https=False))
        resolver = live_site.DnsServer({host: [site["ip"]] for host in HOSTS}, cname=site["acme"])
        started.extend([https, plain, resolver])
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps(OUTPUTS))
        return ["prod", "--outputs", str(outputs), "--ca-file", str(ca_file),
                "--server", resolver.address, "--timeout", "5",
                "--connect", f"443:127.0.0.1:{https.server_address[1]}",
                "--connect", f"80:127.0.0.1:{plain.server_address[1]}"]  # fmt: skip

    yield run
    for thing in started:
        (thing.shutdown() if isinstance(thing, ThreadingHTTPServer) else thing.close())


def verify_cli(argv: list[str], capsys) -> tuple[int, list[list[str]]]:
    code = cli_main(argv)
    lines = capsys.readouterr().out.splitlines()
    return code, [line.split("  ", 1) for line in lines[:-1]]


def statuses(rows, check: str) -> set[str]:
    return {status.strip() for status, rest in rows if rest.strip().startswith(check)}


def test_a_correct_site_passes_every_check(serve, capsys):
    code, rows = verify_cli(serve(), capsys)
    assert {status.strip() for status, _ in rows} == {"ok"}, rows
    assert code == 0
    # Per host: its CNAME, DNS, certificate, TLS 1.0, TLS 1.1, redirect, HSTS; then health,
    # root and /api/ for each site host, and media.
    assert len(rows) == 7 * len(HOSTS) + 1 + 2 * 2 + 1


def test_before_the_a_records_move_verify_says_ready_to_move(serve, capsys):
    """Every CNAME in and every certificate served at the static IP; DNS still points at the
    old site: exit 3, the cut-over's own status, not a failure."""
    code = cli_main(serve(ip=OTHER_IP))
    out = capsys.readouterr().out
    assert code == 3
    assert "Phase: ready to move the A records (exit 3)" in out.splitlines()[-1]
    assert {
        line.split()[0] for line in out.splitlines() if "resolves to the static IP" in line
    } == {"FAIL"}


def test_a_wrong_cname_is_not_ready_to_move(serve, capsys):
    wrong = {**ACME, "_acme-challenge.www.vidgo.ai": "elsewhere.authorize.certificatemanager.goog"}
    code, rows = verify_cli(serve(ip=OTHER_IP, acme=wrong), capsys)
    assert code == 1
    assert statuses(rows, "CNAME for the certificate") == {"ok", "FAIL"}


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"acme": {}}, "CNAME for the certificate"),
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
    others = {s.strip() for s, rest in rows if not rest.strip().startswith(failing)}
    if "cert" in change:  # the cause once per host; what needs the certificate is not checked
        assert statuses(rows, "Strict-Transport-Security sent") == {"--"}
        assert statuses(rows, "health answers 200") == {"--"}
        assert others == {"ok", "--"}, rows
        failures = [rest for s, rest in rows if s.strip() == "FAIL"]
        assert len(failures) == len(HOSTS) and all(len(r) < 100 for r in failures), failures
    else:
        assert others == {"ok"}, rows


def test_a_dns_server_that_does_not_answer_means_could_not_check(serve, capsys):
    argv = serve()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # receives, never answers
    argv[argv.index("--server") + 1] = f"127.0.0.1:{silent.getsockname()[1]}"
    argv[argv.index("--timeout") + 1] = "0.5"
    started = time.monotonic()
    try:
        code, rows = verify_cli(argv, capsys)
    finally:
        silent.close()
    assert statuses(rows, "resolves to the static IP") == {"??"}
    assert time.monotonic() - started < 4  # one timeout for the server, not one per name
    assert code == 2


def test_a_listener_that_never_answers_costs_one_timeout_per_address(tmp_path, capsys):
    """The README's bound: at most one --timeout per address (here both ports go to one), plus
    DNS. The first result prints within the timeout; the rest are skipped with the cause."""
    listener = live_site.SilentListener()
    resolver = live_site.DnsServer({host: [IP] for host in HOSTS}, cname=ACME)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    argv = ["-C", str(ROOT), "verify", "prod", "--outputs", str(outputs),
            "--server", resolver.address, "--timeout", "1",
            "--connect", f"443:127.0.0.1:{listener.port}",
            "--connect", f"80:127.0.0.1:{listener.port}"]  # fmt: skip
    started = time.monotonic()
    tool = subprocess.Popen(
        [sys.executable, "-m", "vidgo_infra", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        first = tool.stdout.readline()
        first_at = time.monotonic() - started
        rest, err = tool.communicate(timeout=30)
    finally:
        tool.kill()
        listener.close()
        resolver.close()
    total = time.monotonic() - started
    lines = [first, *rest.splitlines()]
    assert first.startswith("ok") and "CNAME for the certificate" in first, first
    assert first_at < 1 + 4, first_at  # start-up and a DNS answer, before any timeout
    assert tool.returncode == 1, err
    assert total < 1 + 6, total  # one timeout for 127.0.0.1, and start-up
    fails = [line for line in lines if line.startswith("FAIL")]
    assert len(fails) == 1 and "did not answer within 1s" in fails[0], lines
    skipped = [line for line in lines if line.startswith("--")]
    assert skipped and all("not checked" in line for line in skipped)
    assert all(f"127.0.0.1:{listener.port} did not answer" in line or "failed for" in line
               for line in skipped)  # fmt: skip


def test_json_lines_stream_each_result_then_the_summary(serve, capsys):
    code = cli_main([*serve(), "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert {line["status"] for line in lines[:-1]} == {"ok"}
    assert set(lines[0]) == {"status", "check", "host", "detail"}
    assert lines[-1]["exit_status"] == 0 and lines[-1]["counts"]["fail"] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--connect", "nonsense"], "--connect 'nonsense' is not [PORT:]HOST:PORT"),
        (["--ca-file", "absent.pem"], "--ca-file absent.pem: no such file"),
        (["--ca-file", "README.md"], "--ca-file README.md: not PEM CA certificates"),
        (["--server", "dns.google"], "is not an IP address"),
        (["--server", "192.0.2.53:99999"], "the port must be a number from 1 to 65535"),
        (["--server", "192.0.2.53:"], "the port must be a number from 1 to 65535"),
        (["--timeout", "0"], "--timeout 0: give seconds"),
    ],
)
def test_option_mistakes_are_exit_2_before_any_check(capsys, tmp_path, argv, message):
    outputs = tmp_path / "o.json"
    outputs.write_text(json.dumps(OUTPUTS))
    assert cli_main(["prod", "--outputs", str(outputs), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("vidgo-infra verify: ") and message in captured.err
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_outputs_of_another_stack_are_refused(capsys, tmp_path):
    outputs = tmp_path / "o.json"
    outputs.write_text(json.dumps(OUTPUTS))  # prod's hosts
    assert cli_main(["staging", "--outputs", str(outputs)]) == 2
    assert cli_main(["qa", "--outputs", str(outputs)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "these are not the outputs of stack staging" in err[0]
    assert "Pulumi.qa.yaml: no such stack file" in err[1]


def gcloud_fake(seen: list[list[str]]):
    """Google, as gcloud lists certificates (both kinds) and describes services."""

    def gcloud(command):
        seen.append(list(command))
        if "certificate-manager" in command:
            certs = [
                {"managed": {"domains": ["vidgo.ai"], "state": "ACTIVE"}},
                {"managed": {"domains": ["www.vidgo.ai"], "state": "ACTIVE"}},
                {"managed": {"domains": ["api.vidgo.ai"], "state": "FAILED",
                             "provisioningIssue": {"reason": "AUTHORIZATION_ISSUE"}}},
            ]  # fmt: skip
        elif "ssl-certificates" in command:
            certs = [
                {"managed": {"status": "ACTIVE", "domains": ["vidgo.ai", "www.vidgo.ai"],
                             "domainStatus": {"vidgo.ai": "ACTIVE", "www.vidgo.ai": "ACTIVE"}}},
                {"managed": {"status": "PROVISIONING", "domains": ["api.vidgo.ai"],
                             "domainStatus": {"api.vidgo.ai": "FAILED_NOT_VISIBLE"}}},
            ]  # fmt: skip
        else:
            ready = "True" if "vidgo-api" in command else "False"
            certs = {"status": {"conditions": [{"type": "Ready", "status": ready}]}}
        return subprocess.CompletedProcess(command, 0, json.dumps(certs), "")

    return gcloud


SERVICES = {"api": "vidgo-api", "web": "vidgo-web"}


@pytest.mark.parametrize("classic", [False, True])
def test_google_reports_certificates_and_services(serve, capsys, monkeypatch, classic, tmp_path):
    argv = serve()
    records = OUTPUTS["dns_records"][3:] if classic else OUTPUTS["dns_records"]  # classic: no CNAME
    path = tmp_path / "with-services.json"
    path.write_text(json.dumps({**OUTPUTS, "dns_records": records, "cloud_run_services": SERVICES}))
    argv[argv.index("--outputs") + 1] = str(path)
    seen: list[list[str]] = []
    monkeypatch.setattr(outputs_module, "run_command", lambda c, cwd=None: gcloud_fake(seen)(c))
    code = cli_main([*argv, "--google"])
    lines = [
        re.split(r"\s{2,}", line.strip(), maxsplit=3)
        for line in capsys.readouterr().out.splitlines()
    ]
    found = {(parts[1], parts[2]): (parts[0], parts[3]) for parts in lines if len(parts) == 4}
    google = "certificate ACTIVE at Google"
    assert found[(google, "vidgo.ai")] == ("ok", "ACTIVE")
    status, why = found[(google, "api.vidgo.ai")]
    assert status == "FAIL" and why.endswith(
        "FAILED_NOT_VISIBLE" if classic else "AUTHORIZATION_ISSUE"
    )
    assert found[("Cloud Run service ready", "vidgo-api")] == ("ok", "Ready")
    assert found[("Cloud Run service ready", "vidgo-web")] == ("FAIL", "Ready=False")
    kind = ["compute", "ssl-certificates"] if classic else ["certificate-manager", "certificates"]
    assert seen[0][1:3] == kind and "vidgo-ai-prod" in seen[0]
    assert code == 1


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
