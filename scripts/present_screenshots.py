"""Screenshots of presenter mode at 1920×1080, light and dark, into docs/presenter/.

    python scripts/present_screenshots.py                 # starts the app on a free port against a temp demo store
    python scripts/present_screenshots.py --base-url http://localhost:8501   # or shoots an app already running

Writes docs/presenter/{light,dark}-slide{1..5}.png: what a projector shows (the viewport, not the
page's full height). Uses Debian's Chromium through Playwright (set CHROMIUM=/path for another);
every request to another host is aborted, so the shots show presenter mode as it reads offline.

Dark: the browser asks for `prefers-color-scheme: dark`, but .streamlit/config.toml sets a custom
theme (`[theme] primaryColor`) with no `[theme.light]`/`[theme.dark]` sections, so Streamlit offers
that one light theme only and ignores the browser. The dark shots therefore come from an app run
with Streamlit's own theme setting `theme.base = "dark"` (here the STREAMLIT_THEME_BASE=dark
environment variable; `streamlit run dashboard.py --theme.base dark` does the same). The script
checks the background really is dark before it shoots.

tests/test_present.py imports `open_slide` and the constants from here for its browser test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.browser_support import (
    DECK_CANVAS,
    PLOTLY,
    AppServer,
    block_other_hosts,
    launch_chromium,
    wait_for_app,
    wait_idle,
    wait_map_drawn,
)

OUT_DIR = REPO_ROOT / "docs" / "presenter"
VIEWPORT = {"width": 1920, "height": 1080}
SCHEMES = ("light", "dark")
KPI_NUMBER = ".rsp-kpi-value"
# The content that shows each slide really rendered (not Streamlit's skeleton).
SLIDE_CONTENT = {1: [KPI_NUMBER], 2: [DECK_CANVAS], 3: [PLOTLY], 4: [PLOTLY], 5: [KPI_NUMBER, PLOTLY]}
# A long interval: the slide stays put while it is photographed, and the bar shows "Pause" (playing).
LINK = "/?present=1&interval=60&slide={slide}"
# Streamlit settings per colour scheme, as environment variables of the app's process.
THEME_ENV = {"light": {}, "dark": {"STREAMLIT_THEME_BASE": "dark"}}


@contextmanager
def app_server(scheme: str = "light") -> Iterator[AppServer]:
    """The real app on a free port against a temp demo store, themed for `scheme`."""
    env = THEME_ENV[scheme]
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # AppServer hands its own environment to the app's process
    try:
        server = AppServer(startup_timeout=60).start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()


def app_background(page: Any) -> tuple[int, int, int]:
    """The app's background colour as (r, g, b)."""
    rgb = page.evaluate(
        """() => getComputedStyle(document.querySelector('[data-testid="stApp"]') || document.body)
                   .backgroundColor"""
    )
    r, g, b = (int(float(v)) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return r, g, b


def open_slide(browser: Any, base_url: str, slide: int, scheme: str = "light", extra: str = "") -> tuple[Any, Any]:
    """A fresh context (a new Streamlit session) at 1920×1080 showing `slide`, fully drawn: (context, page)."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, color_scheme=scheme)
    block_other_hosts(context, base_url)
    page = context.new_page()
    page.goto(base_url.rstrip("/") + LINK.format(slide=slide) + extra)
    contents = SLIDE_CONTENT.get(slide, [KPI_NUMBER, PLOTLY])
    wait_for_app(page, contents[0])
    for content in contents[1:]:
        page.wait_for_selector(content)
    wait_idle(page)
    if DECK_CANVAS in contents:
        wait_map_drawn(page, share=0.15)  # Connecticut covers about a third of the map's box
    r, g, b = app_background(page)
    dark = (r + g + b) / 3 < 96
    if dark != (scheme == "dark"):
        raise AssertionError(f"asked for {scheme} but the app's background is rgb({r}, {g}, {b})")
    page.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)  # nothing hovered in the shot
    page.wait_for_timeout(900)  # charts finish their entry transitions, the map its first frame
    return context, page


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def shoot_all(base_url: str, out_dir: Path, slides: list[int], schemes: list[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for scheme in schemes:
                for slide in slides:
                    started = time.monotonic()
                    context, page = open_slide(browser, base_url, slide, scheme)
                    try:
                        target = out_dir / f"{scheme}-slide{slide}.png"
                        page.screenshot(path=str(target), animations="disabled")
                        written.append(target)
                        overflow = page.evaluate(
                            """() => { const m = document.querySelector('[data-testid="stMain"]');
                                       return m ? m.scrollHeight - m.clientHeight : 0; }"""
                        )
                        note = f", {overflow}px below the fold" if overflow > 0 else ""
                        print(f"{_shown_path(target)}  ({time.monotonic() - started:.1f}s{note})")
                    finally:
                        context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="shoot an app already running here instead of starting one")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--slides", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--schemes", nargs="*", default=list(SCHEMES), choices=SCHEMES)
    args = parser.parse_args(argv)
    if args.base_url:
        shoot_all(args.base_url, args.out, args.slides, args.schemes)
        return 0
    for scheme in args.schemes:
        with app_server(scheme) as server:
            try:
                shoot_all(server.base_url, args.out, args.slides, [scheme])
            except Exception:
                print(server.log()[-5000:], file=sys.stderr)
                raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
