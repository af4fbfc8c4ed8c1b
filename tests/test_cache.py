"""ui.cache: query results and shared views per store and data version; an import invalidates them;
a failure is not remembered. Run outside a Streamlit server (the caches work in bare mode)."""

from __future__ import annotations

import pytest
import streamlit as st

from queries.filters import Filters
from queries.metrics import kpi_summary
from rsp_data.imports.apply import apply_import
from rsp_data.store import init_store, make_engine
from ui import cache, store

ALL = Filters()


@pytest.fixture
def demo(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cache.sqlite'}"
    engine = make_engine(url)
    init_store(engine, demo=True)
    monkeypatch.setenv("DATABASE_URL", url)
    st.session_state.pop("_data_version", None)  # read from the store, as on a page's first run
    yield engine
    st.session_state.pop("_data_version", None)
    engine.dispose()


def placements_view(q, filters: Filters) -> list[int]:
    """A view in the shape of ui/views.py: it runs its query through the runner it is given."""
    placements_view.calls += 1
    return [q(kpi_summary, filters)["placements"]]


placements_view.calls = 0


def test_a_view_is_built_once_per_data_version_and_shared(demo):
    before = placements_view.calls
    first = cache.memo(placements_view, ALL)
    assert cache.memo(placements_view, ALL) is first  # the same object, not a copy
    assert placements_view.calls == before + 1
    assert first == [kpi_summary(demo, ALL)["placements"]]


def test_query_results_are_copies(demo):
    first = cache.query(kpi_summary, ALL)
    again = cache.query(kpi_summary, ALL)
    assert again == first and again is not first


def test_an_import_invalidates_both_caches(demo):
    version = store.data_version()
    view = cache.memo(placements_view, ALL)
    month = kpi_summary(demo, ALL)["as_of_label"]
    apply_import(
        demo,
        b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\n"
        + f"capital-healthcare,{month},40,30,20,1000\n".encode(),
        "correction.csv",
        "tester",
    )
    assert store.data_version() != version
    now = kpi_summary(demo, ALL)["placements"]
    assert now != view[0]
    assert cache.query(kpi_summary, ALL)["placements"] == now
    assert cache.memo(placements_view, ALL) == [now]


def test_a_failure_is_not_remembered(demo):
    attempts = []

    def flaky(q):
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("store down")
        return "built"

    with pytest.raises(RuntimeError):
        cache.memo(flaky)
    assert cache.memo(flaky) == "built"
    assert len(attempts) == 2
