"""The program runs as Pulumi's Python host runs it, not only as the tests import it.

The host executes the `main:` folder (infra/) with `runpy.run_path`, which puts infra/ alone on
`sys.path`: the repo root is not there, and no package of the program is installed (only the
`vidgo_infra` tool is), so `stacks` and `components` import only because the program puts its own
project root on the path. pytest hides this by putting the repo root on `sys.path`; a subprocess
without it does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.kit import ROOT

PROGRAM = textwrap.dedent(
    """
    import importlib.machinery
    import json
    import os
    import sys

    root = sys.argv[1]
    on_path = {os.path.realpath(entry or os.getcwd()) for entry in sys.path}
    assert root not in on_path, f"the repo root is on sys.path: {sys.path}"
    for package in ("infra", "stacks", "components"):
        assert importlib.machinery.PathFinder.find_spec(package) is None, package

    from pathlib import Path

    from vidgo_infra.offline import run_program

    run = run_program("staging", root=Path(root))
    import components
    import stacks

    print(json.dumps({
        "sql": len(run.by_type("gcp:sql/databaseInstance:DatabaseInstance")),
        "files": [stacks.__file__, components.__file__],
    }))
    """
)


def test_program_runs_with_only_the_installed_project_on_its_path(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith("PULUMI_")
    }
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(ROOT.resolve())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["sql"] == 1
    for path in report["files"]:
        assert os.path.realpath(path).startswith(str(ROOT.resolve()) + os.sep), path
