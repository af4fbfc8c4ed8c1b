"""Mutation testing (`make mutate`, not part of `make test`): mutmut 3 mutates the functions of the
files `[tool.mutmut] only_mutate` lists in pyproject.toml, runs the tests `pytest_add_cli_args_test_selection`
lists against each mutant (SQLite only, no browser: `pytest_add_cli_args`), and this prints the score.

    python scripts/mutate.py                               # every mutant of those files (hours)
    python scripts/mutate.py 'queries.suppression*'        # one module's mutants (mutmut's name patterns)
    python scripts/mutate.py --report-only                 # the score of what mutants/ holds, no run

mutmut copies the project into mutants/ (git-ignored) and keeps its results there: a second run only
tests the mutants of functions that changed. Score = (killed + timed out) / mutants tested, as mutmut's
own badge counts it; "no tests" are mutants of functions that no selected test calls. The surviving
mutants are listed; `mutmut show NAME` prints one's diff, `mutmut browse` walks them.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# mutmut's statuses (`mutmut results`) a mutant counts as killed by.
KILLED = {"killed", "timeout", "caught by type check"}
UNTESTED = {"not checked", "skipped"}


def mutmut(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args], cwd=REPO_ROOT, text=True, capture_output=capture, check=False
    )


def results(patterns: list[str]) -> dict[str, str]:
    """Every mutant's status from `mutmut results --all true` (lines "    name: status"), matching the patterns."""
    done = mutmut("results", "--all", "true", capture=True)
    if done.returncode:
        sys.exit(f"mutmut results failed:\n{done.stderr}")
    out = {}
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and (not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)):
            out[name] = status
    return out


def score_lines(statuses: dict[str, str]) -> list[str]:
    counts = Counter(statuses.values())
    tested = sum(n for s, n in counts.items() if s not in UNTESTED)
    killed = sum(counts[s] for s in KILLED)
    survivors = sorted(name for name, s in statuses.items() if s == "survived")
    lines = [
        f"Mutation score: {killed} killed / {tested} mutants = "
        + (f"{100 * killed / tested:.1f}%" if tested else "— (none tested)"),
        "  " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())),
        f"Surviving mutants ({len(survivors)}; `mutmut show NAME` prints one):",
        *[f"  {name}" for name in survivors],
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help="mutmut mutant name patterns, e.g. 'queries.suppression*'")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (2)")
    parser.add_argument("--report-only", action="store_true", help="print the score of mutants/ without a run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not args.report_only:
        run = mutmut("run", "--max-children", str(args.max_children), *args.patterns)
        if run.returncode:
            print(f"mutmut run exited with {run.returncode}", file=sys.stderr)
            return run.returncode
    statuses = results(args.patterns)
    print()
    if not args.report_only:
        print(f"Run time: {(time.perf_counter() - started) / 60:.1f} min")
    print("\n".join(score_lines(statuses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
