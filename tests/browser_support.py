"""Shared by tests/test_browser.py and scripts/screenshots.py: start the real app, drive it in Chromium.

`AppServer` runs `streamlit run dashboard.py` on a free port against a fresh SQLite store filled
with the illustrative demo data, and waits for Streamlit's health check. `launch_chromium` starts
Debian's Chromium (Playwright's own browser download does not work offline). The `wait_*` helpers
wait for real content, not Streamlit's skeleton.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

# Every way a Streamlit page shows that something went wrong.
ERROR_SELECTOR = ", ".join(
    [
        '[data-testid="stException"]',
        '[data-testid="stAlertContentError"]',
        '[data-testid="stAlertContainer"]:has([data-testid="stAlertContentError"])',
    ]
)
WARNING_SELECTOR = '[data-testid="stAlertContentWarning"]'
KPI_VALUE = '[data-testid="stMetricValue"]'
PLOTLY = ".js-plotly-plot"
DECK_CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
GRID = '[data-testid="stDataFrame"]'

# The pages, as (name, path, selector of the content that shows the page really rendered).
PAGES = [
    ("overview", "/", KPI_VALUE),
    ("map", "/map", DECK_CANVAS),
    ("trends", "/trends", PLOTLY),
    ("partnerships", "/partnerships", GRID),
    ("data", "/data", GRID),
]


def chromium_path() -> str:
    for path in (os.environ.get("CHROMIUM"), *CHROMIUM_PATHS, shutil.which("chromium")):
        if path and Path(path).exists():
            return path
    raise RuntimeError("Chromium not found: install Debian's chromium (make chromium) or set CHROMIUM=/path.")


def launch_chromium(playwright: Any):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_demo_store(directory: Path) -> str:
    """A fresh SQLite store in `directory` with schema, registry and the illustrative demo data."""
    from rsp_data.store import init_store, make_engine

    url = f"sqlite:///{directory}/e2e.sqlite"
    engine = make_engine(url)
    try:
        init_store(engine, demo=True)
    finally:
        engine.dispose()
    return url


class AppServer:
    """The real app (`streamlit run dashboard.py`) on a free port against a temporary demo store."""

    def __init__(self, *, startup_timeout: float = 60.0, env: dict[str, str] | None = None) -> None:
        self.startup_timeout = startup_timeout
        self.env = env or {}  # added to the app's environment (after the sign-in settings are removed)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._tmp = Path(tempfile.mkdtemp(prefix="rsp-e2e-"))
        self.log_path = self._tmp / "streamlit.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> AppServer:
        db_url = prepare_demo_store(self._tmp)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "dashboard.py",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                # No reruns or "File change" banners when a file is saved while the browser drives the app.
                "--server.fileWatcherType",
                "none",
            ],
            cwd=REPO_ROOT,
            # No sign-in configured, whatever the caller's environment: writing stays off.
            env={
                **{k: v for k, v in os.environ.items() if k not in ("RSP_ADMIN_PASSWORD_HASH", "RSP_ADMIN_EMAILS")},
                "DATABASE_URL": db_url,
                "PYTHONUNBUFFERED": "1",
                **self.env,
            },
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return
            except (urllib.error.URLError, OSError) as exc:
                last_error = exc
            time.sleep(0.25)
        raise RuntimeError(
            f"streamlit did not answer its health check within {self.startup_timeout:.0f}s "
            f"({last_error}):\n{self.log()}"
        )

    def log(self) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.cleanup()


# ---------------------------------------------------------------- page helpers


class AppError(AssertionError):
    """The app showed an exception or an error box instead of its content."""


def wait_for_app(page: Any, content: str, timeout: float = 30_000) -> None:
    """Wait until the page's real content is there and Streamlit has finished running the script.

    Fails at once, with the message on the page, when the app shows an exception or error instead.
    """
    page.wait_for_selector(f"{content}, {ERROR_SELECTOR}", state="attached", timeout=timeout)
    _raise_app_error(page)
    page.wait_for_selector("h1", timeout=timeout)
    page.wait_for_selector(content, timeout=timeout)
    wait_idle(page, timeout)
    _raise_app_error(page)


def _raise_app_error(page: Any) -> None:
    errors = page.locator(ERROR_SELECTOR)
    if errors.count():
        texts = [t.strip() for t in errors.all_inner_texts()]
        raise AppError(f"the app shows an error at {href(page)}: {texts}")


RUNNING = '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]'


def wait_idle(page: Any, timeout: float = 30_000) -> None:
    """Wait until no script run is in progress and nothing is stale or a skeleton, then settle.

    (The status widget itself may stay: it also shows 'File change. Rerun' while someone edits.)
    """
    page.wait_for_timeout(200)
    page.wait_for_function(
        """running => !document.querySelector(running)
                 && !document.querySelector('[data-testid="stSkeleton"]')
                 && !document.querySelector('[data-stale="true"]')""",
        arg=RUNNING,
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def href(page: Any) -> str:
    """The address bar now: page.url can lag behind Streamlit's history.pushState."""
    return page.evaluate("window.location.href")


def kpi_values(page: Any) -> list[str]:
    return [text.strip() for text in page.locator(KPI_VALUE).all_inner_texts()]


def drawn_pixels(png: bytes, *, background_tolerance: int = 12) -> tuple[int, int]:
    """(pixels that are not near-white, total pixels) in a PNG."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    # A pixel is 'drawn' when any channel is clearly below white.
    lowest = image.point(lambda v: 255 if v < 255 - background_tolerance else 0).convert("L")
    total = image.width * image.height
    return total - lowest.histogram()[0], total


def content_height(page: Any) -> int:
    """The height the whole app needs: Streamlit scrolls inside its main area, not the document."""
    return page.evaluate(
        """() => Math.max(
            document.documentElement.scrollHeight,
            ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebarContent"]')]
                .map(e => e.scrollHeight))"""
    )


def full_page_screenshot(page: Any, path: Path | str, *, settle_ms: int = 1200) -> bytes:
    """A screenshot of the whole page, not just the viewport.

    Playwright's full_page=True sees only the viewport here (the app scrolls inside stMain), so the
    viewport is stretched to the content's height for the shot and put back afterwards.
    """
    original = page.viewport_size
    height = original["height"]
    for _ in range(4):  # growing the viewport can reflow the content: repeat until it is stable
        needed = max(content_height(page), original["height"])
        if needed <= height:
            break
        height = needed
        page.set_viewport_size({"width": original["width"], "height": height})
        page.wait_for_timeout(400)
    if height != original["height"]:
        wait_idle(page)
        page.wait_for_timeout(settle_ms)  # charts and the map redraw at the new size
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(path), full_page=True, animations="disabled")
    if height != original["height"]:
        page.set_viewport_size(original)
    return png


def block_other_hosts(context: Any, base_url: str) -> list[str]:
    """Abort every request that does not go to the app (no basemap, no web fonts): as if offline.

    Returns the list that the aborted URLs are appended to.
    """
    blocked: list[str] = []
    own = base_url.rstrip("/") + "/"

    def handle(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort("internetdisconnected")

    context.route(lambda url: not (url.startswith(own) or url.startswith(("data:", "blob:"))), handle)
    return blocked


def colours_drawn(png: bytes, *, min_share: float = 0.005) -> int:
    """How many distinct non-white colours (after reducing to 32) each cover `min_share` of a PNG."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=32)
    palette = image.getpalette()
    total = image.width * image.height
    return sum(
        1
        for count, index in image.getcolors()
        if count / total >= min_share and min(palette[3 * index : 3 * index + 3]) < 240
    )


def wait_map_drawn(page: Any, *, share: float = 0.25, timeout_s: float = 10.0) -> float:
    """Poll the deck.gl map's pixels until `share` of them are drawn; return the share drawn last.

    deck.gl draws on an animation frame after its canvas appears, so the canvas alone proves little.
    """
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    deadline = time.monotonic() + timeout_s
    while True:
        drawn, total = drawn_pixels(chart.screenshot(animations="disabled"))
        if drawn / total >= share or time.monotonic() > deadline:
            return drawn / total
        page.wait_for_timeout(300)
