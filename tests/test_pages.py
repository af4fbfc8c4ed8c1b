"""The pages as a user reads them, driven through Streamlit's AppTest.

Every expected figure is computed with the query functions themselves on the same store and the
same Filters, then formatted the way the page formats it (ui.format), so a test fails when a page
shows something other than what the queries say.

The store is a SQLite file in a temporary directory, filled with the demo data once per module;
DATABASE_URL points the app at it, so the developer's var/ store is never touched.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from queries.data import monthly_rows
from queries.filters import Filters
from queries.goals import goal_progress
from queries.metrics import kpi_summary, metrics_by
from queries.registry import partnership_list
from rsp_data import ct
from rsp_data.metrics import METRICS
from rsp_data.store import init_store, make_engine, read_demo_rows
from ui.format import metric_value, number, percent

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
TIMEOUT = 60
PAGES = (
    "pages/overview.py",
    "pages/map.py",
    "pages/trends.py",
    "pages/partnerships.py",
    "pages/quality.py",
    "pages/data.py",
)
KPI_METRICS = ("employers_engaged", "trainees_enrolled", "trainees_completed", "placements", "placement_rate")
ALL = Filters()
CAPITAL = Filters(regions=("capital",))
LINKED = Filters(regions=("capital",), sectors=("healthcare",), month_from="2024-01", month_to="2025-06")
LINK_PARAMS = {"region": "capital", "sector": "healthcare", "from": "2024-01", "to": "2025-06"}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A demo-filled SQLite store in a temp dir; DATABASE_URL names it for the app under test."""
    url = f"sqlite:///{tmp_path_factory.mktemp('rsp_store') / 'rsp_metrics.sqlite'}"
    engine = make_engine(url)
    init_store(engine, demo=True)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    yield engine
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    engine.dispose()


class _PagesManagerAfterNavigation:
    """What the script runner reads once st.navigation has run in a server process."""

    uses_pages_directory = False


@pytest.fixture
def server(store, monkeypatch):
    """The store, and a script runner that behaves like a running server's.

    A running server sets PagesManager.uses_pages_directory to False the first time dashboard.py
    calls st.navigation, and it stays False. AppTest resets it before every run, and because the
    app's pages live in a folder named `pages/`, every run after the first would take Streamlit's
    legacy multipage path and execute the page file alone, skipping dashboard.py (no sidebar, stale
    filters). Pinning the flag makes reruns and page switches run dashboard.py as a server does.
    test_deep_link_as_first_request_to_a_fresh_server covers what that legacy path does to users.
    """
    monkeypatch.setattr(script_runner, "PagesManager", _PagesManagerAfterNavigation)
    return store


def open_app(params: dict | None = None, page: str | None = None) -> AppTest:
    """The app as a fresh session, optionally opened from a link with `params`, on `page`."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    if page and page != "pages/overview.py":
        at.switch_page(page).run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def markdown_text(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def kpis_shown(at: AppTest) -> dict[str, str]:
    """The KPI tiles (a profile also shows its area's census tiles, checked apart)."""
    labels = {METRICS[m].label for m in KPI_METRICS}
    return {m.label: m.value for m in at.metric if m.label in labels}


def kpis_expected(engine, filters: Filters) -> dict[str, str]:
    kpis = kpi_summary(engine, filters)
    return {METRICS[m].label: percent(kpis[m]) if m.endswith("_rate") else number(kpis[m]) for m in KPI_METRICS}


def decode(values) -> np.ndarray:
    """A plotly array from a figure spec: a plain list, or plotly 7's {"dtype", "bdata"[, "shape"]}."""
    if isinstance(values, dict) and "bdata" in values:
        arr = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        if "shape" in values:
            shape = values["shape"]
            arr = arr.reshape([int(s) for s in str(shape).split(",")] if isinstance(shape, str) else shape)
        return arr.astype("float64")
    return np.asarray([np.nan if v is None else v for v in values], dtype="float64")


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def bar_values(fig: dict) -> dict[str, float]:
    """{category name: bar length} of a horizontal bar chart with one trace.

    Axis labels are HTML-escaped and wrapped with <br> for plotly; read them back as text."""
    (trace,) = fig["data"]
    names = [html.unescape(label.replace("<br>", " ")) for label in trace["y"]]
    return dict(zip(names, decode(trace["x"]).tolist(), strict=True))


def deck(at: AppTest) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def layers(spec: dict, kind: str) -> list[dict]:
    return [layer for layer in spec["layers"] if layer.get("@@type") == kind]


def layer_data(layer: dict):
    data = layer["data"]
    return data["features"] if isinstance(data, dict) else data


def menu_links(at: AppTest) -> dict[str, dict[str, str]]:
    """The sidebar's page links, {label: the query parameters the link opens with}."""
    return {
        link.proto.label: {k: v[0] if len(v) == 1 else v for k, v in parse_qs(link.proto.query_string).items()}
        for link in at.get("page_link")
    }


def dictionary_rows(at: AppTest) -> dict[str, list[str]]:
    """The data dictionary as shown, {metric key: the row's cells}: from a Markdown table whose
    header names a `column`, or from a table element with a "Column" column."""
    rows: dict[str, list[str]] = {}
    for md in at.markdown:
        lines = [line.strip() for line in str(md.value).splitlines() if line.strip().startswith("|")]
        if not lines:
            continue
        header = [c.strip().lower() for c in lines[0].strip("|").split("|")]
        if "column" not in header:
            continue
        at_column = header.index("column")
        for line in lines[2:]:
            cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
            rows[cells[at_column]] = cells
    for frame in at.dataframe:
        df = frame.value
        if "Column" in df.columns:
            for record in df.astype(str).to_dict("records"):
                rows[record["Column"]] = list(record.values())
    return rows


def expected_by(engine, filters: Filters, by: str, metric: str = "placements") -> dict[str, float]:
    df = metrics_by(engine, filters, by)
    return dict(zip(df["group_name"], df[metric].astype("float64"), strict=True))


# ---------------------------------------------------------------- every page


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_cleanly_and_says_the_data_is_illustrative(server, page):
    at = open_app(page=page)
    assert_clean(at)
    assert at.title, f"{page} shows no title"
    assert "Illustrative data" in markdown_text(at), f"{page} does not label the illustrative data"


# ---------------------------------------------------------------- overview


def test_overview_kpis_follow_the_sidebar_and_the_url(server):
    at = open_app()
    assert_clean(at)
    assert kpis_shown(at) == kpis_expected(server, ALL)
    assert not any(name in at.query_params for name in ("region", "sector", "rsp", "from", "to"))

    at.multiselect(key="f_region").set_value(["capital"]).run()
    assert_clean(at)
    shown = kpis_shown(at)
    assert shown == kpis_expected(server, CAPITAL)
    assert shown != kpis_expected(server, ALL)
    assert at.query_params.get("region") == "capital"
    assert "Capital region" in markdown_text(at)
    # Every page link in the sidebar menu carries the filter, so another page opens with it.
    links = menu_links(at)
    assert set(links) == {
        "Overview",
        "Map",
        "Trends",
        "Partnerships",
        "Good jobs & reach",
        "Data",
        "Reporting status",
        "Submit data",
        "Present this view",
    }
    present = links.pop("Present this view")
    assert present == {"region": "capital", "present": "1"}
    assert all(params == {"region": "capital"} for params in links.values()), links


def test_overview_goal_progress_shows_the_grant_placements(server):
    at = open_app()
    progress = goal_progress(server, ALL)
    (bar,) = at.get("progress")
    text = bar.proto.text
    assert f"{progress.placements:,} of {progress.goal:,} placements" in text
    assert f"{progress.partnerships} grant-supported partnerships" in text
    assert bar.proto.value == int(min(progress.share, 1.0) * 100)

    at.multiselect(key="f_region").set_value(["capital"]).run()
    capital = goal_progress(server, CAPITAL)
    assert capital.placements < progress.placements
    assert f"{capital.placements:,} of {capital.goal:,} placements" in at.get("progress")[0].proto.text


def test_overview_breakdown_bars_equal_the_query(server):
    at = open_app()
    by_sector, by_region = figures(at)[-2:]  # after the goal charts
    assert bar_values(by_sector) == expected_by(server, ALL, "sector")
    assert bar_values(by_region) == expected_by(server, ALL, "region")
    # The bar labels read as the page formats numbers.
    (trace,) = by_sector["data"]
    assert trace["text"] == [metric_value("placements", v) for v in decode(trace["x"])]

    at.multiselect(key="f_region").set_value(["capital"]).run()
    by_sector, by_region = figures(at)[-2:]
    assert bar_values(by_sector) == expected_by(server, CAPITAL, "sector")
    assert bar_values(by_region) == {"Capital": expected_by(server, CAPITAL, "region")["Capital"]}


NUMBERS = "The numbers behind this chart"


@pytest.mark.parametrize(
    ("page", "key"),
    [
        ("pages/overview.py", "numbers_placements_by_sector"),
        ("pages/overview.py", "numbers_goal_good-jobs-challenge"),
        ("pages/trends.py", "numbers_placements_monthly"),
        ("pages/quality.py", "numbers_avg_starting_wage_by_sector"),
    ],
)
def test_the_numbers_behind_a_chart_are_drawn_when_opened(server, page, key):
    at = open_app(page=page)
    boxes = [e for e in at.expander if e.label == NUMBERS]
    assert len(boxes) == len(at.get("plotly_chart")) > 0  # one under every chart
    assert all(not box.children for box in boxes)  # closed: nothing drawn in them yet
    at.session_state[key] = True
    at.run()
    assert_clean(at)
    opened = [box for box in at.expander if box.label == NUMBERS and box.children]
    assert len(opened) == 1
    (table,) = opened[0].dataframe
    assert table.proto.alt.startswith("The numbers behind the chart: ") and len(table.value) > 0
    assert [b.proto.label for b in opened[0].get("download_button")] == ["Download CSV"]


def test_the_numbers_behind_the_sector_chart_are_its_bars(server):
    at = open_app()
    at.session_state["numbers_placements_by_sector"] = True
    at.run()
    by_sector = figures(at)[-2]
    (box,) = [box for box in at.expander if box.label == NUMBERS and box.children]
    (table,) = box.dataframe
    numbers = dict(zip(table.value["Sector"], table.value["Placements"].astype("float64"), strict=True))
    assert numbers == bar_values(by_sector) == expected_by(server, ALL, "sector")


# ---------------------------------------------------------------- links (URL state)


def test_link_sets_the_filters_and_the_figures(server):
    at = open_app(LINK_PARAMS)
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.multiselect(key="f_region").value == ["capital"]
    assert at.multiselect(key="f_sector").value == ["healthcare"]
    assert at.multiselect(key="f_rsp").value == []
    assert tuple(at.select_slider(key="f_months").value) == ("2024-01", "2025-06")
    assert kpis_shown(at) == kpis_expected(server, LINKED)
    assert kpis_shown(at) != kpis_expected(server, ALL)
    # The link survives the first run unchanged, and the menu's page links carry it on.
    assert {k: at.query_params.get(k) for k in LINK_PARAMS} == LINK_PARAMS
    links = menu_links(at)
    assert links.pop("Present this view") == {**LINK_PARAMS, "present": "1"}
    assert all(params == LINK_PARAMS for params in links.values()), links


def test_navigating_keeps_the_filters(server):
    at = open_app(LINK_PARAMS)
    expected = kpi_summary(server, LINKED)

    at.switch_page("pages/trends.py").run()
    assert_clean(at)
    assert at.multiselect(key="f_region").value == ["capital"]
    assert at.multiselect(key="f_sector").value == ["healthcare"]
    assert tuple(at.select_slider(key="f_months").value) == ("2024-01", "2025-06")
    (trend,) = figures(at)
    (trace,) = trend["data"]
    y = decode(trace["y"])
    assert len(y) == 18  # Jan 2024 – Jun 2025
    assert y.sum() == expected["placements"]

    at.switch_page("pages/partnerships.py").run()
    assert_clean(at)
    assert at.multiselect(key="f_region").value == ["capital"]
    table = at.dataframe[0].value
    assert list(table["rsp_id"]) == ["capital-healthcare"]
    assert table["placements"].iloc[0] == expected["placements"]

    at.switch_page("pages/map.py").run()
    assert_clean(at)
    assert at.multiselect(key="f_sector").value == ["healthcare"]
    (scatter,) = layers(deck(at), "ScatterplotLayer")
    assert len(layer_data(scatter)) == 1
    (value,) = expected_by(server, LINKED, "region").values()
    assert f"Capital: **{metric_value('placements', value)}**" in markdown_text(at)

    at.switch_page("pages/data.py").run()
    assert_clean(at)
    assert len(at.dataframe[0].value) == len(monthly_rows(server, LINKED)) == 18

    at.switch_page("pages/overview.py").run()
    assert_clean(at)
    assert kpis_shown(at) == kpis_expected(server, LINKED)
    assert {k: at.query_params.get(k) for k in LINK_PARAMS} == LINK_PARAMS


def test_deep_link_as_first_request_to_a_fresh_server(store):
    """A shared link to a page other than Overview, opened when the server process has just started
    (after a deploy, a restart, or a cloud app waking up), shows that page with its filters.

    Without the `server` fixture this run behaves like a fresh process: Streamlit's legacy
    `pages/`-folder detection is still on until st.navigation has been called once, so the
    requested page file runs alone, without dashboard.py (once: KeyError on "_filters" from
    sidebar.filters(), and the auto-generated page list dashboard, data, map, overview, …).
    """
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["region"] = "capital"
    at.switch_page("pages/map.py").run()
    assert_clean(at)
    assert at.multiselect(key="f_region").value == ["capital"]
    assert "Capital region" in markdown_text(at)


def test_bad_link_falls_back_to_all_with_readable_notices(server):
    at = open_app(
        {
            "region": "atlantis",
            "from": "2099-99",
            "rsp": "<script>alert(1)</script>",
            "sector": "x' OR 1=1 --",
        }
    )
    assert_clean(at)
    notices = [str(w.value) for w in at.warning]
    assert len(notices) == 4, notices
    joined = "\n".join(notices)
    assert "unknown region “atlantis”" in joined
    assert "unknown sector “x' OR 1=1 --”" in joined
    assert "unknown partnership" in joined
    assert "from=2099-99" in joined and "there is no month 99" in joined
    assert "<" not in joined and ">" not in joined  # no markup from the link reaches the page
    # Everything falls back to "all".
    for key in ("f_region", "f_sector", "f_rsp"):
        assert at.multiselect(key=key).value == []
    assert kpis_shown(at) == kpis_expected(server, ALL)
    # The bad values are dropped from the address bar.
    assert not any(name in at.query_params for name in ("region", "sector", "rsp", "from", "to")), at.query_params
    # The notices are said once, on the page the link opened; the next interaction is quiet.
    at.multiselect(key="f_region").set_value(["capital"]).run()
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert kpis_shown(at) == kpis_expected(server, CAPITAL)


def test_unknown_page_choice_in_link_is_ignored_with_a_notice(server):
    at = open_app({"metric": "bogus"})
    assert_clean(at)
    assert any("metric=bogus" in str(w.value) for w in at.warning), [w.value for w in at.warning]
    assert at.selectbox(key="p_metric").value == "placements"
    assert "metric" not in at.query_params


# ---------------------------------------------------------------- map


def test_map_draws_regions_and_partnerships_without_tiles(server):
    at = open_app(page="pages/map.py")
    assert_clean(at)
    spec = deck(at)
    # No basemap and nothing fetched (reads offline). With no style at all, Streamlit's frontend
    # would fill in an online Carto basemap; see ui.charts.region_map.
    assert spec["mapStyle"] == [""]
    assert "http" not in json.dumps(spec)
    regions = [layer for layer in layers(spec, "GeoJsonLayer") if layer.get("id") == "regions"]
    assert len(regions) == 1
    features = layer_data(regions[0])
    assert len(features) == 5
    assert {f["properties"]["region_id"] for f in features} == {
        "northwest",
        "capital",
        "south-central",
        "eastern",
        "southwest",
    }
    (scatter,) = layers(spec, "ScatterplotLayer")
    assert len(layer_data(scatter)) == 14

    # The legend reads each region's figure from the query.
    legend = markdown_text(at)
    for name, value in expected_by(server, ALL, "region").items():
        assert f"{name}: **{metric_value('placements', value)}**" in legend

    at.multiselect(key="f_region").set_value(["capital"]).run()
    assert_clean(at)
    spec = deck(at)
    (scatter,) = layers(spec, "ScatterplotLayer")
    capital_rsps = partnership_list(server).query("region_id == 'capital'")
    assert len(layer_data(scatter)) == len(capital_rsps) < 14
    (regions,) = [layer for layer in layers(spec, "GeoJsonLayer") if layer.get("id") == "regions"]
    assert len(layer_data(regions)) == 5  # the other regions stay on the map, greyed
    legend = markdown_text(at)
    (value,) = expected_by(server, CAPITAL, "region").values()
    assert f"Capital: **{metric_value('placements', value)}**" in legend


def test_map_measure_changes_the_legend(server):
    at = open_app(page="pages/map.py")
    at.selectbox(key="p_metric").set_value("placement_rate").run()
    assert_clean(at)
    assert at.query_params.get("metric") == "placement_rate"
    legend = markdown_text(at)
    for name, value in expected_by(server, ALL, "region", "placement_rate").items():
        assert f"{name}: **{percent(value)}**" in legend


# ---------------------------------------------------------------- trends


def test_trends_monthly_cumulative_and_split(server):
    at = open_app(page="pages/trends.py")
    assert_clean(at)
    total = kpi_summary(server, ALL)["placements"]

    (fig,) = figures(at)
    (trace,) = fig["data"]
    assert decode(trace["y"]).sum() == total

    at.button_group(key="p_view").set_value("cumulative").run()
    assert_clean(at)
    assert at.query_params.get("view") == "cumulative"
    (fig,) = figures(at)
    lines = [t for t in fig["data"] if t.get("name") == "All partnerships"]
    assert len(lines) == 1
    assert decode(lines[0]["y"])[-1] == total
    # The dotted grant line ends at the goal-progress figure.
    grant = [t for t in fig["data"] if t.get("name", "").startswith("Grant-supported")]
    assert len(grant) == 1
    assert decode(grant[0]["y"])[-1] == goal_progress(server, ALL).placements
    goal_shapes = [
        s for s in fig["layout"].get("shapes", []) if s.get("type") == "line" and s.get("y0") == s.get("y1") == 2000
    ]
    assert len(goal_shapes) == 1
    assert any("2,000" in a.get("text", "") for a in fig["layout"].get("annotations", []))

    at.button_group(key="p_view").set_value("monthly").run()
    at.button_group(key="p_split").set_value("sector").run()
    assert_clean(at)
    assert at.query_params.get("split") == "sector"
    (fig,) = figures(at)
    per_sector = {t["name"]: decode(t["y"]).sum() for t in fig["data"]}
    assert per_sector == expected_by(server, ALL, "sector")


# ---------------------------------------------------------------- partnerships


def test_partnership_table_and_profile(server):
    at = open_app(page="pages/partnerships.py")
    assert_clean(at)
    table = at.dataframe[0].value
    assert len(table) == 14
    expected = metrics_by(server, ALL, "partnership")
    assert dict(zip(table["rsp_id"], table["placements"], strict=True)) == dict(
        zip(expected["group_id"], expected["placements"], strict=True)
    )
    assert list(table["placements"]) == sorted(table["placements"], reverse=True)
    assert not at.metric  # no profile until one is chosen

    at.selectbox(key="p_profile").set_value("capital-technology").run()
    assert_clean(at)
    assert "Capital Area Tech Partnership" in [h.value for h in at.header]
    assert kpis_shown(at) == kpis_expected(server, Filters(partnerships=("capital-technology",)))
    assert at.query_params.get("profile") == "capital-technology"


def test_profile_opens_from_a_link(server):
    at = open_app({"profile": "capital-technology"}, page="pages/partnerships.py")
    assert_clean(at)
    assert at.selectbox(key="p_profile").value == "capital-technology"
    assert "Capital Area Tech Partnership" in [h.value for h in at.header]
    assert kpis_shown(at) == kpis_expected(server, Filters(partnerships=("capital-technology",)))
    # Who lives in its area: the Capital area's census, summed from its 37 towns.
    assert {m.label: m.value for m in at.metric}["Residents"] == f"{ct.census(('capital',)).population:,}"


# ---------------------------------------------------------------- data


def test_data_rows_page_download_and_dictionary(server):
    at = open_app(page="pages/data.py")
    assert_clean(at)
    everything = monthly_rows(server, ALL)
    rows = at.dataframe[0].value
    assert len(everything) == len(read_demo_rows()) == 911  # the latest figures of each partnership-month
    # The first page of 100, by partnership id and month; the caption counts them all.
    assert rows.reset_index(drop=True).equals(everything.iloc[:100].reset_index(drop=True))
    captions = "\n".join(c.value for c in at.caption)
    assert f"{len(everything):,} rows" in captions and "Showing rows 1–100." in captions
    assert len(at.download_button) == 1
    assert "CSV" in at.download_button[0].label
    rows_by_key = dictionary_rows(at)
    assert set(rows_by_key) == set(METRICS)
    for key, cells in rows_by_key.items():
        assert METRICS[key].label in cells

    # Next, next, previous: each page is the next 100 rows in the same order.
    next_button = next(b for b in at.button if b.label == "Next →")
    next_button.click().run()
    assert at.dataframe[0].value.reset_index(drop=True).equals(everything.iloc[100:200].reset_index(drop=True))
    next(b for b in at.button if b.label == "Next →").click().run()
    assert "Showing rows 201–300." in "\n".join(c.value for c in at.caption)
    next(b for b in at.button if b.label == "← Previous").click().run()
    assert at.dataframe[0].value.reset_index(drop=True).equals(everything.iloc[100:200].reset_index(drop=True))

    # A filter starts again at the first page of what it selects.
    at.multiselect(key="f_region").set_value(["capital"]).run()
    assert_clean(at)
    capital = monthly_rows(server, CAPITAL)
    filtered = at.dataframe[0].value
    assert filtered.reset_index(drop=True).equals(capital.iloc[:100].reset_index(drop=True))
    assert set(filtered["region"]) == {"Capital"}
    assert f"{len(capital):,} rows" in "\n".join(c.value for c in at.caption)


# ---------------------------------------------------------------- the server process


def test_the_first_run_freezes_the_process_heap_once(server, monkeypatch):
    """dashboard.py moves the process's long-lived objects out of the garbage collector's passes
    (ui/process.py) on the first run only."""
    import gc

    from ui import process

    frozen = []
    process.settle_heap.cache_clear()
    monkeypatch.setattr(process, "freeze_heap", lambda: frozen.append(gc.get_count()))
    at = open_app()
    assert_clean(at)
    assert len(frozen) == 1
    at.switch_page("pages/trends.py").run()
    open_app()  # another session in the same process
    assert len(frozen) == 1


def test_objects_made_after_the_freeze_are_still_collected():
    import gc
    import weakref

    from ui import process

    class Node:
        pass

    process.freeze_heap()
    assert gc.get_freeze_count() > 0
    node = Node()
    node.me = node  # a reference cycle: only the collector frees it
    gone = weakref.ref(node)
    del node
    gc.collect()
    assert gone() is None
