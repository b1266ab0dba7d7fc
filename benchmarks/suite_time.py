"""How long the test suite takes on this machine: wall time of one pytest run, and how busy the
machine was while it ran (a busy machine is slower; the number is only comparable with the load).

The goal: the whole suite (`make test`'s pytest, slow tests included) under a minute on a quiet
2-core machine. Nothing here asserts a time; the script measures and prints.

    .venv/bin/python benchmarks/suite_time.py [pytest arguments, e.g. -m "not slow"]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 60


def main(argv: list[str]) -> int:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    lines = done.stdout.strip().splitlines()
    summary = next(
        (line for line in reversed(lines) if re.search(r"\b(passed|failed|error)", line)), ""
    )
    print(f"pytest {' '.join(argv)}".rstrip())
    print(f"  {summary or 'no summary: see the output below'}")
    print(f"  wall time   {wall:6.1f} s   (goal: under {GOAL_SECONDS} s, slow tests included)")
    print(f"  cores       {os.cpu_count()}")
    print(f"  load (1 min) {load_before:5.2f} before, {load_after:5.2f} after")
    if done.returncode not in (0, 5):
        print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
