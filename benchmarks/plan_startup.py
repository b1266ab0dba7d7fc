"""How long the offline plan of prod takes, against Python just importing what it needs.

Every `pulumi preview`, every `vidgo-infra plan` and every test pays the program's start-up, so
the target is: the whole offline plan of prod in at most 1.5x the time a bare Python
process takes to import pulumi, pulumi_random and the pulumi_gcp modules the program uses.
Both are measured here in one run, as fresh processes, and the medians compared.

    .venv/bin/python benchmarks/plan_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


# Lists the pulumi_gcp packages a plan of prod has executed (a lazy one not yet touched still
# has its placeholder class), printed one a line.
LOADED = """
import contextlib, io, sys, types
from vidgo_infra.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(["plan", "prod"])
for name, module in sorted(sys.modules.items()):
    if name.count(".") == 1 and name.startswith("pulumi_gcp.") and type(module) is types.ModuleType:
        if hasattr(module, "__path__"):
            print(name.split(".")[1])
"""


def gcp_modules() -> list[str]:
    """The pulumi_gcp packages the plan really loads. pulumi_gcp imports them lazily, so one a
    component imports but never uses (billing, without a budget) is not counted."""
    run = subprocess.run(
        [sys.executable, "-c", LOADED], check=True, cwd=ROOT, capture_output=True, text=True
    )
    return run.stdout.split()


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    plan_command = [sys.executable, "-m", "vidgo_infra", "plan", "prod"]
    modules = gcp_modules()
    # pulumi_gcp registers its modules lazily: `import pulumi_gcp.compute` alone loads nothing.
    # Touching an attribute makes Python execute each module, as the program does.
    imports = "import pulumi, pulumi_random, pulumi_gcp; " + "; ".join(
        f"pulumi_gcp.{m}._utilities" for m in modules
    )
    baseline_command = [sys.executable, "-c", imports]

    baseline, plan = [], []
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        baseline.append(timed(baseline_command))
        plan.append(timed(plan_command))

    base, full = statistics.median(baseline), statistics.median(plan)
    ratio = full / base
    print(f"pulumi_gcp modules the plan loads: {', '.join(modules)}")
    print(f"import only (median of {args.runs}):  {base:.2f} s")
    print(f"plan prod   (median of {args.runs}):  {full:.2f} s")
    print(f"ratio: {ratio:.2f} (target <= {TARGET})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
