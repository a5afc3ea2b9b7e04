"""One benchmark, run on an earlier commit and on this tree, its figures side by side.

    python benchmarks/against.py REV benchmarks/chat_ui.py [ARGS...]

The earlier commit is checked out in a git worktree (kept in the temp dir for the next run) and
its own copy of the script runs there, with that tree first on the import path; then this
tree's copy runs here. Both runs are on this machine, one after the other, so the figures
compare. Each output line that reads the same with its numbers taken out is printed once, every
number as `before → now (×ratio)`; lines that differ are printed from both runs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def worktree(rev: str) -> Path:
    """A checkout of `rev` beside this one (made once, then reused)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=HERE, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = Path(tempfile.gettempdir()) / f"builderos-at-{commit}"
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), commit],
            cwd=HERE,
            check=True,
            capture_output=True,
        )
    return path


def run(tree: Path, script: str, args: list[str]) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(tree / script), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"{script} failed in {tree}:\n{done.stdout}\n{done.stderr}")
    return done.stdout.splitlines()


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def merged(old: str, new: str) -> str:
    """`new`, each number written as `old's → new's (×ratio)` where they differ."""
    olds = iter(NUMBER.findall(old))

    def pair(match: re.Match[str]) -> str:
        first, now = next(olds), match.group()
        if first == now:
            return now
        a, b = _value(first), _value(now)
        return f"{first} → {now}" + (f" (×{b / a:.2f})" if a else "")

    return NUMBER.sub(pair, new)


def side_by_side(before: list[str], now: list[str]) -> list[str]:
    lines = []
    for old, new in zip(before, now, strict=False):
        if NUMBER.sub("#", old) == NUMBER.sub("#", new):
            lines.append(merged(old, new))
        else:
            lines += [f"  before: {old}", f"  now:    {new}"]
    longer = before if len(before) > len(now) else now
    lines += longer[min(len(before), len(now)) :]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the earlier commit")
    parser.add_argument("script", help="the benchmark, as a path from the repository's root")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    ns = parser.parse_args()
    base = worktree(ns.rev)
    print(f"{ns.script} {' '.join(ns.args)}: {ns.rev} → this tree (lower is better for times)")
    before = run(base, ns.script, ns.args)
    now = run(HERE, ns.script, ns.args)
    print("\n".join(side_by_side(before, now)))


if __name__ == "__main__":
    main()
