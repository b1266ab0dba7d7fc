"""The Pulumi project the tool acts on, found the way `pulumi` finds it, and its own code.

Like `pulumi` and `terraform`, the tool acts on the project in the current directory: the
nearest `Pulumi.yaml` from there upward (or from `-C DIR`). The program's packages (`stacks`,
`components`, `infra`) are imported from that project root, never from where the tool is
installed, and everything the tool writes goes inside that project.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"
PROGRAM_PACKAGES = ("stacks", "components", "infra")


class CommandError(Exception):
    """Why a command stops: the CLI prints it once, as `vidgo-infra CMD: message`, and exits
    with `status` (each command documents its statuses in its --help)."""

    status = 2

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class UsageError(CommandError):
    """A mistake in what the user gave (arguments, files, config): one line, exit status 2."""


@dataclass(frozen=True)
class Project:
    root: Path  # the folder holding Pulumi.yaml, absolute

    @property
    def project_file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def snapshots(self) -> Path:
        return self.root / "tests" / "snapshots"

    def stack_file(self, stack: str) -> Path:
        return self.root / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml")
            for p in self.root.glob("Pulumi.*.yaml")
        )

    def snapshot(self, stack: str) -> Path:
        return self.snapshots / f"{stack}.yaml"

    def require_stack(self, stack: str) -> Path:
        """The stack's file, or a UsageError naming the stacks there are."""
        path = self.stack_file(stack)
        if not path.is_file():
            known = ", ".join(self.stacks()) or "none"
            raise UsageError(
                f"{shown(path)}: no such stack file; the stacks of {self.root} are: {known}"
            )
        return path


def find_project(start: Path | None = None) -> Project:
    """The nearest folder holding Pulumi.yaml, from `start` (default: the current one) upward."""
    here = (start or Path.cwd()).resolve()
    if not here.is_dir():
        raise UsageError(f"{start}: no such directory")
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return Project(folder)
    raise UsageError(
        f"{here}: no {PROJECT_FILE} here or in any parent folder; "
        "run inside a Pulumi project or give one with -C DIR"
    )


def require_program(project: Project) -> None:
    """Refuse, in one line saying where to run instead, a project this tool cannot plan: another
    Pulumi project (the bootstrap, a foreign one), or a `main:` that does not exist."""
    from vidgo_infra.stackfile import read_project_file

    declared = read_project_file(project.project_file)
    main = (project.root / declared.main).resolve()
    missing = [
        name for name in PROGRAM_PACKAGES if not (project.root / name / "__init__.py").is_file()
    ]
    if not missing and main.is_dir():
        return
    why = (
        f"its main: {declared.main} does not exist"
        if not main.is_dir()
        else f"it has no {', '.join(f'{name}/' for name in missing)} package"
    )
    elsewhere = next(
        (
            folder
            for folder in project.root.parents
            if all((folder / name / "__init__.py").is_file() for name in PROGRAM_PACKAGES)
            and (folder / PROJECT_FILE).is_file()
        ),
        None,
    )
    where = (
        f"run it in {elsewhere} (or -C {elsewhere})"
        if elsewhere
        else "run it in a vidgo-infra checkout, or give one with -C DIR"
    )
    raise UsageError(
        f"{shown(project.project_file)}: Pulumi project {declared.name!r} is not one vidgo-infra "
        f"can plan ({why}); {where}"
    )


def use_project_code(root: Path) -> None:
    """Make the project's own packages (stacks, components, infra) importable, from `root` only.

    A process plans one project: if its packages were already imported from another checkout,
    running on would mix two programs, so that is refused.
    """
    root = root.resolve()
    for name in PROGRAM_PACKAGES:
        module = sys.modules.get(name)
        folders = [Path(p).resolve() for p in getattr(module, "__path__", [])]
        if folders and (root / name).resolve() not in folders:
            raise UsageError(
                f"{root}: this process already runs the program from {folders[0].parent}"
            )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def shown(path: Path) -> str:
    """A path as a user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
