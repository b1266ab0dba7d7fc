"""The reviewed inventories in tests/snapshots/ match what the code declares now.

A change to the platform shows up in a pull request as a diff of these files; this test fails
when the code changed and the snapshots were not regenerated (`make snapshots`).
"""

from __future__ import annotations

import pytest

from tests.kit import STACKS
from vidgo_infra import inventory
from vidgo_infra.diff import compare, render
from vidgo_infra.offline import stacks


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_is_current(stack, request):
    run = request.getfixturevalue(stack)
    path = inventory.snapshot_path(stack)
    assert path.exists(), f"no snapshot for {stack}: run `make snapshots`"
    now = inventory.inventory(run)
    changes = compare(inventory.load(path), now)
    assert not changes, (
        "\n".join(render(changes, str(path), f"{stack} (code now)"))
        + "\n\nReview the change above, then run `make snapshots` and commit the result."
    )
    # Byte for byte too, so the committed file is exactly what `make snapshots` writes.
    assert path.read_text() == inventory.dump(now)


def test_every_stack_has_a_snapshot():
    snapshots = inventory.snapshot_path("prod").parent
    assert {p.stem for p in snapshots.glob("*.yaml")} == set(stacks())
