"""The real app in headless Chromium: every page renders, filters travel in links, hostile links are harmless.

A module fixture starts `streamlit run dashboard.py` on a free port against a fresh demo store;
each test gets a fresh browser context (a new Streamlit session) with every request to another
host aborted, as if offline. Screenshots of every page go to test-artifacts/ (git-ignored), and a
failing test leaves its screenshot there too. Run alone with `make e2e` (`pytest -m browser`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from rsp_data.store import read_demo_rows
from tests.browser_support import (
    ARTIFACTS,
    DECK_CANVAS,
    ERROR_SELECTOR,
    GRID,
    KPI_VALUE,
    PLOTLY,
    WARNING_SELECTOR,
    AppServer,
    block_other_hosts,
    colours_drawn,
    full_page_screenshot,
    href,
    kpi_values,
    launch_chromium,
    wait_for_app,
    wait_idle,
    wait_map_drawn,
)

pytestmark = pytest.mark.browser

KPI_TILES = 5  # employers engaged, enrolled, completed, placements, placement rate
DESKTOP = {"width": 1440, "height": 1000}
FILTERED_LINK = "/?region=capital&from=2024-01"
HOSTILE_LINK = "/?region=%3Cscript%3Ealert(1)%3C%2Fscript%3E&from=2099-99&rsp=x%27%20OR%201%3D1--"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app(request: pytest.FixtureRequest) -> Iterator[AppServer]:
    failed_before = request.session.testsfailed
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*.png"):  # what is left there describes this run only
        stale.unlink()
    server = AppServer(startup_timeout=60)
    server.start()
    yield server
    server.stop()
    log = server.log()
    (ARTIFACTS / "streamlit.log").write_text(log)
    if request.session.testsfailed > failed_before:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        text = f"\n---- streamlit log ({server.base_url}) ----\n{log[-20_000:]}\n---- end of streamlit log ----"
        if reporter is not None:
            reporter.write_line(text)
        else:
            sys.__stderr__.write(text + "\n")
    server.cleanup()


@pytest.fixture(scope="module")
def browser(app: AppServer) -> Iterator[object]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class Session:
    """One browser context (one Streamlit session) and what it saw go wrong."""

    def __init__(self, browser, base_url: str, viewport: dict[str, int]) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport)
        self.context.set_default_timeout(30_000)
        self.blocked = block_other_hosts(self.context, base_url)
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        self.page = self.new_page()

    def new_page(self):
        page = self.context.new_page()

        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page

    def open(self, path: str, content: str, page=None):
        page = page or self.page
        page.goto(self.base_url + path)
        wait_for_app(page, content)
        return page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, app: AppServer, request: pytest.FixtureRequest) -> Iterator[Session]:
    """A fresh browser context per test; a failing test leaves a screenshot in test-artifacts/."""
    failed_before = request.session.testsfailed
    viewport = getattr(request, "param", DESKTOP)
    s = Session(browser, app.base_url, viewport)
    yield s
    if request.session.testsfailed > failed_before:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            ARTIFACTS.mkdir(exist_ok=True)
            s.page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
        except Exception as exc:  # the page may be gone; the failure itself matters more
            print(f"no failure screenshot: {exc}")
    s.close()


def assert_healthy(s: Session, page=None) -> None:
    """No Streamlit exception or error box, no uncaught JavaScript error, no JS dialog."""
    page = page or s.page
    errors = page.locator(ERROR_SELECTOR)
    assert errors.count() == 0, f"error on the page: {errors.all_inner_texts()}"
    assert s.dialogs == [], f"JavaScript dialog opened: {s.dialogs}"
    assert s.page_errors == [], f"uncaught JavaScript errors: {s.page_errors}"


def h1(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def shoot(page, name: str) -> None:
    full_page_screenshot(page, ARTIFACTS / f"{name}.png", settle_ms=600)


# ---------------------------------------------------------------- every page renders


def test_overview_page(session: Session) -> None:
    page = session.open("/", KPI_VALUE)
    assert h1(page) == "Connecticut Regional Sector Partnerships"
    assert len(kpi_values(page)) == KPI_TILES
    assert all(v and v != "—" for v in kpi_values(page)), kpi_values(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .barlayer .point').length > 0", timeout=15_000
    )
    assert page.locator(PLOTLY).count() >= 2
    assert_healthy(session)
    shoot(page, "overview")


def test_map_page_draws_without_a_basemap(session: Session) -> None:
    page = session.open("/map", DECK_CANVAS)
    assert h1(page) == "Map of the partnerships"
    canvas = page.locator(DECK_CANVAS).first
    box = canvas.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200, box
    size = canvas.evaluate("c => [c.width, c.height]")
    assert size[0] > 0 and size[1] > 0, size

    # Regions and markers cover a good part of the map even offline; a blank or white canvas fails.
    shaded = wait_map_drawn(page, share=0.25)
    assert shaded > 0.25, f"only {shaded:.1%} of the map is drawn"
    # Five regions in shades of the measure, outlines and sector-coloured markers: several colours.
    colours = colours_drawn(page.locator('[data-testid="stDeckGlJsonChart"]').screenshot())
    assert colours >= 4, f"the map shows only {colours} colours: shapes not shaded?"
    assert_healthy(session)
    shoot(page, "map")


def test_trends_page_draws_a_line(session: Session) -> None:
    page = session.open("/trends", PLOTLY)
    assert h1(page) == "Trends"
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot .scatterlayer path.js-line')]
                 .some(p => (p.getAttribute('d') || '').split(/[LM]/).length > 10)""",
        timeout=15_000,
    )
    assert_healthy(session)
    shoot(page, "trends")


def test_trends_cumulative_view_from_the_link(session: Session) -> None:
    page = session.open("/trends?view=cumulative", PLOTLY)
    assert "view=cumulative" in href(page)
    # Cumulative placements are drawn against the Good Jobs Challenge goal.
    assert page.get_by_text("Cumulative placements against the Good Jobs Challenge goal").count() >= 1
    assert page.locator(WARNING_SELECTOR).count() == 0
    assert_healthy(session)
    shoot(page, "trends_cumulative")


def grid_rows(page, index: int = 0) -> int:
    """Data rows in the index-th data grid (its accessible table counts the header row too)."""
    table = page.locator(GRID).nth(index).locator('table[role="grid"]')
    return int(table.get_attribute("aria-rowcount")) - 1


def test_partnerships_page_has_a_grid(session: Session) -> None:
    page = session.open("/partnerships", GRID)
    assert h1(page) == "Partnerships"
    grid = page.locator(GRID).first
    box = grid.bounding_box()
    assert box and box["height"] > 200, box
    assert grid_rows(page) == 14
    assert_healthy(session)
    shoot(page, "partnerships")


def test_partnership_profile_from_the_link(session: Session) -> None:
    page = session.open("/partnerships?profile=capital-technology", GRID)
    page.wait_for_selector(KPI_VALUE)
    wait_idle(page)
    assert "profile=capital-technology" in href(page)
    profile = page.locator("h2").filter(has_text=re.compile(r"\S"))
    assert profile.count() >= 1
    assert len(kpi_values(page)) == KPI_TILES + 4  # and the four "Who lives here" tiles of its area
    assert page.locator(PLOTLY).count() >= 1
    assert_healthy(session)
    shoot(page, "profile")


def test_data_page_has_a_grid_and_a_csv_download(session: Session) -> None:
    page = session.open("/data", GRID)
    assert h1(page) == "Data"
    assert grid_rows(page) == 100  # the first page; the download holds every row
    assert page.get_by_role("button", name="Next →").is_enabled()
    button = page.get_by_role("button", name="Download all as CSV")
    assert button.is_visible()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "rsp_monthly_metrics.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["rsp_id", "partnership"], rows[0]
    assert len(rows) - 1 == len(read_demo_rows()) == 911  # every demo fact, not just the page
    assert_healthy(session)
    shoot(page, "data")


# ---------------------------------------------------------------- filters travel in links


def _wait_for_href(page, fragment: str, present: bool = True, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (fragment in href(page)) == present:
            return href(page)
        time.sleep(0.25)
    raise AssertionError(f"{fragment!r} {'never appeared in' if present else 'stayed in'} {href(page)}")


def test_clicking_a_bar_or_a_region_filters_the_dashboard(session: Session) -> None:
    page = session.open("/", PLOTLY)
    before = kpi_values(page)
    # The first chart with bars (the goal charts come first): "by sector".
    bars = page.locator(PLOTLY).filter(has=page.locator("g.point path")).first.locator("g.point path")
    bars.last.scroll_into_view_if_needed()
    box = bars.last.bounding_box()  # the top bar of "by sector": the largest, Manufacturing
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    _wait_for_href(page, "sector=manufacturing")
    wait_idle(page)
    assert kpi_values(page) != before
    chip = page.get_by_role("button", name="Sector: Manufacturing")
    assert chip.is_visible()
    chip.click()
    _wait_for_href(page, "sector=", present=False)
    assert_healthy(session)

    page = session.open("/map", DECK_CANVAS)
    wait_idle(page)
    time.sleep(2)  # deck.gl draws after the canvas appears
    area = page.locator('[data-testid="stDeckGlJsonChart"]').bounding_box()
    x, y = area["x"] + area["width"] * 0.80, area["y"] + area["height"] * 0.45  # inside Eastern
    # deck.gl picks only once its layers are drawn, which on a loaded machine can be seconds after
    # the canvas appears: a click it could not pick yet is tried again (up to 5 times, 6 s apart).
    for _attempt in range(5):
        page.mouse.move(x, y)
        time.sleep(0.5)
        page.mouse.down()
        page.mouse.up()
        with contextlib.suppress(AssertionError):
            _wait_for_href(page, "region=eastern", timeout=6.0)
            break
    _wait_for_href(page, "region=eastern", timeout=1.0)
    assert_healthy(session)


def test_submit_page_refuses_without_sign_in(session: Session) -> None:
    page = session.open("/submit", '[data-testid="stAlert"]')
    assert h1(page) == "Submit monthly figures"
    assert "Submitting data is switched off" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert page.locator('input[type="file"]').count() == 0
    assert page.get_by_role("button", name="Template (Excel)").count() == 0
    assert_healthy(session)


@pytest.fixture(scope="module")
def unfiltered_kpis(browser, app: AppServer) -> list[str]:
    s = Session(browser, app.base_url, DESKTOP)
    try:
        values = kpi_values(s.open("/", KPI_VALUE))
    finally:
        s.close()
    assert len(values) == KPI_TILES
    return values


def sidebar_link(page, name: str):
    return page.locator('[data-testid="stSidebar"]').get_by_role("link", name=name, exact=True)


def test_filters_travel_in_links_and_survive_navigation(
    session: Session, browser, app: AppServer, unfiltered_kpis: list[str]
) -> None:
    page = session.open(FILTERED_LINK, KPI_VALUE)
    filtered = kpi_values(page)
    assert len(filtered) == KPI_TILES
    assert filtered != unfiltered_kpis
    assert page.get_by_text("Capital region").count() >= 1

    # Every menu link carries the filters.
    for name in ("Overview", "Map", "Trends", "Partnerships", "Data"):
        assert sidebar_link(page, name).count() == 1, f"no menu link {name!r}"
    links = page.locator('[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]')
    for link in links.all():
        target = link.get_attribute("href")
        assert "region=capital" in target and "from=2024-01" in target, target

    sidebar_link(page, "Trends").click()
    page.wait_for_function("() => window.location.pathname.endsWith('/trends')")
    page.wait_for_selector(PLOTLY)
    wait_idle(page)
    assert h1(page) == "Trends"
    assert "region=capital" in href(page) and "from=2024-01" in href(page), href(page)

    sidebar_link(page, "Overview").click()
    page.wait_for_function("() => !window.location.pathname.endsWith('/trends')")
    page.wait_for_selector(KPI_VALUE)
    wait_idle(page)
    final = href(page)
    assert "region=capital" in final and "from=2024-01" in final, final
    assert kpi_values(page) == filtered
    assert_healthy(session)

    # The address bar reproduces the view in a browser that has never seen it.
    fresh = Session(browser, app.base_url, DESKTOP)
    try:
        fresh.page.goto(final)
        wait_for_app(fresh.page, KPI_VALUE)
        assert kpi_values(fresh.page) == filtered
        assert_healthy(fresh)
    finally:
        fresh.close()

    # Changing a filter in the sidebar writes it to the address bar and changes the figures.
    sectors = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Sectors")
    sectors.locator("input").click()
    page.get_by_role("option", name="Healthcare", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => window.location.href.includes('sector=healthcare')", timeout=15_000)
    wait_idle(page)
    page.wait_for_function(
        "before => JSON.stringify([...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".map(e => e.innerText.trim())) !== before",
        arg=json.dumps(filtered),
        timeout=15_000,
    )
    after = href(page)
    assert "region=capital" in after and "from=2024-01" in after, after
    changed = kpi_values(page)
    assert len(changed) == KPI_TILES and changed != filtered
    assert_healthy(session)


def test_hostile_link_is_harmless(session: Session, unfiltered_kpis: list[str]) -> None:
    page = session.open(HOSTILE_LINK, KPI_VALUE)
    warnings = page.locator(WARNING_SELECTOR).all_inner_texts()
    joined = "\n".join(warnings)
    assert len(warnings) >= 3, warnings
    assert "unknown region" in joined and "unknown partnership" in joined and "from=2099-99" in joined, joined
    injected = page.evaluate("() => [...document.scripts].filter(e => e.textContent.includes('alert(1)')).length")
    assert injected == 0
    page.wait_for_timeout(500)  # give an injected script the chance to run
    assert session.dialogs == [], session.dialogs
    assert kpi_values(page) == unfiltered_kpis
    # The bad values are dropped from the address bar too.
    assert not re.search(r"[?&](region|rsp|from)=", href(page)), href(page)
    assert_healthy(session)


# ---------------------------------------------------------------- screen sizes


@pytest.mark.parametrize(
    "session",
    [{"width": 390, "height": 844}, {"width": 1920, "height": 1080}],
    ids=["phone-390x844", "wide-1920x1080"],
    indirect=True,
)
def test_overview_fits_the_screen(session: Session) -> None:
    page = session.open("/", KPI_VALUE)
    page.wait_for_selector(PLOTLY)
    wait_idle(page)
    assert len(kpi_values(page)) == KPI_TILES
    for tile in page.locator('[data-testid="stMetric"]').all():
        box = tile.bounding_box()
        assert box and box["width"] > 50 and box["height"] > 30, box
    widths = page.evaluate(
        """() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                   main: document.querySelector('[data-testid="stMain"]').scrollWidth,
                   mainClient: document.querySelector('[data-testid="stMain"]').clientWidth})"""
    )
    assert widths["scroll"] <= widths["inner"] + 1, widths
    assert widths["main"] <= widths["mainClient"] + 1, widths
    assert_healthy(session)
    viewport = page.viewport_size
    shoot(page, f"overview_{viewport['width']}x{viewport['height']}")
