"""One path from a stack's name to what the tool reports: validated config, then the inventory.

Every command that needs a stack goes through here: the stack file is read once (strictly,
vidgo_infra/stackfile.py), validated by the program's own entry point (`stacks.loader.validate`),
and only then is the program run under mocks. So a mistake in the file is one line with its
position, before anything runs, and `plan`, `cost`, `diff`, `snapshot` and `dns` agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidgo_infra.project import Project, UsageError, shown

if TYPE_CHECKING:
    from stacks.config import PlatformConfig
    from vidgo_infra.offline import Run
    from vidgo_infra.stackfile import StackFile


@dataclass(frozen=True)
class StackConfig:
    name: str
    project: Project
    file: StackFile
    config: PlatformConfig

    @property
    def path(self) -> Path:
        return self.file.path


@dataclass(frozen=True)
class PlannedStack(StackConfig):
    run: Run  # what the program registered, for checks that need more than the inventory
    inventory: dict[str, Any]


def foreign_code(project: Project, error: ImportError) -> UsageError:
    """One line for a project whose program is not the one this tool reads (an older or newer
    checkout): its own install of the tool reads it."""
    return UsageError(
        f"the program in {project.root} is not one this vidgo-infra reads ({error}); run the "
        "vidgo-infra of that checkout (its .venv/bin/vidgo-infra), or update the checkout"
    )


def stack_config(project: Project, stack: str) -> StackConfig:
    """The stack file, read and validated; every problem a `file:line:col: ...` line."""
    try:
        from stacks.loader import ConfigError, validate
    except ImportError as error:
        raise foreign_code(project, error) from None
    from vidgo_infra.offline import read_stack
    from vidgo_infra.stackfile import read_project_file

    file = read_stack(stack, project.root)
    name = read_project_file(project.project_file).name
    try:
        config = validate(file.values, name, stack)
    except ConfigError as error:
        raise UsageError(located(error, file)) from None
    return StackConfig(stack, project, file, config)


def plan_stack(project: Project, stack: str) -> PlannedStack:
    """Validate the stack, run its program under Pulumi's mocks, and take the inventory."""
    checked = stack_config(project, stack)  # first: it says when the program is not ours
    import pulumi

    from stacks.loader import ConfigError
    from vidgo_infra.inventory import inventory
    from vidgo_infra.offline import run_program

    try:
        run = run_program(stack, checked.file.values, checked.file.secret_keys, project.root)
    except ImportError as error:  # the program imports names its checkout does not have
        raise foreign_code(project, error) from None
    except ConfigError as error:
        raise UsageError(located(error, checked.file)) from None
    except pulumi.RunError as error:  # the program's own refusal, already one message
        raise UsageError(f"{shown(checked.path)}: {error}") from None
    return PlannedStack(stack, project, checked.file, checked.config, run, inventory(run))


def located(error: Any, file: StackFile) -> str:
    """A ConfigError's problems, one line each, at their place in the stack file."""
    return "\n".join(f"{file.where(p.location)}: {p.key}: {p.message}" for p in error.located)
