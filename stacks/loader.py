"""Stack config → `PlatformConfig`, or one clear line per problem.

Settings are read through Pulumi's config, so `pulumi config set --path database.tier db-f1-micro`
works as users expect. Each top-level field of the model is one key in the project's namespace
(`vidgo-infra:database`); the GCP project and region are the provider's own `gcp:project` and
`gcp:region`. Application keys (`SENDGRID_API_KEY`, ...) are not config at all: the bootstrap
declares their secrets and the operator adds the values with gcloud; a key of that name in the
stack file is refused, secret or not.

`validate` is the one entry point: the program (`load_stack`), the `vidgo-infra` tool (offline,
from the stack file) and the tests all validate a stack's config through it.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import ValidationError

from stacks.config import PlatformConfig

PROJECT_KEYS = {"project": "gcp:project", "region": "gcp:region"}


@dataclass(frozen=True)
class Problem:
    """One invalid setting: where (config key, then the path inside its value) and what is wrong."""

    location: tuple[str | int, ...]  # ("vidgo-infra:monitoring", "notification_emails", 0)
    message: str

    @property
    def key(self) -> str:
        """The key as `pulumi config set --path` takes it: `vidgo-infra:a.b[0]`."""
        return config_path(self.location)


def config_path(location: tuple[str | int, ...]) -> str:
    head, *rest = location
    path = str(head)
    for part in rest:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
    return path


class ConfigError(pulumi.RunError):
    """Invalid stack config. A RunError, so `pulumi up` prints the message without a traceback."""

    def __init__(self, stack_file: str, located: list[Problem]):
        self.stack_file = stack_file
        self.located = located
        self.problems = [f"{stack_file}: {p.key}: {p.message}" for p in located]
        super().__init__(
            "invalid stack configuration:\n" + "\n".join(f"  {p}" for p in self.problems)
        )


@dataclass(frozen=True)
class StackInputs:
    config: PlatformConfig


def load_stack() -> StackInputs:
    """Read and validate the current stack's config. Raises ConfigError before any resource."""
    values = _all_config()
    secret_keys = {key for key in values if pulumi.runtime.is_config_secret(key)}
    return StackInputs(validate(values, pulumi.get_project(), pulumi.get_stack(), secret_keys))


def validate(
    values: Mapping[str, Any],
    project: str,
    stack: str,
    secret_keys: Collection[str] | None = None,
) -> PlatformConfig:
    """A stack's config as Pulumi hands it to a program (full key → string, objects as JSON)
    → the validated model. Raises ConfigError with every problem, each on one line.

    An application key's name set in the stack file is a problem too: its value belongs in
    Secret Manager only. With `secret_keys` (the keys the stack file holds encrypted), one set
    in plain text is told apart: its value is committed in clear while every Pulumi command
    shows `[secret]`."""
    stack_file = f"Pulumi.{stack}.yaml"
    fields = PlatformConfig.model_fields.keys() - PROJECT_KEYS.keys()
    raw: dict[str, Any] = {}
    unknown: list[str] = []
    for full_key, value in values.items():
        namespace, _, key = full_key.partition(":")
        if full_key in PROJECT_KEYS.values():
            raw[key] = value
        elif namespace != project:
            continue
        elif key not in fields:
            unknown.append(key)
        else:
            raw[key] = _decoded(value)
    raw.setdefault("environment", stack)

    problems: list[Problem] = []
    config = None
    try:
        config = PlatformConfig.model_validate(raw)
    except ValidationError as error:
        problems += [_describe(item, project) for item in error.errors()]
    secret_names = (
        config.app_secrets if config else PlatformConfig.model_fields["app_secrets"].default
    )
    allowed = ", ".join(sorted(fields))
    problems += [
        Problem((f"{project}:{key}",), f"unknown key; allowed: {allowed}, or an app secret's name")
        for key in sorted(set(unknown) - set(secret_names))
    ]
    project_id = config.project if config else "PROJECT"
    problems += [
        Problem(
            (key,),
            app_key_message(
                key.partition(":")[2],
                stack,
                project_id,
                plain=secret_keys is not None and key not in secret_keys,
            ),
        )
        for key in sorted(f"{project}:{name}" for name in secret_names)
        if key in values
    ]
    if problems or config is None:
        raise ConfigError(stack_file, problems)
    return config


def app_key_message(name: str, stack: str, project: str, *, plain: bool) -> str:
    """One line: an application key found in the stack config, and how to move it out."""
    move = (
        f"move it with `pulumi config get --stack {stack} {name} | gcloud secrets versions add "
        f"{name} --project {project} --data-file=-`, then `pulumi config rm --stack {stack} {name}`"
    )
    if plain:
        return (
            "a plain value where a secret is expected (it is in the stack file in clear text): "
            f"{move}, and rotate it at its vendor (docs/configuration.md, 'Secret values')"
        )
    return (
        "application keys are not read from the stack config (the value would sit in state): "
        f"{move} (docs/configuration.md, 'Secret values')"
    )


def _decoded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # a plain string such as a domain name


def _all_config() -> dict[str, str]:
    # The SDK has no public "list keys"; these two are where the language host and
    # PULUMI_CONFIG put the stack's config, and they are needed to report unknown keys.
    return {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}


def _describe(error: Mapping[str, Any], project: str) -> Problem:
    location: list[str | int] = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    # Cross-field validators name the offending sub-key first: "connector_range: must be a /28".
    # A model-wide validator (field "") may name a nested key: "edge.armor.owasp_mode: ...".
    head, sep, rest = message.partition(": ")
    if sep and all(part.isidentifier() for part in head.split(".")):
        location, message = [*location, *head.split(".")], rest
    field = str(location[0]) if location else "?"
    key = PROJECT_KEYS.get(field, f"{project}:{field}")
    if error["type"] == "extra_forbidden":
        message = f"unknown key; allowed: {', '.join(_allowed_keys(error['loc']))}"
    elif error["type"] == "missing" and field in PROJECT_KEYS:
        message = f"required; set it with `pulumi config set {key} VALUE`"
    elif error["type"] == "missing":
        message = "required"
    else:
        message = _with_value(message, error.get("input"))
    return Problem((key, *location[1:]), message)


def _with_value(message: str, value: Any) -> str:
    """Pydantic's "Input should be X" → "got <the value>; must be X", without class names."""
    message = re.sub(r" or instance of \w+", "", message)
    message = message.replace("a valid dictionary", "a mapping of settings (key: value)")
    if not message.startswith("Input should be "):
        return message
    return f"got {_shown(value)}; must be {message.removeprefix('Input should be ')}"


def _shown(value: Any) -> str:
    text = (
        json.dumps(value) if isinstance(value, dict | list | bool) or value is None else repr(value)
    )
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(location: tuple[str | int, ...]) -> list[str]:
    """The keys a stack file may set where the unknown key at `location` was found."""
    model: typing.Any = PlatformConfig
    for part in location[:-1]:
        if isinstance(part, int):  # an item of a list of settings, such as media.lifecycle
            (model,) = typing.get_args(model)
        else:
            model = model.model_fields[part].annotation
    return sorted(model.model_fields)
