"""Presenter mode (`?present=1`): the slides, their order, the URL state, the controls, auto-advance.

AppTest drives dashboard.py against a SQLite store filled with the demo data (DATABASE_URL points
at it); every expected figure is computed with the query functions on the same store and filters.
Auto-advance is checked without waiting: the decision (`present.auto_advance`) is a plain function
tested against a dict, and the fragment's timer is checked in the messages sent to the browser.

The test marked `browser` starts the real app (scripts/present_screenshots.py) and measures slide 1
in Chromium at 1920×1080, light and dark.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from queries.filters import Filters
from queries.goals import goal_progress
from queries.metrics import kpi_summary, metrics_by
from queries.registry import partnership_list
from rsp_data.store import init_store, make_engine
from ui import charts, present
from ui.format import metric_value

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = str(REPO_ROOT / "dashboard.py")
TIMEOUT = 60
ALL = Filters()
CAPITAL = Filters(regions=("capital",))
KPI_RE = re.compile(r'data-metric="(\w+)"><div class="rsp-kpi-value">([^<]*)</div>')


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Iterator[tuple[str, object]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('present') / 'present.sqlite'}"
    engine = make_engine(url)
    init_store(engine, demo=True)
    yield url, engine
    engine.dispose()


class _PagesManagerAfterNavigation:
    """What the script runner reads once st.navigation has run in a server process.

    AppTest sets PagesManager.uses_pages_directory back to None before every run, and its
    PagesManager then finds the `pages/` folder and turns it on, so setting the flag to False
    between runs does not last: every run after the first would execute the page file alone
    (Streamlit's legacy multipage path), skipping dashboard.py. Pinning it, as tests/test_pages.py
    does, makes every run go through dashboard.py as a running server does.
    """

    uses_pages_directory = False


@pytest.fixture
def engine(demo_store, monkeypatch):
    url, eng = demo_store
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(script_runner, "PagesManager", _PagesManagerAfterNavigation)
    return eng


def open_present(**params: str) -> AppTest:
    """A fresh session opened from a presenter-mode link with `params`."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["present"] = "1"
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def title(at: AppTest) -> str:
    titles = [t.value for t in at.title]
    assert len(titles) == 1, titles
    return titles[0]


def html_text(at: AppTest) -> str:
    return "\n".join(h.value for h in at.html)


def counter(at: AppTest) -> str:
    match = re.search(r'data-testid="rsp-counter">([^<]*)<', html_text(at))
    assert match, "no slide counter"
    return match.group(1)


def kpis_shown(at: AppTest) -> dict[str, str]:
    return dict(KPI_RE.findall(html_text(at)))


def kpis_expected(eng, filters: Filters) -> dict[str, str]:
    kpis = kpi_summary(eng, filters)
    return {m: metric_value(m, kpis[m]) for m in charts.KPI_METRICS}


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected_order(eng, filters: Filters) -> list[str]:
    """Partnership ids inside the filters with figures in the months, most placements first (ties by name)."""
    plist = partnership_list(eng)
    if filters.regions:
        plist = plist[plist["region_id"].isin(filters.regions)]
    placed = metrics_by(eng, filters, "partnership").set_index("group_id")["placements"]
    plist = plist[plist["rsp_id"].isin(placed.index)]
    plist = plist.assign(placed=[int(placed[r]) for r in plist["rsp_id"]])
    return list(plist.sort_values(["placed", "name"], ascending=[False, True])["rsp_id"])


def expected_titles(eng, filters: Filters) -> list[str]:
    """The findings slides 1, 2, 4 and 5 should state (slide 3's depends on a projection: prefix only)."""
    progress = goal_progress(eng, filters)
    regions = metrics_by(eng, filters, "region").sort_values(["placements", "group_name"], ascending=[False, True])
    sectors = metrics_by(eng, filters, "sector").sort_values("placements", ascending=False)
    total = int(sectors["placements"].sum())
    first = expected_order(eng, filters)[0]
    plist = partnership_list(eng).set_index("rsp_id")
    first_placed = int(kpi_summary(eng, Filters(partnerships=(first,)))["placements"])
    return [
        f"{progress.placements:,} of 2,000 placements: {progress.share:.0%} of the goal",
        f"{regions.iloc[0]['group_name']} region leads with {int(regions.iloc[0]['placements']):,} placements",
        f"{progress.placements:,} placed since Aug 2022",
        f"{sectors.iloc[0]['group_name']} places the most people: {int(sectors.iloc[0]['placements']):,} of {total:,}",
        f"{plist.loc[first, 'name']} placed {first_placed:,} people",
    ]


# ---------------------------------------------------------------- slides and their order


def test_slides_come_in_order_and_each_states_its_finding(engine):
    at = open_present()
    order = expected_order(engine, ALL)
    plan = at.session_state[present.K_PLAN]
    assert plan == ["kpis", "map", "trend", "matrix", *(f"spotlight:{r}" for r in order)]
    assert len(plan) == 4 + len(partnership_list(engine)) == 18
    wanted = expected_titles(engine, ALL)
    seen = []
    for number in range(1, 6):
        assert counter(at) == f"{number} / 18"
        assert at.query_params["slide"] == str(number)
        seen.append(title(at))
        text = html_text(at)
        assert "Illustrative data" in text, f"slide {number} does not label the illustrative data"
        assert "As of <b>Oct 2026</b>" in text
        if number == 2:
            assert len(at.get("deck_gl_json_chart")) == 1
        if number == 3:
            (fig,) = figures(at)
            assert any(shape.get("y0") == 2000 for shape in fig["layout"]["shapes"]), "no goal line"
            assert {t["name"] for t in fig["data"]} >= {"Grant-supported partnerships, since grant start"}
        if number == 4:
            (fig,) = figures(at)
            assert fig["data"][0]["type"] == "heatmap"
        if number == 5:
            assert set(kpis_shown(at)) == set(charts.KPI_METRICS)
        click(at, "present_next")
    assert seen[0] == wanted[0] == "1,867 of 2,000 placements: 93% of the goal"
    assert seen[1] == wanted[1]
    assert seen[2].startswith(wanted[2]) and "2,000" in seen[2]
    assert seen[3] == wanted[3]
    assert seen[4] == wanted[4]


def test_first_slide_shows_the_statewide_kpis_and_the_goal(engine):
    at = open_present()
    assert kpis_shown(at) == kpis_expected(engine, ALL)
    progress = goal_progress(engine, ALL)
    assert f'data-testid="rsp-goal-figure">{progress.placements:,} ({progress.share:.0%})' in html_text(at)
    assert f'aria-valuenow="{progress.placements}"' in html_text(at)


def test_heatmap_cells_are_placements_per_sector_and_region(engine):
    at = open_present(slide="4")
    (fig,) = figures(at)
    trace = fig["data"][0]
    rows = metrics_by(engine, ALL, "partnership").merge(
        partnership_list(engine)[["rsp_id", "sector_name", "region_name"]], left_on="group_id", right_on="rsp_id"
    )
    expected = rows.groupby(["sector_name", "region_name"])["placements"].sum()
    shown = {}
    for y, row in zip(trace["y"], trace["text"], strict=True):
        for x, cell in zip(trace["x"], row, strict=True):
            if cell:
                shown[(y.rsplit(" (", 1)[0], x.split("<br>")[0])] = int(cell.replace(",", ""))
    assert shown == {k: int(v) for k, v in expected.items()}


def kicker(at: AppTest) -> str:
    """The small line above a slide's title, as the audience reads it."""
    (text,) = re.findall(r'<div class="rsp-kicker">([^<]*)</div>', html_text(at))
    return text


def test_spotlights_are_numbered_one_to_their_count(engine):
    """The first spotlight (slide 5) reads "Spotlight 1 of 14", the last (slide 18) "14 of 14",
    each on its own partnership; Next from the matrix slide reaches the first."""
    order = expected_order(engine, ALL)
    names = partnership_list(engine).set_index("rsp_id")["name"]
    assert len(order) == 14
    at = open_present(slide="4")
    assert kicker(at) == "Sector × region"
    click(at, "present_next")
    assert kicker(at) == "Spotlight 1 of 14"
    assert title(at).startswith(f"{names[order[0]]} placed ")
    click(at, "present_next")
    assert kicker(at) == "Spotlight 2 of 14"
    assert title(at).startswith(f"{names[order[1]]} placed ")
    at = open_present(slide="18")
    assert kicker(at) == "Spotlight 14 of 14"
    assert title(at).startswith(f"{names[order[-1]]} placed ")


# ---------------------------------------------------------------- the URL


def test_the_slide_in_the_link_opens_that_slide(engine):
    at = open_present(slide="3")
    assert counter(at) == "3 / 18"
    assert title(at).startswith(expected_titles(engine, ALL)[2])
    assert at.query_params["slide"] == "3"
    assert not at.warning and "Ignored" not in html_text(at)


def test_a_region_in_the_link_narrows_every_slide(engine):
    at = open_present(region="capital")
    assert kpis_shown(at) == kpis_expected(engine, CAPITAL)
    progress = goal_progress(engine, CAPITAL)
    assert title(at) == f"{progress.placements:,} of 2,000 placements: {progress.share:.0%} of the goal"
    assert "Capital region" in html_text(at)
    capital = set(partnership_list(engine).query("region_id == 'capital'")["rsp_id"])
    assert len(capital) == 4
    plan = at.session_state[present.K_PLAN]
    assert len(plan) == 4 + 4
    assert [k.removeprefix("spotlight:") for k in plan[4:]] == expected_order(engine, CAPITAL)
    assert set(expected_order(engine, CAPITAL)) == capital
    assert at.query_params["region"] == "capital"  # the filter stays in the link

    at.query_params["slide"] = "4"
    at.run()
    (fig,) = figures(at)
    assert [x.split("<br>")[0] for x in fig["data"][0]["x"]] == ["Capital"]

    click(at, "present_next")
    names = partnership_list(engine).set_index("rsp_id")["name"]
    first = expected_order(engine, CAPITAL)[0]
    assert title(at).startswith(names[first])
    assert counter(at) == "5 / 8"
    assert at.query_params["region"] == "capital" and at.query_params["slide"] == "5"


def test_filters_with_nothing_in_them_give_four_plain_slides(engine):
    at = open_present(region="capital", sector="bioscience")
    assert at.session_state[present.K_PLAN] == ["kpis", "map", "trend", "matrix"]
    for number in range(1, 5):
        assert counter(at) == f"{number} / 4"
        assert title(at) == "No monthly figures match these filters"
        click(at, "present_next")
    assert counter(at) == "1 / 4"


def test_only_partnerships_with_figures_in_the_months_get_a_spotlight(engine):
    months = Filters(month_from="2013-01", month_to="2014-06")
    at = open_present(**{"from": "2013-01", "to": "2014-06"})
    with_figures = set(metrics_by(engine, months, "partnership")["group_id"])
    assert with_figures == {"eastern-manufacturing"}
    assert at.session_state[present.K_PLAN][4:] == ["spotlight:eastern-manufacturing"]
    assert kpis_shown(at) == kpis_expected(engine, months)
    assert "Jan 2013 – Jun 2014" in html_text(at)


def test_next_and_previous_change_the_slide_and_the_link(engine):
    at = open_present()
    click(at, "present_next")
    assert counter(at) == "2 / 18" and at.query_params["slide"] == "2"
    click(at, "present_prev")
    assert counter(at) == "1 / 18" and at.query_params["slide"] == "1"
    click(at, "present_prev")  # wraps round to the last slide
    assert counter(at) == "18 / 18" and at.query_params["slide"] == "18"
    last = expected_order(engine, ALL)[-1]
    assert title(at).startswith(partnership_list(engine).set_index("rsp_id").loc[last, "name"])
    click(at, "present_next")  # and back to the first
    assert counter(at) == "1 / 18" and at.query_params["slide"] == "1"


@pytest.mark.parametrize("bad", ["99", "abc", "0", "-2", "2.5"])
def test_a_bad_slide_in_the_link_falls_back_to_slide_one_with_a_notice(engine, bad):
    at = open_present(slide=bad)
    assert counter(at) == "1 / 18"
    assert title(at) == expected_titles(engine, ALL)[0]
    assert f"Ignored “slide={bad}” in the link" in html_text(at)
    assert at.query_params["slide"] == "1"
    click(at, "present_next")  # the notice goes once the presenter moves on
    assert "Ignored" not in html_text(at)


def test_bad_interval_and_pause_values_fall_back_with_notices(engine):
    at = open_present(interval="7", paused="maybe")
    text = html_text(at)
    assert "Ignored “interval=7”" in text and "Ignored “paused=maybe”" in text
    assert at.session_state[present.K_INTERVAL] == present.DEFAULT_INTERVAL
    assert at.session_state[present.K_PAUSED] is False
    assert "interval" not in at.query_params and "paused" not in at.query_params


def test_bad_filter_values_show_small_on_the_first_slide(engine):
    at = open_present(region="atlantis")
    assert "Ignored unknown region “atlantis” in the link." in html_text(at)
    assert kpis_shown(at) == kpis_expected(engine, ALL)


def test_pause_and_interval_live_in_the_link(engine):
    at = open_present(interval="10", paused="1")
    assert at.button(key="present_pause").label == "Play"
    assert at.segmented_control[0].value == 10
    assert at.query_params["interval"] == "10" and at.query_params["paused"] == "1"
    click(at, "present_pause")
    assert at.button(key="present_pause").label == "Pause"
    assert "paused" not in at.query_params
    at.segmented_control[0].set_value(60).run()
    assert at.query_params["interval"] == "60"
    at.segmented_control[0].set_value(present.DEFAULT_INTERVAL).run()
    assert "interval" not in at.query_params  # the default is left out of the link


# ---------------------------------------------------------------- chrome, exit, offline


def test_no_sidebar_and_the_chrome_is_hidden_without_any_download(engine):
    at = open_present(region="capital")
    assert not at.sidebar.children
    css = next(h.value for h in at.html if "<style>" in h.value and "Presenter mode" in h.value)
    for hidden in ('[data-testid="stSidebar"]', 'header[data-testid="stHeader"]', '[data-testid="stToolbar"]'):
        assert hidden in css
    # Nothing fetched from elsewhere: no web fonts, no CDN, no map tiles.
    assert not re.search(r"https?://|@import|url\(", html_text(at))
    at.query_params["slide"] = "2"
    at.run()
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert not re.search(r"https?://", json.dumps(spec)), "the map asks for tiles or a style from the internet"


def test_exit_returns_to_the_page_with_its_sidebar_and_the_filters(engine):
    at = open_present(region="capital", sector="healthcare", slide="2", interval="30", paused="1")
    click(at, "present_exit")
    assert dict(at.query_params) == {"region": "capital", "sector": "healthcare"}
    assert at.sidebar.children, "no sidebar after leaving presenter mode"
    assert title(at) == "Connecticut Regional Sector Partnerships"
    assert "Capital region · Healthcare" in "\n".join(m.value for m in at.markdown)


# ---------------------------------------------------------------- auto-advance


def test_step_wraps_at_both_ends():
    assert present.step(0, 18) == 1
    assert present.step(17, 18) == 0
    assert present.step(0, 18, -1) == 17
    assert present.step(5, 8, -1) == 4
    assert present.step(0, 0) == 0


def test_auto_advance_moves_on_only_when_the_interval_has_passed():
    session = {present.K_SLIDE: 3, present.K_INTERVAL: 20, present.K_PAUSED: False, present.K_SHOWN_AT: 100.0}
    assert not present.auto_advance(session, 18, now=100.0)  # a full run draws the slide: no move
    assert not present.auto_advance(session, 18, now=110.0)  # half the interval
    assert session[present.K_SLIDE] == 3
    assert present.auto_advance(session, 18, now=120.0)  # the timer's run after 20 s
    assert session[present.K_SLIDE] == 4 and session[present.K_SHOWN_AT] == 120.0
    assert not present.auto_advance(session, 18, now=121.0)  # the clock restarted with the new slide
    session[present.K_SLIDE] = 17
    assert present.auto_advance(session, 18, now=141.0)
    assert session[present.K_SLIDE] == 0  # after the last, the first


def test_auto_advance_never_moves_while_paused():
    session = {present.K_SLIDE: 2, present.K_INTERVAL: 10, present.K_PAUSED: True, present.K_SHOWN_AT: 0.0}
    assert not present.auto_advance(session, 18, now=10_000.0)
    assert session[present.K_SLIDE] == 2


def test_link_parameters_parse_with_validation():
    assert present.parse_params({}, 18) == (0, present.DEFAULT_INTERVAL, False, [])
    assert present.parse_params({"slide": "18", "interval": "60", "paused": "1"}, 18) == (17, 60, True, [])
    index, interval, paused, notices = present.parse_params({"slide": "19", "interval": "5", "paused": "x"}, 18)
    assert (index, interval, paused) == (0, present.DEFAULT_INTERVAL, False)
    assert len(notices) == 3
    # Superscript digits pass str.isdigit() but int() refuses them: they fall back like any bad value.
    assert present.parse_params({"slide": "²", "interval": "²"}, 18)[:2] == (0, present.DEFAULT_INTERVAL)
    assert present.url_params(2, present.DEFAULT_INTERVAL, False) == {"slide": "3"}
    assert present.url_params(0, 30, True) == {"slide": "1", "interval": "30", "paused": "1"}


@pytest.fixture
def timers(monkeypatch) -> list[tuple[float, str]]:
    """Every auto-rerun timer the app asks the browser to run: (interval in seconds, fragment id)."""
    seen: list[tuple[float, str]] = []
    original = ForwardMsgQueue.enqueue

    def spy(self, msg):
        if msg.WhichOneof("type") == "auto_rerun":
            seen.append((msg.auto_rerun.interval, msg.auto_rerun.fragment_id))
        return original(self, msg)

    monkeypatch.setattr(ForwardMsgQueue, "enqueue", spy)
    return seen


def test_the_slide_fragment_reruns_at_the_chosen_interval(engine, timers):
    at = open_present(interval="30")
    assert [interval for interval, _ in timers] == [30.0]
    fragment = timers[0][1]
    timers.clear()
    at.segmented_control[0].set_value(10).run()
    assert [interval for interval, _ in timers] == [10.0]
    assert timers[0][1] == fragment  # the same fragment: the slide
    timers.clear()
    click(at, "present_pause")
    assert timers == []  # paused: no timer at all
    click(at, "present_pause")
    assert [interval for interval, _ in timers] == [10.0]


def test_a_paused_link_starts_without_a_timer(engine, timers):
    open_present(paused="1")
    assert timers == []


# ---------------------------------------------------------------- real browser


@pytest.fixture(scope="module")
def browser_apps() -> Iterator[dict]:
    """One real app per colour scheme, started on first use (scripts/present_screenshots.py)."""
    import contextlib

    shots = pytest.importorskip("scripts.present_screenshots")
    with contextlib.ExitStack() as stack:
        apps: dict = {}

        def get(scheme: str):
            if scheme not in apps:
                apps[scheme] = stack.enter_context(shots.app_server(scheme))
            return apps[scheme]

        yield {"get": get, "shots": shots}


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def luminance(rgb):
        chans = [c / 255 for c in rgb]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return r, g, b


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_slide_one_reads_from_the_back_of_the_room(browser_apps, scheme):
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.browser_support import ARTIFACTS, block_other_hosts

    shots = browser_apps["shots"]
    app = browser_apps["get"](scheme)
    with sync_api.sync_playwright() as playwright:
        browser = shots.launch_chromium(playwright)
        try:
            context = browser.new_context(viewport=shots.VIEWPORT, color_scheme=scheme)
            blocked = block_other_hosts(context, app.base_url)
            page = context.new_page()
            page.goto(app.base_url + "/?present=1&interval=60")
            try:
                shots.wait_for_app(page, shots.KPI_NUMBER)
                numbers = page.locator(shots.KPI_NUMBER)
                assert numbers.count() == 5
                sizes = numbers.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
                assert min(sizes) >= 64, sizes
                texts = [t.strip() for t in numbers.all_inner_texts()]
                assert all(re.fullmatch(r"[0-9,]+%?", t) for t in texts), texts
                # Each number fits its tile: nothing cut.
                assert numbers.evaluate_all("els => els.every(e => e.scrollWidth <= e.clientWidth + 1)")
                # High contrast: the numbers against the app's background.
                colour = _rgb(numbers.first.evaluate("e => getComputedStyle(e).color"))
                background = shots.app_background(page)
                assert _contrast(colour, background) >= 7, (colour, background)
                # No sidebar, no header, no way to open either.
                for hidden in ("stSidebar", "stSidebarCollapsedControl", "stHeader", "stToolbar", "stDecoration"):
                    assert page.locator(f'[data-testid="{hidden}"]:visible').count() == 0, hidden
                # No horizontal overflow, in the document or in Streamlit's scrolling main area.
                overflow = page.evaluate(
                    """() => {
                        const d = document.documentElement;
                        const m = document.querySelector('[data-testid="stMain"]');
                        return [d.scrollWidth - d.clientWidth, m ? m.scrollWidth - m.clientWidth : 0];
                    }"""
                )
                assert overflow == [0, 0], overflow
                assert blocked == [], f"presenter mode asked another host for {blocked}"
                if scheme == "light":
                    # The keyboard works (a clicker's arrows), and Exit brings the sidebar back.
                    page.keyboard.press("ArrowRight")
                    page.wait_for_function("() => new URLSearchParams(location.search).get('slide') === '2'")
                    shots.wait_for_app(page, shots.DECK_CANVAS)  # the map slide, drawn without a basemap
                    assert blocked == [], f"the map asked another host for {blocked}"
                    page.get_by_role("button", name="Exit presenter mode").click()
                    page.wait_for_selector('[data-testid="stSidebar"]', state="visible", timeout=30_000)
                    page.wait_for_function("() => !new URLSearchParams(location.search).has('present')")
                    assert "slide" not in parse_qs(page.evaluate("location.search.slice(1)"))
            except BaseException:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"FAILED-present-{scheme}.png"))
                raise
            finally:
                context.close()
        finally:
            browser.close()


def screen_reader_table(at: AppTest) -> tuple[str, list[str], list[list[str]]]:
    """The slide's numbers table for screen readers: caption, header, rows (cells as shown)."""
    (table,) = re.findall(r'<div class="rsp-sr-only">(.*?)</div>', html_text(at), flags=re.S)
    (caption,) = re.findall(r"<caption>(.*?)</caption>", table)
    header = re.findall(r"<th[^>]*>(.*?)</th>", table)
    rows = [
        re.findall(r"<td>(.*?)</td>", row)
        for row in re.findall(r"<tbody>.*</tbody>", table, flags=re.S)[0].split("</tr>")
    ]
    return caption, header, [r for r in rows if r]


def test_slides_three_to_five_carry_their_numbers_for_screen_readers(engine):
    caption, header, rows = screen_reader_table(open_present(slide="4"))
    assert caption.startswith("Placements by sector and region: ")
    assert header[0] == "Sector"
    placed = sum(float(c.replace(",", "")) for row in rows for c in row[1:] if c != "–")
    assert placed == kpi_summary(engine, ALL)["placements"]
    caption, header, rows = screen_reader_table(open_present(slide="5"))
    assert header == ["Quarter", "Trainees enrolled", "Trainees completed", "Placements"]
    assert rows and all(len(r) == 4 for r in rows)
    caption, header, rows = screen_reader_table(open_present(slide="3"))
    assert caption.startswith("The numbers behind the chart: ")
    assert len(rows) > 12
