"""Browser timings: every page and presenter slide beside a bare Streamlit app, in headless Chromium.

    python scripts/browser_bench.py                       # make browser-bench: every page, slides 1-5, 3 runs
    python scripts/browser_bench.py --runs 5 --only overview map bare --no-lighthouse
    python scripts/browser_bench.py --proxy --mobile      # through make serve's nginx, on a phone's viewport

Writes the section "## Browser: time to first chart" of docs/benchmarks.md (``--no-write`` to only
print it). Traffic goes to 127.0.0.1 only, and every wait is bounded.

Method
------
The dashboard (``streamlit run dashboard.py`` on a fresh demo store, as scripts/load.py starts it)
and the floor, ``scripts/bare_app.py`` (one ``st.metric`` and one plotly bar chart), run side by
side, each on its own port with the same Streamlit options and .streamlit/config.toml; with
``--proxy`` each sits behind its own nginx as ``make serve`` runs it (scripts/serve_replicas.py, one
replica). Both are warmed first (every target visited once), so the figures are a warm app's.

Every **visit** is a fresh browser context (a new Streamlit session, an empty HTTP cache) of
Debian's Chromium: the page is opened, then opened again in the same context (the **repeat visit**,
with the browser's cache). A script injected before the page's own measures, from the navigation's
start (``performance.now()``):

* **first chart**: the first chart or table drawn: a plotly chart's SVG, the deck.gl map's canvas,
  a data grid's canvas or a static table (``FIRST_CHART``);
* **script finished**: ``data-test-script-state`` of the app's root back at ``notRunning`` *after*
  it was ``running`` (it also reads ``notRunning`` before the first run starts); the last such moment
  once the app stayed idle for ``SETTLE_MS``;
* **bytes**: every HTTP response's ``encodedDataLength`` (Chrome DevTools Protocol
  ``Network.loadingFinished``: bytes on the wire, headers included; a response from the cache counts
  0) and, apart, the websocket's message payloads (``Network.webSocketFrameReceived``, after any
  websocket compression).

Targets are visited round-robin (all targets once, then again) so that a slower minute of a shared
machine touches each of them alike; the table shows the median of ``--runs`` visits.

**Server**: the same targets opened by scripts/load.py's websocket client (no browser): from the
request to the first chart element the server sends, and to ``script_finished`` (median of the same
number of runs). The difference to the browser's figures is the browser's share: static files,
parsing, React, plotly, deck.gl.

**Lighthouse** (npm ``lighthouse``, ``--preset=desktop``, performance only, Chromium from
``CHROME_PATH``) on the Overview and on the bare app: its performance score, total blocking time, time
to interactive and total bytes. ``make browser-bench`` installs it; without it the section says that
Lighthouse did not run.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
for _folder in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import load  # scripts/load.py: its server start-up and websocket client
import serve_replicas

from ui.routes import ROUTES

BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"
SECTION = "## Browser: time to first chart"
BARE_APP = "scripts/bare_app.py"
LIGHTHOUSE_LOCAL = REPO_ROOT / "node_modules" / ".bin" / "lighthouse"

# The pages of ui/routes.py (name, path, page name for the websocket client), then the bare app.
PAGES = tuple(
    (Path(file).stem, "/" if i == 0 else f"/{Path(file).stem}", "" if i == 0 else Path(file).stem)
    for i, (file, _, _) in enumerate(ROUTES)
)
DEFAULT_SLIDES = (1, 2, 3, 4, 5)  # KPIs, map, trend, sector x region, the first spotlight
BARE = "bare"

FIRST_CHART = ", ".join(
    [
        '[data-testid="stPlotlyChart"] .main-svg',
        '[data-testid="stDeckGlJsonChart"] canvas',
        '[data-testid="stDataFrame"] canvas',
        '[data-testid="stTable"] table',
    ]
)
SETTLE_MS = 1500  # the app idle this long after a run: the page is done
DESKTOP = {"width": 1440, "height": 1000}

# Runs in the page before its own scripts: records when the first chart appears and when runs end.
OBSERVER_JS = """
(() => {
  const bench = (window.__rspBench = {firstChart: null, runStarted: null, finished: null, running: false, runs: 0});
  const CHART = %s;
  const look = () => {
    const now = performance.now();
    if (bench.firstChart === null && document.querySelector(CHART)) bench.firstChart = now;
    const app = document.querySelector('[data-test-script-state]');
    if (!app) return;
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') {
      if (bench.runStarted === null) bench.runStarted = now;
      bench.running = true;
    } else if (state === 'notRunning' && bench.running) {
      bench.running = false;
      bench.finished = now;
      bench.runs += 1;
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


@dataclass
class Target:
    name: str  # "overview", "slide 2", "bare"
    path: str  # URL path and query
    page_name: str  # for the websocket client
    query: str = ""
    bare: bool = False
    chart: bool = True  # the page draws a chart or table (the Submit page does not)


@dataclass
class Visit:
    first_chart: float | None  # ms from navigation start
    finished: float | None  # ms: the app's last run ended
    http_bytes: int
    ws_bytes: int


@dataclass
class Result:
    target: Target
    first: list[Visit] = field(default_factory=list)
    repeat: list[Visit] = field(default_factory=list)
    server_first_chart: list[float] = field(default_factory=list)  # ms
    server_finished: list[float] = field(default_factory=list)  # ms


def targets(only: Sequence[str] = (), slides: Sequence[int] = DEFAULT_SLIDES) -> list[Target]:
    """The pages, the presenter slides (paused: no auto-advance while timed) and the bare app."""
    out = [Target(name, path, page_name, chart=name != "submit") for name, path, page_name in PAGES]
    # Slide 1 is KPI tiles and a progress bar: no chart.
    out += [
        Target(f"slide {n}", f"/?present=1&slide={n}&paused=1", "", f"present=1&slide={n}&paused=1", chart=n != 1)
        for n in slides
    ]
    out.append(Target(BARE, "/", "", bare=True))
    return [t for t in out if not only or t.name in only or t.name.split()[0] in only]


# ---------------------------------------------------------------- figures


def median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def seconds(value_ms: float | None) -> str:
    return "–" if value_ms is None else f"{value_ms / 1000:.2f}"


def size(value: float | None) -> str:
    """Bytes as kB or MB (1000-based, as Lighthouse and the browser's devtools show them)."""
    if value is None:
        return "–"
    return f"{value / 1e6:.2f} MB" if value >= 1e6 else f"{value / 1e3:.0f} kB"


def ratio(value: float | None, floor: float | None) -> str:
    return "–" if value is None or not floor else f"{value / floor:.2f}×"


def ws_payload_bytes(payload: str, opcode: int) -> int:
    """Bytes of one websocket message as CDP reports it: binary frames (opcode 2) come base64-encoded."""
    if opcode == 2:
        return len(payload) * 3 // 4 - payload[-2:].count("=")
    return len(payload.encode())


def table(results: Sequence[Result]) -> list[str]:
    floor = next((median([v.first_chart for v in r.first]) for r in results if r.target.bare), None)
    lines = [
        "| target | first chart s | × bare | script finished s | server: first chart / finished ms "
        "| first visit: HTTP / websocket | repeat visit: HTTP / websocket |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        first_chart = median([v.first_chart for v in r.first])
        name = "**bare app** (the floor)" if r.target.bare else r.target.name
        lines.append(
            f"| {name} | {seconds(first_chart)} | {ratio(first_chart, floor)} "
            f"| {seconds(median([v.finished for v in r.first]))} "
            f"| {_ms(median(r.server_first_chart))} / {_ms(median(r.server_finished))} "
            f"| {size(median([v.http_bytes for v in r.first]))} / {size(median([v.ws_bytes for v in r.first]))} "
            f"| {size(median([v.http_bytes for v in r.repeat]))} / {size(median([v.ws_bytes for v in r.repeat]))} |"
        )
    return lines


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def within(results: Sequence[Result], factor: float = 1.25) -> tuple[list[str], list[str]]:
    """(targets whose median first chart is within `factor` of the bare app's, those that are not)."""
    floor = next((median([v.first_chart for v in r.first]) for r in results if r.target.bare), None)
    met, missed = [], []
    for r in results:
        if r.target.bare:
            continue
        value = median([v.first_chart for v in r.first])
        if value is None or floor is None:
            continue
        (met if value <= factor * floor else missed).append(r.target.name)
    return met, missed


@dataclass
class Lighthouse:
    name: str
    score: float | None = None  # 0..100
    tbt: float | None = None  # ms
    tti: float | None = None  # ms
    bytes: float | None = None
    error: str = ""


def parse_lighthouse(name: str, report: dict[str, Any]) -> Lighthouse:
    """The figures of a Lighthouse JSON report (lhr)."""
    audits = report.get("audits", {})

    def numeric(audit: str) -> float | None:
        return audits.get(audit, {}).get("numericValue")

    score = report.get("categories", {}).get("performance", {}).get("score")
    return Lighthouse(
        name,
        score=None if score is None else round(score * 100),
        tbt=numeric("total-blocking-time"),
        tti=numeric("interactive"),
        bytes=numeric("total-byte-weight"),
        error=(report.get("runtimeError") or {}).get("message", ""),
    )


def lighthouse_lines(runs: Sequence[Lighthouse], version: str, problem: str) -> list[str]:
    if problem:
        return [f"Lighthouse did not run: {problem}."]
    lines = [
        f"Lighthouse {version}, `--preset=desktop`, performance only, the same Chromium:",
        "",
        "| | performance | total blocking time | time to interactive | bytes |",
        "|---|---:|---:|---:|---:|",
    ]
    for lh in runs:
        if lh.error:
            lines.append(f"| {lh.name} | error: {lh.error} | | | |")
        else:
            lines.append(
                f"| {lh.name} | {'–' if lh.score is None else f'{lh.score:.0f}'} | {_ms(lh.tbt)} ms "
                f"| {seconds(lh.tti)} s | {size(lh.bytes)} |"
            )
    return lines


def section_text(
    results: Sequence[Result],
    lighthouse: Sequence[Lighthouse],
    *,
    command: str,
    started: datetime,
    options: dict[str, Any],
) -> str:
    m = load.machine()
    met, missed = within(results)
    lines = [
        SECTION,
        "",
        f"Command: `{command}`  ",
        f"Run: {started:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['os']}, Python {m['python']}, "
        f"Streamlit {m['streamlit']}, Chromium {options.get('chromium', 'unknown')}  ",
        f"Settings: {options['runs']} visits per target (median), each a fresh browser context, "
        f"viewport {options['viewport']}, {options['server']}; load average at start {options['load']:.1f}.",
        "",
        "Method (details in the docstring of `scripts/browser_bench.py`): first chart = the first plotly SVG, "
        "deck.gl canvas, data grid or table drawn, from the navigation's start; script finished = the app's "
        "last run over (`data-test-script-state` back at `notRunning` after `running`); bytes: HTTP "
        "`encodedDataLength` (on the wire; 0 from the cache) and websocket payloads. Server = scripts/load.py's "
        "websocket client, no browser. Repeat visit = the same URL again in the same browser context.",
        "",
        *table(results),
        "",
        f"Within 1.25× of the bare app's first chart: {', '.join(met) or 'none'}.  ",
        f"Not within: {', '.join(missed) or 'none'}.",
        "",
        *lighthouse_lines(lighthouse, options.get("lighthouse_version", ""), options.get("lighthouse_problem", "")),
        "",
    ]
    if options.get("note"):
        lines += [options["note"], ""]
    return "\n".join(lines)


def write_section(text: str, path: Path = BENCHMARKS, section: str = SECTION) -> None:
    load.write_section(text, path, section)  # the same hand-kept "### Analysis" rule as load.py's sections


# ---------------------------------------------------------------- the browser


def visit(
    browser: Any, url: str, *, context_options: dict[str, Any], timeout_s: float, chart: bool = True
) -> tuple[Visit, Visit]:
    """A first and a repeat visit of `url` in one fresh browser context."""
    context = browser.new_context(**context_options)
    try:
        page = context.new_page()
        counters = {"http": 0, "ws": 0}
        cdp = context.new_cdp_session(page)
        cdp.on(
            "Network.loadingFinished", lambda e: counters.__setitem__("http", counters["http"] + e["encodedDataLength"])
        )
        cdp.on(
            "Network.webSocketFrameReceived",
            lambda e: counters.__setitem__(
                "ws", counters["ws"] + ws_payload_bytes(e["response"]["payloadData"], e["response"]["opcode"])
            ),
        )
        cdp.send("Network.enable")
        page.add_init_script(OBSERVER_JS % json.dumps(FIRST_CHART))
        out = []
        for _ in range(2):
            counters.update(http=0, ws=0)
            page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
            timings = _wait_done(page, timeout_s, chart)
            out.append(Visit(timings["firstChart"], timings["finished"], counters["http"], counters["ws"]))
        return out[0], out[1]
    finally:
        context.close()


def _wait_done(page: Any, timeout_s: float, chart: bool) -> dict[str, Any]:
    """Wait until the app ran, then stayed idle for SETTLE_MS, and drew its chart (bounded by timeout_s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        timings = page.evaluate("() => ({...window.__rspBench, now: performance.now()})")
        idle = timings.get("finished") is not None and not timings.get("running")
        drawn = timings.get("firstChart") is not None or not chart
        if idle and drawn and timings["now"] - timings["finished"] >= SETTLE_MS:
            return timings
        page.wait_for_timeout(100)
    timings = page.evaluate("() => ({...window.__rspBench})")
    return timings if not timings.get("running") else timings | {"finished": None}


def server_timings(base_url: str, target: Target, timeout: float = 60.0) -> tuple[float | None, float]:
    """(ms to the first chart element, ms to script_finished) of a first run through the websocket client."""

    async def once() -> load.Run:
        session = load.Session(base_url, timeout=timeout)
        await session.connect()
        try:
            return await session.load(target.page_name, target.query)
        finally:
            await session.close()

    # Its own thread: Playwright's sync API keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        run = pool.submit(asyncio.run, once()).result()
    return (None if run.first_chart is None else run.first_chart * 1000), run.latency * 1000


def run_lighthouse(binary: str, url: str, name: str, chrome: str, timeout: float = 240.0) -> Lighthouse:
    with tempfile.TemporaryDirectory(prefix="rsp-lighthouse-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [
            binary,
            url,
            "--preset=desktop",
            "--only-categories=performance",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ]
        try:
            proc = subprocess.run(
                cmd, env={**os.environ, "CHROME_PATH": chrome}, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return Lighthouse(name, error=f"no report within {timeout:.0f} s")
        if not out.exists():
            return Lighthouse(name, error=(proc.stderr or proc.stdout).strip()[-300:] or f"exit {proc.returncode}")
        return parse_lighthouse(name, json.loads(out.read_text()))


def find_lighthouse(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("LIGHTHOUSE"), str(LIGHTHOUSE_LOCAL), shutil.which("lighthouse")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


# ---------------------------------------------------------------- servers


@contextlib.contextmanager
def served(script: str, proxy: bool) -> Iterator[str]:
    """The app file `script` on a fresh demo store, directly or behind make serve's nginx; yields its URL."""
    if not proxy:
        with load.started_app(script=script) as (base_url, _):
            yield base_url
        return
    with (
        load.demo_store() as (_, url),
        serve_replicas.running(1, env={**os.environ, "DATABASE_URL": url}, script=script) as cluster,
    ):
        yield cluster.base_url


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="visits per target; the table shows the median (3)")
    parser.add_argument("--only", nargs="+", default=[], help="targets: overview map ... slide bare (default all)")
    parser.add_argument("--slides", type=int, nargs="+", default=list(DEFAULT_SLIDES), help="presenter slides")
    parser.add_argument("--proxy", action="store_true", help="behind nginx, as make serve runs the app")
    parser.add_argument("--mobile", action="store_true", help="a phone (Playwright's Pixel 7) instead of a desktop")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    parser.add_argument("--lighthouse", help="the lighthouse command (default node_modules/.bin, then PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per visit (60)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--note", default="", help="a sentence added under the figures")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 20:
        parser.error("--runs: 1 to 20")
    if not 5 <= args.timeout <= 300:
        parser.error("--timeout: 5 to 300 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from browser_support import chromium_path, launch_chromium

    args = parse_args(argv)
    started = datetime.now(UTC)
    load_at_start = load.load_average()
    chosen = targets(args.only, args.slides)
    results = [Result(t) for t in chosen]
    lighthouse: list[Lighthouse] = []
    lh_problem, lh_version = "", ""
    with served("dashboard.py", args.proxy) as app_url, served(BARE_APP, args.proxy) as bare_url:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            chromium_version = browser.version
            if args.mobile:
                context_options = dict(playwright.devices["Pixel 7"])
                context_options.pop("default_browser_type", None)
            else:
                context_options = {"viewport": DESKTOP}
            url_of = {t.name: (bare_url if t.bare else app_url) + t.path for t in chosen}
            for t in chosen:  # warm: imports, caches and the server's first runs are not what is timed
                visit(browser, url_of[t.name], context_options=context_options, timeout_s=args.timeout, chart=t.chart)
            for run in range(args.runs):
                for result in results:
                    t = result.target
                    first, repeat = visit(
                        browser, url_of[t.name], context_options=context_options, timeout_s=args.timeout, chart=t.chart
                    )
                    result.first.append(first)
                    result.repeat.append(repeat)
                    chart, finished = server_timings(bare_url if t.bare else app_url, t)
                    if chart is not None:
                        result.server_first_chart.append(chart)
                    result.server_finished.append(finished)
                    print(
                        f"run {run + 1}: {t.name:<13} first chart {seconds(first.first_chart)} s, finished "
                        f"{seconds(first.finished)} s, {size(first.http_bytes)} + ws {size(first.ws_bytes)}; "
                        f"repeat {size(repeat.http_bytes)}; server {_ms(chart)} / {_ms(finished)} ms",
                        flush=True,
                    )
            browser.close()
        if not args.no_lighthouse:
            binary = find_lighthouse(args.lighthouse)
            if binary is None:
                lh_problem = "not installed (`make browser-bench` installs npm's lighthouse into node_modules)"
            else:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    lh_version = subprocess.run(
                        [binary, "--version"], capture_output=True, text=True, timeout=60
                    ).stdout.strip()
                for name, url in (("Overview", app_url + "/"), ("bare app", bare_url + "/")):
                    result = run_lighthouse(binary, url, name, chromium_path())
                    if result.error:  # a protocol timeout on a busy machine: once more
                        result = run_lighthouse(binary, url, name, chromium_path())
                    lighthouse.append(result)
                    print(lighthouse_lines(lighthouse[-1:], lh_version, "")[-1], flush=True)
    if args.proxy:
        server = "each app behind its own nginx as `make serve` runs it (scripts/serve_replicas.py, 1 replica)"
    else:
        server = "each app one `streamlit run` process on a fresh demo store"
    options = {
        "runs": args.runs,
        "viewport": "Pixel 7 (mobile)" if args.mobile else f"{DESKTOP['width']}×{DESKTOP['height']}",
        "server": server,
        "load": load_at_start,
        "chromium": chromium_version,
        "lighthouse_version": lh_version,
        "lighthouse_problem": "skipped (`--no-lighthouse`)" if args.no_lighthouse else lh_problem,
        "note": args.note,
    }
    shown = list(argv if argv is not None else sys.argv[1:])
    if "--note" in shown:
        i = shown.index("--note")
        del shown[i : i + 2]
    command = ("python scripts/browser_bench.py " + " ".join(shown)).strip()
    text = section_text(results, lighthouse, command=command, started=started, options=options)
    print("\n" + text)
    if not args.no_write:
        section = (
            SECTION
            if not (args.proxy or args.mobile)
            else f"{SECTION} ({options['viewport']}, {'nginx' if args.proxy else 'direct'})"
        )
        write_section(text.replace(SECTION, section, 1), section=section)
        print(f"Wrote the section “{section[3:]}” of {BENCHMARKS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
