"""Load test: N concurrent sessions change filters and switch pages against a running app.

    python scripts/load.py --sessions 10 25 50 --duration 60         # starts the app itself, once per N
    python scripts/load.py --sessions 10 25 50 --replicas 1 2        # one process, then 2 replicas behind nginx
    python scripts/load.py --sessions 10 --base-url http://127.0.0.1:8501 [--server-pid PID]

Writes the figures to the section "## Load: concurrent sessions" of docs/benchmarks.md (``--no-write``
to only print them). Traffic goes to 127.0.0.1 only; every loop is bounded in count and in time,
and the script stops by itself. Exit status 1 when any session saw an error.

Method
------
A headless browser per session would cost more CPU and memory than the app itself on a 2-core
machine, so the load generator would measure mostly itself. Each simulated session is instead a
real Streamlit client that speaks the app's own wire protocol, the way the 1.67 frontend does:

* like a browser tab it first loads the page (``GET /``, the HTML only) into its own cookie jar,
  then opens the websocket ``ws://HOST/_stcore/stream`` with those cookies and the subprotocols the
  frontend sends (``streamlit``, then the XSRF token slot: the ``_streamlit_xsrf`` cookie's value, or
  ``PLACEHOLDER_AUTH_TOKEN`` when there is no such cookie), and exchanges the protobuf messages that
  ship with the package (``streamlit.proto``); behind the sticky proxy the jar holds the proxy's
  replica cookie, so sessions spread over the replicas as browsers would;
* it asks for the first run with a ``BackMsg.rerun_script`` (``ClientState`` with the URL's query
  string and page name, no widget states) and reads every ``ForwardMsg`` the server sends back:
  ``new_session``, ``navigation`` (the pages), ``page_info_changed`` (the URL's query string, which
  the app rewrites), the ``delta`` elements, up to ``script_finished``;
* it keeps the widgets it saw in the deltas (the sidebar's multiselects ``f_region``/``f_sector``
  and the select-slider ``f_months``: ids, options and current values) and the sidebar's
  ``st.page_link`` targets (page hash and query string).

An **interaction** is one ``BackMsg`` that changes something, exactly what the browser sends:

* a **filter change**: a ``rerun_script`` for the current page whose ``WidgetStates`` carry the
  sidebar filter widgets with one of them changed: a region or a sector (multiselect:
  ``string_array_value`` of the options' displayed labels, as Streamlit 1.67 serialises it), or
  a narrower month range (select-slider, also ``string_array_value``); every few changes the
  filters are cleared again;
* a **page switch**: a click on a sidebar page link: ``rerun_script`` with the link's
  ``page_script_hash`` and query string, and the sidebar widgets' states (the frontend keeps the
  widgets of the main script on a page change and drops the page's own).

The page widgets (the pages' "Measure" select boxes, the table selections) are not touched and
not sent: they all have keys, so the server keeps their values in session state. No forward-message
cache hashes are sent, so the server sends every element in full on every run (a browser that
caches would receive somewhat fewer bytes: this errs on the heavy side).

**Latency** = from sending the BackMsg to receiving that run's ``script_finished``
(``FINISHED_SUCCESSFULLY``): the server's queueing, the script run with its queries and charts,
serialisation and the transfer over loopback. Not included: the browser's parsing and rendering
(React, Plotly, deck.gl), the static files (JS/CSS, loaded once per browser tab), media and
the ``/_stcore/...`` HTTP endpoints. The session's first load (connect + first run) is reported
apart from the interactions.

**Errors**: an exception element (``delta.new_element.exception`` that is not a warning), an error
alert (``alert`` with format ``ERROR``), a run that ended with a compile error, a run that showed
another page than the one asked for, a connection failure or close, and an interaction without
``script_finished`` within ``--timeout`` (30 s); the last two end that session. Exception elements
flagged as warnings are counted apart.

Each simulated user waits a random think time (``--think``, default 2–8 s, uniformly drawn)
between the end of one interaction and the next: people read a chart before clicking again.
With no think time every session would click again the instant a run ends, which measures the
saturated throughput of the server rather than the experience of N people. Sessions start
staggered over ``--ramp`` seconds, each runs ``--duration`` seconds and at most
``--max-interactions`` interactions, then closes. Session *i* uses the random seed ``seed + i``.

**Replicas**: ``--replicas 1 2`` runs every N against one ``streamlit run`` process, then
against 2 replicas behind nginx with sticky sessions (then the next N), started by ``scripts/serve_replicas.py``
(``make serve``): the same setup as in production, on loopback. Each replica is warmed up directly.

**Server memory**: the resident set size (``VmRSS`` from ``/proc/PID/status``) of the server
process and its children (with replicas: every replica and nginx, summed), sampled every
second; peak and end (after the sessions closed) are reported, with the RSS just before the
sessions start. The server's CPU time over the run comes from ``/proc/PID/stat`` (summed the
same way). Without ``--base-url`` each N gets a fresh server (fresh caches, after a warm-up that
visits every page once); with ``--base-url`` all N run against the same server, found
by the port it listens on (or ``--server-pid``). ``--server-option runner.postScriptGC=false`` (any
Streamlit config option, repeatable) starts the server with other settings, to try a fix.

The load generator runs on the same cores as the server (one asyncio process; its own CPU time
is reported), so the figures are what this machine does with both. The CPU that other processes
used meanwhile (``/proc/stat`` busy time less the server's and the generator's) and the load
average are reported too: on a shared machine they explain outliers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parent.parent
for _folder in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import serve_replicas
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"
SECTION = "## Load: concurrent sessions"

# The sidebar filters the sessions change (ui/sidebar.py) and the pages they visit (ui/routes.py).
FILTER_KEYS = ("f_region", "f_sector", "f_months")
PAGES = ("Overview", "Map", "Trends", "Partnerships", "Data")
PAGE_TITLES = {
    "Overview": "Connecticut Regional Sector Partnerships",
    "Map": "Map of the partnerships",
    "Trends": "Trends",
    "Partnerships": "Partnerships",
    "Data": "Data",
}

DEFAULT_TIMEOUT = 30.0
FINISHED_OK = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
FINISHED_COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")
ALERT_ERROR = Alert.Format.Value("ERROR")
SUBPROTOCOLS = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]  # what the 1.67 frontend sends without an XSRF cookie
XSRF_COOKIE = "_streamlit_xsrf"
USER_AGENT = "rsp-dashboard-load-test"


class LoadError(Exception):
    """A connection failure, a timeout or a protocol surprise: counted as an error."""


# ---------------------------------------------------------------- one Streamlit client


@dataclass
class Widget:
    """A sidebar widget as the frontend knows it: id, kind, displayed options, current value."""

    id: str
    kind: str  # "multiselect" or "select_slider"
    options: list[str]
    value: list[str] | None  # None: the server did not set it, the frontend keeps what it holds
    default: list[str] = field(default_factory=list)


@dataclass
class Run:
    """What the server sent for one script run."""

    latency: float = 0.0
    status: int | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    page_hash: str = ""
    title: str = ""  # the first h1 heading
    metrics: dict[str, str] = field(default_factory=dict)  # st.metric label -> displayed value
    markdown: list[str] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0
    first_chart: float | None = None  # seconds from the request to the first chart or table element


CHART_ELEMENTS = ("plotly_chart", "deck_gl_json_chart", "dataframe", "table", "vega_lite_chart")


class Session:
    """One simulated browser tab: a websocket and the little state the frontend keeps."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        parsed = urlparse(base_url)
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"load tests only go to this machine, not {parsed.hostname}")
        self.ws_url = f"ws://{parsed.netloc}{parsed.path.rstrip('/')}/_stcore/stream"
        self.origin = f"http://{parsed.netloc}"  # same origin, as the page the browser loaded
        self.timeout = timeout
        self.page_url = f"http://{parsed.netloc}{parsed.path.rstrip('/')}/"
        self.ws: ClientConnection | None = None
        self.cookies: dict[str, str] = {}  # this tab's own cookie jar (the proxy's replica cookie, ...)
        self.session_id = ""
        self.main_hash = ""
        self.page_hash = ""
        self.query_string = ""
        self.pages: dict[str, str] = {}  # page title -> page_script_hash
        self.links: dict[str, tuple[str, str]] = {}  # sidebar link label -> (page hash, query string)
        self.widgets: dict[str, Widget] = {}  # widget key -> widget
        self._started = 0.0  # when the current interaction was sent

    async def connect(self) -> None:
        """Load the page (its HTML only: keeps the cookies it sets), then open the websocket with them."""
        try:
            await asyncio.wait_for(asyncio.to_thread(self._get_page), self.timeout)
            xsrf = self.cookies.get(XSRF_COOKIE)
            self.ws = await asyncio.wait_for(
                connect(
                    self.ws_url,
                    # The frontend sends the XSRF cookie's value in the token slot when it has one.
                    subprotocols=[SUBPROTOCOLS[0], xsrf] if xsrf else SUBPROTOCOLS,  # type: ignore[list-item]
                    origin=self.origin,  # type: ignore[arg-type]
                    additional_headers={"Cookie": self.cookie_header()} if self.cookies else None,
                    max_size=None,
                    open_timeout=self.timeout,
                    ping_interval=None,  # browsers send no websocket pings (they answer the server's)
                    user_agent_header=USER_AGENT,
                ),
                self.timeout,
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise LoadError(f"connect: {exc.__class__.__name__}: {exc}") from exc

    def _get_page(self) -> None:
        request = urllib.request.Request(self.page_url, headers={"User-Agent": USER_AGENT})
        if self.cookies:
            request.add_header("Cookie", self.cookie_header())
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()
            self.keep_cookies(response.headers.get_all("Set-Cookie") or [])

    def keep_cookies(self, set_cookie_headers: Sequence[str]) -> None:
        for header in set_cookie_headers:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
            self.ws = None

    # ---- the interactions

    async def load(self, page_name: str = "", query_string: str = "") -> Run:
        """The first run, as a browser opening http://HOST/<page_name>?<query_string>."""
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = page_name
        msg.rerun_script.page_script_hash = ""
        return await self._rerun(msg, expect_hash=None)

    async def switch_page(self, title: str) -> Run:
        """Click the sidebar link to page `title` (the link carries the current filters)."""
        if title not in self.links:
            raise LoadError(f"no sidebar link to {title!r}: saw {sorted(self.links)}")
        page_hash, query_string = self.links[title]
        msg = BackMsg()
        msg.rerun_script.page_script_hash = page_hash
        msg.rerun_script.query_string = query_string
        self._add_widget_states(msg)
        return await self._rerun(msg, expect_hash=page_hash)

    async def set_filter(self, key: str, value: list[str]) -> Run:
        """Change the sidebar widget `key` to `value` (displayed labels), as a user would."""
        if key not in self.widgets:
            raise LoadError(f"no widget with key {key!r}: saw {sorted(self.widgets)}")
        self.widgets[key].value = list(value)
        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.query_string = self.query_string
        self._add_widget_states(msg)
        return await self._rerun(msg, expect_hash=self.page_hash)

    def _add_widget_states(self, msg: BackMsg) -> None:
        for widget in self.widgets.values():
            state: WidgetState = msg.rerun_script.widget_states.widgets.add()
            state.id = widget.id
            state.string_array_value.data.extend(widget.value)

    # ---- reading the server's answer

    async def _rerun(self, msg: BackMsg, *, expect_hash: str | None) -> Run:
        if self.ws is None:
            raise LoadError("not connected")
        run = Run()
        started = self._started = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            await asyncio.wait_for(self._read_until_finished(run), self.timeout)
        except TimeoutError as exc:
            raise LoadError(f"no script_finished within {self.timeout:.0f} s") from exc
        except (OSError, WebSocketException) as exc:
            raise LoadError(f"connection: {exc.__class__.__name__}: {exc}") from exc
        run.latency = time.perf_counter() - started
        if run.status == FINISHED_COMPILE_ERROR:
            run.errors.append("script finished with a compile error")
        if expect_hash is not None and run.page_hash != expect_hash:
            run.errors.append(f"asked for page {expect_hash}, the server ran {run.page_hash}")
        return run

    async def _read_until_finished(self, run: Run) -> None:
        assert self.ws is not None
        seen_widgets: dict[str, Widget] = {}
        links: dict[str, tuple[str, str]] = {}
        while True:
            data = await self.ws.recv()
            if isinstance(data, str):
                raise LoadError("the server sent a text frame")
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            run.messages += 1
            run.bytes += len(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                # A rerun (st.rerun, or a new run after a script change) starts again: forget the partial run.
                self.main_hash = fwd.new_session.main_script_hash
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
                run.errors.clear()
                run.warnings.clear()
                run.metrics.clear()
                run.markdown.clear()
                run.title = ""
                seen_widgets.clear()
                links.clear()
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in fwd.navigation.app_pages}
                if fwd.navigation.page_script_hash:
                    run.page_hash = fwd.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = fwd.page_info_changed.query_string
            elif kind == "delta":
                self._read_delta(fwd, run, seen_widgets, links)
            elif kind == "script_finished":
                status = fwd.script_finished
                if status in (FINISHED_OK, FINISHED_COMPILE_ERROR):
                    run.status = status
                    break
                # FINISHED_EARLY_FOR_RERUN: a new run follows (st.rerun); fragment runs: keep waiting.
        if run.page_hash:
            self.page_hash = run.page_hash
        # Keep the state the frontend keeps: the widgets it shows, with the values it holds.
        for key, widget in seen_widgets.items():
            old = self.widgets.get(key)
            if widget.value is None:
                same = old is not None and old.id == widget.id and old.value is not None
                widget.value = list(old.value) if same else list(widget.default)  # type: ignore[union-attr]
            self.widgets[key] = widget
        if links:
            self.links = links

    def _read_delta(
        self, fwd: ForwardMsg, run: Run, widgets: dict[str, Widget], links: dict[str, tuple[str, str]]
    ) -> None:
        delta = fwd.delta
        kind = delta.WhichOneof("type")
        if kind == "new_element":
            elements = [delta.new_element]
        elif kind == "new_transient":
            elements = list(delta.new_transient.elements)
        else:
            return
        for element in elements:
            etype = element.WhichOneof("type")
            if etype in CHART_ELEMENTS and run.first_chart is None:
                run.first_chart = time.perf_counter() - self._started
            if etype == "exception":
                text = f"{element.exception.type}: {element.exception.message}"
                (run.warnings if element.exception.is_warning else run.errors).append(text)
            elif etype == "alert" and element.alert.format == ALERT_ERROR:
                run.errors.append(f"error alert: {element.alert.body[:200]}")
            elif etype == "heading":
                if element.heading.tag == "h1" and not run.title:
                    run.title = element.heading.body
            elif etype == "metric":
                run.metrics[element.metric.label] = element.metric.body
            elif etype == "markdown":
                run.markdown.append(element.markdown.body)
            elif etype == "page_link":
                link = element.page_link
                links[link.label] = (link.page_script_hash, link.query_string)
            elif etype == "multiselect":
                ms = element.multiselect
                key = _widget_key(ms.id)
                if key in FILTER_KEYS:
                    value = list(ms.raw_values) if ms.set_value else None
                    default = [ms.options[i] for i in ms.default]
                    widgets[key] = Widget(ms.id, "multiselect", list(ms.options), value, default)
            elif etype == "slider":
                sl = element.slider
                key = _widget_key(sl.id)
                if key in FILTER_KEYS and sl.options:
                    value = list(sl.raw_value) if sl.set_value else None
                    default = [sl.options[int(i)] for i in sl.default]
                    widgets[key] = Widget(sl.id, "select_slider", list(sl.options), value, default)


def _widget_key(widget_id: str) -> str:
    """The user key at the end of a Streamlit 1.67 widget id: ``$$ID-<hash>-<key>``."""
    return widget_id.rsplit("-", 1)[-1] if widget_id.startswith("$$ID-") else ""


# ---------------------------------------------------------------- one simulated user


@dataclass
class SessionStats:
    first_load: float | None = None
    latencies: list[float] = field(default_factory=list)  # interactions only
    kinds: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes: int = 0


def _filter_change(rng: random.Random, session: Session, step: int) -> tuple[str, list[str]]:
    """A plausible filter change: pick a region or a sector, narrow the months, or clear."""
    if step % 7 == 6:
        key = rng.choice(("f_region", "f_sector"))
        return key, []
    key = rng.choice(FILTER_KEYS)
    widget = session.widgets[key]
    if widget.kind == "select_slider":
        n = len(widget.options)
        start = rng.randrange(0, max(1, n - 6))
        end = rng.randrange(min(n - 1, start + 5), n)
        return key, [widget.options[start], widget.options[end]]
    choices = [o for o in widget.options if o not in widget.value] or widget.options
    if widget.value and rng.random() < 0.3:
        return key, []
    return key, [rng.choice(choices)]


async def simulate_user(
    index: int,
    base_url: str,
    *,
    start_at: float,
    stop_at: float,
    seed: int,
    think: tuple[float, float],
    timeout: float,
    max_interactions: int,
) -> SessionStats:
    """One user: open a random page, then alternate filter changes and page switches until stop_at."""
    rng = random.Random(seed + index)
    stats = SessionStats()
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    session = Session(base_url, timeout=timeout)
    page = rng.choice(PAGES)
    # Errors read "<kind of step>: <what went wrong> [<details>]"; the report groups them without the details.
    what, detail = "connect", f"session {index}"
    try:
        await session.connect()
        started = time.perf_counter()
        what, detail = "first load", f"session {index}, {page}"
        run = await session.load("" if page == "Overview" else page.lower())
        stats.first_load = time.perf_counter() - started
        stats.bytes += run.bytes
        stats.errors += [f"{what}: {e} [{detail}]" for e in run.errors]
        stats.warnings += run.warnings
        for step in range(max_interactions):
            pause = rng.uniform(*think)
            if time.monotonic() + pause >= stop_at:
                break
            await asyncio.sleep(pause)
            if step % 2 == 0:
                key, value = _filter_change(rng, session, step)
                what, detail = "filter change", f"session {index}, {key}={value}"
                run = await session.set_filter(key, value)
                stats.kinds.append("filter")
            else:
                page = rng.choice([p for p in PAGES if p != page])
                what, detail = "page switch", f"session {index}, to {page}"
                run = await session.switch_page(page)
                stats.kinds.append("page")
            stats.latencies.append(run.latency)
            stats.bytes += run.bytes
            stats.errors += [f"{what}: {e} [{detail}]" for e in run.errors]
            stats.warnings += run.warnings
    except LoadError as exc:  # a connection failure or a timeout ends the session
        stats.errors.append(f"{what}: {exc} [{detail}]")
    finally:
        await session.close()
    return stats


# ---------------------------------------------------------------- server process: memory and CPU


def _read_rss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def process_tree(pid: int, limit: int = 64) -> list[int]:
    """`pid` and its descendants (at most `limit` processes)."""
    tree, todo = [], [pid]
    while todo and len(tree) < limit:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def _pids(pids: int | Sequence[int]) -> list[int]:
    """Every process of the app: the given ones (one server, or the replicas and nginx) and their children."""
    out: list[int] = []
    for pid in [pids] if isinstance(pids, int) else pids:
        out += [p for p in process_tree(pid) if p not in out]
    return out


def tree_rss_mb(pids: int | Sequence[int]) -> float:
    return sum(_read_rss_kb(p) for p in _pids(pids)) / 1024


def system_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def load_average() -> float:
    with contextlib.suppress(OSError):
        return os.getloadavg()[0]
    return 0.0


def tree_cpu_seconds(pids: int | Sequence[int]) -> float:
    total = 0
    for p in _pids(pids):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def find_listening_pid(port: int) -> int | None:
    """The process (of this user) that listens on 127.0.0.1:`port`, from /proc/net/tcp and /proc/*/fd."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        return int(proc.name)
    return None


class MemorySampler:
    """Samples the server's RSS (summed over its processes) every `interval` seconds while running
    (bounded by `max_samples`)."""

    def __init__(self, pid: int | Sequence[int] | None, interval: float = 1.0, max_samples: int = 7200) -> None:
        self.pid = pid
        self.interval = interval
        self.max_samples = max_samples
        self.samples: list[float] = []
        self._task: asyncio.Task | None = None

    def sample(self) -> float | None:
        if self.pid is None:
            return None
        value = tree_rss_mb(self.pid)
        if len(self.samples) < self.max_samples:
            self.samples.append(value)
        return value

    async def _loop(self) -> None:
        while len(self.samples) < self.max_samples:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.pid is not None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def peak(self) -> float | None:
        return max(self.samples) if self.samples else None


# ---------------------------------------------------------------- one level (N sessions)


@dataclass
class LevelResult:
    sessions: int
    replicas: int  # 1: one `streamlit run`; more: that many behind nginx (scripts/serve_replicas.py)
    duration: float
    wall: float
    latencies: list[float]
    first_loads: list[float]
    page_latencies: list[float]
    filter_latencies: list[float]
    errors: list[str]
    warnings: list[str]
    bytes: int
    rss_before: float | None
    rss_peak: float | None
    rss_end: float | None
    server_cpu: float | None  # CPU seconds the server used during the level
    client_cpu: float  # CPU seconds this load generator used during the level
    other_cpu: float | None  # CPU seconds every other process used meanwhile (None: server unknown)
    load_before: float  # 1-minute load average when the level started

    @property
    def interactions(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.interactions / self.wall if self.wall else 0.0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


async def warm_up(base_url: str, timeout: float = 120.0) -> None:
    """One session visits every page once, so the first measured runs do not pay for imports."""
    session = Session(base_url, timeout=timeout)
    try:
        await session.connect()
        await session.load()
        for page in PAGES[1:]:
            await session.switch_page(page)
        await session.switch_page(PAGES[0])
    finally:
        await session.close()


async def run_level(
    base_url: str,
    sessions: int,
    duration: float,
    *,
    server_pid: int | Sequence[int] | None = None,
    replicas: int = 1,
    ramp: float = 5.0,
    think: tuple[float, float] = (2.0, 8.0),
    seed: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    max_interactions: int = 500,
) -> LevelResult:
    """N simulated users against `base_url` for `duration` seconds each, staggered over `ramp` seconds.

    `server_pid`: the server's process, or every process serving the app (replicas and proxy): memory
    and CPU are summed over them and their children. `replicas` is only reported."""
    sampler = MemorySampler(server_pid)
    rss_before = sampler.sample()
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else None
    client_before = _own_cpu()
    busy_before = system_busy_seconds()
    load_before = load_average()
    sampler.start()
    began = time.monotonic()
    tasks = []
    for i in range(sessions):
        start_at = began + (ramp * i / max(1, sessions - 1) if sessions > 1 else 0.0)
        tasks.append(
            simulate_user(
                i,
                base_url,
                start_at=start_at,
                stop_at=start_at + duration,
                seed=seed,
                think=think,
                timeout=timeout,
                max_interactions=max_interactions,
            )
        )
    # Hard bound: ramp + duration + connect, first load and the last interaction (a timeout each) + closing.
    results = await asyncio.wait_for(asyncio.gather(*tasks), ramp + duration + 3 * timeout + 30)
    wall = time.monotonic() - began
    server_cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid and cpu_before is not None else None
    client_cpu = _own_cpu() - client_before
    busy = system_busy_seconds() - busy_before
    other_cpu = max(0.0, busy - server_cpu - client_cpu) if server_cpu is not None else None
    await asyncio.sleep(2)  # let the server drop the closed sessions
    rss_end = sampler.sample()
    await sampler.stop()
    return LevelResult(
        sessions=sessions,
        replicas=replicas,
        duration=duration,
        wall=wall,
        latencies=[x for r in results for x in r.latencies],
        first_loads=[r.first_load for r in results if r.first_load is not None],
        page_latencies=[x for r in results for x, k in zip(r.latencies, r.kinds, strict=True) if k == "page"],
        filter_latencies=[x for r in results for x, k in zip(r.latencies, r.kinds, strict=True) if k == "filter"],
        errors=[e for r in results for e in r.errors],
        warnings=[w for r in results for w in r.warnings],
        bytes=sum(r.bytes for r in results),
        rss_before=rss_before,
        rss_peak=sampler.peak,
        rss_end=rss_end,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        other_cpu=other_cpu,
        load_before=load_before,
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- the app, when we start it


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def demo_store() -> Iterator[tuple[Path, str]]:
    """A fresh demo store in a temporary folder: yields (folder, DATABASE_URL)."""
    from rsp_data.store import init_store, make_engine

    with tempfile.TemporaryDirectory(prefix="rsp-load-") as tmp:
        url = f"sqlite:///{tmp}/load.sqlite"
        engine = make_engine(url)
        try:
            init_store(engine, demo=True)
        finally:
            engine.dispose()
        yield Path(tmp), url


@contextlib.contextmanager
def started_replicas(
    replicas: int, options: Sequence[str] = (), *, access_log: bool = False
) -> Iterator[tuple[str, list[int], Any]]:
    """`replicas` Streamlit processes behind nginx with sticky sessions (scripts/serve_replicas.py), on
    a free port of 127.0.0.1, against a fresh demo store; yields (proxy URL, every pid, the Cluster)."""
    with (
        demo_store() as (_, url),
        serve_replicas.running(
            replicas, options=options, env={**os.environ, "DATABASE_URL": url}, access_log=access_log
        ) as cluster,
    ):
        yield cluster.base_url, cluster.pids, cluster


@contextlib.contextmanager
def started_app(
    options: Sequence[str] = (), startup_timeout: float = 90.0, script: str = "dashboard.py", cwd: Path = REPO_ROOT
) -> Iterator[tuple[str, int]]:
    """`streamlit run dashboard.py` on a free port of 127.0.0.1 against a fresh demo store in a temporary
    folder; yields (base URL, pid) once /_stcore/health answers, and stops the server afterwards.

    `options` are extra Streamlit config options as "section.name=value" (e.g. "runner.postScriptGC=false");
    `script` another app file of the repository, served the same way (scripts/browser_bench.py's bare app);
    `cwd` the folder it is run from (scripts/browser_ab.py's copies of the repository).
    """
    port = free_port()
    with demo_store() as (tmp, url):
        args = [
            sys.executable, "-m", "streamlit", "run", script,
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        for option in options:
            name, _, value = option.partition("=")
            args += [f"--{name}", value]
        log_path = tmp / "streamlit.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env={**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            base_url = f"http://127.0.0.1:{port}"
            try:
                _wait_healthy(base_url, proc, startup_timeout, log_path)
                yield base_url, proc.pid
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=5)


def _wait_healthy(base_url: str, proc: subprocess.Popen, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response,
        ):
            if response.read().decode().strip() == "ok":
                return
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer its health check within {timeout:.0f} s")


# ---------------------------------------------------------------- report


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:,.0f}"


def mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


TABLE_HEAD = (
    "| sessions | processes | interactions | errors | p50 ms | p95 ms | max ms | interactions/s "
    "| first load p50 / p95 ms | server RSS before / peak / end MB | CPU cores: server / generator / others "
    "| server CPU ms per run | load avg at start |"
)
TABLE_RULE = "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"


def table_row(r: LevelResult) -> str:
    def cores(seconds: float | None) -> str:
        return "–" if seconds is None or not r.wall else f"{seconds / r.wall:.2f}"

    return (
        f"| {r.sessions} | {processes(r.replicas)} | {r.interactions} | {len(r.errors)} "
        f"| {ms(percentile(r.latencies, 50))} "
        f"| {ms(percentile(r.latencies, 95))} | {ms(max(r.latencies, default=None))} | {r.throughput:.1f} "
        f"| {ms(percentile(r.first_loads, 50))} / {ms(percentile(r.first_loads, 95))} "
        f"| {mb(r.rss_before)} / {mb(r.rss_peak)} / {mb(r.rss_end)} "
        f"| {cores(r.server_cpu)} / {cores(r.client_cpu)} / {cores(r.other_cpu)} | {ms(cpu_per_run(r))} "
        f"| {r.load_before:.1f} |"
    )


def cpu_per_run(r: LevelResult) -> float | None:
    """The server's CPU seconds per script run (interactions and first loads): what one click costs it,
    whatever else the machine was doing."""
    runs = r.interactions + len(r.first_loads)
    return r.server_cpu / runs if r.server_cpu is not None and runs else None


def processes(replicas: int) -> str:
    return "1" if replicas == 1 else f"{replicas} + nginx"


def detail_rows(r: LevelResult) -> list[str]:
    return [
        f"| {r.sessions} | {processes(r.replicas)} | page switch | {len(r.page_latencies)} "
        f"| {ms(percentile(r.page_latencies, 50))} "
        f"| {ms(percentile(r.page_latencies, 95))} | {ms(max(r.page_latencies, default=None))} |",
        f"| {r.sessions} | {processes(r.replicas)} | filter change | {len(r.filter_latencies)} "
        f"| {ms(percentile(r.filter_latencies, 50))} "
        f"| {ms(percentile(r.filter_latencies, 95))} | {ms(max(r.filter_latencies, default=None))} |",
    ]


def machine() -> dict[str, str]:
    def first(path: str, pattern: str) -> str:
        with contextlib.suppress(OSError):
            match = re.search(pattern, Path(path).read_text(), re.MULTILINE)
            if match:
                return match.group(1).strip()
        return "unknown"

    import streamlit

    mem_kb = first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    return {
        "cpus": str(os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0))),
        "memory": f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "unknown",
        "cpu": first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "python": platform.python_version(),
        "streamlit": streamlit.__version__,
        "os": platform.platform(terse=True),
    }


def section_text(results: list[LevelResult], command: str, options: dict[str, Any], started: datetime) -> str:
    m = machine()
    # The goal is read at the largest N of each setup (one process, K replicas).
    goals = {r.replicas: r for r in results if r.sessions == max(x.sessions for x in results)}
    lines = [
        SECTION,
        "",
        f"Command: `{command}`  ",
        f"Run: {started:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['os']}, Python {m['python']}, "
        f"Streamlit {m['streamlit']}  ",
        f"Settings: each session runs {options['duration']:g} s, think time {options['think'][0]:g}–"
        f"{options['think'][1]:g} s between interactions, sessions started over {options['ramp']:g} s, "
        f"timeout {options['timeout']:g} s, {options['server']}.",
        "",
        "Method (details in the docstring of `scripts/load.py`): every session is a real Streamlit "
        "websocket client (`/_stcore/stream`, the protobuf messages of `streamlit.proto`), no browser. "
        "An interaction alternates between a filter change (the sidebar's region/sector multiselect or "
        "month slider, sent as widget states) and a page switch (a sidebar page link); its latency is "
        "from sending the message to the server's `script_finished`. Browser rendering is not included. "
        "Errors: exception elements, error alerts, wrong page, timeouts, connection failures. Server RSS "
        "is `VmRSS` of the server process (with replicas: of every replica and nginx, summed), sampled every "
        "second; CPU is averaged over the level, and divided by the script runs (interactions and first loads) "
        "for the CPU per run. The load "
        "generator shares the same CPUs.",
        "",
        TABLE_HEAD,
        TABLE_RULE,
        *[table_row(r) for r in results],
        "",
        "By kind of interaction:",
        "",
        "| sessions | processes | interaction | count | p50 ms | p95 ms | max ms |",
        "|---:|---|---|---:|---:|---:|---:|",
        *[row for r in results for row in detail_rows(r)],
        "",
    ]
    for goal in goals.values():
        p95 = percentile(goal.latencies, 95)
        met = not goal.errors and p95 is not None and p95 < 1.0 and goal.interactions > 0
        setup = "one process" if goal.replicas == 1 else f"{goal.replicas} replicas"
        lines.append(
            f"Goal (the largest N, {goal.sessions} sessions: no errors and p95 under 1 s), {setup}: "
            f"**{'met' if met else 'not met'}** ({len(goal.errors)} error{'' if len(goal.errors) == 1 else 's'}, "
            f"p95 {ms(p95)} ms).  "
        )
    if goals:
        lines[-1] = lines[-1].rstrip()
        lines.append("")
    for r in results:
        if r.errors:
            setup = "" if r.replicas == 1 else f", {r.replicas} replicas"
            lines += [
                f"Errors with {r.sessions} sessions{setup} (by kind; a timeout or a lost connection ends its session):",
                "",
            ]
            lines += [f"- {count} × `{text[:300]}`" for text, count in error_kinds(r.errors)[:10]]
            lines.append("")
    if options.get("note"):
        lines += [options["note"], ""]
    return "\n".join(lines)


KEPT = "### Analysis"  # a hand-written part of the section, from this heading on, survives a new run


def error_kinds(errors: list[str]) -> list[tuple[str, int]]:
    """Errors grouped without their details (the bracketed session and step), most frequent first."""
    counts: dict[str, int] = {}
    for error in errors:
        key = error.split(" [session ", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])


def write_section(text: str, path: Path = BENCHMARKS, section: str = SECTION) -> None:
    """Replace (or append) `section` in `path`, keeping every other section and the section's hand-written
    part from the heading KEPT on (after the new figures: it says which run it analyses)."""
    body = path.read_text() if path.exists() else "# Benchmarks\n\n"
    lines = body.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == section), None)
    block = text.rstrip("\n") + "\n"
    if start is None:
        new = body.rstrip("\n") + "\n\n" + block
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        kept = next((i for i in range(start + 1, end) if lines[i].rstrip() == KEPT), None)
        if kept is not None:
            block += "\n" + "".join(lines[kept:end]).rstrip("\n") + "\n"
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + block + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)


# ---------------------------------------------------------------- command line


def _think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    pair = (float(low), float(high or low))
    if not 0 <= pair[0] <= pair[1] <= 60:
        raise argparse.ArgumentTypeError("think time: LOW-HIGH seconds, 0 <= LOW <= HIGH <= 60")
    return pair


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 25, 50], help="N values (default 10 25 50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds each session runs (default 60)")
    parser.add_argument("--base-url", help="an app already running on this machine (default: start one per N)")
    parser.add_argument(
        "--replicas",
        type=int,
        nargs="+",
        default=[1],
        help="processes serving the app, one setup after the other (default 1): 1 is one `streamlit run`,\n"
        "K > 1 is K replicas behind nginx with sticky sessions (scripts/serve_replicas.py);\n"
        "each simulated session keeps its own cookies, so the proxy spreads them as it would browsers",
    )
    parser.add_argument("--server-pid", type=int, help="with --base-url: the server's pid (default: found by port)")
    parser.add_argument("--ramp", type=float, default=5.0, help="start the sessions over this many seconds")
    parser.add_argument("--think", type=_think, default=(2.0, 8.0), help="think time LOW-HIGH seconds (2-8)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per interaction, seconds (30)")
    parser.add_argument("--max-interactions", type=int, default=500, help="per session (500)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Streamlit config option for the server this script starts (repeatable),\n"
        "e.g. runner.postScriptGC=false",
    )
    parser.add_argument("--no-write", action="store_true", help=f"do not write {BENCHMARKS.relative_to(REPO_ROOT)}")
    parser.add_argument("--note", default="", help="a sentence added under the figures (e.g. other load)")
    args = parser.parse_args(argv)
    if any(n < 1 or n > 200 for n in args.sessions):
        parser.error("--sessions: between 1 and 200")
    if not 1 <= args.duration <= 1800:
        parser.error("--duration: between 1 and 1800 seconds")
    if args.base_url and urlparse(args.base_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--base-url: only an app on this machine (127.0.0.1)")
    if not 0 <= args.ramp <= 120 or not 1 <= args.timeout <= 120:
        parser.error("--ramp: 0 to 120 seconds; --timeout: 1 to 120 seconds")
    if any(k < 1 or k > serve_replicas.MAX_REPLICAS for k in args.replicas):
        parser.error(f"--replicas: between 1 and {serve_replicas.MAX_REPLICAS}")
    if args.base_url and args.replicas != [1]:
        parser.error("--replicas only applies to servers this script starts (no --base-url)")
    if args.base_url and args.server_option:
        parser.error("--server-option only applies to a server this script starts (no --base-url)")
    if any("=" not in o or not re.fullmatch(r"[a-zA-Z]+\.[a-zA-Z]+", o.partition("=")[0]) for o in args.server_option):
        parser.error("--server-option: NAME=VALUE with NAME like runner.postScriptGC")
    if not 1 <= args.max_interactions <= 10_000:
        parser.error("--max-interactions: between 1 and 10000")
    return args


async def _level(
    args: argparse.Namespace,
    n: int,
    base_url: str,
    pid: int | Sequence[int] | None,
    warm: Sequence[str],
    replicas: int = 1,
) -> LevelResult:
    for url in warm:  # each replica directly: one session through the proxy would warm one of them
        await warm_up(url)
    return await run_level(
        base_url,
        n,
        args.duration,
        server_pid=pid,
        replicas=replicas,
        ramp=args.ramp,
        think=args.think,
        seed=args.seed,
        timeout=args.timeout,
        max_interactions=args.max_interactions,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    results: list[LevelResult] = []
    print(TABLE_HEAD)
    print(TABLE_RULE, flush=True)
    # Each N against every setup in turn: the setups of one N run minutes apart, under the same other load.
    for n, replicas in [(n, k) for n in args.sessions for k in args.replicas]:
        if args.base_url:
            pid = args.server_pid or find_listening_pid(urlparse(args.base_url).port or 80)
            warm = [args.base_url] if n == args.sessions[0] else []
            result = asyncio.run(_level(args, n, args.base_url, pid, warm))
        elif replicas == 1:
            with started_app(args.server_option) as (base_url, pid):
                result = asyncio.run(_level(args, n, base_url, pid, [base_url]))
        else:
            with started_replicas(replicas, args.server_option) as (base_url, pids, cluster):
                result = asyncio.run(_level(args, n, base_url, pids, cluster.replica_urls, replicas))
        results.append(result)
        print(table_row(result), flush=True)
        for error in result.errors[:5]:
            print(f"    error: {error[:300]}", flush=True)
    print()
    for r in results:
        for row in detail_rows(r):
            print(row)
    if args.base_url:
        server = f"against {args.base_url}"
    else:
        server = "fresh servers per N on a temporary demo store: " + " and ".join(
            "one `streamlit run` process"
            if k == 1
            else f"{k} `streamlit run` replicas behind nginx with sticky sessions (`scripts/serve_replicas.py`)"
            for k in args.replicas
        )
    if args.server_option:
        server += ", server options " + ", ".join(f"`{o}`" for o in args.server_option)
    options = {
        "duration": args.duration,
        "think": args.think,
        "ramp": args.ramp,
        "timeout": args.timeout,
        "server": server,
        "note": args.note,
    }
    shown_args = list(argv if argv is not None else sys.argv[1:])
    if "--note" in shown_args:  # the note is printed under the figures, not in the command
        i = shown_args.index("--note")
        del shown_args[i : i + 2]
    command = "python scripts/load.py " + " ".join(shown_args)
    if not args.no_write:
        write_section(section_text(results, command.strip(), options, started))
        print(f"\nWrote the section “{SECTION[3:]}” of {BENCHMARKS.relative_to(REPO_ROOT)}")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
