"""Stack config: both stack files load, prod is the seed, staging differs only where its file
says, a bad config stops the program before any resource with one message per problem, and a
weaker choice is allowed only by name (accept_weaker), warned once in the plan."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pulumi
import pulumi.resource
import pytest
import yaml

from stacks.config import PlatformConfig
from stacks.loader import PROJECT_KEYS, ConfigError
from tests.kit import (
    BUCKET,
    CERTIFICATE,
    REDIS,
    ROOT,
    SQL_DATABASE,
    SQL_INSTANCE,
    SQL_USER,
    STACK,
    STACKS,
    SUBNET,
    URL_MAP,
    VPC,
    refused,
    run_with,
)
from vidgo_infra.offline import Run, project_name, run_program, stacks

# The seed's section 3.2, step 4 (cors.json), in the provider's input names, with www: the
# site is served there too, so its pages fetch media from there.
SEED_CORS = [
    {
        "origins": ["https://vidgo.ai", "https://www.vidgo.ai", "https://api.vidgo.ai"],
        "methods": ["GET", "PUT", "POST", "DELETE"],
        "responseHeaders": ["Content-Type"],
        "maxAgeSeconds": 3600,
    }
]


def stack_file(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


class _Loaded(Exception):
    """Stops a program once its config is validated: nothing needs declaring."""


@cache
def loaded(stack: str) -> PlatformConfig:
    """What the program's loader made of the stack file: the real program runs until the loader
    has validated the config, and stops there."""
    seen: list[PlatformConfig] = []
    validate = PlatformConfig.model_validate

    def record(raw, *args, **kwargs):
        seen.append(validate(raw, *args, **kwargs))
        raise _Loaded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PlatformConfig, "model_validate", record)
        with pytest.raises(_Loaded):
            run_program(stack)
    assert len(seen) == 1
    return seen[0]


def run_of(stack: str, request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(stack) if stack in ("prod", "staging") else run_program(stack)


def leaves(value: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """A nested dict as {key path: value}; lists and empty dicts are values."""
    if isinstance(value, dict) and value:
        found: dict[tuple[str, ...], Any] = {}
        for key, item in value.items():
            found |= leaves(item, (*prefix, str(key)))
        return found
    return {prefix: value}


def file_leaves(stack: str) -> dict[tuple[str, ...], Any]:
    """The stack file's settings by model field path (`gcp:project` is the field `project`)."""
    fields = {key: field for field, key in PROJECT_KEYS.items()}
    project = project_name()
    settings: dict[str, Any] = {}
    for key, value in stack_file(stack).items():
        if key in fields:
            settings[fields[key]] = value
        else:
            namespace, _, name = key.partition(":")
            assert namespace == project, f"{key}: not a key the program reads"
            settings[name] = value
    return leaves(settings)


# --- both stack files load ------------------------------------------------------------------


@pytest.mark.parametrize("stack", stacks())
def test_every_stack_file_loads_and_declares_the_platform(stack, request):
    run = run_of(stack, request)
    file = stack_file(stack)
    instance = run.one(SQL_INSTANCE)
    assert instance.inputs["project"] == file["gcp:project"]
    assert instance.inputs["region"] == file["gcp:region"]
    assert run.outputs["registry_path"].startswith(f"{file['gcp:region']}-docker.pkg.dev/")


@pytest.mark.parametrize("stack", STACKS)
def test_resources_are_labelled_with_the_stack_name_as_environment(stack, request):
    # The one setting no stack file carries: `environment` defaults to the stack's name.
    labels = request.getfixturevalue(stack).one(SQL_INSTANCE).inputs["settings"]["userLabels"]
    assert labels["environment"] == stack


# --- prod is the seed -----------------------------------------------------------------------


def test_prod_declares_everything_in_the_seeds_project_and_region(prod):
    projects = {r.inputs["project"] for r in prod.resources.values() if "project" in r.inputs}
    regions = {r.inputs["region"] for r in prod.resources.values() if "region" in r.inputs}
    assert projects == {"vidgo-ai-prod"}
    assert regions == {"asia-east1"}


def test_prod_serves_the_seeds_hosts(prod):
    certified = {
        domain for cert in prod.by_type(CERTIFICATE) for domain in cert.inputs["managed"]["domains"]
    }
    routed = {
        host
        for url_map in prod.by_type(URL_MAP)
        for rule in url_map.inputs.get("hostRules", [])
        for host in rule["hosts"]
    }
    assert certified == {"vidgo.ai", "www.vidgo.ai", "api.vidgo.ai"}
    assert routed == certified


def test_prod_network_is_the_seeds(prod):
    assert prod.one(VPC).inputs["name"] == "vidgo-vpc"
    subnet = prod.one(SUBNET).inputs
    assert subnet["region"] == "asia-east1"


def test_prod_database_is_the_seeds(prod):
    instance = prod.one(SQL_INSTANCE).inputs
    settings = instance["settings"]
    assert instance["name"] == "vidgo-db"
    assert instance["databaseVersion"] == "POSTGRES_15"
    assert settings["tier"] == "db-g1-small"
    assert settings["diskSize"] == 10
    assert settings["diskType"] == "PD_SSD"
    assert settings["diskAutoresize"] is True
    assert settings["backupConfiguration"]["startTime"] == "03:00"
    assert settings["availabilityType"] == "ZONAL"
    assert prod.one(SQL_DATABASE).inputs["name"] == "vidgo"
    assert prod.one(SQL_USER).inputs["name"] == "vidgo_user"


def test_prod_redis_is_the_seeds(prod):
    redis = prod.one(REDIS).inputs
    assert redis["name"] == "vidgo-redis"
    assert redis["redisVersion"] == "REDIS_7_0"
    # The seed's Basic tier is STANDARD_HA in prod (the decision: stacks/config.py, RedisConfig).
    assert redis["tier"] == "STANDARD_HA"
    assert redis["memorySizeGb"] == 1


def test_prod_bucket_is_the_seeds(prod):
    bucket = prod.one(BUCKET).inputs
    assert bucket["name"] == "vidgo-media-prod"
    assert bucket["location"] == "ASIA-EAST1"
    assert bucket["cors"] == SEED_CORS


# --- staging differs only where its file says -----------------------------------------------


def test_staging_differs_from_prod_only_where_its_file_says():
    # Pulumi.staging.yaml: "Anything not listed is as in production."
    prod = leaves(loaded("prod").model_dump(mode="json"))
    staging = leaves(loaded("staging").model_dump(mode="json"))
    staging_sets = set(file_leaves("staging"))
    differing = {
        path for path in prod.keys() | staging.keys() if prod.get(path) != staging.get(path)
    }
    # The environment is the stack's name, not a setting (test_resources_are_labelled_with_...).
    unexplained = {
        ".".join(path)
        for path in differing - {("environment",)}
        if not any(path[: len(key)] == key for key in staging_sets)
    }
    assert differing, "staging is identical to prod"
    assert not unexplained, f"staging differs from prod where its file says nothing: {unexplained}"


def test_staging_file_is_applied_as_written():
    model = leaves(loaded("staging").model_dump(mode="json"))
    for path, value in file_leaves("staging").items():
        assert model.get(path) == value, f"{'.'.join(path)}: {model.get(path)!r} != {value!r}"


# --- bad config -----------------------------------------------------------------------------

# (stack, config changes, the key path the message must name, what it must say is allowed)
INVALID = [
    pytest.param(
        "staging",
        {"vidgo-infra:database": {"tier": 5}},
        "vidgo-infra:database.tier",
        "'5' is not a Cloud SQL Enterprise tier: db-f1-micro",
        id="tier-not-a-tier",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:database": "db-f1-micro"},
        "vidgo-infra:database",
        "got 'db-f1-micro'; must be a mapping of settings (key: value)",
        id="section-not-a-mapping",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:monitoring": {"notification_emails": ["ops@vidgo.ai", "ops"]}},
        "vidgo-infra:monitoring.notification_emails[1]",
        "'ops' is not an e-mail address",
        id="list-item-pasteable-path",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:dns_zone": "example.com"},
        "vidgo-infra:domain",
        "staging.vidgo.ai is not inside dns_zone example.com",
        id="cross-field-at-the-top",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:redis": {"memory_size_gb": "big"}},
        "vidgo-infra:redis.memory_size_gb",
        "got 'big'; must be a valid integer",
        id="memory-not-an-integer",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:database": {"tierr": "db-f1-micro"}},
        "vidgo-infra:database.tierr",
        "tier",
        id="unknown-nested-key",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:databse": {"tier": "db-f1-micro"}},
        "vidgo-infra:databse",
        "allowed: ",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:network": {"connector_range": "10.8.0.0/28"}},
        "vidgo-infra:network.connector_range",
        "the VPC connector is gone (Cloud Run uses Direct VPC egress on network.subnet_range)",
        id="connector-key-of-an-old-stack-file",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:network": {"subnet_range": "10.140.0.300/20"}},
        "vidgo-infra:network.subnet_range",
        "CIDR range like 10.8.0.0/28",
        id="malformed-cidr",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:network": {"private_services_range": "10.140.0.0/16"}},
        "vidgo-infra:network.subnet_range",
        "overlaps private_services_range",
        id="overlapping-ranges",
    ),
    pytest.param(
        "prod",
        {"vidgo-infra:services": {"api": {"max_instances": 60}}},
        "vidgo-infra:services.api.max_instances",
        "60 API instances x a pool of at least 2 + 3 reserved + 2 migrations + 5 operator "
        "margin = 130 database connections, over db-g1-small's 50; lower "
        "services.api.max_instances to 20, raise database.tier",
        id="prod-api-60-instances-on-db-g1-small",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:network": {"subnet_range": "10.140.0.0/27"}},
        "vidgo-infra:network.subnet_range",
        "smaller than the /26 Direct VPC egress needs",
        id="subnet-too-small-for-direct-vpc-egress",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:domain": "Vidgo_AI"},
        "vidgo-infra:domain",
        "domain name like vidgo.ai",
        id="malformed-domain",
    ),
    pytest.param(
        "staging",
        {"gcp:region": "europe-moon1"},
        "gcp:region",
        "known GCP region (for example asia-east1",
        id="unknown-region",
    ),
    pytest.param(
        "prod",
        {"gcp:region": "europe-moon1"},
        "gcp:region",
        "known GCP region (for example asia-east1",
        id="unknown-region-prod",
    ),
    pytest.param(
        "staging",
        {"gcp:project": None},
        "gcp:project",
        "required",
        id="missing-project",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:database": {"backup_retention_count": 0}},
        "vidgo-infra:database.backup_retention_count",
        "greater than or equal to 1",
        id="retention-zero",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:services": {"api": {"min_instances": 3, "max_instances": 2}}},
        "vidgo-infra:services.api.min_instances",
        "above max_instances (2)",
        id="api-min-above-max",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:redis": {"tier": "PREMIUM"}},
        "vidgo-infra:redis.tier",
        "'BASIC' or 'STANDARD_HA'",
        id="redis-tier-literal",
    ),
    pytest.param(
        "staging",
        {"vidgo-infra:media": {"lifecycle": [{"action": "SetStorageClass", "age_days": 30}]}},
        "vidgo-infra:media.lifecycle[0].storage_class",
        "required with action SetStorageClass",
        id="lifecycle-move-without-class",
    ),
]


def rejected(stack: str, changes: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        run_with(stack, changes)
    return caught.value


@pytest.mark.parametrize(("stack", "changes", "key", "allowed"), INVALID)
def test_invalid_config_is_rejected_with_one_message_naming_key_file_and_what_is_allowed(
    stack, changes, key, allowed
):
    error = rejected(stack, changes)
    assert len(error.problems) == 1, error.problems
    [problem] = error.problems
    assert problem.startswith(f"Pulumi.{stack}.yaml: {key}: "), problem
    assert allowed in problem.removeprefix(f"Pulumi.{stack}.yaml: {key}: "), problem
    assert problem in str(error)
    assert not re.search(r"\b[A-Z][a-z]+Config\b|instance of", problem), problem  # no class names


def test_every_problem_is_reported_once():
    error = rejected(
        "staging",
        {
            "gcp:region": "europe-moon1",
            "vidgo-infra:databse": {"tier": "db-f1-micro"},
            "vidgo-infra:database": {"tier": 5},
            "vidgo-infra:redis": {"tier": "PREMIUM"},
            "vidgo-infra:network": {"connector_range": "10.8.0.0/27"},
        },
    )
    keys = [
        "gcp:region",
        "vidgo-infra:databse",
        "vidgo-infra:database.tier",
        "vidgo-infra:redis.tier",
        "vidgo-infra:network.connector_range",
    ]
    assert len(error.problems) == len(keys), error.problems
    for key in keys:
        named = [p for p in error.problems if p.startswith(f"Pulumi.staging.yaml: {key}: ")]
        assert len(named) == 1, (key, error.problems)


def test_error_is_a_run_error_without_traceback():
    error = rejected("staging", {"vidgo-infra:redis": {"tier": "PREMIUM"}})
    # The language host prints a RunError's message alone; any other exception with a traceback.
    assert isinstance(error, pulumi.RunError)
    assert "Traceback" not in str(error)
    assert 'File "' not in str(error)


@pytest.fixture
def registrations(monkeypatch) -> list[str]:
    """The type of every resource the program constructs, recorded as it is constructed (before
    any registration is awaited), so a resource declared just before a failure is seen too."""
    seen: list[str] = []
    register = pulumi.resource.register_resource

    def record(resource, type_, *args, **kwargs):
        seen.append(type_)
        return register(resource, type_, *args, **kwargs)

    monkeypatch.setattr(pulumi.resource, "register_resource", record)
    return seen


# The connector's keys as stack files written before Direct VPC egress set them.
OLD_CONNECTOR_SETTINGS = {
    "connector_name": "vidgo-connector",
    "connector_range": "10.8.0.0/28",
    "connector_machine_type": "e2-micro",
    "connector_min_instances": 2,
    "connector_max_instances": 3,
}


@pytest.mark.parametrize("key", OLD_CONNECTOR_SETTINGS)
def test_every_key_of_the_old_connector_says_it_is_gone(key):
    (problem,) = refused("staging", {"vidgo-infra:network": {key: OLD_CONNECTOR_SETTINGS[key]}})
    assert problem.startswith(f"Pulumi.staging.yaml: vidgo-infra:network.{key}: "), problem
    assert "the VPC connector is gone" in problem


def test_invalid_config_declares_no_resource(registrations):
    rejected("staging", {"vidgo-infra:database": {"tier": 5}, "gcp:region": "europe-moon1"})
    assert registrations == [STACK]


def test_the_registration_probe_sees_a_valid_program(registrations):
    # Control for the test above: the same probe, a valid config, the platform's resources.
    run_with("staging", {})
    assert SQL_INSTANCE in registrations


# --- weaker choices are named, and warned about once each ----------------------------------------


def test_unprotected_prod_is_refused_unless_named():
    (problem,) = refused("prod", {"vidgo-infra:protect": False})
    assert problem.startswith("Pulumi.prod.yaml: vidgo-infra:protect: ")
    assert "accept_weaker: [unprotected]" in problem


def test_naming_a_choice_the_stack_does_not_make_is_refused():
    (problem,) = refused("prod", {"vidgo-infra:accept_weaker": ["no-hsts"]})
    assert problem.startswith("Pulumi.prod.yaml: vidgo-infra:accept_weaker: ")
    assert "no-hsts" in problem


def test_prod_makes_no_weaker_choice(warnings):
    run_with("prod", {})
    from_prod = list(warnings)
    run_with("staging", {})  # which does warn: the capture works
    assert len(warnings) > len(from_prod), "the program's warnings were not captured"
    assert not [w for w in from_prod if "accept_weaker" in w]


def test_staging_names_its_weaker_choices_and_each_is_warned_once(warnings):
    run_with("staging", {})
    weaker = [w for w in warnings if w.startswith("weaker by choice")]
    assert weaker == [
        "weaker by choice (accept_weaker: unprotected): protect: stateful resources have no "
        "protect or deletion guard: a destroy deletes data",
        "weaker by choice (accept_weaker: owasp-preview): edge.armor.owasp_mode: OWASP rules "
        "only log (preview): the WAF blocks nothing",
    ]
