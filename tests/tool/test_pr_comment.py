"""The pull request's sticky comment: a sample change (a replaced database, a new application
key for the API, one more warm API instance) shows its losses first, the diagram with the change
highlighted, the cost per product, and fits GitHub's comment limit by collapsing detail."""

from __future__ import annotations

import re

import pytest

from stacks.config import PlatformConfig
from tests.kit import planned
from tests.mermaid import parse
from vidgo_infra.inventory import inventory
from vidgo_infra.pr_comment import MARKER, MAX_BODY, body, stack_change


@pytest.fixture(scope="module")
def sample(prod):
    """prod now → prod with a renamed Cloud SQL instance, one more application key (its
    secret is the bootstrap's: the program adds the API's access to it) and a second warm API
    instance."""
    secrets = list(PlatformConfig.model_fields["app_secrets"].default)
    changed = planned(
        "prod",
        {
            "vidgo-infra:database": {"instance_name": "vidgo-db-2"},
            "vidgo-infra:app_secrets": [*secrets, "OPENAI_API_KEY"],
            "vidgo-infra:services": {"api": {"min_instances": 2}},
        },
    )
    return stack_change("prod", inventory(prod), inventory(changed))


def mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)


def test_the_comment_shows_the_loss_first_then_the_table_diagram_and_cost(sample):
    text = body([sample])
    assert text.startswith(MARKER + "\n")  # the hidden line the workflow edits it by
    assert re.search(r"### prod: 1 to add, \d+ to change, 3 to replace, 0 to delete", text)
    caution = text.index("[!CAUTION]")
    table = text.index("| | resource | what | why |")
    assert caution < table < text.index("```mermaid") < text.index("Monthly cost")
    # The loss is named with what is lost and why, before anything else about prod.
    loss = text[caution:table]
    assert "**REPLACE** `database-instance`" in loss and "data loss" in loss
    assert "forced by name" in loss and "protected" in loss
    rows = [line for line in text[table:].splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `-/+` | `database-")  # stateful losses head the table
    assert any("`api-reads-openai-api-key`" in r and r.startswith("| `+`") for r in rows)


def test_the_diagram_highlights_the_changed_components(sample):
    (diagram,) = mermaid_blocks(body([sample]))
    assert "class n_database_instance replace" in diagram
    assert re.search(r"^  style c_database .*stroke:#cf222e", diagram, re.MULTILINE)
    assert re.search(r"^  style c_api .*", diagram, re.MULTILINE)  # its new grant, its scaling
    assert "style c_redis" not in diagram  # unchanged components stay plain
    verdicts = parse({"highlighted": diagram})
    assert verdicts["highlighted"].startswith("ok flowchart"), verdicts


def test_the_cost_is_before_after_and_difference_per_product(sample):
    text = body([sample])
    cost = text[text.index("Monthly cost") :].split("</details>")[0]
    run_row = next(line for line in cost.splitlines() if line.startswith("| Cloud Run"))
    before, after, difference = (cell.strip() for cell in run_row.split("|")[2:5])
    assert before.startswith("$") and after.startswith("$") and difference.startswith("+$")
    total = next(line for line in cost.splitlines() if line.startswith("| **total**"))
    expected = sample.cost_after.total - sample.cost_before.total
    assert f"+${expected:,.2f}" in total


def test_it_fits_githubs_limit_by_collapsing_detail(sample):
    full = body([sample])
    assert len(full) <= MAX_BODY
    assert "Property changes" in full
    # A limit the full body is over: the property diff goes first, and it says so.
    smaller = body([sample], limit=len(full) - 1)
    assert len(smaller) < len(full)
    assert "Property changes (" not in smaller
    assert "left out to fit GitHub's comment limit" in smaller
    assert "[!CAUTION]" in smaller  # the losses are never cut
    tiny = body([sample], limit=len(smaller) - 1)
    assert "```mermaid" not in tiny and "[!CAUTION]" in tiny


def test_no_change_says_so():
    document = {"stack": "staging", "resources": {}}
    text = body([stack_change("staging", document, document)])
    assert "No infrastructure change." in text and "[!CAUTION]" not in text
