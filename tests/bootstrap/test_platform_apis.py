"""The bootstrap turns on every API the main program uses, before the program's first `up`.

Then the program's own `projects.Service` resources find them enabled and only read, so the
load balancer does not wait for an API's enable operation (benchmarks/first_deploy.py).
"""

from __future__ import annotations

import runpy

import pytest
from pulumi import RunError

from components.project_services import PLATFORM_APIS
from tests.bootstrap.harness import BOOTSTRAP, Run, stack_file
from tests.kit import API_SERVICE

SERVICE = API_SERVICE
# Enabled by the program only where a stack declares a budget: the bootstrap does not know.
PROGRAM_ONLY = {"billingbudgets.googleapis.com"}


def enabled(run: Run) -> dict[str, dict]:
    return {r.inputs["service"]: r.inputs for r in run.by_type(SERVICE)}


@pytest.fixture(params=["bootstrap_prod", "bootstrap_staging"])
def bootstrap(request) -> Run:
    return request.getfixturevalue(request.param)


def test_every_platform_api_is_enabled_by_the_bootstrap_and_never_disabled(bootstrap):
    apis = enabled(bootstrap)
    assert set(PLATFORM_APIS) <= set(apis), sorted(set(PLATFORM_APIS) - set(apis))
    for api in PLATFORM_APIS:
        assert apis[api]["project"] == stack_file(bootstrap.stack)["gcp:project"]
        # Turning one off on `boot destroy` would break the platform running in the project.
        assert apis[api]["disableOnDestroy"] is False


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_api_the_program_declares_is_on_before_its_first_up(request, stack):
    """From what the program declares, not from the list: an API added elsewhere fails here."""
    program = enabled(request.getfixturevalue(stack))
    bootstrapped = enabled(request.getfixturevalue(f"bootstrap_{stack}"))
    missing = set(program) - set(bootstrapped) - PROGRAM_ONLY
    assert not missing, f"the {stack} program enables APIs the bootstrap does not: {missing}"


def test_the_list_is_read_from_the_program_and_a_non_literal_one_stops_the_bootstrap(tmp_path):
    read = runpy.run_path(str(BOOTSTRAP / "platform_apis.py"))["platform_apis"]
    assert read() == PLATFORM_APIS
    computed = tmp_path / "project_services.py"
    computed.write_text("PLATFORM_APIS = tuple(sorted(OTHER))\n")
    with pytest.raises(RunError, match="PLATFORM_APIS must be a literal tuple"):
        read(computed)
