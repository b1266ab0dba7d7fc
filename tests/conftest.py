"""Shared fixtures: each stack's program is run once per session under Pulumi's mocks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from vidgo_infra.offline import Run, run_program, stack_config

# This checkout. The tool acts on the project in the current directory, as `pulumi` does, and
# the tests run from here (`make test`).
ROOT = Path(__file__).resolve().parent.parent


def deep_merge(base: Any, change: Any) -> Any:
    if isinstance(base, dict) and isinstance(change, dict):
        return {k: deep_merge(base.get(k), v) for k, v in change.items()} | {
            k: v for k, v in base.items() if k not in change
        }
    return change


def config_with(stack: str, changes: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The stack file's config with `changes` (full keys → values, objects deep-merged).

    A value of None removes the key.
    """
    config, secret_keys = stack_config(stack)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(value, dict) and current is not None:
            value = deep_merge(json.loads(current), value)
        config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


def run_with(stack: str, changes: dict[str, Any], secrets: dict[str, str] | None = None) -> Run:
    """Run `stack` with changed config; `secrets` adds secret config values (name → value)."""
    config, secret_keys = config_with(stack, changes)
    for name, value in (secrets or {}).items():
        config[f"vidgo-infra:{name}"] = value
        secret_keys.append(f"vidgo-infra:{name}")
    return run_program(stack, config, secret_keys)


@pytest.fixture(scope="session")
def prod() -> Run:
    return run_program("prod")


@pytest.fixture(scope="session")
def staging() -> Run:
    return run_program("staging")


def linked_project(where: Path, **stack_files: str) -> Path:
    """A project folder with its own stack files (name → text) and this checkout's program,
    linked, so this process (which imported the program already) may act on it."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for package in ("infra", "stacks", "components"):
        (where / package).symlink_to(ROOT / package)
    for stack, text in stack_files.items():
        (where / f"Pulumi.{stack}.yaml").write_text(text)
    return where


def stack_file_text(config: dict[str, str]) -> str:
    """Config as `config_with` returns it (objects as JSON) → the text of a stack file."""

    def value(text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    return yaml.safe_dump({"config": {key: value(text) for key, text in config.items()}})


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
