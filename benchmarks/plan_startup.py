"""How long the offline plan of prod takes, against Python just importing what it needs.

Every `pulumi preview`, every `vidgo-infra plan` and every test pays the program's start-up, so
the target (issue 4) is: the whole offline plan of prod in at most 1.5x the time a bare Python
process takes to import pulumi, pulumi_random and the pulumi_gcp modules the program uses.
Both are measured here in one run, as fresh processes, and the medians compared.

    .venv/bin/python benchmarks/plan_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


def gcp_modules() -> list[str]:
    """The pulumi_gcp modules the components import (read from their source, not listed here)."""
    names: set[str] = set()
    for source in (ROOT / "components").glob("*.py"):
        for match in re.finditer(r"^from pulumi_gcp import ([\w, ]+)$", source.read_text(), re.M):
            names.update(name.strip() for name in match.group(1).split(","))
    return sorted(names)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    modules = gcp_modules()
    imports = "import pulumi, pulumi_random; " + "; ".join(
        f"import pulumi_gcp.{m}" for m in modules
    )
    baseline_command = [sys.executable, "-c", imports]
    plan_command = [sys.executable, "-m", "infra", "plan", "prod"]

    timed(plan_command)  # warm the bytecode cache and the OS file cache once
    baseline, plan = [], []
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        baseline.append(timed(baseline_command))
        plan.append(timed(plan_command))

    base, full = statistics.median(baseline), statistics.median(plan)
    ratio = full / base
    print(f"pulumi_gcp modules used: {', '.join(modules)}")
    print(f"import only (median of {args.runs}):  {base:.2f} s")
    print(f"plan prod   (median of {args.runs}):  {full:.2f} s")
    print(f"ratio: {ratio:.2f} (target <= {TARGET})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
