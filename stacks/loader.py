"""Stack config → `PlatformConfig`, or one clear message per problem.

Settings are read through Pulumi's config, so `pulumi config set --path database.tier db-f1-micro`
works as users expect. Each top-level field of the model is one key in the project's namespace
(`vidgo-infra:database`); the GCP project and region are the provider's own `gcp:project` and
`gcp:region`. Application secret values are secret keys named after the secret
(`pulumi config set --secret SENDGRID_API_KEY ...`) and never enter the model.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass

import pulumi
from pydantic import ValidationError

from stacks.config import PlatformConfig

PROJECT_KEYS = {"project": "gcp:project", "region": "gcp:region"}


class ConfigError(pulumi.RunError):
    """Invalid stack config. A RunError, so `pulumi up` prints the message without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class StackInputs:
    config: PlatformConfig
    # Secret name → its value from the stack's encrypted config; absent when not set there.
    secret_values: dict[str, pulumi.Output[str]]


def load_stack() -> StackInputs:
    """Read and validate the current stack's config. Raises ConfigError before any resource."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    stack_file = f"Pulumi.{stack}.yaml"
    raw, unknown = _read_namespace(project)
    problems: list[str] = []
    gcp = pulumi.Config("gcp")
    for field, key in PROJECT_KEYS.items():
        value = gcp.get(key.split(":")[1])
        if value is not None:  # when unset, the model reports it once (see _describe)
            raw[field] = value
    raw.setdefault("environment", stack)

    config = None
    try:
        config = PlatformConfig.model_validate(raw)
    except ValidationError as error:
        problems += [_describe(item, project, stack_file) for item in error.errors()]
    secret_names = (
        config.app_secrets if config else PlatformConfig.model_fields["app_secrets"].default
    )
    allowed = ", ".join(sorted(PlatformConfig.model_fields.keys() - PROJECT_KEYS.keys()))
    problems += [
        f"{stack_file}: {project}:{key}: unknown key (allowed: {allowed}, or an app secret's name)"
        for key in sorted(unknown - set(secret_names))
    ]
    if problems or config is None:
        raise ConfigError(problems)

    app_config = pulumi.Config()
    values = {name: app_config.get_secret(name) for name in config.app_secrets}
    return StackInputs(config, {name: value for name, value in values.items() if value is not None})


def _read_namespace(project: str) -> tuple[dict, set[str]]:
    """The stack's `<project>:<key>` values (JSON decoded) by model field, and the unknown keys."""
    fields = PlatformConfig.model_fields.keys() - PROJECT_KEYS.keys()
    raw: dict = {}
    unknown: set[str] = set()
    for full_key, value in _all_config().items():
        namespace, _, key = full_key.partition(":")
        if namespace != project:
            continue
        if key not in fields:
            unknown.add(key)
            continue
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value  # a plain string such as a domain name
    return raw, unknown


def _all_config() -> dict[str, str]:
    # The SDK has no public "list keys"; these two are where the language host and
    # PULUMI_CONFIG put the stack's config, and they are needed to report unknown keys.
    return {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}


def _describe(error: dict, project: str, stack_file: str) -> str:
    location = [str(part) for part in error["loc"]]
    field = location[0] if location else ""
    key = PROJECT_KEYS.get(field, f"{project}:{field}")
    path = ".".join([key, *location[1:]])
    message = error["msg"].removeprefix("Value error, ")
    # Cross-field validators name the offending sub-key first: "connector_range: must be a /28".
    # A model-wide validator (field "") may name a nested key: "edge.armor.owasp_mode: ...".
    head, sep, rest = message.partition(": ")
    if sep and all(part.isidentifier() for part in head.split(".")):
        path, message = (f"{path}.{head}" if field else f"{key}{head}"), rest
    if error["type"] == "extra_forbidden":
        message = f"unknown key (allowed: {', '.join(_allowed_keys(error['loc']))})"
    elif error["type"] == "missing" and field in PROJECT_KEYS:
        message = f"required (set it with `pulumi config set {key}`)"
    elif error["type"] == "missing":
        message = "required"
    return f"{stack_file}: {path}: {message}"


def _allowed_keys(location: tuple[str | int, ...]) -> list[str]:
    """The keys a stack file may set where the unknown key at `location` was found."""
    model: typing.Any = PlatformConfig
    for part in location[:-1]:
        if isinstance(part, int):  # an item of a list of settings, such as media.lifecycle
            (model,) = typing.get_args(model)
        else:
            model = model.model_fields[part].annotation
    return sorted(model.model_fields)
