"""The rollup tables stay in step with the facts through every kind of write, on both stores.

`rollups.check` recomputes every rollup from the facts and lists the differences; after each
write below it must list none. The figures the pages read are asserted in test_queries.py.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

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
