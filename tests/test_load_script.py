"""scripts/load.py against the real app: its websocket sessions really drive the dashboard.

One `streamlit run dashboard.py` on a free port (a temporary demo store) for the module; a
session changes the region filter and switches pages through the Streamlit protocol, and a
short load level (2 sessions, ~5 s) runs without errors. Then two replicas behind nginx
(scripts/serve_replicas.py): a session goes through the proxy, and every request of one
browser (page, websocket, upload) reaches one replica. About a minute in all.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_module():
    spec = importlib.util.spec_from_file_location("load_script", REPO_ROOT / "scripts" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_script"] = module
    spec.loader.exec_module(module)
    return module


load = _load_module()


@pytest.fixture(scope="module")
def app():
    with load.started_app() as (base_url, pid):
        yield base_url, pid


def test_a_session_changes_the_region_filter_and_switches_pages(app):
    base_url, _ = app

    async def drive():
        session = load.Session(base_url, timeout=60)
        await session.connect()
        try:
            runs = {"first": await session.load()}
            region = session.widgets["f_region"]
            capital = next(o for o in region.options if o.startswith("Capital"))
            runs["capital"] = await session.set_filter("f_region", [capital])
            runs["map"] = await session.switch_page("Map")
            runs["trends"] = await session.switch_page("Trends")
            runs["overview"] = await session.switch_page("Overview")
            return session, runs
        finally:
            await session.close()

    session, runs = asyncio.run(drive())
    for name, run in runs.items():
        assert run.errors == [], name
        assert run.status == load.FINISHED_OK, name

    first, capital = runs["first"], runs["capital"]
    assert first.title == load.PAGE_TITLES["Overview"]
    # The KPI cards (st.metric) are read from the deltas; choosing a region changes them.
    assert set(first.metrics) >= {"Placements", "Employers engaged"}
    assert capital.metrics.keys() == first.metrics.keys()
    assert capital.metrics != first.metrics
    assert int(capital.metrics["Placements"].replace(",", "")) < int(first.metrics["Placements"].replace(",", ""))
    assert any("Capital region" in text for text in capital.markdown)
    # The app keeps the filters in the URL (page_info_changed), and the page links carry them.
    assert "region=capital" in session.query_string
    assert runs["map"].title == load.PAGE_TITLES["Map"]
    assert runs["trends"].title == load.PAGE_TITLES["Trends"]
    # Back on the Overview through a page link, the filter still holds.
    assert runs["overview"].title == load.PAGE_TITLES["Overview"]
    assert runs["overview"].metrics == capital.metrics
    assert len({run.page_hash for run in runs.values()}) == 3


def test_a_short_level_with_two_sessions_has_no_errors(app):
    base_url, pid = app
    result = asyncio.run(
        load.run_level(base_url, 2, 5.0, server_pid=pid, ramp=0.5, think=(0.2, 0.6), timeout=60, seed=3)
    )
    assert result.errors == []
    assert result.interactions > 0
    assert len(result.first_loads) == 2
    assert result.latencies and all(0 < x < 60 for x in result.latencies)
    assert result.rss_peak is not None and result.rss_peak > 50  # MB: a Streamlit server is never smaller
    row = load.table_row(result)
    assert row.startswith("| 2 | ")


def test_exceptions_and_error_alerts_count_as_errors():
    session = load.Session("http://127.0.0.1:1")
    run = load.Run()
    exception = ForwardMsg()
    exception.delta.new_element.exception.type = "KeyError"
    exception.delta.new_element.exception.message = "'x'"
    alert = ForwardMsg()
    alert.delta.new_element.alert.body = "The metrics data is unavailable"
    alert.delta.new_element.alert.format = Alert.Format.Value("ERROR")
    warning = ForwardMsg()
    warning.delta.new_element.alert.body = "Ignored a parameter"
    warning.delta.new_element.alert.format = Alert.Format.Value("WARNING")
    for msg in (exception, alert, warning):
        session._read_delta(msg, run, {}, {})
    assert run.errors == ["KeyError: 'x'", "error alert: The metrics data is unavailable"]


def test_only_other_hosts_are_refused():
    with pytest.raises(ValueError):
        load.Session("http://example.org:8501")


def test_the_benchmarks_section_is_replaced_and_the_others_kept(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Startup\n\nfast\n\n## Load: concurrent sessions\n\nold\n\n## Queries\n\nq\n")
    load.write_section(f"{load.SECTION}\n\nnew figures\n", path)
    text = path.read_text()
    assert "old" not in text and "new figures" in text
    assert text.count(load.SECTION) == 1
    assert text.index("## Startup") < text.index(load.SECTION) < text.index("## Queries")
    assert "fast" in text and "\nq\n" in text
    # A hand-written analysis inside the section survives the next run, after the new figures.
    path.write_text(path.read_text().replace("new figures\n", "new figures\n\n### Analysis\n\nwhy\n"))
    load.write_section(f"{load.SECTION}\n\nnewer figures\n", path)
    text = path.read_text()
    assert "new figures" not in text and "newer figures" in text
    assert text.index("newer figures") < text.index("### Analysis\n\nwhy\n") < text.index("## Queries")
    fresh = tmp_path / "new.md"
    load.write_section(f"{load.SECTION}\n\nfigures\n", fresh)
    assert fresh.read_text().startswith("# Benchmarks\n\n## Load: concurrent sessions\n")


# ---------------------------------------------------------------- replicas behind the sticky proxy

serve_replicas = load.serve_replicas
LOG_LINE = re.compile(r"replica=(?P<replica>\S+) key=(?P<key>\S+) status=(?P<status>\d+) \"(?P<request>[^\"]*)\"")


@pytest.fixture(scope="module")
def replicated():
    """Two replicas behind nginx (scripts/serve_replicas.py) on a demo store, logging each request's replica.

    nginx must be installed (`make system-packages`): without it this fails, it does not skip."""
    with load.started_replicas(2, access_log=True) as (_, _, cluster):
        yield cluster


def _served_by(cluster, wait_for: str = "", timeout: float = 10.0) -> dict[str, set[str]]:
    """From nginx's access log: routing key (the replica cookie) -> replicas that served it.

    `wait_for`: poll until a request with this text is logged (nginx logs a websocket when it closes)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = (cluster.run_dir / "access.log").read_text().splitlines()
        if not wait_for or any(wait_for in line for line in lines) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    served: dict[str, set[str]] = {}
    for line in lines:
        match = LOG_LINE.search(line)
        assert match, line
        served.setdefault(match["key"], set()).add(match["replica"])
    return served


def _request(url: str, cookies: dict[str, str], method: str = "GET", body: bytes | None = None, headers=None):
    """(status, body, Set-Cookie headers) of one HTTP request with a cookie jar's cookies."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    if cookies:
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace"), response.headers.get_all("Set-Cookie")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), exc.headers.get_all("Set-Cookie")


def _upload(base_url: str, cookies: dict[str, str], session_id: str) -> tuple[int, str]:
    """PUT a small file to the session's upload endpoint, as st.file_uploader does (XSRF double submit)."""
    boundary = "rsp-load-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="figures.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nrsp_id,month\r\n--{boundary}--\r\n"
    ).encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "X-Xsrftoken": cookies["_streamlit_xsrf"],
        "Origin": base_url,
    }
    url = f"{base_url}/_stcore/upload_file/{session_id}/load-test-file"
    status, text, _ = _request(url, cookies, "PUT", body, headers)
    return status, text


def test_replicas_serve_a_real_session_through_the_proxy_sticky_by_cookie(replicated):
    cluster = replicated
    base_url = cluster.base_url

    async def drive():
        session = load.Session(base_url, timeout=60)
        await session.connect()
        try:
            runs = {"first": await session.load()}
            capital = next(o for o in session.widgets["f_region"].options if o.startswith("Capital"))
            runs["capital"] = await session.set_filter("f_region", [capital])
            runs["map"] = await session.switch_page("Map")
            # The XSRF cookie, as the browser has it before an upload, from the same replica.
            _, _, set_cookies = await asyncio.to_thread(_request, f"{base_url}/_stcore/health", session.cookies)
            session.keep_cookies(set_cookies or [])
            own = await asyncio.to_thread(_upload, base_url, session.cookies, session.session_id)
            # The same upload from a browser whose cookie routes it to the other replica.
            mine = _served_by(cluster)[session.cookies[serve_replicas.COOKIE]]
            other_cookies = None
            for _ in range(64):
                jar: dict[str, str] = {}
                _, _, set_cookies = await asyncio.to_thread(_request, f"{base_url}/_stcore/health", jar)
                probe = load.Session(base_url)
                probe.keep_cookies(set_cookies or [])
                if _served_by(cluster)[probe.cookies[serve_replicas.COOKIE]] != mine:
                    other_cookies = {**probe.cookies, "_streamlit_xsrf": session.cookies["_streamlit_xsrf"]}
                    break
            assert other_cookies is not None, "64 new browsers all went to one replica"
            other = await asyncio.to_thread(_upload, base_url, other_cookies, session.session_id)
            return session, runs, own, other
        finally:
            await session.close()

    session, runs, own, other = asyncio.run(drive())
    for name, run in runs.items():
        assert run.errors == [], name
        assert run.status == load.FINISHED_OK, name
    assert runs["capital"].metrics != runs["first"].metrics
    assert any("Capital region" in text for text in runs["capital"].markdown)
    assert runs["map"].title == load.PAGE_TITLES["Map"]

    # Every request of this browser tab went to one replica: the page, the websocket, the upload.
    key = session.cookies[serve_replicas.COOKIE]
    served = _served_by(cluster, wait_for=f"key={key} status=101")
    assert len(served[key]) == 1
    log = (cluster.run_dir / "access.log").read_text()
    assert f'key={key} status=200 "GET / HTTP/1.1"' in log
    assert f'key={key} status=101 "GET /_stcore/stream HTTP/1.1"' in log
    assert f'key={key} status=204 "PUT /_stcore/upload_file/{session.session_id}/' in log
    assert own == (204, "")
    # Routed to the other replica, the upload finds no such session: what stickiness prevents.
    assert other[0] == 400 and "Invalid session_id" in other[1]


def test_the_proxy_spreads_new_browsers_and_keeps_each_on_its_replica(replicated):
    cluster = replicated
    keys = []
    for _ in range(64):
        status, _, set_cookies = _request(f"{cluster.base_url}/_stcore/health", {})
        assert status == 200
        jar = load.Session(cluster.base_url)
        jar.keep_cookies(set_cookies or [])
        key = jar.cookies[serve_replicas.COOKIE]
        keys.append(key)
        for _ in range(2):
            status, _, again = _request(f"{cluster.base_url}/_stcore/health", jar.cookies)
            assert status == 200
            assert not any(c.startswith(f"{serve_replicas.COOKIE}=") for c in again or []), "cookie set once"
        served = _served_by(cluster)
        if len(keys) >= 8 and len({r for k in keys for r in served[k]}) == 2:
            break
    served = _served_by(cluster)
    assert all(len(served[k]) == 1 for k in keys), {k: served[k] for k in keys}
    assert {r for k in keys for r in served[k]} == {url.removeprefix("http://") for url in cluster.replica_urls}


def test_the_nginx_config_lists_every_replica_and_fills_every_slot(tmp_path):
    text = serve_replicas.nginx_config([9001, 9002, 9003], listen="127.0.0.1:8080", run_dir=tmp_path)
    assert "@@" not in text
    assert text.count("server 127.0.0.1:900") == 3
    assert "hash $rsp_replica_key consistent;" in text
    assert "listen 127.0.0.1:8080;" in text
    assert "access_log off;" in text


def test_the_proxy_compresses_static_files_and_lets_browsers_keep_them(replicated):
    base_url = replicated.base_url
    with urllib.request.urlopen(base_url + "/", timeout=30) as response:
        page = response.read().decode()
    script = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', page)
    assert script, page[:500]
    answers = []
    for _ in range(2):
        request = urllib.request.Request(f"{base_url}/{script[1]}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append((dict(response.headers), response.read()))
    (first, body), (again, _) = answers
    assert first["Content-Encoding"] == "gzip"
    assert len(gzip.decompress(body)) > 2 * len(body)
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (first["X-Cache-Status"], again["X-Cache-Status"]) == ("MISS", "HIT")  # the replicas answered once
    plain = urllib.request.Request(f"{base_url}/{script[1]}", headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(plain, timeout=30) as response:
        assert response.headers.get("Content-Encoding") is None
        assert response.read() == gzip.decompress(body)


def test_cpu_per_run_counts_interactions_and_first_loads():
    result = load.LevelResult(
        sessions=2, replicas=1, duration=5, wall=10, latencies=[0.1] * 8, first_loads=[0.5, 0.6],
        page_latencies=[], filter_latencies=[], errors=[], warnings=[], bytes=0, rss_before=None,
        rss_peak=None, rss_end=None, server_cpu=0.9, client_cpu=0.1, other_cpu=0.0, load_before=0.0,
    )  # fmt: skip
    assert load.cpu_per_run(result) == pytest.approx(0.09)
    assert load.table_row(result).endswith("| 0.09 / 0.01 / 0.00 | 90 | 0.0 |")
    assert load.TABLE_HEAD.count("|") == load.TABLE_RULE.count("|")
