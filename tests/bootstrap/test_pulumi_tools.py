"""The CI install of the Pulumi CLI and plugin: pinned versions, nothing used unverified.

Archives are served from this machine (file:// URLs): no network.
"""

from __future__ import annotations

import hashlib
import io
import re
import runpy
import stat
import tarfile
from pathlib import Path

import pytest

from tests.bootstrap.harness import BOOTSTRAP

ROOT = BOOTSTRAP.parent


@pytest.fixture
def tools():
    return runpy.run_path(str(BOOTSTRAP / "pulumi_tools.py"))


def archive(path: Path, files: dict[str, str]) -> str:
    """A .tar.gz at `path` holding `files` (name → text, executable); returns its SHA-256."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_release(tmp_path: Path, tools: dict) -> tuple[str, str, dict[str, str]]:
    """A CLI archive whose `pulumi` records its arguments, and a plugin archive."""
    log = tmp_path / "pulumi-calls"
    cli, plugin = tmp_path / "cli.tar.gz", tmp_path / "plugin.tar.gz"
    script = f'#!/bin/sh\necho "$@" >> {log}\n'
    lock = {
        cli.as_uri(): archive(cli, {"pulumi/pulumi": script, "pulumi/pulumi-language-python": ""}),
        plugin.as_uri(): archive(plugin, {"pulumi-resource-gcp": ""}),
    }
    return cli.as_uri(), plugin.as_uri(), lock


def pointed_at(tools: dict, cli: str, plugin: str):
    install = tools["install"]
    install.__globals__.update(CLI_URL=cli, PLUGIN_URL=plugin, ARCHIVES=(cli, plugin))
    return install


def test_verified_archives_install_the_cli_and_the_plugin_from_its_file(tmp_path, tools):
    cli, plugin, lock = fake_release(tmp_path, tools)
    install = pointed_at(tools, cli, plugin)
    bin_dir = install(tmp_path / "dest", lock)
    assert sorted(p.name for p in bin_dir.iterdir()) == ["pulumi", "pulumi-language-python"]
    assert (bin_dir / "pulumi").stat().st_mode & stat.S_IXUSR
    (call,) = (tmp_path / "pulumi-calls").read_text().splitlines()
    version = tools["GCP_PLUGIN_VERSION"]
    assert call.startswith(f"plugin install resource gcp {version} --file ")
    assert call.endswith("plugin.tar.gz")


def test_an_archive_whose_digest_differs_is_not_used(tmp_path, tools):
    cli, plugin, lock = fake_release(tmp_path, tools)
    lock[plugin] = "0" * 64
    install = pointed_at(tools, cli, plugin)
    with pytest.raises(tools["ToolsError"], match="the lock pins 0000"):
        install(tmp_path / "dest", lock)
    assert not (tmp_path / "pulumi-calls").exists()  # the CLI never ran the plugin install


def test_a_missing_digest_stops_before_any_download(tmp_path, tools):
    install = pointed_at(tools, "file:///nonexistent/cli.tar.gz", "file:///nonexistent/p.tar.gz")
    with pytest.raises(tools["ToolsError"], match="has no SHA-256 for file:///nonexistent/cli"):
        install(tmp_path / "dest", {})


def test_a_malformed_lock_line_is_one_error(tmp_path, tools):
    lock = tmp_path / "pulumi-tools.lock"
    lock.write_text("# comment\nabc  https://example.invalid/x.tar.gz\n")
    with pytest.raises(tools["ToolsError"], match=r"pulumi-tools.lock:2: expected `SHA256  URL`"):
        tools["read_lock"](lock)


def test_the_committed_lock_pins_only_the_archives_installed(tools):
    lock = tools["read_lock"]()
    assert set(lock) <= set(tools["ARCHIVES"])


def test_the_plugin_is_the_one_the_pinned_python_package_drives(tools):
    pin = re.search(r"^pulumi-gcp==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin and pin[1] == tools["GCP_PLUGIN_VERSION"]
    assert f"v{tools['GCP_PLUGIN_VERSION']}" in tools["PLUGIN_URL"]
    assert f"v{tools['PULUMI_VERSION']}-linux-x64" in tools["CLI_URL"]
