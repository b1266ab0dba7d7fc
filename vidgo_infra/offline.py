"""Run the real program under Pulumi's unit-test mocks: no credentials, no CLI, no network.

This is what `vidgo-infra plan` and the tests use. The program is started the way Pulumi's Python
host starts it (`runpy.run_path` on the `main:` folder of Pulumi.yaml, with the stack's config set
from `Pulumi.<stack>.yaml`), so the code that runs here is the code `pulumi up` runs.

What it is not: a diff against what is deployed. Values the provider computes (addresses, URLs,
connection names) are stand-ins from `COMPUTED`, and are reported as known only after `pulumi up`.
"""

from __future__ import annotations

import logging
import runpy
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor

from vidgo_infra.project import Project, find_project
from vidgo_infra.stackfile import STAND_IN, StackFile, read_project_file, read_stack_file

SECRET = "[secret]"
# Stand-in for a value the provider computes at `pulumi up`; printed as "(known after up)".
PLACEHOLDER_IP = "203.0.113.10"  # TEST-NET-3: never a real address

COMPUTED: dict[str, dict[str, Any]] = {
    "gcp:compute/globalAddress:GlobalAddress": {"address": PLACEHOLDER_IP},
    "gcp:sql/databaseInstance:DatabaseInstance": {
        "privateIpAddress": "10.16.0.3",
    },
    "gcp:redis/instance:Instance": {
        "host": "10.16.1.4",
        "port": 6378,
        "authString": "mock-auth-string",
        "serverCaCerts": [{"cert": "-----MOCK CA-----"}],
    },
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": {"uptimeCheckId": "mock-uptime-id"},
}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value))
    return {value} if isinstance(value, str) else set()


# Every value the mocks make up for Google, which a report must mark rather than show as real.
STAND_INS = frozenset(_strings(COMPUTED))
MOCK_URI_MARK = "-mock-"


def is_stand_in(value: Any) -> bool:
    return isinstance(value, str) and (value in STAND_INS or MOCK_URI_MARK in value)


class PlatformMocks(Mocks):
    """Echo inputs back as outputs, plus the few values Google computes."""

    def __init__(self, project: str, region: str):
        self.project, self.region = project, region

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        state = {**args.inputs, **COMPUTED.get(args.typ, {})}
        name = state.setdefault("name", args.name)  # stands in for provider autonaming
        if args.typ == "gcp:sql/databaseInstance:DatabaseInstance":
            state["connectionName"] = f"{self.project}:{self.region}:{name}"
        elif args.typ == "gcp:serviceaccount/account:Account":
            state["email"] = f"{args.inputs['accountId']}@{self.project}.iam.gserviceaccount.com"
            state["member"] = f"serviceAccount:{state['email']}"
        elif args.typ == "gcp:cloudrunv2/service:Service":
            state["uri"] = f"https://{name}{MOCK_URI_MARK}{self.region}.a.run.app"
        elif args.typ == "gcp:secretmanager/secretVersion:SecretVersion":
            state["version"] = "1"
        elif args.typ == "gcp:vpcaccess/connector:Connector":
            state["selfLink"] = f"projects/{self.project}/locations/{self.region}/connectors/{name}"
        elif args.typ == "gcp:certificatemanager/dnsAuthorization:DnsAuthorization":
            # The CNAME Google asks for: its name follows from the domain, its value does not.
            domain = args.inputs["domain"]
            state["dnsResourceRecords"] = [
                {
                    "name": f"_acme-challenge.{domain}.",
                    "type": "CNAME",
                    "data": f"{name}{MOCK_URI_MARK}0.authorize.certificatemanager.goog.",
                }
            ]
        elif args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = "mock-password"
        elif args.typ == "random:index/randomBytes:RandomBytes":
            state["base64"] = "bW9jay1zaWduaW5nLWtleQ+/"
        state.setdefault("id", f"{name}-id")
        return state["id"], state

    def call(self, args: MockCallArgs) -> tuple[dict, list]:
        if args.token == "gcp:organizations/getProject:getProject":
            return {"number": "123456789012", "projectId": self.project}, []
        return {}, []


@dataclass
class Resource:
    """One registration: what `pulumi preview` would list, with the inputs the program gave."""

    urn: str
    id: str  # the physical id; the mocks make it "<name>-id"
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    retain_on_delete: bool


@dataclass
class Run:
    stack: str
    resources: dict[str, Resource] = field(default_factory=dict)  # by URN
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources of type {type_} named {name!r}")
        return found[0]

    def by_id(self, id_: str) -> Resource:
        found = [r for r in self.resources.values() if r.custom and r.id == id_]
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources with id {id_!r}")
        return found[0]

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources.values() if r.parent == parent.urn]


class RecordingMonitor(MockMonitor):
    """The mock monitor keeps outputs only; this one keeps what the program asked for."""

    def __init__(self, mocks: Mocks, run: Run):
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.run.resources[response.urn] = Resource(
                urn=response.urn,
                id=response.id,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=request.custom,
                inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                dependencies=list(request.dependencies),
                protect=request.protect,
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=request.deleteBeforeReplace,
                retain_on_delete=request.retainOnDelete,
            )
        return response


class _ProgramWarnings(logging.Handler):
    """`WARNING: stack staging: ...` on stderr, wrapped to 120 columns, and each one once per
    process however often the program runs (the tests, `snapshot --all`)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = ""
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.levelname}: stack {self.stack}: {record.getMessage()}"
        if text not in self.seen:
            self.seen.add(text)
            print(textwrap.fill(text, 120, subsequent_indent="  "), file=sys.stderr)


def _program_log(stack: str) -> logging.Logger:
    """The program's warnings (pulumi.log.warn) on stderr, shaped as `pulumi preview` shows them."""
    log = logging.getLogger("vidgo-infra.program")
    if not log.handlers:
        log.addHandler(_ProgramWarnings())
        log.propagate = False
    handler = log.handlers[0]
    assert isinstance(handler, _ProgramWarnings)
    handler.stack = stack
    return log


def _root(root: Path | None) -> Path:
    # Like the pulumi CLI, act on the project in the current directory unless told otherwise.
    return root if root is not None else find_project().root


def project_name(root: Path | None = None) -> str:
    return read_project_file(_root(root) / "Pulumi.yaml").name


def stack_config(stack: str, root: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """`Pulumi.<stack>.yaml` → (config, secret keys) as the CLI hands them to the program.

    Encrypted values (`secure:`, also nested ones that `config set --secret --path` writes)
    cannot be decrypted offline; each becomes a marked stand-in, so the program sees that the
    value is set, and its key stays secret. Mistakes in the file raise a one-line UsageError.
    """
    stack_file = read_stack(stack, root)
    return dict(stack_file.values), list(stack_file.secret_keys)


def read_stack(stack: str, root: Path | None = None) -> StackFile:
    """The stack's file, read strictly (vidgo_infra/stackfile.py)."""
    project = Project(_root(root))
    return read_stack_file(project.require_stack(stack), project_name(project.root))


def stacks(root: Path | None = None) -> list[str]:
    return Project(_root(root)).stacks()


def run_program(
    stack: str,
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    root: Path | None = None,
    mocks: Mocks | None = None,
) -> Run:
    """Run the program once for `stack` under mocks and return what it declared.

    `config` replaces the stack file's values (tests use it for invalid configs).
    `mocks` replaces the platform's stand-ins (the bootstrap's tests bring their own).
    Raises the program's own exceptions, such as `stacks.loader.ConfigError`.
    """
    root = _root(root)
    if config is None:
        config, secret_keys = stack_config(stack, root)
    project_file = read_project_file(root / "Pulumi.yaml")
    project, program = project_file.name, root / project_file.main
    run = Run(stack)

    pulumi.runtime.reset_options(project=project, stack=stack)
    mocks = mocks or PlatformMocks(
        config.get("gcp:project", "project"), config.get("gcp:region", "region")
    )
    monitor = RecordingMonitor(mocks, run)
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=False,
        monitor=monitor,
        logger=_program_log(stack),
    )
    pulumi.runtime.set_all_config(config, secret_keys or [])

    async def collect_outputs():
        for key, value in pulumi.runtime.get_root_resource().outputs.items():
            output = pulumi.Output.from_input(value)
            run.outputs[key] = SECRET if await output.is_secret() else await output.future()

    @pulumi.runtime.test
    def program_under_mocks():
        runpy.run_path(str(program), run_name="__main__")
        return collect_outputs()

    program_under_mocks()
    return run


def redact(value: Any) -> Any:
    """Inputs with every secret value (and stand-in for one) replaced by "[secret]", and unknowns
    by "(known after up)"."""
    if rpc.is_rpc_secret(value) or (isinstance(value, str) and value.startswith(STAND_IN)):
        return SECRET
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if value == rpc.UNKNOWN:
        return "(known after up)"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's wire format makes every number a float
    return value
