"""The bootstrap runs in its own virtualenv, which holds only bootstrap/requirements.txt."""

from __future__ import annotations

import ast
import sys

from tests.bootstrap.harness import BOOTSTRAP


def test_bootstrap_imports_only_the_standard_library_pulumi_and_itself():
    own = {path.stem for path in BOOTSTRAP.glob("*.py")}
    required = {"pulumi", "pulumi_gcp"}
    assert "pulumi-gcp" in (BOOTSTRAP / "requirements.txt").read_text()
    for path in BOOTSTRAP.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in own | required | sys.stdlib_module_names, f"{path.name}: {name}"
