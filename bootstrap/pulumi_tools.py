"""Install the Pulumi CLI and the Google provider plugin at pinned versions, checksum-verified.

Every CI job that gets a Google identity runs this *before* the auth step, so nothing it
downloads runs with credentials unless its SHA-256 is the one committed in
`pulumi-tools.lock` beside this file (docs/delivery.md, "Pinned tools before credentials").

    python3 bootstrap/pulumi_tools.py install DEST   # CI: DEST/bin holds pulumi and its plugin
    python3 bootstrap/pulumi_tools.py lock           # once per version bump, with network

`lock` downloads the pinned archives and writes their digests: compare them with the digests
on the releases' pages (pulumi/pulumi `pulumi-VERSION-checksums.txt`, pulumi/pulumi-gcp) before
committing. Standard library only: it runs before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "pulumi-tools.lock"
# The CLI, and the plugin that the pinned pulumi-gcp Python package (requirements.txt) drives.
PULUMI_VERSION = "3.272.0"
GCP_PLUGIN_VERSION = "9.35.0"
CLI_URL = f"https://get.pulumi.com/releases/sdk/pulumi-v{PULUMI_VERSION}-linux-x64.tar.gz"
PLUGIN_URL = (
    "https://github.com/pulumi/pulumi-gcp/releases/download/"
    f"v{GCP_PLUGIN_VERSION}/pulumi-resource-gcp-v{GCP_PLUGIN_VERSION}-linux-amd64.tar.gz"
)
ARCHIVES = (CLI_URL, PLUGIN_URL)
LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


class ToolsError(Exception):
    """One line for the job log."""


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """url → sha256, from `DIGEST  URL` lines; `#` starts a comment."""
    if not path.exists():
        return {}
    digests = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise ToolsError(f"{path.name}:{number}: expected `SHA256  URL`, got {line!r}")
        digests[match[2]] = match[1]
    return digests


def pinned_digest(url: str, lock: dict[str, str]) -> str:
    if url not in lock:
        raise ToolsError(
            f"{LOCK.name} has no SHA-256 for {url}: run `python3 bootstrap/pulumi_tools.py "
            "lock` on a machine with network, check the digests against the release, commit"
        )
    return lock[url]


def verified(url: str, expected: str, into: Path) -> Path:
    """Download `url` into `into`; the file only if its SHA-256 is `expected`."""
    target = into / url.rsplit("/", 1)[1]
    with urllib.request.urlopen(url, timeout=120) as response:
        target.write_bytes(response.read())
    actual = hashlib.sha256(target.read_bytes()).hexdigest()
    if actual != expected:
        target.unlink()
        raise ToolsError(f"{target.name}: SHA-256 {actual}, the lock pins {expected}: not used")
    return target


def install(dest: Path, lock: dict[str, str]) -> Path:
    """The CLI in DEST/bin, the plugin installed from its verified archive; returns DEST/bin."""
    digests = {url: pinned_digest(url, lock) for url in ARCHIVES}  # all checked before any fetch
    bin_dir = dest / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        cli = verified(CLI_URL, digests[CLI_URL], Path(scratch))
        with tarfile.open(cli) as archive:
            for member in archive.getmembers():
                # The archive holds pulumi/<binary>: flatten into bin, refuse anything else.
                name = Path(member.name)
                if member.isfile() and name.parent == Path("pulumi"):
                    member.name = name.name
                    archive.extract(member, bin_dir, filter="data")
        plugin = verified(PLUGIN_URL, digests[PLUGIN_URL], Path(scratch))
        plugin_install = ["plugin", "install", "resource", "gcp", GCP_PLUGIN_VERSION]
        subprocess.run(
            [str(bin_dir / "pulumi"), *plugin_install, "--file", str(plugin)],
            check=True,
            stdout=sys.stderr,  # stdout is the bin folder alone (CI appends it to its PATH)
        )
    return bin_dir


def write_lock(path: Path = LOCK) -> None:
    lines = ["# SHA-256 of what bootstrap/pulumi_tools.py installs; `... lock` rewrites it."]
    for url in ARCHIVES:
        with urllib.request.urlopen(url, timeout=120) as response:
            lines.append(f"{hashlib.sha256(response.read()).hexdigest()}  {url}")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["install"] and len(argv) == 2:
            print(install(Path(argv[1]), read_lock()))
        elif argv == ["lock"]:
            write_lock()
        else:
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 2
    except ToolsError as error:
        print(f"pulumi_tools: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
