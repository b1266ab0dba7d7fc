"""Read `Pulumi.yaml` and `Pulumi.<stack>.yaml` strictly, as the tool's offline runs need them.

The Pulumi CLI reads the stack file and hands the program its config; offline, this module does
the CLI's part: the same values (full key → text, objects as JSON), with encrypted values as
marked stand-ins. Whatever the CLI would refuse is refused here with one line,
`file:line:col: what is wrong; what is allowed`, and so is a duplicate key, which YAML parsers
(and the CLI) silently resolve to the last one, losing the first block's settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidgo_infra.project import UsageError, shown

# The text an encrypted value stands for offline: the program sees that a value is set.
STAND_IN = "offline-stand-in-for-"
Location = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """YAML as Pulumi's CLI reads it: no timestamps (2026-01-01 stays text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class YamlFile:
    path: Path
    data: Any
    # Where each key (or item) starts: ("config", "vidgo-infra:database", "tier") → (line, col).
    marks: dict[Location, tuple[int, int]] = field(default_factory=dict)

    def where(self, location: Location = ()) -> str:
        """`file:line:col` of the nearest enclosing key that exists in the file."""
        for end in range(len(location), -1, -1):
            if location[:end] in self.marks:
                line, col = self.marks[location[:end]]
                return f"{shown(self.path)}:{line}:{col}"
        return f"{shown(self.path)}:1:1"


def read_yaml(path: Path) -> YamlFile:
    """Parse a YAML file, refusing duplicate keys; every problem is a one-line UsageError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{shown(path)}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{shown(path)}: cannot read it ({error})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        marks: dict[Location, tuple[int, int]] = {}
        if node is not None:
            _index(path, node, (), marks)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise UsageError(_syntax_error(path, error)) from None
    except yaml.YAMLError as error:
        raise UsageError(f"{shown(path)}:1:1: not valid YAML ({error})") from None
    finally:
        loader.dispose()
    return YamlFile(path, data, marks)


def _syntax_error(path: Path, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"{shown(path)}:{mark.line + 1}:{mark.column + 1}" if mark else f"{shown(path)}:1:1"
    problem = error.problem or "invalid YAML"
    if "'\\t'" in problem:
        return f"{where}: a tab character; YAML indents with spaces only"
    context = f" ({error.context})" if error.context else ""
    return f"{where}: YAML syntax error: {problem}{context}; a stack file is `key: value` lines"


def _index(path: Path, node: yaml.Node, here: Location, marks: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise UsageError(
                    f"{_at(path, key_node)}: a key that is not text; keys are names like domain"
                )
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise UsageError(
                    f"{_at(path, key_node)}: duplicate key {key} (lines {seen[key]} and {line}); "
                    "one entry per key: merge them, or the first one's settings are lost"
                )
            seen[key] = line
            marks[(*here, key)] = (line, key_node.start_mark.column + 1)
            _index(path, value_node, (*here, key), marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            marks[(*here, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _index(path, item, (*here, index), marks)


def _at(path: Path, node: yaml.Node) -> str:
    return f"{shown(path)}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"the value {json.dumps(value, default=str)}"


# ---------------------------------------------------------------------------------------------
# Pulumi.yaml


@dataclass(frozen=True)
class ProjectFile:
    name: str
    main: str  # the program's folder, relative to the project root


def read_project_file(path: Path) -> ProjectFile:
    document = read_yaml(path)
    data = document.data
    if not isinstance(data, dict):
        raise UsageError(
            f"{document.where()}: the file is {_kind(data)}; "
            "Pulumi.yaml is a mapping with name:, runtime: and main:"
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise UsageError(f"{document.where(('name',))}: name must be the project's name (text)")
    main = data.get("main") or "."
    if not isinstance(main, str):
        raise UsageError(f"{document.where(('main',))}: main must be a folder (text)")
    return ProjectFile(name, main)


# ---------------------------------------------------------------------------------------------
# Pulumi.<stack>.yaml


@dataclass
class StackFile:
    document: YamlFile
    values: dict[str, str] = field(default_factory=dict)  # full key → text, objects as JSON
    secret_keys: list[str] = field(default_factory=list)
    # Keys may be written without the project's namespace: full key → as written.
    written: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.document.path

    def where(self, location: Location) -> str:
        """The position of a config location (full key first, then the path inside it)."""
        key, *rest = location
        return self.document.where(("config", self.written.get(str(key), str(key)), *rest))


def read_stack_file(path: Path, project: str) -> StackFile:
    document = read_yaml(path)
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise UsageError(
            f"{document.where()}: the file is {_kind(data)}; a stack file is a mapping "
            "whose config: section maps keys to values (config:\\n  vidgo-infra:domain: vidgo.ai)"
        )
    config = data.get("config")
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise UsageError(
            f"{document.where(('config',))}: config is {_kind(config)}; config: must map keys "
            "to values, one per line (vidgo-infra:domain: vidgo.ai)"
        )
    stack_file = StackFile(document)
    for written, value in config.items():
        key = written if ":" in written else f"{project}:{written}"
        stack_file.written[key] = written
        secret = False
        if isinstance(value, dict) and set(value) == {"secure"}:
            value, secret = f"{STAND_IN}{key}", True
        elif isinstance(value, dict | list):
            value, secret = _nested_secrets(value, (key,))
        if secret:
            stack_file.secret_keys.append(key)
        # As the CLI hands config to a program: text as is, anything else as JSON.
        stack_file.values[key] = value if isinstance(value, str) else json.dumps(value)
    return stack_file


def _nested_secrets(value: Any, location: Location) -> tuple[Any, bool]:
    """`config set --secret --path a.b` nests {secure: ...}: each becomes a marked stand-in."""
    found = False

    def walk(item: Any, here: Location) -> Any:
        nonlocal found
        if isinstance(item, dict) and set(item) == {"secure"}:
            found = True
            return f"{STAND_IN}{_path(here)}"
        if isinstance(item, dict):
            return {k: walk(v, (*here, k)) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, (*here, i)) for i, v in enumerate(item)]
        return item

    return walk(value, location), found


def _path(location: Location) -> str:
    from stacks.loader import config_path  # the program's own spelling of --path keys

    return config_path(location)
