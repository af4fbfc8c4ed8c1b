"""Milliseconds to build each page's plotly figures from query results already fetched (what a cache miss
costs beyond its SQL), and to serialise one as st.plotly_chart does on every run: median of --runs builds.

    python scripts/figure_bench.py                    # this checkout
    python scripts/figure_bench.py --repo ../other    # another checkout's ui/ code, for a side-by-side figure
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent), help="checkout to import")
    parser.add_argument("--runs", type=int, default=30, help="builds per figure; the median is shown (30)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(args.repo).resolve()))

    import plotly.io
    import plotly.tools

    from queries.filters import Filters
    from queries.goals import goal_status
    from rsp_data.store import init_store, make_engine
    from ui import goals, views

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/figures.sqlite")
        init_store(engine, demo=True)
        fetched: dict = {}

        def q(fn, *a, **k):  # each query once: only the figure's own work is timed
            key = (fn.__name__, repr(a), repr(sorted(k.items())))
            if key not in fetched:
                fetched[key] = fn(engine, *a, **k)
            return fetched[key]

        every = Filters()
        figures = {
            "Overview: goal chart": lambda: goals.goal_chart(q(goal_status, "good-jobs-challenge", every), "n")[0],
            "Overview: placements by sector": lambda: views.breakdown(q, every, "placements", "sector", "n")[0],
            "Trends: monthly": lambda: views.trend(q, every, "placements", "monthly", None, "n")[0],
            "Trends: cumulative by region": lambda: views.trend(q, every, "placements", "cumulative", "region", "n")[0],
            "Good jobs: wage by sector": lambda: views.quality_breakdown(q, every, "avg_starting_wage", "sector", "n")[
                0
            ],
            "Good jobs: wage each quarter": lambda: views.quality_trend(q, every, "avg_starting_wage", "n")[0],
        }

        def median_ms(fn) -> float:
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1000)
            return statistics.median(times)

        print(f"{args.repo}: median of {args.runs}, ms")
        print("| figure | build | serialise (each run) |\n|---|---:|---:|")
        for name, build in figures.items():
            fig = build()
            spec = median_ms(
                lambda fig=fig: plotly.io.to_json(
                    plotly.tools.return_figure_from_figure_or_data(fig, True), validate=False
                )
            )
            print(f"| {name} | {median_ms(build):.1f} | {spec:.1f} |")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
