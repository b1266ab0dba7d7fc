"""Database flags: only those Cloud SQL accepts for the configured PostgreSQL version.

The provider passes `settings.databaseFlags` through unchecked, so a typo would first fail at
Cloud SQL's API halfway through `pulumi up`; the stack config refuses it before any resource.
"""

from __future__ import annotations

import re
import typing

import pytest

from components.database import CIS_POSTGRES_FLAGS
from stacks.cloudsql_flags import data, problems
from stacks.config import PostgresVersion
from stacks.loader import ConfigError, validate
from tests.kit import ROOT, config_with, linked_project
from vidgo_infra.cli import main

VERSIONS = typing.get_args(PostgresVersion)


def staging_with_flags(flags: str) -> str:
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    anchor = "    log_retention_days: 1\n"
    assert anchor in text
    return text.replace(anchor, anchor + "    flags:\n" + flags, 1)


def test_a_misspelt_flag_fails_the_plan_in_one_line_naming_it_the_file_and_the_nearest_flag(
    tmp_path, capsys
):
    project = linked_project(
        tmp_path, staging=staging_with_flags('      work_mem: "8192"\n      log_conections: "on"\n')
    )
    assert main(["-C", str(project), "plan", "staging"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    stack_file = re.escape(str(project / "Pulumi.staging.yaml"))
    assert re.match(
        rf"{stack_file}:\d+:7: vidgo-infra:database\.flags\.log_conections: not a flag Cloud SQL "
        r"accepts for POSTGRES_15; nearest: log_connections \(",
        err,
    ), err


def test_the_program_itself_stops_on_a_misspelt_flag_before_any_resource():
    """What `pulumi up` runs: the same config validation, a ConfigError naming the stack file."""
    config, _ = config_with("staging", {"vidgo-infra:database": {"flags": {"pgaudit.lg": "ddl"}}})
    with pytest.raises(ConfigError) as raised:
        validate(config, "vidgo-infra", "staging")
    (problem,) = raised.value.problems
    assert problem.startswith("Pulumi.staging.yaml: vidgo-infra:database.flags.pgaudit.lg: ")
    assert "nearest: pgaudit.log" in problem


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"log_connections": "yes"}, "got 'yes'; must be on or off"),
        ({"log_min_duration_statement": "-2"}, "got -2; must be between -1 and 2147483647"),
        ({"log_min_duration_statement": "1s"}, "got '1s'; must be a whole number"),
        ({"log_statement": "everything"}, "got 'everything'; must be one of none, ddl, mod, all"),
        ({"pgaudit.log": "ddl,rol"}, "got 'rol'; must be any of read, write"),
    ],
)
def test_a_value_outside_what_the_flag_takes_is_refused(flags, expected):
    ((name, wrong),) = problems(flags, "POSTGRES_15")
    assert name == next(iter(flags)) and wrong.startswith(expected)


def test_values_cloud_sql_takes_pass_including_pgaudit_exclusions():
    flags = {"pgaudit.log": "all,-misc", "work_mem": "8192", "random_page_cost": "1.1"}
    assert problems(flags, "POSTGRES_15") == []


def test_a_flag_of_another_postgres_version_names_the_versions_that_have_it():
    assert problems({"transaction_timeout": "60000"}, "POSTGRES_17") == []
    ((_, wrong),) = problems({"transaction_timeout": "60000"}, "POSTGRES_15")
    assert wrong.startswith("not a flag Cloud SQL accepts for POSTGRES_15 (only POSTGRES_17)")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_cis_baseline_the_database_sets_is_accepted_on_every_allowed_version(version):
    assert problems(CIS_POSTGRES_FLAGS, version) == []


def test_the_flag_list_names_its_source_and_the_date_it_was_checked():
    assert data()["source"] == "https://cloud.google.com/sql/docs/postgres/flags"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data()["checked"])
    versions = {v for rule in data()["flags"].values() for v in rule.get("versions", [])}
    assert versions <= set(VERSIONS)  # no version the config cannot select
