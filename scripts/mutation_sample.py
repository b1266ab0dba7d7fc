"""How many single-literal changes in the program does the suite catch? A seeded sample.

    .venv/bin/python scripts/mutation_sample.py [--seed 7] [--count 30] [--list]

Picks `--count` literals (numbers, booleans, strings that are not docstrings) at random, with a
fixed seed, from components/ and stacks/; changes one at a time (a boolean flipped, a number
changed, a string altered), runs the suite without the snapshot test (a regenerated snapshot
would hide any change) and stops at the first failure. A change no test notices is "missed" and
listed with its place, for a reviewer to judge: some literals are messages or comments in code.

The same seed picks the same literals as long as those files are unchanged, so a run before and
after a change to the tests measures the tests alone. Restores every file, even on Ctrl-C.
"""

from __future__ import annotations

import argparse
import ast
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("components", "stacks")


@dataclass(frozen=True)
class Literal:
    path: Path
    line: int
    col: int
    end_col: int
    value: object

    def mutated(self) -> str:
        if isinstance(self.value, bool):
            return repr(not self.value)
        if isinstance(self.value, int | float):
            return repr(self.value + 1 if self.value in (0, 1) else self.value * 10)
        return repr(f"{self.value}-x" if self.value else "x")

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}:{self.col + 1}"


def literals(path: Path) -> list[Literal]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if node.value is None or node.lineno != node.end_lineno:
            continue  # None has no obvious change; a multi-line string is prose
        if not isinstance(node.value, bool | int | float | str):
            continue
        found.append(Literal(path, node.lineno, node.col_offset, node.end_col_offset, node.value))
    return found


def sample(seed: int, count: int) -> list[Literal]:
    every = [
        lit
        for folder in FOLDERS
        for p in sorted((ROOT / folder).glob("*.py"))
        for lit in literals(p)
    ]
    return random.Random(seed).sample(every, min(count, len(every)))


def apply(lit: Literal) -> str:
    original = lit.path.read_text()
    lines = original.splitlines(keepends=True)
    text = lines[lit.line - 1]
    # Columns are UTF-8 byte offsets in ast.
    raw = text.encode()
    raw = raw[: lit.col] + lit.mutated().encode() + raw[lit.end_col :]
    lines[lit.line - 1] = raw.decode()
    lit.path.write_text("".join(lines))
    return original


def caught(python: str) -> bool:
    result = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ignore",
            "tests/tool/test_snapshots.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return result.returncode != 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--list", action="store_true", help="only list the sample")
    args = parser.parse_args(argv)
    chosen = sample(args.seed, args.count)
    if args.list:
        for lit in chosen:
            print(f"{lit.where()}  {lit.value!r} -> {lit.mutated()}")
        return 0
    missed = []
    for n, lit in enumerate(chosen, 1):
        original = apply(lit)
        try:
            hit = caught(sys.executable)
        finally:
            lit.path.write_text(original)
        print(
            f"[{n}/{len(chosen)}] {'caught' if hit else 'MISSED'}  {lit.where()}  "
            f"{lit.value!r} -> {lit.mutated()}",
            flush=True,
        )
        if not hit:
            missed.append(lit)
    print(f"{len(chosen) - len(missed)} of {len(chosen)} caught (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
