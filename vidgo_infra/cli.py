"""`vidgo-infra`: the offline plan, inventory snapshots, diffs, GoDaddy DNS, the live site and cost.

Like `pulumi`, it acts on the project in the current directory (the nearest Pulumi.yaml upward),
or the one given with -C DIR. Nothing here needs a cloud account or the Pulumi CLI, except `dns`
and `verify` without `--outputs`, which read a deployed stack's outputs with `pulumi stack output`.

Every mistake is one line, `vidgo-infra COMMAND: what is wrong`, and exit status 2; each command
lists its other statuses in its --help (`vidgo-infra COMMAND --help`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from types import ModuleType

from vidgo_infra.commands import COMMANDS, SUMMARIES, load
from vidgo_infra.project import (
    CommandError,
    Project,
    UsageError,
    find_project,
    require_program,
    use_project_code,
)

# Starts a `file:line:col: ...` line, which is printed as it is (editors jump to it).
_LOCATED = re.compile(r"^\S+:\d+:\d+: ")
_GLOBAL_WITH_VALUE = {"-C", "--cwd"}


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake on one line and exit status 2 like every other mistake."""

    def error(self, message: str):
        raise UsageError(f"{message}; see `{self.prog} --help`")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    name = _command_name(argv)
    try:
        project = _project(argv, name)
        module = _command_module(name, project, argv)
        args, extra = build_parser(name, module).parse_known_args(argv)
        if extra:  # e.g. `snapshot --all prod --bogus`: refused, never ignored
            raise UsageError(
                f"unrecognized arguments: {' '.join(extra)}; see `vidgo-infra {name} --help`"
            )
        if project is None:  # only --help and --version need none, and argparse has exited
            find_project(args.cwd)  # raises the one-line error saying why there is none
            raise UsageError("no project to act on")
        args.project = project
        if getattr(module, "TAKES_STACK", False):
            args.stack = resolve_stack(args, project)
        status = module.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except CommandError as error:
        sys.stdout.flush()
        _report(str(error), name)
        if type(error) is UsageError and name:  # a mistake; `diff --exit-code` keeps 2 for itself
            status = getattr(sys.modules.get(COMMANDS[name]), "error_status", None)
            return status(argv) if status else error.status
        return error.status
    except BrokenPipeError:
        # `vidgo-infra plan | head`: the reader has what it wanted; end quietly, as `cat` does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command ended by a closed pipe


def build_parser(name: str | None = None, module: ModuleType | None = None) -> Parser:
    """The command line: every command's summary, and all of `name`'s options from `module`
    (the others are only described, so their modules are not imported)."""
    parser = Parser(
        prog="vidgo-infra",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    project_option = Parser(add_help=False)
    for target, default in ((parser, None), (project_option, argparse.SUPPRESS)):
        target.add_argument(
            "-C",
            "--cwd",
            metavar="DIR",
            type=Path,
            default=default,
            help="act on the Pulumi project in DIR (or its nearest parent with a Pulumi.yaml)",
        )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        if command != name or module is None:
            commands.add_parser(command, help=SUMMARIES[command], parents=[project_option])
            continue
        sub = commands.add_parser(
            command,
            help=SUMMARIES[command],
            description=module.__doc__,
            epilog=epilog(command, module),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[project_option],
        )
        if getattr(module, "TAKES_STACK", False):
            add_stack_arguments(sub)
        module.add_arguments(sub)
    return parser


def epilog(name: str, module: ModuleType) -> str:
    codes = [f"  {code}  {meaning}" for code, meaning in module.EXIT_CODES.items()]
    examples = [f"  {line}" for line in module.EXAMPLES]
    return "\n".join(["exit status:", *codes, "", "examples:", *examples])


# --- the stack, as Pulumi users type it ---------------------------------------------------------


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stack",
        nargs="?",
        metavar="STACK",
        help="the stack (prod, staging); or -s STACK, or PULUMI_STACK, as pulumi takes it",
    )
    parser.add_argument(
        "-s",
        "--stack",
        dest="stack_option",
        metavar="STACK",
        help="the stack, as `pulumi -s` takes it ([ORG/[PROJECT/]]STACK)",
    )


def resolve_stack(args: argparse.Namespace, project: Project) -> str:
    """STACK, -s STACK or PULUMI_STACK, in that order; two different ones are refused."""
    given = {
        shown: stack_name(value, project)
        for shown, value in (
            (args.stack, args.stack),
            (f"-s {args.stack_option}", args.stack_option),
        )
        if value
    }
    if len(set(given.values())) > 1:
        raise UsageError(f"two different stacks given: {' and '.join(given)}; give one")
    if given:
        return next(iter(given.values()))
    if os.environ.get("PULUMI_STACK"):
        return stack_name(os.environ["PULUMI_STACK"], project, "PULUMI_STACK=")
    known = ", ".join(project.stacks()) or "none"
    raise UsageError(f"name a stack: STACK, -s STACK or PULUMI_STACK (stacks here: {known})")


def stack_name(value: str, project: Project, label: str = "") -> str:
    """`prod`, `ORG/prod` or `ORG/PROJECT/prod` (as `pulumi -s`) → `prod`; another project's
    fully qualified stack is refused."""
    from vidgo_infra.stackfile import read_project_file

    parts = value.split("/")
    if len(parts) > 3 or not all(parts):
        raise UsageError(f"{label}{value!r} is not a stack name ([ORG/[PROJECT/]]STACK)")
    if len(parts) == 3:
        own = read_project_file(project.project_file).name
        if parts[1] != own:
            raise UsageError(
                f"{label}{value} is a stack of project {parts[1]}; this is project {own}"
            )
    return parts[-1]


# --- the project ---------------------------------------------------------------------------------


def _command_name(argv: list[str]) -> str | None:
    """The first word that names a command (skipping -C DIR)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _GLOBAL_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _command_module(name: str | None, project: Project | None, argv: list[str]):
    if not name or not (project or _asks_help(argv)):
        return None
    try:
        return load(name)
    except ModuleNotFoundError:  # `cost --help` outside a project: its options need the program
        if project is None:
            where = argparse.ArgumentParser(add_help=False)
            where.add_argument("-C", "--cwd", type=Path)
            require_program(find_project(where.parse_known_args(argv)[0].cwd))
        raise


def _asks_help(argv: list[str]) -> bool:
    return bool({"-h", "--help", "--version"} & set(argv))


def _project(argv: list[str], name: str | None) -> Project | None:
    """The project the command acts on (-C DIR, or the current directory), its code importable.

    None when there is none and only --help or --version was asked for, or no command was named
    (argparse then says what is missing).
    """
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("-C", "--cwd", type=Path)
    known, _ = where.parse_known_args(argv)
    try:
        project = find_project(known.cwd)
        require_program(project)
    except UsageError:
        if _asks_help(argv) or name is None:
            return None
        raise
    use_project_code(project.root)
    return project


def _report(message: str, command: str | None) -> None:
    prefix = f"vidgo-infra {command}: " if command else "vidgo-infra: "
    for line in message.splitlines():
        print(line if _LOCATED.match(line) else prefix + line, file=sys.stderr)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vidgo-infra")
    except PackageNotFoundError:
        return "(not installed)"
