"""Goals: the committed file and its validator, the projection on series with known answers, goal
progress on the hand-made facts and on the demo data (SQLite and PostgreSQL), the pages that show
it (AppTest), and `python -m rsp_data import-goals`.

Hand-made facts: tests/conftest.py. The projection's method: queries.goals.METHOD.
"""

from __future__ import annotations

import math
import statistics
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest

from queries.filters import Filters
from queries.goals import (
    NO_PROGRESS,
    NOT_ENOUGH_DATA,
    PROJECTED,
    REACHED,
    goal_list,
    goal_progress,
    goal_status,
    project,
    projection_path,
)
from rsp_data import schema
from rsp_data.goals import GOALS_FILE, Goal, read_goals, sync_goals, write_goals
from rsp_data.months import label
from rsp_data.registry import registry
from rsp_data.store import init_store, make_engine, read_demo_rows
from tests.store_helpers import copy_store, drop_store, run_cli
from ui.goals import contribution_text, progress_text, projection_sentence

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
ALL = Filters()
IDS = [p.id for p in registry().partnerships]
HEADER = "goal_id,name,scope,rsp_id,metric,target,start_month,due_month,source\n"
GJC = "good-jobs-challenge"
TODAY = date(2030, 1, 1)  # every month in these series is complete


def series(first: str, values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"month": pd.date_range(first, periods=len(values), freq="MS"), "value": values})


def check(text: str) -> list[str]:
    report = read_goals(text.encode("utf-8"), "goals.csv", IDS)
    return [str(p) for p in report.problems]


# ---------------------------------------------------------------- the file and its validator


def test_the_committed_goals_file():
    report = read_goals(GOALS_FILE.read_bytes(), GOALS_FILE.name, IDS)
    assert report.ok, report.text()
    gjc, illustrative = report.goals
    grant = registry().grant
    # The Good Jobs Challenge goal: the registry's facts; its due month labelled an assumption.
    assert (gjc.goal_id, gjc.scope, gjc.metric, gjc.rsp_id) == (GJC, "grant", "placements", None)
    assert gjc.target == grant.goal_placements == 2000
    assert f"{gjc.start_month:%Y-%m}" == grant.announced == "2022-08"
    assert gjc.due_month == date(2025, 8, 1)
    assert gjc.due_assumed and not gjc.illustrative
    # The second goal is made up for the demo and says so.
    assert (illustrative.scope, illustrative.rsp_id, illustrative.target) == ("partnership", "capital-healthcare", 250)
    assert illustrative.illustrative and not illustrative.due_assumed


def test_every_bad_value_is_named_with_its_row_column_and_reason():
    text = (
        "# a comment line: skipped, but rows keep their line numbers\n"
        + HEADER
        + "ok-1,Fine,statewide,,placements,100,2024-01,2024-12,\n"
        + "ok-1,Again,statewide,,placements,100,2024-01,2024-12,\n"  # line 4
        + "x,Stock,partnership,capital-helthcare,employers_engaged,0,2024-13,2023-01,\n"  # line 5
        + "y,Rate,grant,capital-technology,placement_rate,-5,2024-01,2023-12,\n"  # line 6
        + "Bad Id,,regional,,placemnts,12.5,24-01,,\n"  # line 7
    )
    assert check(text) == [
        "error: row 4, column goal_id, value 'ok-1': duplicate id: goal ok-1 is already on row 3",
        "error: row 5, column rsp_id, value 'capital-helthcare': unknown partnership id (did you mean "
        "'capital-healthcare'?)",
        "error: row 5, column metric, value 'employers_engaged': employers_engaged is a count at month end, "
        "not a flow: goals count flows (trainees_enrolled, trainees_completed, placements)",
        "error: row 5, column target, value '0': the target must be above 0",
        "error: row 5, column start_month, value '2024-13': there is no month 13: months run 01 to 12",
        "error: row 6, column rsp_id, value 'capital-technology': only a goal of scope partnership names one; "
        "this goal is grant",
        "error: row 6, column metric, value 'placement_rate': placement_rate is a rate, not a flow: goals count "
        "flows (trainees_enrolled, trainees_completed, placements)",
        "error: row 6, column target, value '-5': the target must be above 0",
        "error: row 6, column due_month, value '2023-12': the due month is before the start month 2024-01",
        "error: row 7, column goal_id, value 'Bad Id': ids are lower-case letters, digits and hyphens (at most 60)",
        "error: row 7, column name: blank: every goal needs a name people read",
        "error: row 7, column scope, value 'regional': unknown scope (statewide, grant, partnership)",
        "error: row 7, column metric, value 'placemnts': unknown metric (did you mean 'placements'?)",
        "error: row 7, column target, value '12.5': not a whole number",
        "error: row 7, column start_month, value '24-01': months are written YYYY-MM, e.g. 2025-03",
        "error: row 7, column due_month: blank: every row needs a month, written YYYY-MM",
    ]
    assert read_goals(text.encode(), "goals.csv", IDS).goals == []  # any error: nothing to write


def test_header_and_empty_files():
    assert check("") == ["error: file: the file is empty"]
    assert check(HEADER) == ["error: file: the file has a header but no goals"]
    assert check(
        "goal_id,name,scope,metrc,target,start_month,due_month\nx,y,statewide,placements,1,2024-01,2024-02\n"
    ) == [
        "error: row 1, column metrc, value 'metrc': unknown column (did you mean 'metric'?)",
        "error: row 1, column rsp_id: required column is missing",
        "error: row 1, column metric: required column is missing",
    ]
    # source may be left out; a target may carry thousands separators
    (goal,) = read_goals(
        b'goal_id,name,scope,rsp_id,metric,target,start_month,due_month\nx,y,statewide,,placements,"5,000",2024-01,2024-02\n',
        "g.csv",
        IDS,
    ).goals
    assert (goal.target, goal.source, goal.rsp_id) == (5000, "", None)


# ---------------------------------------------------------------- the projection: known answers


def test_constant_pace_gives_the_exact_month():
    # 10 a month for 12 months: 120 by Dec 2024; 80 to go at 10 a month = 8 months -> Aug 2025.
    p = project(series("2024-01", [10] * 12), 200, date(2025, 8, 1), today=TODAY)
    assert p.status == PROJECTED
    assert (p.as_of, p.cumulative, p.rate, p.margin) == (date(2024, 12, 1), 120, 10.0, 0.0)
    assert p.reach == p.reach_early == p.reach_late == date(2025, 8, 1)
    assert p.on_time  # reached in the due month counts as on time
    path = projection_path(p)
    assert list(path["month"].dt.strftime("%Y-%m")) == [
        f"{m}" for m in pd.date_range("2024-12", "2025-08", freq="MS").strftime("%Y-%m")
    ]
    assert list(path["central"]) == [120 + 10 * k for k in range(9)]
    assert path["central"].iloc[-1] == 200
    # one month later due: still on time; one month earlier: late
    assert not project(series("2024-01", [10] * 12), 200, date(2025, 7, 1), today=TODAY).on_time


def test_a_series_with_known_mean_and_spread_gives_the_band_computed_by_hand():
    # 5, 15, 5, 15, ...: mean 10; s = sqrt(12 x 25 / 11) = 5.2223; s/sqrt(12) = 1.5076;
    # t(0.975, 11) = 2.201 -> margin 3.3182; pace 6.6818 to 13.3182 a month.
    # 120 by Dec 2024, 80 to go: central 80/10 = 8 -> Aug 2025; fast 80/13.318 = 6.007 -> 7 -> Jul 2025;
    # slow 80/6.682 = 11.97 -> 12 -> Dec 2025.
    p = project(series("2024-01", [5, 15] * 6), 200, date(2025, 8, 1), today=TODAY)
    assert p.rate == 10
    assert p.margin == pytest.approx(2.201 * math.sqrt(300 / 11) / math.sqrt(12))
    assert p.margin == pytest.approx(3.3182, abs=1e-4)
    assert (p.reach, p.reach_early, p.reach_late) == (date(2025, 8, 1), date(2025, 7, 1), date(2025, 12, 1))
    assert p.on_time
    goal = Goal("g", "G", "statewide", None, "placements", 200, date(2024, 1, 1), date(2025, 8, 1))
    status = _status(goal, series("2024-01", [5, 15] * 6), p)
    assert projection_sentence(status) == (
        "At the pace of the last 12 complete months, Jan 2024 – Dec 2024 (10 ± 3 a month), the 200 goal is reached in "
        "Aug 2025 "
        "(range Jul 2025 – Dec 2025), by the due date, Aug 2025. At the slow end of the range it would be late."
    )


def test_an_incomplete_last_month_is_left_out_of_the_pace_and_named():
    # 12 months of 10, then a 13th month only some partnerships sent (2 placements, not a drop to 2).
    monthly = series("2024-01", [10] * 12 + [2])
    p = project(monthly, 200, date(2026, 1, 1), today=TODAY, incomplete=((date(2025, 1, 1), 3, 14),))
    assert (p.as_of, p.cumulative, p.rate, p.margin) == (date(2024, 12, 1), 120, 10, 0)
    assert p.reach == date(2025, 8, 1)  # 80 to go at 10 a month from Dec 2024, not at a pace dragged down by 2
    assert p.left_out == ((date(2025, 1, 1), 3, 14),)
    goal = Goal("g", "G", "statewide", None, "placements", 200, date(2024, 1, 1), date(2026, 1, 1))
    sentence = projection_sentence(_status(goal, monthly, p))
    assert "last 12 complete months, Jan 2024 – Dec 2024 (10 ± 0 a month)" in sentence
    assert sentence.endswith(" Left out as incomplete: Jan 2025: 3 of 14 partnerships reported.")


def _status(goal, monthly, projection):
    from queries.goals import GoalStatus

    monthly = monthly.assign(cumulative=monthly["value"].cumsum())
    return GoalStatus(goal, monthly, 1, projection, False)


def test_only_the_last_twelve_complete_months_set_the_pace():
    # A year at 100 a month, then a year at 10: the pace is 10.
    p = project(series("2023-01", [100] * 12 + [10] * 12), 5000, date(2030, 1, 1), today=TODAY)
    assert (p.rate, p.cumulative, p.as_of) == (10.0, 1320, date(2024, 12, 1))
    # 3,680 to go at 10 a month: 368 months after Dec 2024 -> Aug 2055
    assert p.reach == date(2055, 8, 1)
    # The current calendar month is incomplete: left out (the window ends the month before).
    with_current = series("2024-01", [10] * 12 + [30])  # Jan 2025 is "today's" month
    p = project(with_current, 200, date(2025, 8, 1), today=date(2025, 1, 20))
    assert (p.as_of, p.cumulative, p.rate, p.reach) == (date(2024, 12, 1), 120, 10.0, date(2025, 8, 1))


def test_reached_not_enough_data_and_no_progress():
    # Reached in the 8th month (cumulative 80 >= 75), before the due month.
    p = project(series("2024-01", [10] * 12), 75, date(2025, 1, 1), today=TODAY)
    assert (p.status, p.reached_in, p.on_time) == (REACHED, date(2024, 8, 1), True)
    assert project(series("2024-01", [10] * 12), 75, date(2024, 5, 1), today=TODAY).on_time is False
    # 11 months: not enough for a 12-month pace.
    p = project(series("2024-01", [10] * 11), 500, date(2026, 1, 1), today=TODAY)
    assert (p.status, p.months_available, p.reach) == (NOT_ENOUGH_DATA, 11, None)
    # Nothing in the last 12 months.
    p = project(series("2023-01", [5] * 6 + [0] * 12), 500, date(2026, 1, 1), today=TODAY)
    assert (p.status, p.rate, p.reach, p.cumulative) == (NO_PROGRESS, 0.0, None, 30)


def test_when_the_slow_end_of_the_band_is_no_progress_no_latest_month_is_given():
    # 0 x 11 then 60: mean 5; s = sqrt((11 x 25 + 55^2) / 11) = sqrt(300); s/sqrt(12) = 5;
    # margin 2.201 x 5 = 11.005 > 5: the slow end is 0. 140 to go: central 28 months, fast
    # 140 / 16.005 = 8.75 -> 9 months.
    p = project(series("2024-01", [0] * 11 + [60]), 200, date(2026, 1, 1), today=TODAY)
    assert p.margin == pytest.approx(11.005)
    assert (p.reach, p.reach_early, p.reach_late) == (date(2027, 4, 1), date(2025, 9, 1), None)
    assert p.late_never and p.low_rate == 0
    path = projection_path(p)  # no latest month: the fan is drawn ten years ahead
    assert len(path) == 121 and path["low"].iloc[-1] == 60 and path["high"].iloc[-1] == pytest.approx(60 + 16.005 * 120)
    # Even the fast end beyond 100 years: no date at all, and the chart still draws.
    far = project(series("2024-01", [0] * 11 + [1]), 10**6, date(2026, 1, 1), today=TODAY)
    assert (far.status, far.reach, far.reach_early, far.reach_late) == (PROJECTED, None, None, None)
    assert len(projection_path(far)) == 121


# ---------------------------------------------------------------- progress on the hand-made facts


def test_grant_goal_on_the_hand_made_facts(engine):
    # Grant-supported (CT, ST, SM, CH), from 2022-08: 6, 15, 11 (tests/conftest.py) -> 32.
    status = goal_status(engine, GJC, ALL, today=TODAY)
    assert list(status.monthly["value"]) == [6, 15, 11]
    assert (status.progress, status.through, status.partnerships) == (32, date(2022, 10, 1), 4)
    # southwest-manufacturing (grant-supported) sent no 2022-10: that month is incomplete and left out.
    assert status.projection.status == NOT_ENOUGH_DATA and status.projection.months_available == 2
    assert status.projection.left_out == ((date(2022, 10, 1), 3, 4),)
    assert not status.narrowed
    # The rollups at each grain the filters ask for:
    # region capital: CT 1; CT 2 + CH 1; CT 3 + CH 3 -> 10 (CL is not grant-supported)
    assert goal_status(engine, GJC, Filters(regions=("capital",))).progress == 10
    # sector technology: CT + ST: 4, 6, 8 -> 18
    tech = goal_status(engine, GJC, Filters(sectors=("technology",)))
    assert (list(tech.monthly["value"]), tech.partnerships, tech.narrowed) == ([4, 6, 8], 2, True)
    # region southwest x sector technology: ST 3 + 4 + 5 -> 12
    assert goal_status(engine, GJC, Filters(regions=("southwest",), sectors=("technology",))).progress == 12
    # Partnerships named: the facts by key; CL is not grant-supported, CT: 1 + 2 + 3 = 6
    named = goal_status(engine, GJC, Filters(partnerships=("capital-technology", "capital-logistics")))
    assert (named.progress, named.partnerships) == (6, 1)
    # month_from ignored, month_to honoured: 6 + 15
    assert goal_status(engine, GJC, Filters(month_from="2022-10", month_to="2022-09")).progress == 21
    assert goal_status(engine, GJC, Filters(sectors=("logistics",))).monthly.empty
    # The registry's grant progress (the Trends page's line) is the same figure.
    assert goal_progress(engine, ALL).placements == 32


def test_statewide_and_partnership_goals_on_the_hand_made_facts(engine):
    goals = [
        Goal("all-placed", "All placed", "statewide", None, "placements", 50, date(2022, 7, 1), date(2023, 6, 1)),
        Goal(
            "all-enrolled", "Enrolled", "statewide", None, "trainees_enrolled", 99, date(2022, 8, 1), date(2023, 6, 1)
        ),
        Goal(
            "sm-placed",
            "SM",
            "partnership",
            "southwest-manufacturing",
            "placements",
            9,
            date(2022, 7, 1),
            date(2023, 1, 1),
        ),
    ]
    with engine.begin() as conn:
        assert write_goals(conn, goals) == (3, 0)
    try:
        # statewide placements from 2022-07: 3, 7, 15, 13 -> 38, five partnerships
        placed = goal_status(engine, "all-placed", ALL, today=TODAY)
        assert (list(placed.monthly["value"]), placed.progress, placed.partnerships) == ([3, 7, 15, 13], 38, 5)
        # enrolments from 2022-08: 20, 19, 8 -> 47
        assert goal_status(engine, "all-enrolled", ALL).progress == 47
        # southwest-manufacturing: 0, 2, 8 -> 10, reached in 2022-09 (0 + 2 + 8 >= 9), before its due month
        sm = goal_status(engine, "sm-placed", ALL, today=TODAY)
        assert (sm.progress, sm.through, sm.partnerships) == (10, date(2022, 9, 1), 1)
        assert (sm.projection.status, sm.projection.reached_in, sm.projection.on_time) == (
            REACHED,
            date(2022, 9, 1),
            True,
        )
        assert projection_sentence(sm) == "Goal reached in Sep 2022, before the due date, Jan 2023."
        # a partnership goal outside the named partnerships has no figures
        assert goal_status(engine, "sm-placed", Filters(partnerships=("capital-technology",))).monthly.empty
        # the order the pages show: grant goals, then statewide, then per partnership
        assert [g.goal_id for g in goal_list(engine)][:3] == [GJC, "all-enrolled", "all-placed"]
    finally:
        with engine.begin() as conn:
            conn.execute(schema.goals.delete().where(schema.goals.c.goal_id.in_([g.goal_id for g in goals])))


# ---------------------------------------------------------------- the demo data, against the facts


def grant_ids() -> set[str]:
    return {p.id for p in registry().partnerships if p.gjc_supported}


def demo_grant_monthly(rsp_ids: set[str], first: str = "2022-08") -> dict[str, int]:
    """Placements per month from the committed demo CSV's latest figures (the facts as loaded), by hand."""
    out: dict[str, int] = {}
    for row in read_demo_rows():
        month = label(row["month"])
        if row["rsp_id"] in rsp_ids and month >= first:
            out[month] = out.get(month, 0) + row["placements"]
    return dict(sorted(out.items()))


def test_grant_goal_on_the_demo_data_equals_the_facts(demo_engine):
    by_month = demo_grant_monthly(grant_ids())
    status = goal_status(demo_engine, GJC, ALL, today=TODAY)
    assert dict(zip(status.monthly["month"].dt.strftime("%Y-%m"), status.monthly["value"], strict=True)) == by_month
    assert status.progress == sum(by_month.values()) == 1867
    assert (status.through, status.partnerships) == (date(2026, 10, 1), 10)
    # The same total straight from the fact table.
    facts, partnerships = schema.monthly_metrics, schema.partnerships
    with demo_engine.connect() as conn:
        placed = conn.execute(
            select(func.sum(facts.c.placements))
            .select_from(facts.join(partnerships, facts.c.rsp_id == partnerships.c.rsp_id))
            .where(partnerships.c.gjc_supported.is_(True), facts.c.month >= date(2022, 8, 1))
        ).scalar_one()
    assert placed == 1867
    # The projection, by hand from the last 12 months (Nov 2025 - Oct 2026).
    last12 = list(by_month.values())[-12:]
    assert last12 == [16, 4, 20, 46, 76, 39, 37, 33, 100, 61, 56, 30]
    mean, margin = statistics.mean(last12), 2.201 * statistics.stdev(last12) / math.sqrt(12)
    p = status.projection
    assert p.rate == pytest.approx(mean) == pytest.approx(43.1667, abs=1e-4)
    assert p.margin == pytest.approx(margin) == pytest.approx(17.0700, abs=1e-4)
    # 133 to go: 133/43.17 = 3.08 -> 4 months -> Feb 2027; 133/60.24 = 2.2 -> 3 -> Jan 2027;
    # 133/26.10 = 5.1 -> 6 -> Apr 2027. The assumed due month, Aug 2025, has passed: 18 months late.
    assert (p.reach, p.reach_early, p.reach_late) == (date(2027, 2, 1), date(2027, 1, 1), date(2027, 4, 1))
    assert projection_sentence(status) == (
        "At the pace of the last 12 complete months, Nov 2025 – Oct 2026 (43 ± 17 a month), the 2,000 goal is "
        "reached in Feb 2027 "
        "(range Jan 2027 – Apr 2027), 18 months after the due date, Aug 2025 (assumed)."
    )
    # With a region filter: the rollups' region grain equals the facts of the capital partnerships.
    capital = {p.id for p in registry().partnerships if p.gjc_supported and p.region == "capital"}
    assert goal_status(demo_engine, GJC, Filters(regions=("capital",))).progress == sum(
        demo_grant_monthly(capital).values()
    )


def test_partnership_goal_and_contribution_on_the_demo_data(demo_engine):
    mine = Filters(partnerships=("capital-healthcare",))
    own = goal_status(demo_engine, "capital-healthcare-placements", mine, today=TODAY)
    by_month = demo_grant_monthly({"capital-healthcare"}, first="2024-01")
    assert own.progress == sum(by_month.values()) == 216
    assert progress_text(own) == "216 of 250 placements (86%), Jan 2024 – Oct 2026"
    part = goal_status(demo_engine, GJC, mine)
    whole = goal_status(demo_engine, GJC, ALL)
    assert part.progress == sum(demo_grant_monthly({"capital-healthcare"}).values()) == 231
    assert contribution_text("Capital Area Healthcare Partnership", part, whole) == (
        "**Good Jobs Challenge: 2,000 placements:** Capital Area Healthcare Partnership contributed **231** "
        "placements since Aug 2022, 12% of the 2,000 goal and 12% of the 1,867 by all grant-supported "
        "partnerships (through Oct 2026)."
    )


# ---------------------------------------------------------------- the pages


@pytest.fixture(scope="module")
def page_store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('goals_pages') / 'store.sqlite'}"
    eng = make_engine(url)
    init_store(eng, demo=True)
    yield url, eng
    eng.dispose()


@pytest.fixture
def app_store(page_store, monkeypatch, as_server):
    url, eng = page_store
    monkeypatch.setenv("DATABASE_URL", url)
    return eng


def open_app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([*(str(m.value) for m in at.markdown), *(str(c.value) for c in at.caption)])


def test_overview_shows_the_grant_goal_its_projection_and_its_chart(app_store):
    at = open_app()
    (bar,) = at.get("progress")
    assert "1,867 of 2,000 placements (93%) by 10 grant-supported partnerships, Aug 2022 – Oct 2026" in bar.proto.text
    assert bar.proto.value == 93
    shown = texts(at)
    assert (
        "At the pace of the last 12 complete months, Nov 2025 – Oct 2026 (43 ± 17 a month), the 2,000 goal is "
        "reached in Feb 2027 "
        "(range Jan 2027 – Apr 2027), 18 months after the due date, Aug 2025 (assumed)."
    ) in shown
    assert "Due month assumed" in shown  # the source, under the chart
    assert "mean ± t × s / √12" in shown  # the method, stated on the page
    status = goal_status(app_store, GJC, ALL)
    assert projection_sentence(status) in shown
    import json

    (goal_fig,) = [f for f in map(lambda c: json.loads(c.proto.spec), at.get("plotly_chart")) if "Target" in str(f)]
    title = goal_fig["layout"]["title"]["text"]
    assert title.startswith("1,867 of 2,000 placements: at the recent pace, 2,000 in Feb 2027, after the due date")
    assert "illustrative data" in title
    names = [t.get("name") for t in goal_fig["data"]]
    assert "Range of the projection (95%)" in names and "Projected at 43 a month" in names

    # A region filter narrows the goal, and the page says so.
    at.multiselect(key="f_region").set_value(["capital"]).run()
    capital = goal_status(app_store, GJC, Filters(regions=("capital",)))
    assert f"{capital.progress:,} of 2,000 placements" in at.get("progress")[0].proto.text
    assert "the goal itself covers all grant-supported partnerships" in texts(at)


def test_partnership_profile_shows_its_goal_and_its_part_in_the_grant_goal(app_store):
    at = open_app(profile="capital-healthcare")
    at.switch_page("pages/partnerships.py").run()
    assert not at.exception, [e.value for e in at.exception]
    (bar,) = at.get("progress")
    assert "216 of 250 placements (86%), Jan 2024 – Oct 2026" in bar.proto.text
    shown = texts(at)
    assert "#### Capital Area Healthcare Partnership: 250 placements :orange-badge[Illustrative goal]" in shown
    assert (
        "At the pace of the last 12 complete months, Nov 2025 – Oct 2026 (6.2 ± 3.3 a month), the 250 goal is "
        "reached in Apr 2027 "
        "(range Feb 2027 – Oct 2027), by the due date, Jun 2027. At the slow end of the range it would be late."
    ) in shown
    assert "contributed **231** placements since Aug 2022, 12% of the 2,000 goal" in shown


def test_presenter_first_slide_says_the_same_projection(app_store):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    html_text = "\n".join(h.value for h in at.html)
    assert "Placements by 10 grant-supported partnerships, Aug 2022 – Oct 2026." in html_text
    assert "the 2,000 goal is reached in Feb 2027 (range Jan 2027 – Apr 2027)" in html_text
    assert [t.value for t in at.title] == ["1,867 of 2,000 placements: 93% of the goal"]


# ---------------------------------------------------------------- init and the command line


@pytest.fixture
def cli_store(demo_template, tmp_path):
    url, _ = copy_store(demo_template, tmp_path)
    eng = make_engine(url)
    yield url, eng
    eng.dispose()
    drop_store(url)


def goals_in(eng) -> dict[str, tuple]:
    g = schema.goals
    with eng.connect() as conn:
        return {r.goal_id: (r.scope, r.metric, r.target) for r in conn.execute(select(g))}


def test_init_writes_the_committed_goals_back_in_place(cli_store):
    _, eng = cli_store
    with eng.begin() as conn:
        conn.execute(update(schema.goals).where(schema.goals.c.goal_id == GJC).values(target=1))
    report = init_store(eng)
    assert report.goals_changed == 1 and "goals inserted or updated: 1" in str(report)
    assert goals_in(eng)[GJC] == ("grant", "placements", 2000)
    assert "nothing changed" in str(init_store(eng))
    with eng.begin() as conn:
        assert sync_goals(conn) == (0, 0)


def test_cli_import_goals_dry_run_import_change_and_rejection(cli_store, tmp_path):
    url, eng = cli_store
    before = goals_in(eng)
    good = tmp_path / "more-goals.csv"
    committed_row = GOALS_FILE.read_text(encoding="utf-8").splitlines()[-2]  # the grant goal, as committed
    assert committed_row.startswith("good-jobs-challenge,")
    good.write_text(
        HEADER
        + 'enrol-2027,"Statewide: 3,000 enrolments",statewide,,trainees_enrolled,3000,2025-01,2027-12,Illustrative\n'
        + committed_row
        + "\n",
        encoding="utf-8",
    )
    dry = run_cli("import-goals", str(good), "--dry-run", "--url", url)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "add goal enrol-2027",
        "same goal good-jobs-challenge",
        "dry run, nothing written: 1 goal(s) to add, 0 to change, 1 unchanged",
    ]
    assert goals_in(eng) == before

    done = run_cli("import-goals", str(good), "--url", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "more-goals.csv: 1 goal(s) added, 0 changed, 1 unchanged"
    after = goals_in(eng)
    assert after == {**before, "enrol-2027": ("statewide", "trainees_enrolled", 3000)}

    # An imported goal changes in place on a second import.
    good.write_text(
        HEADER
        + 'enrol-2027,"Statewide: 3,500 enrolments",statewide,,trainees_enrolled,3500,2025-01,2027-12,Illustrative\n',
        encoding="utf-8",
    )
    changed = run_cli("import-goals", str(good), "--url", url)
    assert changed.stdout.splitlines() == [
        "change goal enrol-2027: name 'Statewide: 3,000 enrolments' -> 'Statewide: 3,500 enrolments', "
        "target 3000 -> 3500",
        "more-goals.csv: 0 goal(s) added, 1 changed, 0 unchanged",
    ]
    assert goals_in(eng)["enrol-2027"] == ("statewide", "trainees_enrolled", 3500)

    # Rejected: a bad row, and a change to a committed goal (init would write it back). Nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "z,Z,partnership,zzz,placements,10,2025-01,2024-01,\n"
        + committed_row.replace(",2000,", ",2500,")
        + "\n",
        encoding="utf-8",
    )
    rejected = run_cli("import-goals", str(bad), "--url", url)
    assert rejected.returncode == 1
    assert rejected.stderr.splitlines() == [
        "bad.csv: 3 error(s), 0 warning(s); nothing was written",
        "error: row 2, column rsp_id, value 'zzz': unknown partnership id",
        "error: row 2, column due_month, value '2024-01': the due month is before the start month 2025-01",
        "error: row 3, column goal_id, value 'good-jobs-challenge': this goal comes from the committed goals.csv: "
        "change it there (`init` writes it back), or import it under another id",
    ]
    assert goals_in(eng)[GJC] == ("grant", "placements", 2000)
    assert goals_in(eng)["enrol-2027"][2] == 3500
