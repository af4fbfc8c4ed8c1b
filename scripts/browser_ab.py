"""Side by side in one run: the first chart of several app files (variants of the dashboard, bare apps).

    python scripts/browser_ab.py --rounds 15 bare=scripts/bare_app.py overview=dashboard.py trends=dashboard.py:/trends
    python scripts/browser_ab.py bare=scripts/bare_app.py main=dashboard.py shell=../variant/dashboard.py

Each NAME=FILE[:URL_PATH] is served by its own `streamlit run FILE` from FILE's folder (so a copy of the
repository with one change is a variant), each on a fresh demo store, as scripts/load.py starts the app. A round
visits every target once, in a fresh browser context as scripts/browser_bench.py does, the order reversed every
other round so that a slower minute of a shared machine touches each alike. Prints every round and, at the end,
each target's median first chart and its ratio to the first target's. Nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "scripts"), str(REPO_ROOT / "tests"), str(REPO_ROOT)]

import browser_bench
import load


@dataclass(frozen=True)
class Target:
    name: str
    script: Path
    path: str = "/"


def parse_target(text: str) -> Target:
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=FILE or NAME=FILE:/url-path")
    file, _, path = rest.partition(":")
    script = Path(file).resolve()
    if not script.is_file():
        raise argparse.ArgumentTypeError(f"{text!r}: no file {file}")
    return Target(name, script, path or "/")


def summary(times: dict[str, list[float]]) -> list[str]:
    """One line a target: median first chart (s), its ratio to the first target's, the number of visits."""
    floor = statistics.median(next(iter(times.values())))
    lines = []
    for name, values in times.items():
        middle = statistics.median(values)
        lines.append(f"{name:<16} median {middle / 1000:.2f} s  {middle / floor:.2f}×  n={len(values)}")
    return lines


def rounds(urls: dict[str, str], count: int, timeout: float) -> dict[str, list[float]]:
    """Every target's first chart (ms) over `count` rounds, after one warm visit each."""
    from browser_support import launch_chromium
    from playwright.sync_api import sync_playwright

    options = {"viewport": browser_bench.DESKTOP}
    times: dict[str, list[float]] = {name: [] for name in urls}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for url in urls.values():  # warm: imports and the first runs are not what is timed
            browser_bench.visit(browser, url, context_options=options, timeout_s=timeout)
        for round_ in range(count):
            for name in list(urls) if round_ % 2 == 0 else list(urls)[::-1]:
                first, _ = browser_bench.visit(browser, urls[name], context_options=options, timeout_s=timeout)
                if first.first_chart is None:
                    raise SystemExit(f"{name}: no chart within {timeout:.0f} s")
                times[name].append(first.first_chart)
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {times[n][-1] / 1000:.2f}" for n in urls), flush=True)
        browser.close()
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", type=parse_target, help="NAME=FILE[:URL_PATH]; the first is the floor")
    parser.add_argument("--rounds", type=int, default=9, help="visits per target (9)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per visit (60)")
    args = parser.parse_args(argv)
    if len({t.name for t in args.targets}) != len(args.targets):
        parser.error("target names must differ")
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    with contextlib.ExitStack() as stack:
        urls = {
            t.name: stack.enter_context(load.started_app(script=t.script.name, cwd=t.script.parent))[0] + t.path
            for t in args.targets
        }
        times = rounds(urls, args.rounds, args.timeout)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("\n".join(summary(times)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
