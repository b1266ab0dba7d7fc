"""An application key in the stack config is refused, in the program and offline, in one line.

The keys live in Secret Manager only (the bootstrap declares their secrets, the operator adds
the values with gcloud), so no value of theirs is in a stack file or in state. Pulumi accepts
`pulumi config set SENDGRID_API_KEY sk-...` silently: the value lands in the stack file in
clear text, committed. With `--secret` it is encrypted there, and would be in state once used.
The program knows which keys are application keys, so it refuses either before declaring
anything, and says how to move the value.
"""

from __future__ import annotations

import pytest

from stacks.loader import ConfigError
from tests.kit import ROOT, config_with, linked_project, run_with
from vidgo_infra.cli import main
from vidgo_infra.offline import run_program

KEY = "vidgo-infra:SENDGRID_API_KEY"
PLAIN = "SG.plain-text-in-the-stack-file"
MOVE = (
    "`pulumi config get --stack prod SENDGRID_API_KEY | gcloud secrets versions add "
    "SENDGRID_API_KEY --project vidgo-ai-prod --data-file=-`"
)


def test_the_program_refuses_a_plain_value_for_an_application_key():
    config, secret_keys = config_with("prod", {KEY: PLAIN})
    assert KEY not in secret_keys
    with pytest.raises(ConfigError) as raised:
        run_program("prod", config, secret_keys)
    (problem,) = raised.value.problems
    assert problem.startswith(f"Pulumi.prod.yaml: {KEY}: a plain value where a secret")
    assert MOVE in problem and "rotate it" in problem
    assert "`pulumi config rm --stack prod SENDGRID_API_KEY`" in problem
    assert PLAIN not in str(raised.value)  # the error does not repeat the value


def test_a_value_set_as_a_secret_is_refused_too_and_told_how_to_move():
    with pytest.raises(ConfigError) as raised:
        run_with("prod", {}, secrets={"SENDGRID_API_KEY": PLAIN})
    (problem,) = raised.value.problems
    assert problem.startswith(f"Pulumi.prod.yaml: {KEY}: application keys are not read")
    assert MOVE in problem
    assert "rotate" not in problem  # encrypted in the file: moving it is enough
    assert PLAIN not in str(raised.value)


def test_a_plain_key_that_is_no_secret_name_is_not_this_error():
    config, secret_keys = config_with("prod", {"vidgo-infra:NOT_A_SECRET": "x"})
    with pytest.raises(ConfigError) as raised:
        run_program("prod", config, secret_keys)
    assert "unknown key" in str(raised.value)
    assert "plain value" not in str(raised.value)


def test_the_offline_plan_refuses_it_in_one_line(tmp_path, capsys):
    text = (ROOT / "Pulumi.prod.yaml").read_text() + f"  {KEY}: {PLAIN}\n"
    project = linked_project(tmp_path, prod=text)
    status = main(["-C", str(project), "plan", "prod"])
    out, err = capsys.readouterr()
    assert status != 0
    lines = [line for line in (out + err).splitlines() if "SENDGRID_API_KEY" in line]
    assert len(lines) == 1, out + err
    (line,) = lines
    assert "Pulumi.prod.yaml:" in line and KEY in line
    assert "gcloud secrets versions add SENDGRID_API_KEY --project vidgo-ai-prod" in line
    assert PLAIN not in out + err
