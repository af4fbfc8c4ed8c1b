"""scripts/browser_bench.py without a browser: its targets, figures, Lighthouse parsing and section writing.

The timings themselves come from a real browser (`make browser-bench`); here the parts that turn
them into the table of docs/benchmarks.md are checked with known numbers.
"""

from __future__ import annotations

import base64
import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_module(script: str = "browser_bench"):
    spec = importlib.util.spec_from_file_location(f"{script}_script", REPO_ROOT / "scripts" / f"{script}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"{script}_script"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_module()


def _result(name: str, first_charts: list[float | None], *, bare: bool = False, http: int = 2_000_000):
    result = bench.Result(bench.Target(name, "/", "", bare=bare))
    result.first = [bench.Visit(v, 3000.0, http, 40_000) for v in first_charts]
    result.repeat = [bench.Visit(v, 2500.0, 1_500, 40_000) for v in first_charts]
    result.server_first_chart = [120.0, 100.0, 140.0]
    result.server_finished = [150.0, 160.0, 170.0]
    return result


def test_every_page_of_the_menu_every_slide_and_the_bare_app_are_targets():
    names = [t.name for t in bench.targets()]
    routes = (REPO_ROOT / "ui" / "routes.py").read_text()
    for path in ("overview", "map", "trends", "partnerships", "quality", "data", "reporting", "submit"):
        assert f'"pages/{path}.py"' in routes
        assert path in names
    assert names[-1] == "bare"
    slides = [t for t in bench.targets() if t.name.startswith("slide")]
    assert [t.name for t in slides] == ["slide 1", "slide 2", "slide 3", "slide 4", "slide 5"]
    assert slides[1].path == "/?present=1&slide=2&paused=1"  # paused: the slide does not move on while timed
    assert [t.name for t in bench.targets(["map", "slide", "bare"], slides=[2])] == ["map", "slide 2", "bare"]


def test_the_table_shows_medians_and_the_ratio_to_the_bare_app():
    results = [
        _result("overview", [3000.0, 2600.0, 5000.0]),
        _result("submit", [None, None, None]),
        _result("bare", [2000.0, 2200.0, 2100.0], bare=True, http=7_300_000),
    ]
    lines = bench.table(results)
    assert lines[2] == "| overview | 3.00 | 1.43× | 3.00 | 120 / 160 | 2.00 MB / 40 kB | 2 kB / 40 kB |"
    assert lines[3].startswith("| submit | – | – | 3.00 |")
    assert lines[4].startswith("| **bare app** (the floor) | 2.10 | 1.00× |")
    assert "7.30 MB" in lines[4]
    met, missed = bench.within(results)
    assert (met, missed) == ([], ["overview"])
    results[0].first = [bench.Visit(2600.0, 1.0, 1, 1)] * 3
    assert bench.within(results) == (["overview"], [])  # 2.60 s <= 1.25 x 2.10 s


def test_websocket_payloads_are_counted_in_bytes():
    binary = base64.b64encode(bytes(range(10))).decode()
    assert bench.ws_payload_bytes(binary, 2) == 10
    assert bench.ws_payload_bytes("héllo", 1) == 6


def test_lighthouse_reports_are_read_and_a_missing_lighthouse_is_said():
    report = {
        "categories": {"performance": {"score": 0.43}},
        "audits": {
            "total-blocking-time": {"numericValue": 540.4},
            "interactive": {"numericValue": 7400.0},
            "total-byte-weight": {"numericValue": 7_300_000},
        },
    }
    lh = bench.parse_lighthouse("bare app", report)
    assert (lh.score, lh.tbt, lh.tti, lh.bytes, lh.error) == (43, 540.4, 7400.0, 7_300_000, "")
    lines = bench.lighthouse_lines([lh], "12.2.3", "")
    assert lines[0].startswith("Lighthouse 12.2.3, `--preset=desktop`")
    assert lines[-1] == "| bare app | 43 | 540 ms | 7.40 s | 7.30 MB |"
    assert bench.lighthouse_lines([], "", "not installed") == ["Lighthouse did not run: not installed."]
    failed = bench.parse_lighthouse("Overview", {"runtimeError": {"message": "NO_FCP"}})
    assert bench.lighthouse_lines([failed], "12.2.3", "")[-1] == "| Overview | error: NO_FCP | | | |"


def test_the_section_replaces_its_old_figures_and_keeps_the_others(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## Load: concurrent sessions\n\nload figures\n\n"
        f"{bench.SECTION}\n\nold figures\n\n### Analysis\n\nwhere the time goes\n\n## Scale\n\nscale figures\n"
    )
    results = [_result("overview", [3000.0]), _result("bare", [2500.0], bare=True)]
    text = bench.section_text(
        results,
        [],
        command="python scripts/browser_bench.py --runs 1",
        started=datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
        options={
            "runs": 1,
            "viewport": "1440×1000",
            "server": "one process",
            "load": 0.5,
            "lighthouse_problem": "skipped",
        },
    )
    bench.write_section(text, doc)
    body = doc.read_text()
    assert "old figures" not in body
    assert "Command: `python scripts/browser_bench.py --runs 1`" in body
    assert "| overview | 3.00 | 1.20× |" in body
    assert "Within 1.25× of the bare app's first chart: overview." in body
    assert "Lighthouse did not run: skipped." in body
    assert body.index(bench.SECTION) < body.index("### Analysis") < body.index("## Scale")
    assert "where the time goes" in body and "load figures" in body and "scale figures" in body
    bench.write_section(text, doc)  # a second run: the same document
    assert doc.read_text() == body


def test_the_bare_app_is_one_metric_and_one_plotly_chart():
    source = (REPO_ROOT / bench.BARE_APP).read_text()
    assert source.count("st.metric(") == 1
    assert source.count("st.plotly_chart(") == 1
    assert source.count("st.") == 2


def test_side_by_side_targets_and_their_ratios_to_the_first():
    ab = _load_module("browser_ab")
    target = ab.parse_target(f"trends={REPO_ROOT / 'dashboard.py'}:/trends")
    assert (target.name, target.script, target.path) == ("trends", REPO_ROOT / "dashboard.py", "/trends")
    assert ab.parse_target(f"bare={REPO_ROOT / 'scripts' / 'bare_app.py'}").path == "/"
    for wrong in ("dashboard.py", f"x={REPO_ROOT / 'no_such_file.py'}", f"={REPO_ROOT / 'dashboard.py'}"):
        try:
            ab.parse_target(wrong)
        except ab.argparse.ArgumentTypeError:
            continue
        raise AssertionError(f"{wrong!r} was accepted")
    lines = ab.summary({"bare": [2400.0, 2600.0, 2500.0], "overview": [3000.0, 3300.0, 3250.0, 3100.0]})
    assert lines[0].split() == ["bare", "median", "2.50", "s", "1.00×", "n=3"]
    assert lines[1].split() == ["overview", "median", "3.17", "s", "1.27×", "n=4"]
