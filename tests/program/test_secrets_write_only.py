"""Every secret value the program writes goes through a write-only input, and rotates.

With `secret_data_wo` (and `password_wo` for the SQL user) a refresh never reads a payload
back, so the preview identity needs no `secretmanager.versions.access` (the bootstrap's tests
check it holds none). The version counter must follow the value: a new value (here a new
database name in DATABASE_URL) gives a new counter, hence a new version and a new API revision,
and the counter itself stays secret. The application keys are not written by the program at
all (tests/bootstrap/test_app_secrets.py).
"""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from tests.kit import SECRET, SECRET_VERSION, SQL_USER, run_with
from vidgo_infra.inventory import inventory
from vidgo_infra.offline import Run

VERSION = SECRET_VERSION
SECRET = SECRET
SQL_USER = SQL_USER
SERVICE = "gcp:cloudrunv2/service:Service"
DATABASE = "vidgo-infra:database"
FIRST, SECOND = "vidgo_first_offline_name", "vidgo_second_offline_name"


@pytest.fixture(scope="module")
def first() -> Run:
    return run_with("prod", {DATABASE: {"database_name": FIRST}})


@pytest.fixture(scope="module")
def again() -> Run:
    return run_with("prod", {DATABASE: {"database_name": FIRST}})


@pytest.fixture(scope="module")
def rotated() -> Run:
    return run_with("prod", {DATABASE: {"database_name": SECOND}})


def url_version(run: Run):
    (secret,) = [s for s in run.by_type(SECRET) if s.inputs["secretId"] == "DATABASE_URL"]
    (version,) = [v for v in run.children(secret) if v.type == VERSION]
    return version


@pytest.mark.parametrize("stack", ["prod", "staging", "first"])
def test_every_secret_version_takes_its_value_write_only(stack, request):
    run = request.getfixturevalue(stack)
    versions = run.by_type(VERSION)
    # DB_PASSWORD, DATABASE_URL, REDIS_URL, REDIS_CA_CERT, MEDIA_URL_SIGNING_KEY at least.
    assert len(versions) >= 5
    for version in versions:
        assert "secretData" not in version.inputs, version.name  # would be read back
        assert rpc.is_rpc_secret(version.inputs["secretDataWo"]), version.name
        counter = version.inputs["secretDataWoVersion"]
        assert rpc.is_rpc_secret(counter), f"{version.name}: its counter is derived from the value"
        # The provider's schema types it as an integer (google-beta v7.45.0, TypeInt); 48 bits
        # travel exactly as the RPC's double.
        value = rpc.unwrap_rpc_secret(counter)
        assert isinstance(value, int | float) and value == int(value) and 0 <= value < 2**48


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_sql_user_takes_its_password_write_only(stack, request):
    user = request.getfixturevalue(stack).one(SQL_USER)
    assert "password" not in user.inputs
    assert rpc.is_rpc_secret(user.inputs["passwordWo"])
    counter = user.inputs["passwordWoVersion"]
    assert rpc.is_rpc_secret(counter)
    assert isinstance(rpc.unwrap_rpc_secret(counter), int | float)


def test_a_new_value_gives_a_new_counter_and_the_same_value_the_same(first, again, rotated):
    counter = lambda run: rpc.unwrap_rpc_secret(url_version(run).inputs["secretDataWoVersion"])  # noqa: E731
    assert counter(first) == counter(again), "an unchanged value must not roll a new version"
    assert counter(first) != counter(rotated), "a new value must roll a new version"


def test_a_new_value_rolls_the_api_to_the_new_version(first):
    # The revision reads the version Pulumi wrote, by number: a replaced version (a new
    # counter) is a new number, hence a new revision.
    (api,) = [s for s in first.by_type(SERVICE) if s.inputs["name"] == "vidgo-api"]
    envs = {e["name"]: e for e in api.inputs["template"]["containers"][0]["envs"]}
    version = url_version(first)
    assert version.urn in api.dependencies
    assert envs["DATABASE_URL"]["valueSource"]["secretKeyRef"]["version"] == "1"


def test_neither_the_value_nor_its_counter_is_in_the_plain_inventory(first):
    text = str(inventory(first))
    value = rpc.unwrap_rpc_secret(url_version(first).inputs["secretDataWo"])
    counter = str(rpc.unwrap_rpc_secret(url_version(first).inputs["secretDataWoVersion"]))
    assert FIRST in value  # the case is real: the name is part of the written URL
    assert value not in text
    assert counter not in text
