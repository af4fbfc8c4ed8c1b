"""The pages with a national store: hundreds of partnerships in 51 regions (rsp_data.synth).

What changes at scale, as a user meets it: the partnership filter is a search box, breakdowns
show the leaders and one bar for all the others, the Partnerships table is sorted and paged in
SQL, the Data page pages through its rows, and the map says which regions it cannot draw. The
figures shown are compared with the query functions on the same store.
"""

from __future__ import annotations

import json
import os
import re

import pandas as pd
import pytest
from sqlalchemy import func, select
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from queries import registry as registry_q
from queries.data import monthly_row_count, monthly_rows
from queries.filters import Filters
from queries.metrics import kpi_summary, metrics_by, partnership_count, partnership_totals
from queries.registry import month_bounds, partnership_list, search_partnerships
from rsp_data import schema
from rsp_data.store import make_engine
from rsp_data.synth import synthesize
from tests.test_pages import APP, TIMEOUT, _PagesManagerAfterNavigation, assert_clean, decode
from ui import sidebar, views

ALL = Filters()
PARTNERSHIPS = 400  # above ui.sidebar.MANY_PARTNERSHIPS: the sidebar switches to search


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('national') / 'national.sqlite'}"
    engine = make_engine(url)
    synthesize(engine, PARTNERSHIPS, 24, seed=7, log=lambda _: None)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    yield engine
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    engine.dispose()


@pytest.fixture
def app(national, monkeypatch):
    monkeypatch.setattr(script_runner, "PagesManager", _PagesManagerAfterNavigation)
    return national


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(page).run()
    assert_clean(at)
    return at


def test_the_store_is_national(national):
    assert PARTNERSHIPS > sidebar.MANY_PARTNERSHIPS
    assert len(metrics_by(national, ALL, "region")) > 40


def test_overview_breakdown_shows_the_leaders_and_all_the_others(app):
    at = open_page()
    assert "All 400 partnerships" in "\n".join(str(m.value) for m in at.markdown)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    regions = next(s for s in specs if s["layout"]["title"]["text"].startswith("Placements by region"))
    bar = regions["data"][0]
    labels, values = bar["y"], decode(bar["x"])
    by_region = metrics_by(app, ALL, "region").sort_values("placements", ascending=False)
    assert len(labels) == 12
    others = len(by_region) - 11
    assert labels[0] == f"All other {others} regions"  # plotly draws the first bar at the bottom
    assert values[0] == by_region["placements"].iloc[11:].sum()
    assert list(values[1:]) == sorted(by_region["placements"].iloc[:11].tolist())
    assert values.sum() == kpi_summary(app, ALL)["placements"]


def test_the_partnership_filter_searches(app):
    at = open_page()
    search = at.text_input(key=sidebar.KEY_RSP_SEARCH)
    search.set_value("Ohio").run()
    assert_clean(at)
    options = at.multiselect(key=sidebar.KEY_RSP).options
    assert 0 < len(options) <= sidebar.SEARCH_LIMIT
    assert all("Ohio" in o for o in options)
    found = search_partnerships(app, "Ohio", (), (), sidebar.SEARCH_LIMIT)
    assert options == found["name"].tolist()
    at.multiselect(key=sidebar.KEY_RSP).set_value([found["rsp_id"].iloc[0]]).run()
    assert_clean(at)
    assert at.query_params["rsp"] == found["rsp_id"].iloc[0]
    shown = {m.label: m.value for m in at.metric}
    one = kpi_summary(app, Filters(partnerships=(found["rsp_id"].iloc[0],)))
    assert shown["Placements"] == f"{one['placements']:,}"


def test_partnerships_table_sorts_searches_and_pages_in_sql(app):
    at = open_page("pages/partnerships.py")
    table = at.dataframe[0].value
    top = partnership_totals(app, ALL, order_by="placements", descending=True, limit=25)
    assert table["rsp_id"].tolist() == top["group_id"].tolist()
    assert table["placements"].tolist() == top["placements"].tolist()
    total = partnership_count(app, ALL)
    assert f"{total:,} partnerships; showing 1–25." in "\n".join(c.value for c in at.caption)

    at.number_input(key="table_page").set_value(3).run()
    page3 = partnership_totals(app, ALL, order_by="placements", descending=True, limit=25, offset=50)
    assert at.dataframe[0].value["rsp_id"].tolist() == page3["group_id"].tolist()

    at.text_input(key="table_search").set_value("Texas").run()
    found = at.dataframe[0].value
    assert len(found) > 0 and all("Texas" in n for n in found["name"])
    assert f"{partnership_count(app, ALL, 'Texas'):,} partnerships match “Texas”" in "\n".join(
        c.value for c in at.caption
    )


@pytest.mark.parametrize(
    ("order_by", "descending", "filters"),
    [
        ("placements", True, ALL),
        ("placement_rate", True, ALL),  # rates have NULLs (no completions): last forward, first backwards
        ("group_name", False, ALL),
        ("completion_rate", False, "a range"),
        ("placements_per_employer", True, "a sector"),  # numbers chosen from the registry
        ("employers_engaged", False, "a search"),
    ],
)
def test_a_page_read_from_the_end_equals_the_page_read_forward(app, order_by, descending, filters):
    """Every page, the last partial one included, holds the same partnerships in the same order
    as the whole ranking sorted in SQL (no limit): pages ranked with numpy from running_arrays,
    and by name, pages in the second half read backwards in SQL (total=n)."""
    if filters == "a range":  # from the store's 4th month to its 4th last
        months = pd.date_range(*(f"{m}-01" for m in month_bounds(app)), freq="MS").strftime("%Y-%m")
        filters = Filters(month_from=months[3], month_to=months[-4])
    search = ""
    if filters == "a sector":
        filters = Filters(sectors=("manufacturing",))
    elif filters == "a search":
        filters, search = ALL, "a"
    n = partnership_count(app, filters, search)
    assert n > 100
    whole = partnership_totals(app, filters, order_by=order_by, descending=descending, search=search)
    whole = whole["group_id"].tolist()
    assert len(whole) == n
    pages = []
    for offset in range(0, n, 25):
        page = partnership_totals(
            app, filters, order_by=order_by, descending=descending, limit=25, offset=offset, total=n, search=search
        )
        forward = partnership_totals(
            app, filters, order_by=order_by, descending=descending, limit=25, offset=offset, search=search
        )
        assert page["group_id"].tolist() == forward["group_id"].tolist(), offset
        pages += page["group_id"].tolist()
    assert pages == whole


def test_data_page_pages_through_a_large_table(app):
    at = open_page("pages/data.py")
    count = monthly_row_count(app, ALL)
    assert count > 1000
    assert at.dataframe[0].value.reset_index(drop=True).equals(monthly_rows(app, ALL, limit=100))
    assert f"{count:,} rows" in "\n".join(c.value for c in at.caption)


def test_the_map_says_which_regions_it_cannot_draw(app):
    at = open_page("pages/map.py")
    regions = len(metrics_by(app, ALL, "region"))
    assert any(f"of the {regions} regions in this store have no outline" in i.value for i in at.info)


@pytest.mark.parametrize("page", ["pages/quality.py", "pages/trends.py"])
def test_other_pages_draw_on_a_national_store(app, page):
    at = open_page(page)
    assert at.title or at.header


def test_the_registry_count_is_every_partnership(app):
    """queries.registry.partnership_count reads the highest partnership number: the count, since
    numbers run 1, 2, … and are never reused."""
    with app.connect() as conn:
        counted = conn.execute(select(func.count()).select_from(schema.partnerships)).scalar_one()
    assert registry_q.partnership_count(app) == counted == PARTNERSHIPS


def test_the_presenters_sector_by_region_slide_is_the_partnerships_pages_matrix(app):
    """Slide 4 shows, cell for cell, the matrix the Partnerships page shows (placements), on a
    store with more partnerships than the map draws markers for: every partnership counts."""
    assert PARTNERSHIPS > views.MAP_MARKERS
    page = open_page("pages/partnerships.py")
    page.session_state["compare"] = True  # the comparison, opened
    page.run()
    page.session_state["numbers_placements_sector_by_region"] = True  # the numbers behind the matrix, opened
    page.run()
    (matrix,) = [d.value for d in page.dataframe if d.value.columns[0] == "sector_name"]
    matrix = matrix.set_index("sector_name")
    expected = {
        (sector, region): int(value) for (sector, region), value in matrix.stack().items() if not pd.isna(value)
    }

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["present"] = "1"
    at.query_params["slide"] = "4"
    at.run()
    assert_clean(at)
    (spec,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heatmap = spec["data"][0]
    shown, sector_totals, region_totals = {}, {}, {}
    for y, row in zip(heatmap["y"], heatmap["text"], strict=True):
        sector, total = y.rsplit(" (", 1)
        sector_totals[sector] = int(total.rstrip(")").replace(",", ""))
        for x, cell in zip(heatmap["x"], row, strict=True):
            region, total = x.split("<br>")
            region_totals[region] = int(total.strip("()").replace(",", ""))
            if cell:
                shown[(sector, region)] = int(cell.replace(",", ""))

    assert shown == expected
    assert len(region_totals) == len(matrix.columns) > 40
    assert sector_totals == {s: int(matrix.loc[s].sum()) for s in matrix.index}
    assert region_totals == {r: int(matrix[r].sum()) for r in matrix.columns}
    placements = kpi_summary(app, ALL)["placements"]
    assert sum(shown.values()) == placements
    top = max(sector_totals, key=sector_totals.get)
    assert [t.value for t in at.title] == [f"{top} places the most people: {sector_totals[top]:,} of {placements:,}"]


def spotlight_kicker(at: AppTest) -> str:
    (kicker,) = re.findall(r'<div class="rsp-kicker">([^<]*)</div>', "\n".join(h.value for h in at.html))
    return kicker


@pytest.mark.parametrize(("slide", "kicker"), [("5", "Spotlight 1 of 20"), ("24", "Spotlight 20 of 20")])
def test_spotlights_are_numbered_from_one_to_their_count_at_scale(app, slide, kicker):
    """A national store: the spotlights stop at the 20 partnerships with the most placements."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["present"] = "1"
    at.query_params["slide"] = slide
    at.run()
    assert_clean(at)
    assert spotlight_kicker(at) == kicker


def test_a_link_with_several_partnerships_in_one_value_keeps_them_all(app):
    ids = search_partnerships(app, "", (), (), 3)["rsp_id"].tolist()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["rsp"] = ",".join(ids)
    at.run()
    assert_clean(at)
    assert at.multiselect(key=sidebar.KEY_RSP).value == ids
    shown = {m.label: m.value for m in at.metric}
    assert shown["Placements"] == f"{kpi_summary(app, Filters(partnerships=tuple(ids)))['placements']:,}"


def test_the_profile_stays_the_selected_partnership_after_turning_the_page(app):
    at = open_page("pages/partnerships.py")
    picked = at.dataframe[0].value["rsp_id"].iloc[0]
    click = {"selection": {"rows": [0], "columns": []}}  # a click on the first row of the first page
    at.session_state["partnership_table-placements-1-"] = click
    at.run()
    assert at.selectbox(key="p_profile").value == picked
    at.number_input(key="table_page").set_value(2).run()
    assert_clean(at)
    assert at.dataframe[0].value["rsp_id"].iloc[0] != picked
    assert at.selectbox(key="p_profile").value == picked
    assert partnership_list(app, (picked,))["name"].iloc[0] in [h.value for h in at.header]
