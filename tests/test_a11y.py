"""WCAG 2.1 A/AA in the real app (issue 19): axe-core on every page and every presenter slide, in the light
and dark colour schemes, at 1280 and 320 px wide; reflow at 320 px; a keyboard walk through every control.

One server and one browser for the module; one browser context per colour scheme and width, reused for
every page. axe-core is the npm package pinned in package.json (`make a11y` installs it). The axe results
of the last run go to test-artifacts/a11y.json (docs/accessibility.md quotes them).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from rsp_data.auth import hash_password
from tests.browser_support import (
    ARTIFACTS,
    DECK_CANVAS,
    GRID,
    KPI_VALUE,
    PLOTLY,
    REPO_ROOT,
    AppServer,
    block_other_hosts,
    launch_chromium,
    wait_for_app,
    wait_idle,
)

pytestmark = pytest.mark.browser

PASSWORD = "a11y-test-password"

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCHEMES = ("light", "dark")
WIDTHS = (1280, 320)
HEIGHT = 900

# Every page (ui/routes.py), with what shows that it has finished drawing: its charts, map or tables.
PAGES = {
    "overview": ("/", [KPI_VALUE, PLOTLY]),
    "map": ("/map", [DECK_CANVAS]),
    "trends": ("/trends", [PLOTLY]),
    "partnerships": ("/partnerships", [GRID]),
    "quality": ("/quality", [KPI_VALUE, PLOTLY]),
    "data": ("/data", [GRID]),
    "reporting": ("/reporting", [GRID]),
    "submit": ("/submit", ["input[type=password]"]),
}
PRESENT = "/?present=1&paused=1&slide={n}"
SLIDE_CONTENT = {1: ['[role="progressbar"]'], 2: [DECK_CANVAS], 3: [PLOTLY], 4: [PLOTLY]}  # 5…: spotlights
SPOTLIGHT_CONTENT = [PLOTLY]

# Elements Streamlit draws that the app cannot change: (axe rule id, CSS selector fragment, upstream issue).
STREAMLIT_OWNS: list[tuple[str, str, str]] = []


def _owned(rule: str, target: str) -> str | None:
    for rule_id, fragment, issue in STREAMLIT_OWNS:
        if rule == rule_id and fragment in target:
            return issue
    return None


def audit(page) -> tuple[list[dict], list[dict]]:
    """axe's violations on the page now, as (the app's, Streamlit's own with their upstream issue)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    ours, theirs = [], []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            item = {
                "rule": violation["id"],
                "impact": node.get("impact"),
                "target": target,
                "html": node["html"][:200],
                "summary": node.get("failureSummary", "")[:300],
            }
            issue = _owned(violation["id"], target)
            (theirs if issue else ours).append(item | ({"upstream": issue} if issue else {}))
    return ours, theirs


def page_overflow(page) -> int:
    """Pixels the document is wider than the viewport (WCAG 1.4.10: none at 320 px)."""
    return page.evaluate(
        """() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth,
              ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
                 .map(e => e.scrollWidth)) - document.documentElement.clientWidth"""
    )


def wait_drawn(page, selectors: list[str]) -> None:
    wait_for_app(page, selectors[0])
    for selector in selectors[1:]:
        page.wait_for_selector(selector, timeout=30_000)
    if PLOTLY in selectors:  # plotly draws its marks after the element appears
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'))",
            timeout=15_000,
        )
    wait_idle(page)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app() -> Iterator[AppServer]:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make a11y` (npm install)")
    # The password sign-in switched on, so the Submit page shows its form (and, signed in, its controls).
    server = AppServer(startup_timeout=60, env={"RSP_ADMIN_PASSWORD_HASH": hash_password(PASSWORD, iterations=1000)})
    server.start()
    yield server
    server.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "a11y-streamlit.log").write_text(server.log())
    server.cleanup()


@pytest.fixture(scope="module")
def browser(app: AppServer) -> Iterator[object]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


RESULTS: dict[str, dict] = {}
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def results_file() -> Iterator[None]:
    yield
    if RESULTS:
        ARTIFACTS.mkdir(exist_ok=True)
        out = ARTIFACTS / "a11y.json"
        old = json.loads(out.read_text()) if out.exists() else {}
        out.write_text(json.dumps(old | RESULTS | {"seconds per view (4 audits)": TIMES}, indent=1))


def new_page(browser, app: AppServer, scheme: str, width: int, **options):
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHT}, color_scheme=scheme, reduced_motion="reduce", **options
    )
    context.set_default_timeout(30_000)
    block_other_hosts(context, app.base_url)
    return context, context.new_page()


def slide_count(page) -> int:
    counter = page.locator('[data-testid="rsp-counter"]').inner_text()
    return int(re.fullmatch(r"\s*\d+\s*/\s*(\d+)\s*", counter).group(1))


# ---------------------------------------------------------------- axe on every page and slide

VARIANTS = [(scheme, width) for scheme in SCHEMES for width in WIDTHS]
WIDE = [(scheme, WIDTHS[0]) for scheme in SCHEMES]
FIRST_SPOTLIGHT = 5


def headings(page) -> list[int]:
    """The levels of the page's visible headings, in document order."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMain"] :is(h1,h2,h3,h4,h5,h6)')]
              .filter(h => h.offsetParent !== null && h.textContent.trim())
              .map(h => Number(h.tagName[1]))"""
    )


def outline_problems(levels: list[int]) -> list[str]:
    problems = [] if levels.count(1) == 1 else [f"{levels.count(1)} h1 headings"]
    problems += [f"h{b} after h{a}" for a, b in itertools.pairwise(levels) if b > a + 1]
    return problems


def check_view(page, name: str, found: dict, variants=VARIANTS) -> None:
    """axe in every scheme and width on the view now drawn (one load: the scheme and width change in place)."""
    started = time.monotonic()
    levels = headings(page)
    for scheme, width in variants:
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        if page.viewport_size["width"] != width:
            page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_timeout(500)  # plotly and deck.gl redraw at the new size and in the new theme
        wait_idle(page)
        ours, theirs = audit(page)
        found.setdefault(f"{scheme} {width}", {})[name] = {
            "violations": ours,
            "streamlit": theirs,
            "overflow": page_overflow(page) if width == 320 else 0,
            "outline": outline_problems(levels),
        }
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    TIMES[name] = round(time.monotonic() - started, 1)


def report(found: dict) -> None:
    for variant, views in found.items():
        RESULTS.setdefault(variant, {}).update(views)
    problems = {
        f"{variant} · {name}": r["violations"]
        for variant, views in found.items()
        for name, r in views.items()
        if r["violations"]
    }
    assert not problems, "axe: WCAG 2.1 A/AA violations:\n" + json.dumps(problems, indent=1)
    wide = {f"{v} · {n}": r["overflow"] for v, views in found.items() for n, r in views.items() if r["overflow"] > 0}
    assert not wide, f"the page scrolls sideways at 320 px (px too wide): {wide}"
    outline = {n: r["outline"] for views in found.values() for n, r in views.items() if r["outline"]}
    assert not outline, f"headings do not form an outline: {outline}"


def test_axe_every_page(browser, app: AppServer) -> None:
    context, page = new_page(browser, app, SCHEMES[0], WIDTHS[0])
    found: dict = {}
    try:
        for name, (path, content) in PAGES.items():
            page.goto(app.base_url + path)
            wait_drawn(page, content)
            check_view(page, name, found)
        # The Submit page signed in: its template downloads and the file upload.
        page.get_by_label("Admin password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        wait_drawn(page, ['[data-testid="stFileUploader"]'])
        check_view(page, "submit (signed in)", found)
    finally:
        context.close()
    report(found)


def test_axe_every_presenter_slide(browser, app: AppServer) -> None:
    context, page = new_page(browser, app, SCHEMES[0], WIDTHS[0])
    found: dict = {}
    try:
        page.goto(app.base_url + PRESENT.format(n=1))
        wait_drawn(page, SLIDE_CONTENT[1])
        total = slide_count(page)
        for n in range(1, total + 1):
            if n > 1:  # Next: a rerun in the same session, no page load
                page.get_by_role("button", name="Next").click()
                page.wait_for_function(
                    "n => document.querySelector('[data-testid=rsp-counter]').innerText.trim().startsWith(n + ' /')",
                    arg=n,
                )
                wait_drawn(page, SLIDE_CONTENT.get(n, SPOTLIGHT_CONTENT))
            # Spotlights after the first share its template: at 1280 px only, to keep the run short.
            check_view(page, f"slide {n}", found, VARIANTS if n <= FIRST_SPOTLIGHT else WIDE)
    finally:
        context.close()
    report(found)


# ---------------------------------------------------------------- keyboard

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const byIds = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
    .map(id => (document.getElementById(id) || {}).innerText || '').join(' ');
  const name = (el.getAttribute('aria-label') || byIds || (el.labels && el.labels[0] && el.labels[0].innerText)
    || el.innerText || el.getAttribute('title') || el.getAttribute('placeholder') || '').trim().replace(/\\s+/g, ' ');
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  // A widget may draw its focus ring on a wrapper (BaseWeb inputs): look two levels up too.
  const wrapped = [el.parentElement, el.parentElement && el.parentElement.parentElement].some(p => {
    if (!p) return false;
    const s = getComputedStyle(p);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'
      || (p.matches(':focus-within') && s.borderColor !== getComputedStyle(p.parentElement || p).borderColor);
  });
  return {tag: el.tagName.toLowerCase(), role: el.getAttribute('role') || '', name,
          id: el.id || el.getAttribute('data-testid') || '', sidebar: !!el.closest('[data-testid="stSidebar"]'),
          visible: ring || wrapped, key: el.outerHTML.slice(0, 120)};
}"""


def tab_walk(page, limit: int = 160) -> list[dict]:
    """Press Tab from the top of the page until focus comes back to where it started (no trap) or `limit`."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    seen: list[dict] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = page.evaluate(FOCUSED)
        if now is None:  # past the last control: the browser's own UI, then the page again
            if seen:
                return seen
            continue
        if seen and now["key"] == seen[0]["key"]:
            return seen
        seen.append(now)
    raise AssertionError(f"focus never left the page after {limit} Tabs: a trap? last: {seen[-3:]}")


def names(walk: list[dict]) -> list[str]:
    return [f["name"] for f in walk]


# Focus stops Streamlit draws without a name of their own, which the app cannot change: (fragment of the element's
# HTML, upstream issue). The table's canvas: the st.dataframe's `alt` names the figure around it, not the canvas.
UNNAMED_STREAMLIT = [
    ('<canvas data-testid="data-grid-canvas"', "https://github.com/streamlit/streamlit/issues/13332"),
    ('<div draggable="false" class="dvn-scroller', "https://github.com/streamlit/streamlit/issues/13332"),
]


def assert_reached(walk: list[dict], wanted: list[str]) -> None:
    reached = names(walk)
    missing = [w for w in wanted if not any(w.lower() in n.lower() for n in reached)]
    assert not missing, f"not reached by Tab: {missing}; reached: {reached}"
    unnamed = [
        f["key"] for f in walk if not f["name"] and not any(f["key"].startswith(k) for k, _ in UNNAMED_STREAMLIT)
    ]
    assert not unnamed, f"focusable without an accessible name: {unnamed}"
    unseen = [f"{f['name']} ({f['key']})" for f in walk if not f["visible"]]
    assert not unseen, f"no visible focus indicator: {unseen}"


PAGE_LINKS = ["Overview", "Map", "Trends", "Partnerships", "Good jobs & reach", "Data", "Reporting status", "Submit"]


def test_keyboard_reaches_every_control(browser, app: AppServer) -> None:
    context, page = new_page(browser, app, "light", 1280)
    walks = {}
    try:
        page.goto(app.base_url + "/")
        wait_drawn(page, PAGES["overview"][1])
        walks["overview"] = walk = tab_walk(page)
        sidebar = [f["name"] for f in walk if f["sidebar"]]
        assert_reached(walk, [*PAGE_LINKS, "Present this view", "Region", "Sector", "Partnership"])
        assert any("month" in n.lower() for n in sidebar), f"the month range is not reached: {sidebar}"
        assert_reached(walk, ["The numbers behind this chart"])  # the expanders that hold the tables and downloads
        # Good jobs & reach: Tab reaches the questions; an arrow key opens the next one and draws its charts.
        page.goto(app.base_url + "/quality")
        wait_drawn(page, PAGES["quality"][1])
        walks["quality"] = walk = tab_walk(page)
        assert_reached(walk, ["Are these good jobs?", "The numbers behind this chart"])
        page.get_by_role("tab", name="Are these good jobs?").focus()
        page.keyboard.press("ArrowRight")
        page.locator('[aria-label="Work-based learning started by sector"]').wait_for(timeout=30_000)
        assert page.get_by_role("tab", name="How much work-based learning?").get_attribute("aria-selected") == "true"
        assert "question=How+much+work-based+learning" in page.url
        for path, download in (("/data", "Download all as CSV"), ("/reporting", "Download as CSV")):
            page.goto(app.base_url + path)
            wait_drawn(page, [GRID])
            walks[path] = walk = tab_walk(page)
            assert_reached(walk, [download])
        page.goto(app.base_url + "/submit")
        wait_drawn(page, PAGES["submit"][1])
        walks["submit"] = walk = tab_walk(page)
        assert_reached(walk, ["Admin password", "Sign in"])
        page.goto(app.base_url + PRESENT.format(n=1))
        wait_drawn(page, SLIDE_CONTENT[1])
        walks["presenter"] = walk = tab_walk(page)
        assert_reached(walk, ["Previous", "Play", "Next", "10 s", "20 s", "60 s", "Exit presenter mode"])
    finally:
        RESULTS["keyboard"] = {k: names(v) for k, v in walks.items()}
        context.close()


def test_presenter_holds_still_for_the_keyboard(browser, app: AppServer) -> None:
    """Auto-advance stops when a control gets keyboard focus; prefers-reduced-motion starts it paused, with no
    transitions."""
    context = browser.new_context(viewport={"width": 1280, "height": HEIGHT}, reduced_motion="no-preference")
    block_other_hosts(context, app.base_url)
    page = context.new_page()
    try:
        page.goto(app.base_url + "/?present=1&interval=10")
        wait_drawn(page, SLIDE_CONTENT[1])
        pause = page.locator(".st-key-present_pause button").first
        assert "Pause" in pause.inner_text()  # playing
        page.keyboard.press("Tab")
        while not page.evaluate("() => !!document.activeElement.closest('.st-key-present_bar')"):
            page.keyboard.press("Tab")
        page.wait_for_function(
            "() => document.querySelector('.st-key-present_pause button').innerText.includes('Play')"
        )
        counter = page.locator('[data-testid="rsp-counter"]').inner_text()
        page.wait_for_timeout(12_000)  # longer than the interval
        assert page.locator('[data-testid="rsp-counter"]').inner_text() == counter
        assert "paused=1" in page.evaluate("window.location.href")
    finally:
        context.close()

    context, page = new_page(browser, app, "light", 1280)  # reduced_motion="reduce"
    try:
        page.goto(app.base_url + "/?present=1&interval=10")
        wait_drawn(page, SLIDE_CONTENT[1])
        page.wait_for_function(
            "() => document.querySelector('.st-key-present_pause button').innerText.includes('Play')"
        )
        durations = page.evaluate(
            """() => [...document.querySelectorAll('button, [data-testid="stMain"] *')].slice(0, 400)
                  .map(e => getComputedStyle(e)).map(s => [s.transitionDuration, s.animationName])
                  .filter(([t, a]) => t.split(',').some(d => parseFloat(d) > 0) || a !== 'none')"""
        )
        assert durations == [], f"animated under prefers-reduced-motion: {durations[:5]}"
    finally:
        context.close()
