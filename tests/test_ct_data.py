"""Real Connecticut data: area census sums checked against the raw town rows, per-adults figures computed by
hand on the hand-made store, published figures with their dates and sources, and the map's home towns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from queries.filters import Filters
from queries.metrics import metrics_by
from rsp_data import ct
from rsp_data.registry import registry
from ui import charts
from ui.facts import published_table

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "data" / "ct"
PER_ADULTS = ("placements_per_10k_adults", "enrolled_per_10k_adults")


def raw(name: str) -> list[dict]:
    with open(SOURCE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def raw_area(area: str) -> list[dict]:
    """The source's ACS town rows of one workforce area (read straight from data/ct, not from the app's files)."""
    towns = {r["town"] for r in raw("town_workforce_area.csv") if r["wda"] == area}
    return [r for r in raw("town_acs_2023.csv") if r["level"] == "6_town" and r["name"] in towns]


def test_southwest_census_is_the_sum_of_its_twenty_towns():
    rows = raw_area("Southwest")
    assert len(rows) == 20

    def total(column: str) -> int:
        return sum(int(r[column]) for r in rows)

    c = ct.census(("southwest",))
    assert c.towns == 20
    assert c.population == total("Total population")
    assert c.adults_18_plus == total("Population ages 18+")
    assert c.adults_25_plus == total("Adults ages 25+")
    assert c.bachelors_or_higher == total("Adults with bachelor's or higher")
    assert c.in_poverty == total("Population in poverty")
    # Rates from the sums, not a mean of the towns' rates.
    assert c.bachelors_share == total("Adults with bachelor's or higher") / total("Adults ages 25+")
    assert c.poverty_rate == total("Population in poverty") / total("Poverty status known")
    incomes = {r["name"]: int(r["Median household income"]) for r in rows}
    assert c.income_low == min(incomes.items(), key=lambda kv: kv[1])
    assert c.income_high == max(incomes.items(), key=lambda kv: kv[1])


def test_the_five_areas_add_up_to_the_state_row_of_the_census():
    state = next(r for r in raw("town_acs_2023.csv") if r["level"] == "2_state")
    areas = [ct.census((r.id,)) for r in registry().regions]
    assert sum(a.population for a in areas) == int(state["Total population"]) == ct.census(()).population
    assert sum(a.adults_18_plus for a in areas) == int(state["Population ages 18+"])
    assert sum(a.towns for a in areas) == 169


@pytest.fixture(scope="module")
def adults() -> dict[str, int]:
    wda = {"Capital": "North Central"}
    return {
        region: sum(int(r["Population ages 18+"]) for r in raw_area(wda.get(name, name)))
        for region, name in (("capital", "Capital"), ("southwest", "Southwest"))
    }


def test_per_adults_by_hand_on_the_hand_made_facts(engine, adults):
    # tests/conftest.py: capital placements CT 1+1+2+3, CH 1+3, CL 1+2 = 14, enrolled 18+8+5 = 31;
    # southwest ST 2+3+4+5, SM 0+2+8 = 24, enrolled 18+21 = 39.
    rows = metrics_by(engine, Filters(), "region", metrics=("placements", *PER_ADULTS)).set_index("group_id")
    assert rows.loc["capital", "placements_per_10k_adults"] == pytest.approx(14 * 10_000 / adults["capital"])
    assert rows.loc["capital", "enrolled_per_10k_adults"] == pytest.approx(31 * 10_000 / adults["capital"])
    assert rows.loc["southwest", "placements_per_10k_adults"] == pytest.approx(24 * 10_000 / adults["southwest"])
    assert rows.loc["southwest", "adults_18_plus"] == adults["southwest"]
    # Narrowed to technology (CT 7 in capital), the denominator is still every adult of the area.
    tech = metrics_by(engine, Filters(sectors=("technology",)), "region", metrics=PER_ADULTS).set_index("group_id")
    assert tech.loc["capital", "placements_per_10k_adults"] == pytest.approx(7 * 10_000 / adults["capital"])


def test_every_published_figure_shown_has_a_date_and_a_source():
    table = published_table()
    assert len(table) == len(raw("published_figures.csv")) >= 19
    assert table["As of"].str.match(r"^\d{4}(-\d{2})?$").all()
    assert (table["Source"].str.len() > 0).all()
    assert table["Link"].dropna().str.startswith("https://").all()
    capital = published_table("capital-technology").set_index("What")
    assert capital.loc["Companies expected at launch", "Source"] == (
        "Hartford Business Journal 2021-07-22: hartfordbusiness.com (2021-07-22 article)"
    )
    assert capital["Link"].isna().all()
    eastern = published_table("eastern-manufacturing")
    assert list(eastern["As of"]) == ["2018-06", "2018-11", "2019-03", "2019-07", "2019-09"]
    assert list(eastern["Value"]) == [
        "about 1,000 people",
        "more than 1,100 people",
        "more than 1,300 people",
        "more than 1,400 people",
        "1,500 people",
    ]


def test_partnerships_sit_at_their_home_towns():
    reg = registry()
    frame = pd.DataFrame(
        {
            "rsp_id": [p.id for p in reg.partnerships],
            "region_id": [p.region for p in reg.partnerships],
            "sector_id": [p.sector for p in reg.partnerships],
        }
    )
    spots = charts.marker_positions(frame).set_index("rsp_id")
    stamford = ct.town("Stamford")
    # Alone in its town: exactly at the town's point, and its tooltip says it is the convener's town.
    assert (spots.loc["southwest-technology", "lon"], spots.loc["southwest-technology", "lat"]) == (
        stamford.lon,
        stamford.lat,
    )
    assert spots.loc["southwest-technology", "home"] == "Stamford (the convener's town)"
    assert spots.loc["northwest-ace", "home"] == "Waterbury (assumed: the area's largest city)"
    # Four in Hartford: spread apart around it, each within ~5 km.
    hartford = spots[spots["home"].str.startswith("Hartford")]
    assert len(hartford) == 4 and hartford[["lon", "lat"]].drop_duplicates().shape[0] == 4
    town = ct.town("Hartford")
    assert ((hartford["lon"] - town.lon).abs() < 0.07).all() and ((hartford["lat"] - town.lat).abs() < 0.05).all()


def test_map_page_shows_who_lives_in_the_chosen_area(as_server, demo_engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_engine.url.render_as_string(hide_password=False))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params["region"] = "eastern"
    at.run()
    at.switch_page("pages/map.py").run()
    assert not at.exception
    c = ct.census(("eastern",))
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Residents"] == f"{c.population:,}"
    assert tiles["Adults 18+"] == f"{c.adults_18_plus:,}"
    assert any("Who lives here: Eastern** (41 towns)" in m.value for m in at.markdown)
    assert any(ct.CENSUS_SOURCE in cap.value for cap in at.caption)
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    tooltips = [d["tooltip"] for layer in deck["layers"] if layer["id"] == "partnerships" for d in layer["data"]]
    assert tooltips and all("Placed at Norwich (assumed: the area's largest city)" in t for t in tooltips)


def test_the_presenters_map_slide_shades_per_adults_when_the_link_asks(as_server, demo_engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_engine.url.render_as_string(hide_password=False))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    for name, value in {"present": "1", "slide": "2", "paused": "1", "metric": "placements_per_10k_adults"}.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    rows = metrics_by(demo_engine, Filters(), "region", metrics=("placements_per_10k_adults",)).set_index("group_id")
    top = rows["placements_per_10k_adults"].idxmax()
    shown = f"{rows.loc[top, 'placements_per_10k_adults']:,.2f}"
    assert (
        at.title[0].value
        == f"{rows.loc[top, 'group_name']} region leads with {shown} placements per 10,000 residents 18+"
    )
    legend = next(h.proto.body for h in at.get("html") if "by region" in h.proto.body)
    assert "<h2>Placements per 10,000 adults by region</h2>" in legend
