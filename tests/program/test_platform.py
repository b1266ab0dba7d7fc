"""The platform's frame: every resource sits under a vidgo:platform component and waits for the
Google API it calls, and the APIs the seed needs (and forgot) are enabled and stay enabled."""

from __future__ import annotations

import re

import pytest

from tests.kit import API_SERVICE, STACKS
from vidgo_infra.offline import Run

# Seed, section 3.1 ...
SEED_APIS = {
    "run.googleapis.com",
    "sql-component.googleapis.com",
    "sqladmin.googleapis.com",
    "redis.googleapis.com",
    "storage.googleapis.com",
    "compute.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "secretmanager.googleapis.com",
    "monitoring.googleapis.com",
    "logging.googleapis.com",
}
# ... and what the seed's own resources need that it forgot.
FORGOTTEN_APIS = {
    "servicenetworking.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
}
# The API each provider module calls. A gcp: module not listed here must still wait for at
# least one API (test_every_google_resource_waits_for_its_api).
MODULE_API = {
    "sql": "sqladmin.googleapis.com",
    "redis": "redis.googleapis.com",
    "storage": "storage.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "compute": "compute.googleapis.com",
    "vpcaccess": "vpcaccess.googleapis.com",
    "dns": "dns.googleapis.com",
    "servicenetworking": "servicenetworking.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "projects": "cloudresourcemanager.googleapis.com",
    "cloudrunv2": "run.googleapis.com",
    "monitoring": "monitoring.googleapis.com",
    "logging": "logging.googleapis.com",
}


@pytest.fixture(params=STACKS)
def run(request) -> Run:
    return request.getfixturevalue(request.param)


def api_urns(run: Run) -> dict[str, str]:
    return {r.inputs["service"]: r.urn for r in run.by_type(API_SERVICE)}


# --- project APIs ---------------------------------------------------------------------------


def test_every_needed_api_is_enabled_and_never_disabled(run):
    services = run.by_type(API_SERVICE)
    assert {s.inputs["service"] for s in services} >= SEED_APIS | FORGOTTEN_APIS
    # The provider's default is to disable the API on destroy.
    assert not [s.name for s in services if s.inputs.get("disableOnDestroy") is not False]
    assert not [s.name for s in services if s.inputs["disableDependentServices"] is not False]


def test_every_google_resource_waits_for_its_api(run):
    apis = api_urns(run)
    any_api = set(apis.values())
    late = []
    for resource in run.resources.values():
        if not resource.type.startswith("gcp:") or resource.type == API_SERVICE:
            continue
        module = resource.type.split(":")[1].split("/")[0]
        needed = {apis.get(MODULE_API[module])} if module in MODULE_API else any_api
        if not needed & set(resource.dependencies):
            late.append(f"{resource.name} ({MODULE_API.get(module, 'any API')})")
    assert not late, f"may be created before its API is enabled: {late}"


# --- structure ------------------------------------------------------------------------------

COMPONENT_TYPE = re.compile(r"vidgo:platform:[A-Z][A-Za-z0-9]*")


def test_every_component_has_a_platform_type_token(run):
    components = [r for r in run.resources.values() if not r.custom]
    assert components
    bad = [r.type for r in components if not COMPONENT_TYPE.fullmatch(r.type)]
    assert not bad


def test_every_resource_belongs_to_a_platform_component(run):
    orphans = []
    for resource in run.resources.values():
        if not resource.custom:
            continue
        parent = run.resources.get(resource.parent or "")
        while parent is not None and not COMPONENT_TYPE.fullmatch(parent.type):
            parent = run.resources.get(parent.parent or "")
        if parent is None:
            orphans.append(resource.name)
    assert not orphans, f"not under a vidgo:platform component: {orphans}"
