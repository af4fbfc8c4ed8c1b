"""Full-page screenshots of the dashboard for the README, in docs/screenshots/.

    python scripts/screenshots.py                 # starts the app on a free port against a temp demo store
    python scripts/screenshots.py --base-url http://localhost:8501   # or shoots an app already running

Uses Debian's Chromium (set CHROMIUM=/path to use another) through Playwright, 1440×1000 viewport,
each page captured at its full height. Requests to other hosts are blocked, so the shots look the
same online and offline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.browser_support import (
    DECK_CANVAS,
    GRID,
    KPI_VALUE,
    PLOTLY,
    AppServer,
    block_other_hosts,
    full_page_screenshot,
    launch_chromium,
    wait_for_app,
    wait_idle,
    wait_map_drawn,
)

OUT_DIR = REPO_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 1000}

# (file name, path, content that shows the page really rendered)
SHOTS = [
    ("overview", "/", [KPI_VALUE, PLOTLY]),
    ("map", "/map", [DECK_CANVAS]),
    ("trends", "/trends", [PLOTLY]),
    ("trends_cumulative", "/trends?view=cumulative", [PLOTLY]),
    ("partnerships", "/partnerships", [GRID]),
    ("profile", "/partnerships?profile=capital-technology", [KPI_VALUE, PLOTLY]),
    ("profile_published", "/partnerships?profile=eastern-manufacturing", [KPI_VALUE, PLOTLY]),
    ("quality", "/quality", [KPI_VALUE, PLOTLY]),
    ("data", "/data", [GRID]),
    ("reporting", "/reporting", [GRID]),
]


def shoot_all(base_url: str, out_dir: Path, only: list[str] | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for name, path, contents in SHOTS:
                if only and name not in only:
                    continue
                started = time.monotonic()
                # A fresh context per shot: a new Streamlit session that reads the link's parameters.
                context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                block_other_hosts(context, base_url)
                page = context.new_page()
                page.goto(base_url.rstrip("/") + path)
                wait_for_app(page, contents[0])
                for content in contents[1:]:
                    page.wait_for_selector(content, state="attached")  # some sit in closed expanders
                wait_idle(page)
                if DECK_CANVAS in contents:
                    wait_map_drawn(page)
                page.mouse.move(VIEWPORT["width"] // 2, 10)  # over the empty header: no hover effects in the shot
                page.wait_for_timeout(800)  # charts finish their entry transitions, the map its first frame
                target = out_dir / f"{name}.png"
                full_page_screenshot(page, target)
                context.close()
                written.append(target)
                print(f"{target}  ({time.monotonic() - started:.1f}s)")
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="shoot an app already running here instead of starting one")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="where the PNGs go (default: docs/screenshots)")
    parser.add_argument("--only", nargs="*", choices=[name for name, _, _ in SHOTS], help="just these shots")
    args = parser.parse_args(argv)

    if args.base_url:
        shoot_all(args.base_url, args.out_dir, args.only)
        return 0
    server = AppServer()
    try:
        server.start()
        print(f"app started at {server.base_url} against a temporary demo store")
        shoot_all(server.base_url, args.out_dir, args.only)
    except Exception:
        print(f"---- streamlit log ----\n{server.log()[-10_000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
