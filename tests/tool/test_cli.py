"""The vidgo-infra command: the offline plan, its --json inventory, diff and snapshot; the project
it acts on, and one line for every mistake."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from contextlib import redirect_stdout

import pytest
import yaml

from tests.kit import ROOT, SECRET, SECRET_VERSION, SQL_USER, linked_project
from vidgo_infra import inventory, offline
from vidgo_infra.cli import main
from vidgo_infra.offline import PLACEHOLDER_IP


@pytest.fixture(scope="module")
def staging_plan() -> str:
    """`vidgo-infra plan staging`, run once for the tests that read its text."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["plan", "staging"]) == 0
    return out.getvalue()


def test_plan_lists_every_resource_under_its_component(staging_plan, staging):
    lines = staging_plan.splitlines()
    assert lines[0].startswith("Offline plan of stack staging")
    assert "Not a diff against what is deployed" in staging_plan
    for resource in staging.resources.values():
        assert f"{resource.type}  {resource.name}" in staging_plan, resource.name
    # A component's children are drawn below it, one level deeper.
    database = next(
        i for i, line in enumerate(lines) if "vidgo:platform:Database  database" in line
    )
    instance = next(i for i, line in enumerate(lines) if "database-instance" in line)
    assert instance > database
    assert lines[instance].index("gcp:sql") > lines[database].index("vidgo:platform")


def test_plan_shows_key_settings_and_protection(staging_plan):
    instance = next(line for line in staging_plan.splitlines() if "  database-instance" in line)
    settings = staging_plan.split("  database-instance")[1].split("\n├─")[0]
    assert "tier=db-f1-micro" in instance
    assert "public_ip=False" in settings  # on the resource's continuation line
    assert "[protected]" not in staging_plan  # staging protects nothing
    api = next(line for line in staging_plan.splitlines() if "  api-service" in line)
    assert "egress=PRIVATE_RANGES_ONLY" in staging_plan.split("  api-service")[1].split("├─")[0]
    assert "name=vidgo-api" in api


def test_plan_counts_resources_by_type(staging_plan, staging):
    counts = staging_plan.split("Resources by type:")[1]
    secrets = len(staging.by_type(SECRET))
    line = next(x for x in counts.splitlines() if "gcp:secretmanager/secret:Secret " in x)
    assert line.split()[-1] == str(secrets)


def test_plan_shows_the_godaddy_records_with_the_address_unknown(staging_plan):
    records = staging_plan.split("GoDaddy DNS records")[1].split("\n\n")[0]
    assert PLACEHOLDER_IP not in staging_plan  # a stand-in is never shown as an address
    for name in ("staging", "api.staging"):
        row = next(x for x in records.splitlines() if x.split()[1:2] == [name])
        assert row.split()[0] == "A"
        assert "(known after pulumi up)" in row
        assert row.split()[-1] == "600"


def test_plan_json_is_the_documented_inventory(capsys, staging):
    assert main(["plan", "staging", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == inventory.VERSION
    assert document["stack"] == "staging"
    names = set(document["resources"])
    assert names == {r.name for r in staging.resources.values()}
    for name, resource in document["resources"].items():
        assert set(resource) <= {
            "type",
            "parent",
            "protect",
            "ignore_changes",
            "depends_on",
            "inputs",
        }
        assert resource["parent"] is None or resource["parent"] in names, name
        assert set(resource.get("depends_on", [])) <= names, name
    assert sum(document["counts"].values()) == len(names)
    assert document["outputs"]["dns_zone"] == "vidgo.ai"


def test_plan_json_redacts_every_secret(capsys):
    assert main(["plan", "prod", "--json"]) == 0
    text = capsys.readouterr().out
    document = json.loads(text)
    versions = [r for r in document["resources"].values() if r["type"] == SECRET_VERSION]
    assert versions and all(v["inputs"]["secretDataWo"] == "[secret]" for v in versions)
    user = next(r for r in document["resources"].values() if r["type"] == SQL_USER)
    assert user["inputs"]["passwordWo"] == "[secret]"
    for stand_in in ("mock-password", "mock-auth-string", "offline-stand-in-for"):
        assert stand_in not in text


def test_unknown_stack_exits_2_naming_the_stacks_there_are(capsys):
    assert main(["plan", "nosuchstack"]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.nosuchstack.yaml: no such stack file" in err
    assert err.strip().endswith("prod, staging") and err.count("\n") == 1


def test_diff_between_stacks_names_changed_properties(capsys):
    prod = str(inventory.snapshot_path("prod"))
    staging = str(inventory.snapshot_path("staging"))
    assert main(["diff", prod, staging]) == 0
    out = capsys.readouterr().out
    changed = out.split("~ gcp:sql/databaseInstance:DatabaseInstance  database-instance")[1]
    assert 'inputs.settings.tier: "db-g1-small" → "db-f1-micro"' in changed.split("\n~ ")[0]
    # www exists only in prod: its certificate is removed going to staging.
    assert "- gcp:certificatemanager/certificate:Certificate  edge-dns-cert-www-vidgo-ai" in out


def test_diff_against_the_snapshot_reports_an_unreviewed_change(tmp_path, capsys):
    document = yaml.safe_load(inventory.snapshot_path("staging").read_text())
    document["resources"]["redis-instance"]["inputs"]["memorySizeGb"] = 5
    del document["resources"]["edge-http-rule"]
    edited = tmp_path / "staging.yaml"
    edited.write_text(inventory.dump(document))
    assert main(["diff", str(edited), "staging"]) == 0
    out = capsys.readouterr().out
    assert "inputs.memorySizeGb: 5 → 1" in out
    assert "+ gcp:compute/globalForwardingRule:GlobalForwardingRule  edge-http-rule" in out


def test_diff_of_identical_inventories_says_so(capsys):
    path = str(inventory.snapshot_path("prod"))
    assert main(["diff", path, path]) == 0
    assert "No differences" in capsys.readouterr().out


def test_snapshot_writes_the_inventory_the_snapshot_test_compares(tmp_path, staging):
    project = linked_project(tmp_path, staging=(ROOT / "Pulumi.staging.yaml").read_text())
    assert main(["-C", str(project), "snapshot", "staging"]) == 0
    written = project / "tests" / "snapshots" / "staging.yaml"  # inside the project acted on
    assert written.read_text() == inventory.dump(inventory.inventory(staging))


# --- the project it acts on ----------------------------------------------------------------------


def staging_file(replace: str = "", by: str = "") -> str:
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    assert replace in text
    return text.replace(replace, by)


def run_tool(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_plan_reads_the_stack_file_of_the_project_it_runs_in(tmp_path, capsys, monkeypatch):
    project = linked_project(
        tmp_path / "clone",
        staging=staging_file("tier: db-f1-micro", "tier: db-custom-1-3840"),
    )
    (project / "docs").mkdir()
    monkeypatch.chdir(project / "docs")  # found from a subfolder, as `pulumi` finds it
    status, out, _ = run_tool(capsys, "plan", "staging")
    assert status == 0
    assert "tier=db-custom-1-3840" in out
    assert f"Project {project}, stack file {project / 'Pulumi.staging.yaml'}." in out


def test_no_project_here_is_one_line(tmp_path, capsys):
    status, out, err = run_tool(capsys, "-C", str(tmp_path), "plan", "staging")
    assert status == 2 and out == ""
    assert err == (
        f"vidgo-infra plan: {tmp_path}: no Pulumi.yaml here or in any parent folder; "
        "run inside a Pulumi project or give one with -C DIR\n"
    )


def test_version_and_help_work_anywhere(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"vidgo-infra \d+\.\d+\.\d+\n", capsys.readouterr().out)


# --- every mistake is one line --------------------------------------------------------------------

TIER = "    tier: db-f1-micro\n"


def line_of(text: str) -> int:
    """The line number of the first line starting with `text` in the committed staging file."""
    lines = staging_file().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(text.rstrip("\n")))


# (what the stack file says, the line:col and what the one line must say)
BROKEN_STACK_FILES = [
    pytest.param(
        staging_file(TIER, "    tier: db-f1-micro: x\n"),
        r"\d+:\d+: YAML syntax error: mapping values are not allowed here",
        id="yaml-syntax",
    ),
    pytest.param(
        staging_file(TIER, "\ttier: db-f1-micro\n"),
        r"\d+:\d+: a tab character; YAML indents with spaces only",
        id="tab",
    ),
    pytest.param(
        "config:\n  - gcp:project: vidgo-ai-staging\n",
        r"1:1: config is a list; config: must map keys to values",
        id="config-as-a-list",
    ),
    pytest.param(
        "- config: {}\n",
        r"1:1: the file is a list; a stack file is a mapping",
        id="top-level-list",
    ),
    pytest.param(
        staging_file() + "  vidgo-infra:database:\n    tier: db-g1-small\n",
        rf"\d+:3: duplicate key vidgo-infra:database \(lines {line_of('  vidgo-infra:database:')} "
        r"and \d+\); one entry per key",
        id="duplicate-key",
    ),
    pytest.param(
        staging_file(TIER, "    tier: db-f1-micro\n    tier: db-g1-small\n"),
        rf"{line_of(TIER) + 1}:5: duplicate key tier "
        rf"\(lines {line_of(TIER)} and {line_of(TIER) + 1}\)",
        id="duplicate-nested-key",
    ),
    pytest.param(
        staging_file("    tier: BASIC", "    tier: PREMIUM"),
        r"\d+:5: vidgo-infra:redis.tier: got 'PREMIUM'; must be 'BASIC' or 'STANDARD_HA'",
        id="invalid-value-at-its-line",
    ),
    pytest.param(
        staging_file("      - ops@vidgo.ai", "      - ops@vidgo.ai\n      - ops"),
        r"\d+:9: vidgo-infra:monitoring.notification_emails\[1\]: 'ops' is not an e-mail address",
        id="pasteable-list-path",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN_STACK_FILES)
def test_a_broken_stack_file_is_one_line_at_its_place_and_exit_2(tmp_path, capsys, text, expected):
    project = linked_project(tmp_path, staging=text)
    status, out, err = run_tool(capsys, "-C", str(project), "plan", "staging")
    assert status == 2 and out == ""
    assert err.count("\n") == 1, err
    assert re.fullmatch(f"{re.escape(str(project / 'Pulumi.staging.yaml'))}:{expected}.*\n", err)
    assert "Traceback" not in err and "Error(" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan"], "vidgo-infra plan: name a stack: STACK, -s STACK or PULUMI_STACK"),
        (["plan", "staging", "--jsn"], "vidgo-infra plan: unrecognized arguments: --jsn"),
        (["plan", "staging", "-s", "prod"], "vidgo-infra plan: two different stacks given"),
        (["plan", "-s", "acme/other/prod"], "vidgo-infra plan: acme/other/prod is a stack of"),
        (["snapshot", "--all", "prod"], "vidgo-infra snapshot: --all writes every stack"),
        (["diff", "prod", "staging", "--snapshot", "prod"], "vidgo-infra diff: give two"),
        (["plann", "staging"], "vidgo-infra: argument COMMAND: invalid choice: 'plann'"),
        (["diff", "prod", "nope.yaml"], "vidgo-infra diff: nope.yaml: no such file"),
        (["diff", "--snapshot", "qa"], "vidgo-infra diff: Pulumi.qa.yaml: no such stack file"),
        (["snapshot"], "vidgo-infra snapshot: name a stack, or --all"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, message):
    status, out, err = run_tool(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err


def test_a_file_that_is_not_an_inventory_is_one_line(tmp_path, capsys):
    (tmp_path / "x.yaml").write_text("version: 1\nresources: []\n")
    status, _, err = run_tool(capsys, "diff", str(tmp_path / "x.yaml"), str(tmp_path / "x.yaml"))
    assert status == 2
    assert err == f"{tmp_path / 'x.yaml'}:2:1: resources must be a mapping\n"


# --- what Pulumi's CLI writes is accepted ---------------------------------------------------------


def test_numbers_written_by_config_set_path_are_accepted_where_text_is_meant(tmp_path, capsys):
    # `pulumi config set --path services.api.cpu 4` (and env values, database flags) write numbers.
    text = (
        staging_file('      cpu: "1"\n', "      cpu: 4\n")
        .replace(
            "        ENVIRONMENT: staging\n",
            "        ENVIRONMENT: staging\n        WORKERS: 3\n        DEBUG: true\n",
        )
        .replace(
            "    log_retention_days: 1\n",
            "    log_retention_days: 1\n    flags: {work_mem: 4096}\n",
        )
    )
    project = linked_project(tmp_path, staging=text)
    status, out, err = run_tool(capsys, "-C", str(project), "plan", "staging", "--json")
    assert status == 0, err
    resources = json.loads(out)["resources"]
    container = resources["api-service"]["inputs"]["template"]["containers"][0]
    assert container["resources"]["limits"]["cpu"] == "4"
    env = {e["name"]: e.get("value") for e in container["envs"]}
    assert env["WORKERS"] == "3" and env["DEBUG"] == "true"
    flags = resources["database-instance"]["inputs"]["settings"]["databaseFlags"]
    assert {"name": "work_mem", "value": "4096"} in flags


def test_a_nested_secret_is_accepted_offline_and_stays_secret(tmp_path, capsys):
    # `pulumi config set --secret --path services.api.env.TOKEN ...` nests {secure: ...}.
    secure = "v1:ZmFrZQ==:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"
    text = staging_file(
        "        ENVIRONMENT: staging\n",
        f"        ENVIRONMENT: staging\n        TOKEN:\n          secure: {secure}\n",
    )
    project = linked_project(tmp_path, staging=text)
    _, secret_keys = offline.stack_config("staging", project)
    assert "vidgo-infra:services" in secret_keys
    status, out, err = run_tool(capsys, "-C", str(project), "plan", "staging", "--json")
    assert status == 0, err
    container = json.loads(out)["resources"]["api-service"]["inputs"]["template"]["containers"][0]
    assert {e["name"]: e.get("value") for e in container["envs"]}["TOKEN"] == "[secret]"
    assert secure not in out and "offline-stand-in" not in out


# --- diff --exit-code -----------------------------------------------------------------------------


def test_diff_exit_code_is_0_none_2_differences_1_error(capsys):
    prod, staging = (str(inventory.snapshot_path(s)) for s in ("prod", "staging"))
    assert main(["diff", "--exit-code", prod, prod]) == 0
    assert main(["diff", "--exit-code", prod, staging]) == 2
    assert main(["diff", "--exit-code", prod, "nope.yaml"]) == 1
    assert main(["diff", prod, staging]) == 0  # without --exit-code, differences are not a failure
    capsys.readouterr()


# --- output ---------------------------------------------------------------------------------------


def test_plan_fits_120_columns_and_marks_every_stand_in(staging_plan):
    too_long = [line for line in staging_plan.splitlines() if len(line) > 120]
    assert not too_long, too_long
    stand_ins = offline.STAND_INS - {"-----MOCK CA-----"}
    assert "10.16.1.4" in stand_ins  # the redis host the mocks make up
    for value in stand_ins:
        assert value not in staging_plan, value
    assert "-mock-" not in staging_plan


def test_stack_outputs_print_as_json(staging_plan):
    outputs = staging_plan.split("Stack outputs:\n")[1].split("\n\n")[0].splitlines()
    values = dict(line.strip().split(": ", 1) for line in outputs)
    assert json.loads(values["hosts"]) == ["staging.vidgo.ai", "api.staging.vidgo.ai"]
    assert json.loads(values["service_urls.api"]) == "https://api.staging.vidgo.ai"
    assert values["redis_host"] == "(known after pulumi up)"


def test_each_program_warning_is_printed_once(capsys, tmp_path):
    project = linked_project(tmp_path, qa=staging_file())
    handler = offline._program_log("qa").handlers[0]
    handler.seen.clear()
    for _ in range(2):
        assert main(["-C", str(project), "plan", "qa", "--json"]) == 0
    err = capsys.readouterr().err
    assert err.count("weaker by choice (accept_weaker: owasp-preview)") == 1
    assert "WARNING: stack qa: " in err
    assert max(len(line) for line in err.splitlines()) <= 120


# --- every command: one line for every mistake ------------------------------------------------

from vidgo_infra.commands import COMMANDS, SUMMARIES, load  # noqa: E402

FIXTURE_OUTPUTS = str(ROOT / "tests" / "fixtures" / "outputs-staging.json")
# Arguments each command accepts, so that only the mistake under test is wrong.
GOOD = {
    "plan": ["staging"],
    "snapshot": ["staging"],
    "diff": ["prod", "staging"],
    "cost": ["staging"],
    "dns": ["staging", "--outputs", FIXTURE_OUTPUTS],
    "verify": ["staging", "--outputs", FIXTURE_OUTPUTS],
    "preview-guard": ["preview.json"],
    "graph": ["staging"],
    "pr-comment": ["--base-snapshots", "."],
}
BAD_FILE = {
    "plan": ["broken"],
    "snapshot": ["broken"],
    "diff": ["absent.yaml", "staging"],
    "cost": ["staging", "--against", "absent.yaml"],
    "dns": ["staging", "--outputs", "absent.json"],
    "verify": ["staging", "--outputs", "absent.json"],
    "preview-guard": ["absent.json"],
    "graph": ["absent.yaml"],
    "pr-comment": ["--base-snapshots", "absent"],
}


def test_every_command_is_in_both_tables():
    assert set(GOOD) == set(BAD_FILE) == set(COMMANDS) == set(SUMMARIES)


def one_line_exit_2(capsys, argv: list[str], command: str) -> str:
    status, out, err = run_tool(capsys, *argv)
    assert status == 2, (argv, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert err.startswith(f"vidgo-infra {command}: ") or re.match(r"^\S+:\d+:\d+: ", err), err
    return err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_a_bad_flag_a_bad_file_a_foreign_and_a_missing_project(
    command, tmp_path, capsys, monkeypatch
):
    project = linked_project(tmp_path / "project", broken="config:\n\tvidgo-infra:x: 1\n")
    monkeypatch.chdir(project)
    err = one_line_exit_2(capsys, [command, *GOOD[command], "--no-such-flag"], command)
    assert "unrecognized arguments: --no-such-flag" in err
    err = one_line_exit_2(capsys, [command, *BAD_FILE[command]], command)
    assert "absent" in err or "Pulumi.broken.yaml" in err

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "Pulumi.yaml").write_text("name: website\nruntime: nodejs\n")
    (foreign / "Pulumi.staging.yaml").write_text("config: {}\n")
    err = one_line_exit_2(capsys, ["-C", str(foreign), command, *GOOD[command]], command)
    assert "Pulumi project 'website' is not one vidgo-infra can plan" in err

    empty = tmp_path / "empty"
    empty.mkdir()
    err = one_line_exit_2(capsys, ["-C", str(empty), command, *GOOD[command]], command)
    assert "no Pulumi.yaml here or in any parent folder" in err


def test_the_bootstrap_folder_says_where_the_platform_project_is(capsys):
    err = one_line_exit_2(capsys, ["-C", str(ROOT / "bootstrap"), "plan", "staging"], "plan")
    assert "'vidgo-bootstrap' is not one vidgo-infra can plan" in err
    assert f"run it in {ROOT} (or -C {ROOT})" in err


def test_a_main_that_does_not_exist_is_one_line(tmp_path, capsys):
    project = linked_project(tmp_path / "p")
    (project / "Pulumi.yaml").write_text("name: vidgo-infra\nruntime: python\nmain: gone/\n")
    err = one_line_exit_2(capsys, ["-C", str(project), "plan", "staging"], "plan")
    assert "its main: gone/ does not exist" in err


def test_an_older_checkout_is_one_line_saying_whose_tool_reads_it(tmp_path):
    # Its packages exist but lack what this tool reads (no stacks/loader.py). A child process,
    # so `stacks` is imported from that checkout, as a user's shell would.
    old = tmp_path / "old-checkout"
    for package in ("stacks", "components", "infra"):
        (old / package).mkdir(parents=True)
        (old / package / "__init__.py").write_text("")
    (old / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (old / "Pulumi.staging.yaml").write_text((ROOT / "Pulumi.staging.yaml").read_text())
    done = subprocess.run(
        [sys.executable, "-m", "vidgo_infra", "-C", str(old), "plan", "staging"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("vidgo-infra plan: the program in ")
    assert "is not one this vidgo-infra reads (No module named 'stacks.loader')" in done.stderr


def test_the_stack_can_be_given_as_pulumi_takes_it(capsys, monkeypatch):
    def zone_line(*argv: str) -> str:
        status, out, err = run_tool(capsys, "dns", *argv, "--outputs", FIXTURE_OUTPUTS)
        assert status == 0, err
        return out.splitlines()[0]

    expected = zone_line("staging")
    assert expected.startswith("GoDaddy DNS records for stack staging")
    assert zone_line("-s", "staging") == expected
    assert zone_line("--stack", "acme/vidgo-infra/staging") == expected
    monkeypatch.setenv("PULUMI_STACK", "staging")
    assert zone_line() == expected
    assert zone_line("staging", "-s", "staging") == expected  # the same stack twice is fine


def test_each_commands_help_lists_its_exit_codes_and_an_example(capsys):
    for command in COMMANDS:
        module = load(command)
        assert SUMMARIES[command] == module.SUMMARY
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert "exit status:" in text and "examples:" in text, command
        for code in module.EXIT_CODES:
            assert re.search(rf"^  {code}  ", text, re.MULTILINE), (command, code)
        assert f"vidgo-infra {command}" in text.split("examples:")[1]


def test_the_docs_plan_excerpt_is_the_plan_trimmed(staging_plan):
    """docs/commands.md's example: each line one `plan staging` prints, in order ("..." skips)."""
    text = (ROOT / "docs" / "commands.md").read_text()
    excerpt = text.split("A trimmed example")[1].split("```text\n")[1].split("```")[0]
    printed = staging_plan.replace(str(ROOT), "/home/you/vidgo-infra").splitlines()
    shown = [line for line in excerpt.splitlines() if line.strip() != "..."]
    assert any(line.strip().startswith("$") for line in shown), "the excerpt lost its cost lines"
    at = 0
    for line in shown:
        assert line in printed[at:], f"docs/commands.md's plan excerpt is stale: {line!r}"
        at = printed.index(line, at) + 1


def test_the_readme_table_lists_every_command_with_its_exit_codes():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `vidgo-infra ")]
    for command in COMMANDS:
        row = next((r for r in rows if r.startswith(f"| `vidgo-infra {command}")), None)
        assert row is not None, f"README's command table has no row for {command}"
        codes = ", ".join(str(code) for code in load(command).EXIT_CODES)
        assert f"exit {codes}" in row, (command, codes)
