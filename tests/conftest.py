"""Fixtures only; the helpers are in tests/kit.py. Each stack's program runs once per worker."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.kit import planned
from vidgo_infra.offline import Run


@pytest.fixture(scope="session")
def prod() -> Run:
    return planned("prod", {})


@pytest.fixture(scope="session")
def staging() -> Run:
    return planned("staging", {})


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """The warnings the program logs (pulumi.log.warn) during the test, as `pulumi preview`
    would show them: capture them around a fresh `run_with`, not a shared run."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                records.append(record.getMessage())

    handler = Keep()
    log = logging.getLogger("vidgo-infra.program")
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)


def pytest_terminal_summary(terminalreporter) -> None:
    """One line when the Mermaid diagrams were not parsed here (tests/mermaid.py), not one per
    test: what was not checked, and why."""
    from tests.mermaid import NOT_CHECKED

    reasons = {
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and NOT_CHECKED in str(report.longrepr[2])
    }
    for reason in sorted(reasons):
        terminalreporter.write_line(f"NOT CHECKED: {reason}")
