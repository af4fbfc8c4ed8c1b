"""The first visitor after a start waits no longer than anyone else (issue 21).

One server start as `make run` does it (scripts/serve_replicas.py --direct: the store opened, then
the app's script run once through Streamlit's script health check before it says "Ready"), on a
fresh demo store; then the Overview in Chromium, a fresh browser context per view, timed by
scripts/browser_bench.py from the navigation's start to the end of the page's script run. The
first view must finish within 1.25× of a warm one (the slowest of the five views after it: on this shared
machine the warm views alone spread by a quarter; without the warm-up the first view took 4.8× as long).
About a minute.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_support import launch_chromium

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_module(name: str, file: str):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_module("browser_bench_for_first_visit", "browser_bench.py")
load, serve_replicas = bench.load, bench.serve_replicas


def test_the_first_page_view_after_a_start_finishes_as_fast_as_a_warm_one():
    with (
        load.demo_store() as (_, url),
        serve_replicas.running(1, direct=True, port=load.free_port(), env={**os.environ, "DATABASE_URL": url}) as app,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        browser.new_page().close()  # the browser's own start is not the app's
        options = {"viewport": bench.DESKTOP}
        views = [bench.visit(browser, app.base_url + "/", context_options=options, timeout_s=90)[0] for _ in range(6)]
        browser.close()
    first, warm = views[0], views[1:]
    assert all(v.finished is not None and v.first_chart is not None for v in views), views
    slowest = max(v.finished for v in warm)
    assert first.finished <= 1.25 * slowest, (
        f"first view {first.finished:.0f} ms, warm views {', '.join(f'{v.finished:.0f}' for v in warm)} ms"
    )
