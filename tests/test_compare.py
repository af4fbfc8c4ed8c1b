"""Sector × region matrix and per-partnership rankings, on the hand-made facts of conftest.py.

Per partnership over 2022-07..2022-10 (as-of month 2022-10):
  capital-technology       (Capital, Technology)      C 1+2+3+4=10   P 1+1+2+3=7   E@2022-10 16
  southwest-technology     (Southwest, Technology)    C 2+4+5+6=17   P 2+3+4+5=14  E@2022-10 25
  southwest-manufacturing  (Southwest, Manufacturing) C 0+8+10=18    P 0+2+8=10    no 2022-10 row: E 0
  capital-healthcare       (Capital, Healthcare)      C 2+3=5        P 1+3=4       E@2022-10 6
  capital-logistics        (Capital, Logistics)       C 1+2=3        P 1+2=3       E@2022-10 9
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from queries.compare import rankings, sector_region_matrix
from queries.filters import Filters
from queries.metrics import metrics_by
from queries.registry import partnership_list


@pytest.fixture(scope="module")
def rows(engine) -> pd.DataFrame:
    return metrics_by(engine, Filters(), "partnership").merge(
        partnership_list(engine)[["rsp_id", "sector_id", "sector_name", "region_name"]],
        left_on="group_id",
        right_on="rsp_id",
    )


def cells(table: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(s, r): v for s, row in table.iterrows() for r, v in row.items() if not math.isnan(v)}


def test_matrix_of_placements(rows):
    table = sector_region_matrix(rows, "placements")
    # rows by sector placements: Technology 7+14=21, Manufacturing 10, Healthcare 4, Logistics 3
    assert list(table.index) == ["Technology", "Manufacturing", "Healthcare", "Logistics & Transportation"]
    assert list(table.columns) == ["Southwest", "Capital"]  # Southwest 14+10=24, Capital 7+4+3=14
    assert cells(table) == {
        ("Technology", "Southwest"): 14,
        ("Technology", "Capital"): 7,
        ("Manufacturing", "Southwest"): 10,
        ("Healthcare", "Capital"): 4,
        ("Logistics & Transportation", "Capital"): 3,
    }
    assert math.isnan(table.loc["Manufacturing", "Capital"])  # no partnership there: blank, not 0


def test_matrix_of_placement_rate(rows):
    table = sector_region_matrix(rows, "placement_rate")
    assert cells(table) == pytest.approx(
        {
            ("Technology", "Southwest"): 14 / 17,
            ("Technology", "Capital"): 7 / 10,
            ("Manufacturing", "Southwest"): 10 / 18,
            ("Healthcare", "Capital"): 4 / 5,
            ("Logistics & Transportation", "Capital"): 3 / 3,
        }
    )


def test_matrix_of_employers_reads_the_as_of_month(rows):
    table = sector_region_matrix(rows, "employers_engaged")
    # at 2022-10; southwest-manufacturing has no row then: as of its latest report, 2022-09's 33
    assert cells(table)[("Technology", "Southwest")] == 25
    assert cells(table)[("Manufacturing", "Southwest")] == 33
    assert cells(table)[("Healthcare", "Capital")] == 6


def test_a_cell_with_several_partnerships_takes_the_ratio_of_sums():
    rows = pd.DataFrame(
        {
            "sector_name": ["Healthcare", "Healthcare"],
            "region_name": ["Capital", "Capital"],
            "placements": [1, 30],
            "trainees_completed": [10, 40],
        }
    )
    table = sector_region_matrix(rows, "placement_rate")
    assert table.loc["Healthcare", "Capital"] == pytest.approx(31 / 50)  # not (0.1 + 0.75) / 2


def test_rankings(rows):
    ranked = rankings(rows).set_index("group_id")
    assert list(ranked.index) == [
        "capital-logistics",  # 3/3 = 1.00
        "southwest-technology",  # 14/17 = 0.82
        "capital-healthcare",  # 4/5 = 0.80
        "capital-technology",  # 7/10 = 0.70
        "southwest-manufacturing",  # 10/18 = 0.56
    ]
    per_employer = ranked["placements_per_employer"]
    assert per_employer["capital-technology"] == pytest.approx(7 / 16)
    assert per_employer["southwest-technology"] == pytest.approx(14 / 25)
    assert per_employer["capital-healthcare"] == pytest.approx(4 / 6)
    assert per_employer["capital-logistics"] == pytest.approx(3 / 9)
    assert per_employer["southwest-manufacturing"] == pytest.approx(10 / 33)  # employers as of its 2022-09 report


def test_partnerships_page_shows_the_matrix_and_rankings(tmp_path, monkeypatch, as_server):
    """What a convener reads on the Partnerships page equals the functions above on the same store."""
    import json
    from pathlib import Path

    import numpy as np
    from streamlit.testing.v1 import AppTest

    from rsp_data.store import init_store, make_engine
    from tests.test_pages import decode

    url = f"sqlite:///{tmp_path}/compare.sqlite"
    engine = make_engine(url)
    init_store(engine, demo=True)
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/partnerships.py").run()
    assert not at.exception and not at.error
    # Closed, the comparison is not drawn (nor computed); opened, it is.
    assert not at.get("plotly_chart")
    at.session_state["compare"] = True
    at.run()
    assert not at.exception and not at.error
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    (heatmap,) = [s for s in specs if s["data"][0]["type"] == "heatmap"]
    demo_rows = metrics_by(engine, Filters(), "partnership").merge(
        partnership_list(engine)[["rsp_id", "sector_id", "sector_name", "region_name"]],
        left_on="group_id",
        right_on="rsp_id",
    )
    expected = sector_region_matrix(demo_rows, "placements").to_numpy(dtype="float64")
    shown = decode(heatmap["data"][0]["z"]).reshape(expected.shape)
    assert np.array_equal(np.nan_to_num(shown, nan=-1), np.nan_to_num(expected, nan=-1))
    rate_bar = next(s for s in specs if s["layout"]["title"]["text"].startswith("Placement rate by partnership"))
    best = rankings(demo_rows).iloc[0]
    assert rate_bar["data"][0]["text"][-1] == f"{best['placement_rate']:.0%}"  # best on top
