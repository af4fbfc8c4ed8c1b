"""scripts/bench.py on a tiny synthetic store (about 2,000 rows, SQLite only, 2 repetitions, no page
or memory step): it prints a row per query of the workload, and every store answer agreed with the
pandas baseline's. Correctness only: no timing is asserted. About 15 s.

The synthetic stores have no gaps (every partnership reports every month), so the baselines' reading of
employers engaged as of each partnership's latest report is checked on a hand-made store with gaps, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_module():
    spec = importlib.util.spec_from_file_location("bench_script", REPO_ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_script"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_module()


def test_bench_prints_every_query_and_the_answers_agree(tmp_path, capsys):
    status = bench.main(
        [
            "--sizes", "2000", "--stores", "sqlite", "--repeat", "2", "--store-dir", str(tmp_path),
            "--no-pages", "--no-memory", "--no-write",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    names = [q.name for q in bench.workload()]
    for name in names:
        # once in the printed table, once in the report's
        assert sum(row.startswith(f"| `{name}` |") for row in rows) == 2, name
    with_baseline = [q.name for q in bench.workload() if q.pandas is not None]
    assert len(with_baseline) >= 15
    for row in rows:
        name = row.split("`")[1]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[-2] == ("agree" if name in with_baseline else "no baseline"), row
    assert "DIFFER" not in out
    assert "answers agree for every query with a baseline" in out
    # the store was built once and is reused by a second run with the same synth arguments
    assert list(tmp_path.glob("synth-*.sqlite.built.json"))


def test_the_mix_is_seeded_and_covers_every_kind(tmp_path):
    import random

    from rsp_data.store import make_engine
    from rsp_data.synth import synthesize

    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    synthesize(engine, 30, 24, seed=7, log=lambda m: None)
    uni = bench.Universe.read(engine)
    first = [bench.draw(random.Random(1), uni, bench.SEARCH_MIX, deep="table") for _ in range(1)]
    again = [bench.draw(random.Random(1), uni, bench.SEARCH_MIX, deep="table") for _ in range(1)]
    assert first == again
    rng = random.Random(3)
    kinds = {bench.draw(rng, uni, bench.SEARCH_MIX).mix for _ in range(300)}
    assert kinds == set(bench.SEARCH_MIX)
    engine.dispose()


def test_the_section_is_replaced_and_the_analysis_and_other_sections_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## Load: concurrent sessions\n\nload figures\n\n"
        f"{bench.SECTION}\n\nold figures\n\n### Analysis\n\nhand-written\n\n## Later\n\nmore\n"
    )
    bench.write_section(f"{bench.SECTION}\n\nnew figures\n", doc)
    text = doc.read_text()
    assert "old figures" not in text and "new figures" in text
    assert text.index("new figures") < text.index("hand-written") < text.index("## Later")
    assert "load figures" in text and "more" in text


def test_the_quality_baselines_weigh_the_wage_and_keep_the_other_rows(tmp_path):
    """The Good jobs & reach baselines on 60 partnerships × 24 months: the wage weighted by placements
    (not a mean of partnership means), the leaders plus one row for all the others, and the same
    canonical answers as the store's, for the whole store, a region and a month range."""
    from queries import quality
    from queries.filters import Filters
    from rsp_data.store import make_engine
    from rsp_data.synth import synthesize

    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    synthesize(engine, 60, 24, seed=7, log=lambda m: None)
    df, _, _ = bench.load_baseline({"sqlite": engine})
    assert df["avg_starting_wage"].dtype == "float64" and df["avg_starting_wage"].isna().any()  # NULL = NaN
    everything = Filters()

    summary = bench.pd_quality_summary(df, everything)
    wage = df.dropna(subset=["avg_starting_wage"])
    assert summary[bench.WAGE_PLACEMENTS] == wage["placements"].sum() == 535
    assert round(summary["avg_starting_wage"], 2) == 21.83  # Σ(wage × placements) ÷ Σ placements
    assert round(wage.groupby("rsp_id")["avg_starting_wage"].mean().mean(), 2) == 22.18  # not this
    assert summary["partnerships"] == 60
    assert summary["reporting"] == {
        "avg_starting_wage": 33, "placements_no_bachelor": 43, "wbl_started": 20, "trainees_underrepresented": 26,
        "credentials_earned": 29,
    }  # fmt: skip
    assert bench.quality_summary_canon(summary) == bench.quality_summary_canon(
        quality.quality_summary(engine, everything)
    )
    moved = {**summary, "avg_starting_wage": summary["avg_starting_wage"] + 0.01}
    assert bench.quality_summary_canon(moved) != bench.quality_summary_canon(summary)  # a cent shows

    # By partnership, top 5: the 4 best wages, then the 29 other partnerships that reported one.
    top = bench.pd_quality_by(df, everything, "partnership", top=5)
    assert top["group_id"].tolist()[-1] == "others"
    assert top["group_name"].tolist()[-1] == "All other 29 partnerships"
    assert top["avg_starting_wage"].iloc[:4].is_monotonic_decreasing
    assert top["placements"].sum() == summary["placements"]  # the others row holds everybody else
    cols = ["group_id", "group_name", "sector_id", "region_id", *bench.QUALITY_SHOWN]
    store = quality.quality_by(engine, everything, "partnership", metric="avg_starting_wage", top=5)
    assert bench.quality_rows(top, cols) == bench.quality_rows(store, cols)

    # Under-represented trainees, at most 5 rows: 4 leaders and the 22 others, every report counted.
    counts, reported = bench.pd_underrepresented_by_month(df, everything, max_rows=5)
    assert counts.index[-1] == "Other partnerships (22)"
    assert list(counts.columns) == ["2025-11", "2025-12", *[f"2026-{m:02d}" for m in range(1, 11)]]
    last_year = df[df["month"] >= "2025-11-01"]
    assert counts.to_numpy().sum() == last_year["trainees_underrepresented"].sum()
    assert reported.to_numpy().all()  # synth: a partnership reports a metric every month or never
    answer = quality.suppressed_by_month(engine, everything, "trainees_underrepresented", max_rows=5)
    assert bench.quality_table_canon((counts, reported)) == bench.quality_table_canon(answer)

    for f in (Filters(regions=(df["region_id"].iloc[0],)), Filters(month_from="2025-03", month_to="2025-09")):
        for q in bench.workload():
            if q.name.startswith(("quality", "underrepresented")):
                call = bench.Call("test", f)
                mine = q.canon(q.pandas(df, call))
                assert mine and mine == q.canon(q.sql(engine, call)), (q.name, f)
    engine.dispose()


def test_only_a_complete_run_replaces_the_committed_figures():
    assert bench.partial(bench.parse_args([])) == []
    assert bench.partial(bench.parse_args(["--sizes", "10000000", "--no-baseline"])) == ["--no-baseline", "--sizes"]
    assert bench.partial(bench.parse_args(["--stores", "sqlite", "--only", "map"])) == ["--stores", "--only"]


def test_the_duckdb_baseline_answers_as_the_pandas_one(tmp_path):
    """Every query of the DuckDB baseline (one SQL statement over the joined table) gives the pandas baseline's
    canonical answer, for 12 clicks of the query's own mix each (the bench compares only the first)."""
    import random

    from queries.filters import Filters
    from rsp_data.store import make_engine
    from rsp_data.synth import synthesize

    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    synthesize(engine, 60, 24, seed=7, log=lambda m: None)
    df, _, _ = bench.load_baseline({"sqlite": engine})
    uni = bench.Universe.read(engine)
    con, _, _ = bench.load_duckdb(df)
    with_duckdb = [q for q in bench.workload() if q.duckdb is not None]
    assert {q.name for q in with_duckdb} == {q.name for q in bench.workload() if q.pandas is not None}
    for number, q in enumerate(with_duckdb):
        rng = random.Random(number)
        for _ in range(12):
            call = bench.draw(rng, uni, q.mix, deep=q.deep)
            assert q.canon(q.duckdb(con, call)) == q.canon(q.pandas(df, call)), (q.name, call.describe())
    # the rows of all the others (of 26 partnerships that reported under-represented trainees, 33 a wage)
    everything = Filters()
    counts, reported = bench.duck_underrepresented_by_month(con, everything, max_rows=5)
    assert counts.index[-1] == "Other partnerships (22)"
    assert bench.quality_table_canon((counts, reported)) == bench.quality_table_canon(
        bench.pd_underrepresented_by_month(df, everything, max_rows=5)
    )
    top = bench.duck_quality_by(con, everything, "partnership", top=5)
    assert top["group_name"].tolist()[-1] == "All other 29 partnerships"
    cols = ["group_id", "group_name", "sector_id", "region_id", *bench.QUALITY_SHOWN]
    assert bench.quality_rows(top, cols) == bench.quality_rows(
        bench.pd_quality_by(df, everything, "partnership", top=5), cols
    )
    con.close()
    engine.dispose()


def test_a_store_is_flagged_under_10x_the_pandas_median_and_never_against_duckdb():
    query = next(q for q in bench.workload() if q.name == "kpi_summary")

    def result(store_ms: float) -> bench.QueryResult:
        # pandas 100 ms, DuckDB 1 ms (a store far slower than DuckDB: no bound applies to it)
        return bench.QueryResult(query, {"sqlite": [store_ms] * 3, "pandas": [100.0] * 3, "duckdb": [1.0] * 3})

    assert bench.BOUND_RATIO == 10.0
    assert bench._flags(result(9.0), ["sqlite"]) == []  # 11×
    assert bench._flags(result(11.0), ["sqlite"]) == ["SQLite < 10×"]  # 9.1×
    size = bench.SizeResult(2000, {}, {}, [result(11.0)])
    (line, _) = bench.summary_lines([size], ["sqlite"])
    assert "ratio under 10×: `kpi_summary`" in line
    assert "lowest ratio to DuckDB 0.1× (`kpi_summary`, no bound)" in line
    row = bench.query_table([result(9.0)], ["sqlite"])[-1]
    assert "| 1.0 | 1.0 | 11× | 0.1× |" in row  # DuckDB p50 and p95, the ratios to pandas and to DuckDB


# A store with gaps, written through the import path (as tests/test_carry_forward.py builds its own): employers
# engaged at each month counts a partnership that skipped it with its latest report of the CARRY months before.
#
# | rsp_id                  | Jul | Aug | Sep | Oct | placements a month | its stock in Oct            |
# |-------------------------|-----|-----|-----|-----|--------------------|-----------------------------|
# | capital-technology      |  10 |  12 |  15 |  16 |                  4 | 16, reported                |
# | southwest-manufacturing |     |  30 |  33 |     |                  3 | 33, as of Sep               |
# | southwest-technology    |  20 |  21 |     |     |                  2 | 21, as of Aug               |
# | capital-healthcare      |   5 |     |     |     |                  1 | not counted: three back     |
# | eastern-manufacturing   |   7 |     |     |   9 |                  5 | 9, reported (Jul into Sep)  |
GAP_REPORTS = {
    "capital-technology": (4, {"07": 10, "08": 12, "09": 15, "10": 16}),
    "southwest-manufacturing": (3, {"08": 30, "09": 33}),
    "southwest-technology": (2, {"07": 20, "08": 21}),
    "capital-healthcare": (1, {"07": 5}),
    "eastern-manufacturing": (5, {"07": 7, "10": 9}),
}
# Every query that reads employers engaged, as the bench compares it.
READ_EMPLOYERS = (
    "kpi_summary", "metrics_by(sector)", "metrics_by(region)", "metrics_by_cell", "monthly_totals(None)",
    "monthly_totals(sector)", "monthly_totals(region)", "monthly_totals(partnership)",
    "partnership_rows(table page)", "partnership_rows(map 300)", "partnership_rows(ranking)",
)  # fmt: skip


@pytest.fixture(scope="module")
def gaps(stores):
    """(engine, the pandas baseline's frame, the DuckDB baseline's connection) of the store above, on each backend,
    the frame read as the bench reads it from that backend."""
    from rsp_data.imports.apply import apply_import

    lines = [
        f"{rsp},2022-{month},{employers},6,5,{placed}\r\n"
        for rsp, (placed, months) in GAP_REPORTS.items()
        for month, employers in months.items()
    ]
    header = "rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\r\n"
    engine = stores.engine("gaps")
    apply_import(engine, (header + "".join(lines)).encode(), "gaps.csv", "tests", today=date(2022, 11, 20))
    df, _, _ = bench.load_baseline({stores.backend: engine})
    con, _, _ = bench.load_duckdb(df)
    yield engine, df, con
    con.close()
    engine.dispose()


def test_the_baselines_read_employers_engaged_as_of_each_partnerships_latest_report(gaps):
    from queries.filters import Filters
    from queries.metrics import kpi_summary

    engine, df, con = gaps
    everything = Filters()
    # Oct: CT 16 + SM 33 (Sep's) + ST 21 (Aug's) + EM 9; CH's Jul is three months back. Only CT and EM sent Oct.
    store = kpi_summary(engine, everything)
    assert (store["employers_engaged"], store["reporting"]) == (16 + 33 + 21 + 9, 2)
    for kpi in (bench.pd_metrics_by(df, everything, None), bench.duck_metrics_by(con, everything, None)):
        assert (kpi["employers_engaged"].iloc[0], kpi["reporting"].iloc[0]) == (16 + 33 + 21 + 9, 2)
    # Jul 10 + 20 + 5 + 7; Aug 12 + 30 + 21 + 5 (Jul's) + 7 (Jul's); Sep 15 + 33 + 21 (Aug's) + 5 + 7 (Jul's, two back)
    for series in (bench.pd_monthly_totals(df, everything, None), bench.duck_monthly_totals(con, everything, None)):
        assert series["employers_engaged"].tolist() == [42, 75, 81, 79]
        assert series["placements"].tolist() == [4 + 2 + 1 + 5, 4 + 3 + 2, 4 + 3, 4 + 5]  # flows: the reports alone
    by_rsp = bench.pd_partnership_table(df, everything, "").set_index("group_id")
    assert by_rsp["employers_engaged"].to_dict() == {
        "capital-technology": 16, "southwest-manufacturing": 33, "southwest-technology": 21, "capital-healthcare": 0,
        "eastern-manufacturing": 9,
    }  # fmt: skip
    assert by_rsp["reporting"].sum() == 2


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"month_from": "2022-09"},  # ST's Aug lies before the range: not counted
        {"month_from": "2022-08"},
        {"month_to": "2022-09"},  # in Sep, CH's Jul is two back: counted
        {"month_to": "2022-08"},
        {"month_from": "2022-08", "month_to": "2022-09"},
        {"regions": ("southwest",)},
        {"sectors": ("manufacturing",)},
        {"regions": ("capital",), "sectors": ("technology",)},
        {"partnerships": ("southwest-manufacturing", "southwest-technology", "capital-healthcare")},  # as of Sep
        {"partnerships": ("southwest-manufacturing", "capital-healthcare"), "month_from": "2022-08"},
        {"partnerships": ("southwest-technology", "eastern-manufacturing")},  # neither sent Sep: no Sep in the series
    ],
    ids=str,
)
def test_on_a_store_with_gaps_both_baselines_answer_as_the_store(gaps, filters):
    """Every query that reads employers engaged: the store's answer, the pandas baseline's and the DuckDB one's
    agree (as the bench compares them), for filters that move the as-of month and the range's bounds."""
    from queries import metrics
    from queries.filters import Filters

    engine, df, con = gaps
    call = bench.Call("test", Filters(**filters))
    compared = [q for q in bench.workload() if q.name in READ_EMPLOYERS]
    assert len(compared) == len(READ_EMPLOYERS)
    for q in compared:
        store = q.canon(q.sql(engine, call))
        assert store, q.name
        assert q.canon(q.pandas(df, call)) == store, (q.name, "pandas")
        assert q.canon(q.duckdb(con, call)) == store, (q.name, "duckdb")
    # the leader and "All other …" of each split (the page's top 12 has no others on 5 partnerships)
    for split in ("sector", "region", "partnership"):
        store = metrics.monthly_totals(engine, call.filters, split, top=1)
        store = bench.rows_of(store, bench.MONTHLY_COLS, ["month", "group_id"])
        for who, answer in (
            ("pandas", bench.pd_monthly_totals(df, call.filters, split, top=1)),
            ("duckdb", bench.duck_monthly_totals(con, call.filters, split, top=1)),
        ):
            assert bench.rows_of(answer, bench.MONTHLY_COLS, ["month", "group_id"]) == store, (split, who)
