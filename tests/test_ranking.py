"""queries/ranking.py: the order of the numpy rankings, and running_arrays kept honest.

The rankings' answers are compared with the SQL rankings and with pandas in test_scale_pages.py,
test_query_sources.py and test_quality_sources.py; here the ordering rule itself, on data built
to have many ties and missing values, and rollups.check catching a wrong array."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select, update

from queries.ranking import places
from rsp_data import rollups, schema
from rsp_data.metrics import value


def full_order(values: np.ndarray, ties: np.ndarray, descending: bool) -> list[int]:
    """The rule in plain Python: by value (NaN last either way), ties by `ties` ascending."""

    def key(i):
        v = values[i]
        missing = v != v
        return (missing, 0 if missing else (-v if descending else v), ties[i])

    return sorted(range(len(values)), key=key)


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_page_of_places_is_that_stretch_of_the_full_order(descending, seed):
    rng = np.random.default_rng(seed)
    n = 500
    values = rng.integers(0, 12, n).astype("float64")  # many ties
    values[rng.random(n) < 0.15] = np.nan
    ties = rng.permutation(n)
    want = full_order(values, ties, descending)
    for start, stop in [(0, 1), (0, 25), (25, 50), (480, 505), (0, n), (499, 500), (600, 625)]:
        got = places(values, ties, descending, start, stop).tolist()
        assert got == want[start:stop], (start, stop)


@pytest.mark.parametrize("descending", [True, False])
def test_without_a_tie_order_places_needs_one_only_when_candidates_tie(descending):
    rng = np.random.default_rng(7)
    values = rng.permutation(400).astype("float64")  # all different
    ties = rng.permutation(400)
    want = full_order(values, ties, descending)
    for start, stop in [(0, 12), (100, 125), (380, 420)]:
        assert places(values, None, descending, start, stop).tolist() == want[start:stop]
    values[[3, 7]] = values[5]  # three equal values
    values[11] = np.nan
    values[13] = np.nan
    want = full_order(values, ties, descending)
    assert places(values, None, descending, 0, 400) is None
    assert places(values, ties, descending, 0, 400).tolist() == want
    values[[3, 7]] = [1000.0, 1001.0]  # only the two NaNs are equal now
    assert places(values, None, descending, 0, 400) is None


def test_ratio_is_nan_where_the_denominator_is_not_positive():
    got = value("placement_rate", {"placements": np.array([3, 1, 5, 0]), "trainees_completed": np.array([4, 0, -1, 2])})
    assert got[0] == 0.75 and np.isnan(got[1]) and np.isnan(got[2]) and got[3] == 0.0


def test_the_arrays_hold_the_running_rows_and_a_wrong_one_is_caught(demo_copy):
    arrays, running = schema.running_arrays, schema.running_totals
    with demo_copy.begin() as conn:
        assert rollups.check(conn) == []
        last = conn.execute(select(running.c.month, running.c.k, running.c.cum_placements, running.c.last_report)
                            .order_by(running.c.k.desc()).limit(1)).one()  # fmt: skip
        index = schema.month_index(rollups.as_date(last.month))
        number = last.k & schema.MAX_PARTNERSHIPS
        found = conn.execute(select(arrays.c.name, arrays.c.dtype, arrays.c.data).where(arrays.c.month_index == index))
        stored = {name: rollups.unpack(dtype, data) for name, dtype, data in found}
        assert stored["cum_placements"][number] == last.cum_placements
        assert stored["last_report"][number] == last.last_report
        assert stored["cum_placements"][0] == 0 and stored["last_report"][0] == -1  # number 0 is nobody's
        wrong = stored["cum_placements"].copy()
        wrong[number] += 1
        dtype, data = rollups.pack(wrong)
        conn.execute(
            update(arrays)
            .where(arrays.c.month_index == index, arrays.c.name == "cum_placements")
            .values(dtype=dtype, data=data)
        )
        assert rollups.check(conn) == [f"running_arrays: 1 arrays differ, e.g. ({index}, 'cum_placements')"]
        conn.rollback()


def test_pack_keeps_every_value_in_the_smallest_type():
    for values, dtype in [
        (np.array([-1.0, 24300.0]), "<i2"),
        (np.array([0.0, 3.0e9]), "<i8"),
        (np.array([0.0, 70000.0]), "<i4"),
    ]:
        kind, data = rollups.pack(values)
        assert kind == dtype and rollups.unpack(kind, data).tolist() == values.tolist()
    for exact_float in (True, False):  # fractions stay floats, asked or not
        kind, data = rollups.pack(np.array([0.5, 1.25]), exact_float=exact_float)
        assert kind == "<f8" and rollups.unpack(kind, data).tolist() == [0.5, 1.25]


def test_arrays_of_several_months_are_all_read_at_once(demo_copy):
    """One read of a month's arrays and every registry array: all of them come back (an OR of
    (month AND name IN …) lost the second month's on SQLite once it listed ten names or so, with
    the statistics ANALYZE keeps, as every bulk-built store has)."""
    from queries._base import reading
    from queries.ranking import _read

    arrays = schema.running_arrays
    with demo_copy.begin() as conn:
        rollups.store_in_key_order(conn)  # ANALYZE
    with reading(demo_copy) as conn:
        last = conn.execute(select(arrays.c.month_index).order_by(arrays.c.month_index.desc()).limit(1)).scalar()
        names = {m: conn.execute(select(arrays.c.name).where(arrays.c.month_index == m)).scalars().all()
                 for m in (last, last - 1, schema.REGISTRY_MONTH)}  # fmt: skip
        wanted = [(m, name) for m, listed in names.items() for name in listed]
        assert len(names[schema.REGISTRY_MONTH]) >= 10
        assert sorted(_read(conn, wanted)) == sorted(wanted)


def test_a_ranking_over_every_region_is_the_ranking_over_all(demo_engine):
    from queries.filters import Filters
    from queries.metrics import partnership_rows
    from queries.registry import region_list

    every = Filters(regions=tuple(region_list(demo_engine)["region_id"]))
    assert len(every.regions) >= 5
    want = partnership_rows(demo_engine, Filters(), limit=None)
    got = partnership_rows(demo_engine, every, limit=None)
    assert len(want) == 14
    assert got["rsp_id"].tolist() == want["rsp_id"].tolist()
    assert got["placements"].tolist() == want["placements"].tolist()


@pytest.mark.parametrize("tie_rows", [2000, 0])  # the candidates' rows; the id_rank array
def test_equal_values_rank_in_rsp_id_order_either_way(demo_engine, monkeypatch, tie_rows):
    """Ties are ordered by rsp_id in the database's collation, whether the candidates' rsp_ids are
    read (a few tied candidates) or the id_rank array (many): every page is that stretch."""
    from queries import ranking
    from queries.filters import Filters
    from queries.metrics import as_of_month

    monkeypatch.setattr(ranking, "TIE_ROWS", tie_rows)
    with demo_engine.connect() as conn:
        by_id = conn.execute(select(schema.partnerships.c.rsp_id).order_by(schema.partnerships.c.rsp_id)).scalars()
        by_id = list(by_id)
    last = as_of_month(demo_engine, Filters())

    def page(value, offset, limit, descending=True):
        # The ranked values are `value`'s (of the placements by partnership number).
        monkeypatch.setattr(ranking, "value", lambda metric, sums: value(lambda _: sums["placements"]))
        return ranking.ranked(demo_engine, Filters(), first=None, last=last, order_by="placements",
                              limit=limit, offset=offset, descending=descending)  # fmt: skip

    everyone_equal = lambda get: np.zeros(len(get("cum_placements")))  # noqa: E731
    for offset, limit in [(0, 5), (3, 4), (10, 10)]:
        got = page(everyone_equal, offset, limit)
        assert got.ids == by_id[offset : offset + limit]
        assert got.count == 14
    # Two groups of equal values: the larger first, each in rsp_id order.
    with demo_engine.connect() as conn:
        number_of = dict(conn.execute(select(schema.partnerships.c.rsp_id, schema.partnerships.c.number)).all())
    big = set(by_id[::3])

    def two_groups(get):
        return np.isin(np.arange(len(get("cum_placements"))), [number_of[i] for i in big]).astype("float64")

    want = [i for i in by_id if i in big] + [i for i in by_id if i not in big]
    assert page(two_groups, 0, 14).ids == want
    assert page(two_groups, 2, 6).ids == want[2:8]
    assert page(two_groups, 0, 14, descending=False).ids == want[len(big) :] + want[: len(big)]
