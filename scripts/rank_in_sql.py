"""Why running_arrays stays: a ranked page of partnerships timed from the arrays (what the pages
do, queries/ranking.py) and from running_totals paired in SQL (the plain-table alternative),
side by side on one store, on the same seeded clicks. Prints p50 and p95 in ms.

    python scripts/rank_in_sql.py DATABASE_URL [--calls 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from queries._base import reading, sql_value
from queries.filters import Filters
from queries.metrics import _running_select, as_of_month, partnership_totals
from rsp_data.metrics import REQUIRED_KEYS
from rsp_data.store import make_engine

PAGES = (("placements", 300), ("placement_rate", 15))  # the map's markers, a ranking chart


def clicks(engine, count: int, seed: int) -> list[Filters]:
    """Seeded filter changes: none, a region, a sector, a month range, a region and a month range."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        regions = conn.exec_driver_sql("SELECT region_id FROM regions").scalars().all()
        sectors = conn.exec_driver_sql("SELECT sector_id FROM sectors").scalars().all()
    out = []
    for _ in range(count):
        kind, f = rng.choice(["none", "region", "sector", "months", "region+months"]), Filters()
        if "region" in kind:
            f = f.with_(regions=(rng.choice(regions),))
        if kind == "sector":
            f = f.with_(sectors=(rng.choice(sectors),))
        if "months" in kind:
            year = rng.randint(2010, 2024)
            f = f.with_(month_from=f"{year}-{rng.randint(1, 12):02d}", month_to=f"{year + rng.randint(1, 3)}-06")
        out.append(f)
    return out


def in_sql(engine, filters: Filters, metric: str, limit: int):
    with reading(engine) as conn:
        sub = _running_select(filters, as_of_month(conn, filters), REQUIRED_KEYS).subquery()
        order = sql_value(metric, sub.c).desc().nulls_last()
        return conn.execute(select(sub).order_by(order, sub.c.group_id).limit(limit)).all()


def from_arrays(engine, filters: Filters, metric: str, limit: int):
    return partnership_totals(engine, filters, order_by=metric, descending=True, limit=limit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    engine = make_engine(args.url)
    for metric, limit in PAGES:
        for name, read in (("arrays", from_arrays), ("SQL", in_sql)):
            times = []
            for f in clicks(engine, args.calls, args.seed):
                start = time.perf_counter()
                read(engine, f, metric, limit)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[max(0, -(-len(times) * 95 // 100) - 1)]
            print(f"{metric} top {limit}, {name}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
