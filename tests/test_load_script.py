"""scripts/load.py against the real app: its websocket sessions really drive the dashboard.

One `streamlit run dashboard.py` on a free port (a temporary demo store) for the module; a
session changes the region filter and switches pages through the Streamlit protocol, and a
short load level (2 sessions, ~5 s) runs without errors. About 30 s in all.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
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
