"""The rollup tables stay in step with the facts through every kind of write, on both stores.

`rollups.check` recomputes every rollup from the facts and lists the differences; after each
write below it must list none. The figures the pages read are asserted in test_queries.py.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import event, func, select

from queries.data import illustrative_share
from queries.filters import Filters
from queries.goals import grant_placements_by_month
from queries.metrics import metrics_by
from rsp_data import rollups, schema
from rsp_data.imports.apply import apply_import, rollback
from rsp_data.metrics import OPTIONAL_KEYS
from rsp_data.store import read_demo_rows

TODAY = date(2026, 11, 21)
HEADER = b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\r\n"


@pytest.fixture
def store(demo_copy):
    return demo_copy


def in_step(engine) -> list[str]:
    with engine.connect() as conn:
        return rollups.check(conn)


def running_at(engine, rsp_id: str, month: date) -> dict:
    running = schema.running_totals
    with engine.connect() as conn:
        row = conn.execute(select(running).where(running.c.rsp_id == rsp_id, running.c.month == month)).mappings()
        return dict(row.one())


def last_running_month(engine) -> date:
    with engine.connect() as conn:
        top = conn.execute(select(func.max(schema.running_totals.c.k))).scalar()
    return schema.index_month(top >> schema.KEY_BITS)


def test_new_months_corrections_and_rollbacks_keep_every_rollup_in_step(store):
    assert in_step(store) == []
    assert last_running_month(store) == date(2026, 10, 1)
    before = running_at(store, "northwest-ace", date(2026, 10, 1))
    held_before = rows_held(store)
    assert sum(held_before.values()) == len(read_demo_rows())  # the demo batches hold every fact

    # Two new months for one partnership (the store's last month moves on) and a correction of
    # an old month of another.
    content = (
        HEADER + b"northwest-ace,2026-11,10,4,3,2\r\n"
        b"northwest-ace,2026-12,10,5,3,7\r\n"
        b"capital-technology,2024-03,40,12,9,6\r\n"
    )
    first = apply_import(store, content, "two-months.csv", "tests", today=date(2026, 12, 20)).batch_id
    assert in_step(store) == []
    assert last_running_month(store) == date(2026, 12, 1)
    after = running_at(store, "northwest-ace", date(2026, 12, 1))
    assert after["cum_placements"] == before["cum_placements"] + 2 + 7
    assert after["employers_engaged"] == 10
    # A partnership that did not report carries its sums and its latest employers figure forward.
    carried = running_at(store, "eastern-manufacturing", date(2026, 12, 1))
    latest = max((r for r in read_demo_rows() if r["rsp_id"] == "eastern-manufacturing"), key=lambda r: r["month"])
    assert carried["employers_engaged"] == latest["employers_engaged"] > 0
    assert carried["cum_placements"] == running_at(store, "eastern-manufacturing", date(2026, 10, 1))["cum_placements"]
    # The latest report, as a month index, carried in every row: the new month for the partnership
    # that reported; the demo file's last month for the one that did not; for each optional metric
    # (which the import did not have), the last demo month that reported it.
    demo = read_demo_rows()
    assert after["last_report"] == schema.month_index(date(2026, 12, 1))
    last_demo = max(r["month"] for r in demo if r["rsp_id"] == "eastern-manufacturing")
    assert carried["last_report"] == schema.month_index(last_demo)
    for metric in OPTIONAL_KEYS:
        reported = [r["month"] for r in demo if r["rsp_id"] == "northwest-ace" and r[metric] is not None]
        expected = schema.month_index(max(reported)) if reported else None
        assert after[f"last_{metric}"] == before[f"last_{metric}"] == expected, metric
    assert any(after[f"last_{m}"] is not None for m in OPTIONAL_KEYS)  # the demo reports some

    # The demo batch that held capital-technology's 2024-03 (the one that month was sent in) lost it.
    with store.connect() as conn:
        corrected_demo = conn.execute(
            select(schema.fact_history.c.old_batch_id).where(
                schema.fact_history.c.batch_id == first, schema.fact_history.c.rsp_id == "capital-technology"
            )
        ).scalar_one()
    assert held_before[corrected_demo] > 0
    assert rows_held(store) == {**held_before, corrected_demo: held_before[corrected_demo] - 1, first: 3}

    rollback(store, first, "tests")
    assert in_step(store) == []
    assert last_running_month(store) == date(2026, 10, 1)  # the store's last month moved back
    assert running_at(store, "northwest-ace", date(2026, 10, 1)) == before
    assert rows_held(store) == {**held_before, first: 0}


def rows_held(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(schema.import_batches.c.batch_id, schema.import_batches.c.rows_held)).all())


def test_a_month_before_a_partnerships_first_report_starts_its_running_rows_earlier(store):
    content = HEADER + b"northwest-ace,2019-01,3,2,1,1\r\n"
    with store.connect() as conn:
        first_before = conn.execute(
            select(func.min(schema.monthly_metrics.c.month)).where(schema.monthly_metrics.c.rsp_id == "northwest-ace")
        ).scalar_one()
    assert rollups.as_date(first_before) > date(2019, 1, 1)
    apply_import(store, content, "early.csv", "tests", today=TODAY)
    assert in_step(store) == []
    assert running_at(store, "northwest-ace", date(2019, 1, 1))["cum_placements"] == 1


def test_a_correction_of_an_old_month_patches_the_later_months_arrays(store, monkeypatch):
    """Only the corrected partnership's entries of the months after it are rewritten (not every
    partnership's running rows read again), and the arrays equal a fresh build."""
    patched, built = [], []
    month_arrays = rollups.month_arrays

    def recorded(conn, index, size, numbers=None):
        (built if numbers is None else patched).append((index, numbers))
        return month_arrays(conn, index, size, numbers)

    monkeypatch.setattr(rollups, "month_arrays", recorded)
    monkeypatch.setattr(rollups, "PATCH_LIMIT", 1)  # up to PATCH_LIMIT partnerships, that many included
    apply_import(store, HEADER + b"capital-technology,2024-03,40,12,9,6\r\n", "fix.csv", "tests", today=TODAY)
    months = schema.month_index(date(2026, 10, 1)) - schema.month_index(date(2024, 3, 1)) + 1
    with store.connect() as conn:
        number = conn.execute(
            select(schema.partnerships.c.number).where(schema.partnerships.c.rsp_id == "capital-technology")
        ).scalar_one()
    assert [i for i, _ in patched] == list(
        range(schema.month_index(date(2024, 3, 1)), schema.month_index(date(2026, 10, 1)) + 1)
    )
    assert len(patched) == months and all(n == [number] for _, n in patched)
    assert built == []  # (check() below builds every month afresh to compare)
    monkeypatch.undo()
    assert in_step(store) == []


def test_many_partnerships_written_at_once_build_the_months_whole(store, monkeypatch):
    monkeypatch.setattr(rollups, "PATCH_LIMIT", 1)
    content = HEADER + b"capital-technology,2024-03,40,12,9,6\r\nnorthwest-ace,2025-01,9,3,2,1\r\n"
    apply_import(store, content, "two.csv", "tests", today=TODAY)
    assert in_step(store) == []


class Rewrites:
    """Rows each write deletes from the derived tables (a refresh deletes what it recomputes, then inserts)."""

    TABLES = ("rollup_cells", "running_totals", "running_arrays")

    def __init__(self, engine):
        self.engine, self.rows = engine, dict.fromkeys(self.TABLES, 0)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        for table in self.TABLES:
            if statement.lstrip().startswith(f"DELETE FROM {table}"):
                self.rows[table] += cursor.rowcount

    def __enter__(self):
        event.listen(self.engine, "after_cursor_execute", self._count)
        return self.rows

    def __exit__(self, *exc):
        event.remove(self.engine, "after_cursor_execute", self._count)


def cells_by_month(engine) -> dict[date, set[tuple]]:
    with engine.connect() as conn:
        rows = conn.execute(select(schema.rollup_cells)).all()
    by_month: dict[date, set[tuple]] = {}
    for row in rows:
        by_month.setdefault(rollups.as_date(row.month), set()).add(tuple(row))
    return by_month


def array_count(engine, months: list[date] | None = None) -> int:
    arrays = schema.running_arrays
    where = [arrays.c.month_index.in_([schema.month_index(m) for m in months])] if months is not None else []
    where = where or [arrays.c.month_index == schema.REGISTRY_MONTH]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(arrays).where(*where)).scalar_one()


def test_a_write_rewrites_only_the_rollups_of_the_months_and_partnerships_it_can_change(store):
    """A correction of one month rewrites the cells of that month and of the CARRY months before it (their
    carried stocks depend on it), the corrected partnership's running rows from that month on, and the
    arrays of those months; nothing else is deleted and written again, and every other cell stays as it was."""
    changed = [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]  # 2024-03 and the CARRY (2) months before
    assert len(changed) - 1 == rollups.CARRY
    cells_before = cells_by_month(store)
    months_after = schema.month_index(date(2026, 10, 1)) - schema.month_index(date(2024, 3, 1)) + 1
    arrays_rewritten = array_count(store) + array_count(store, [date(2024, 3, 1)]) * months_after
    with Rewrites(store) as rewritten:
        apply_import(store, HEADER + b"capital-technology,2024-03,40,12,9,6\r\n", "fix.csv", "tests", today=TODAY)
    assert rewritten == {
        "rollup_cells": sum(len(cells_before[m]) for m in changed),
        "running_totals": months_after,  # one partnership's rows, 2024-03 to the last month
        "running_arrays": arrays_rewritten,
    }
    cells_after = cells_by_month(store)
    assert {m: c for m, c in cells_after.items() if m not in changed} == {
        m: c for m, c in cells_before.items() if m not in changed
    }
    assert cells_after[date(2024, 3, 1)] != cells_before[date(2024, 3, 1)]
    assert in_step(store) == []

    # A new last month: the cells of the CARRY months before it (the new month has none yet), the one new
    # running row written again after the others were carried forward to it, and only the registry's arrays
    # besides the new month's.
    new = [date(2026, 9, 1), date(2026, 10, 1)]
    cells_before, registry = cells_by_month(store), array_count(store)
    with Rewrites(store) as rewritten:
        apply_import(store, HEADER + b"northwest-ace,2026-11,10,4,3,2\r\n", "new.csv", "tests", today=TODAY)
    assert rewritten == {
        "rollup_cells": sum(len(cells_before[m]) for m in new),
        "running_totals": 1,
        "running_arrays": registry,
    }
    assert in_step(store) == []


def test_the_months_a_write_refreshed_read_by_sector_and_as_illustrative_like_the_facts(store):
    """The Overview's placements by sector and the Data page's "illustrative" share of a corrected month,
    read from the cells the write refreshed (check() recomputes them with the same select, so it cannot
    see a wrong grouping): a corrected demo row is no longer illustrative, a new month's row never was."""
    content = HEADER + b"capital-technology,2024-03,40,12,9,6\r\nnorthwest-ace,2026-11,10,4,3,2\r\n"
    apply_import(store, content, "two.csv", "tests", today=TODAY)
    with store.connect() as conn:
        registry = conn.execute(
            select(schema.partnerships.c.rsp_id, schema.partnerships.c.sector_id, schema.partnerships.c.region_id)
        ).all()
    sector = {rsp: s for rsp, s, _ in registry}
    capital = {rsp for rsp, _, r in registry if r == "capital"}
    march = [r for r in read_demo_rows() if r["month"] == date(2024, 3, 1)]
    placed: dict[str, int] = {}
    for r in march:
        placed[sector[r["rsp_id"]]] = placed.get(sector[r["rsp_id"]], 0) + (
            6 if r["rsp_id"] == "capital-technology" else r["placements"]
        )
    by_sector = metrics_by(store, Filters(month_from="2024-03", month_to="2024-03"), "sector")
    assert dict(zip(by_sector["group_id"], by_sector["placements"], strict=True)) == placed
    assert len(placed) > 1

    demo = len(read_demo_rows())
    assert illustrative_share(store, Filters()) == pytest.approx((demo - 1) / (demo + 1))
    sent = sum(1 for r in march if r["rsp_id"] in capital)
    assert "capital-technology" in capital and sent > 1
    assert illustrative_share(
        store, Filters(regions=("capital",), month_from="2024-03", month_to="2024-03")
    ) == pytest.approx((sent - 1) / sent)


def test_a_month_two_after_the_last_carries_every_partnership_through_the_month_between(store):
    apply_import(store, HEADER + b"northwest-ace,2026-12,10,5,3,7\r\n", "later.csv", "tests", today=date(2027, 1, 20))
    assert in_step(store) == []
    between = running_at(store, "eastern-manufacturing", date(2026, 11, 1))
    assert between["cum_placements"] == running_at(store, "eastern-manufacturing", date(2026, 10, 1))["cum_placements"]


def test_a_cell_with_grant_supported_and_other_partnerships_counts_only_the_grant_supported_toward_the_goal(store):
    """registry.toml has one partnership per sector × region: the Eastern manufacturing one (not grant-supported)
    moves into the capital region, beside the grant-supported capital manufacturing one, and the rollups are
    rebuilt as after any registry change."""
    p = schema.partnerships
    with store.begin() as conn:
        conn.execute(p.update().where(p.c.rsp_id == "eastern-manufacturing").values(region_id="capital"))
        rollups.rebuild_all(conn)
        grant = set(conn.execute(select(p.c.rsp_id).where(p.c.gjc_supported)).scalars())
        cell = set(
            conn.execute(
                select(p.c.rsp_id).where(p.c.region_id == "capital", p.c.sector_id == "manufacturing")
            ).scalars()
        )
    assert in_step(store) == []
    assert len(cell) == 2 and len(cell & grant) == 1
    demo = read_demo_rows()
    month = max(r["month"] for r in demo if r["rsp_id"] == "eastern-manufacturing" and r["placements"] > 0)
    rows = [r for r in demo if r["month"] == month]
    assert {r["rsp_id"] for r in rows} >= cell
    only = Filters(month_from=f"{month:%Y-%m}", month_to=f"{month:%Y-%m}")
    series = grant_placements_by_month(store, only)
    grant_placed = sum(r["placements"] for r in rows if r["rsp_id"] in grant)
    assert series.loc[series["month"] == pd.Timestamp(month), "placements"].tolist() == [grant_placed]
    (row,) = metrics_by(store, only.with_(regions=("capital",), sectors=("manufacturing",)), "sector").to_dict(
        "records"
    )
    assert row["placements"] == sum(r["placements"] for r in rows if r["rsp_id"] in cell)
