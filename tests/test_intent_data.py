"""Data safety as intended: what a destroy leaves behind, what can be recovered, and how clients
reach the data stores. Each test names the property; the snapshot only shows the values."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from vidgo_infra.offline import Run

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_DATABASE = "gcp:sql/database:Database"
SQL_USER = "gcp:sql/user:User"
REDIS = "gcp:redis/instance:Instance"
BUCKET = "gcp:storage/bucket:Bucket"
SECRET = "gcp:secretmanager/secret:Secret"
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
API_SERVICE = "gcp:projects/service:Service"


def secret_value(run: Run, secret_id: str) -> str:
    """The value the program writes to a secret (the mocks' stand-ins for Google's values)."""
    (secret,) = [s for s in run.by_type(SECRET) if s.inputs["secretId"] == secret_id]
    (version,) = [v for v in run.by_type(VERSION) if v.parent == secret.urn]
    data = version.inputs.get("secretDataWo") or version.inputs["secretData"]  # write-only first
    return data["value"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_database_and_its_user_are_abandoned_not_dropped_on_destroy(stack, request):
    # Dropping a database or a role that owns objects fails, and Pulumi should not drop data
    # anyway: they go with the instance.
    run = request.getfixturevalue(stack)
    for type_ in (SQL_DATABASE, SQL_USER):
        assert run.one(type_).inputs["deletionPolicy"] == "ABANDON", type_


def test_prod_database_instance_is_protected_by_pulumi_and_by_cloud_sql(prod):
    instance = prod.one(SQL)
    assert instance.protect is True
    assert instance.inputs["deletionProtection"] is True
    assert instance.inputs["settings"]["deletionProtectionEnabled"] is True


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_database_keeps_point_in_time_recovery_logs(stack, request):
    backups = request.getfixturevalue(stack).one(SQL).inputs["settings"]["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["pointInTimeRecoveryEnabled"] is True
    assert 1 <= backups["transactionLogRetentionDays"] <= 7


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_query_insights_do_not_record_client_addresses(stack, request):
    insights = request.getfixturevalue(stack).one(SQL).inputs["settings"]["insightsConfig"]
    assert insights["recordClientAddress"] is False


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_api_reaches_redis_over_tls_with_the_auth_string(stack, request):
    url = urlsplit(secret_value(request.getfixturevalue(stack), "REDIS_URL"))
    assert url.scheme == "rediss"  # TLS; redis:// would be refused by the instance
    assert url.password == "mock-auth-string"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_api_reaches_the_database_over_the_cloud_sql_socket(stack, request):
    run = request.getfixturevalue(stack)
    url = urlsplit(secret_value(run, "DATABASE_URL"))
    assert url.scheme == "postgresql"
    assert not url.hostname  # no TCP host: the connection goes through /cloudsql
    connection = f"{run.one(SQL).inputs['project']}:asia-east1:{run.one(SQL).inputs['name']}"
    assert url.query == f"host=/cloudsql/{connection}"


def test_prod_redis_guards_its_own_deletion(prod):
    redis = prod.one(REDIS)
    assert redis.protect is True
    assert redis.inputs["deletionProtection"] is True


def test_prod_media_survives_destroy_and_deleted_objects_stay_recoverable(prod):
    bucket = prod.one(BUCKET)
    assert bucket.protect is True
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.inputs["softDeletePolicy"]["retentionDurationSeconds"] >= 7 * 86400


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_apis_stay_enabled_when_the_stack_is_destroyed(stack, request):
    for api in request.getfixturevalue(stack).by_type(API_SERVICE):
        assert api.inputs["disableOnDestroy"] is False, api.name
        assert api.inputs["disableDependentServices"] is False, api.name
