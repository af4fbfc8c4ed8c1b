"""The queries against a real SQLite store, with every expected figure computed by hand.

The fact table and the monthly totals are in tests/conftest.py. Abbreviations:
CT capital-technology, ST southwest-technology, SM southwest-manufacturing (no 2022-10 row),
CH capital-healthcare, CL capital-logistics (the only partnership not grant-supported).
E employers_engaged, En trainees_enrolled, C trainees_completed, P placements.

Per-partnership sums over the full range (2022-07..2022-10):
  CT: En 5+6+4+3=18, C 1+2+3+4=10, P 1+1+2+3=7,   E at 2022-10 = 16
  ST: En 8+2+7+1=18, C 2+4+5+6=17, P 2+3+4+5=14,  E at 2022-10 = 25
  SM: En 10+9+2=21,  C 0+8+10=18,  P 0+2+8=10,    E at 2022-10 = (no row) 0
  CH: En 6+2=8,      C 2+3=5,      P 1+3=4,       E at 2022-10 = 6
  CL: En 3+2=5,      C 1+2=3,      P 1+2=3,       E at 2022-10 = 9
  all: En 70, C 53, P 38, E at 2022-10 = 16+25+6+9 = 56
"""

from __future__ import annotations

import csv
from datetime import date

import pandas as pd
import pytest

from queries.data import illustrative_share, load_history, monthly_row_count, monthly_rows
from queries.filters import Filters
from queries.goals import goal_progress, grant_placements_by_month
from queries.metrics import kpi_summary, metrics_by, monthly_totals
from queries.registry import month_bounds, partnership_list
from queries.trends import metric_series
from rsp_data.metrics import STORED_KEYS
from rsp_data.registry import registry
from rsp_data.store import CONNECTICUT, DEMO_FILE, read_demo_rows
from tests.conftest import FACTS

ALL = Filters()
BASE = ["employers_engaged", "trainees_enrolled", "trainees_completed", "placements"]
RATES = ["completion_rate", "placement_rate", "placements_per_employer"]


def values(row) -> dict:
    return {k: int(row[k]) for k in BASE}


# --------------------------------------------------------------------------- kpi_summary


def test_kpi_full_range_stock_at_latest_month_flows_summed(engine):
    kpi = kpi_summary(engine, ALL)
    assert kpi["as_of"] == date(2022, 10, 1)
    assert kpi["as_of_label"] == "2022-10"
    # E at 2022-10: CT 16 + ST 25 + CH 6 + CL 9 + SM 33 (no 2022-10 row: its latest report, 2022-09) = 89
    assert kpi["employers_engaged"] == 89
    # En: 23 + 20 + 19 + 8 = 70
    assert kpi["trainees_enrolled"] == 70
    # C: 3 + 15 + 20 + 15 = 53
    assert kpi["trainees_completed"] == 53
    # P: 3 + 7 + 15 + 13 = 38
    assert kpi["placements"] == 38
    assert kpi["months"] == 4  # 2022-07, -08, -09, -10
    assert kpi["reporting"] == 4  # CT, ST, CH, CL report at 2022-10; SM does not
    assert (kpi["carried"], kpi["carried_months"]) == (1, ["2022-09"])  # SM, as of its latest report
    assert kpi["group_id"] == "all"
    assert kpi["group_name"] == "All partnerships"


def test_kpi_employers_is_not_a_sum_over_months(engine):
    kpi = kpi_summary(engine, ALL)
    sum_over_months = sum(f[2] for f in FACTS)
    # 60 + 71 + 76 + 56 = 263: the wrong (summed-stock) answer
    assert sum_over_months == 263
    assert kpi["employers_engaged"] != sum_over_months
    assert kpi["employers_engaged"] == 89


def test_kpi_rates_are_ratio_of_sums_not_mean_of_ratios(engine):
    kpi = kpi_summary(engine, ALL)
    # completion: 53 / 70 = 0.757142...
    assert kpi["completion_rate"] == pytest.approx(53 / 70)
    # placement: 38 / 53 = 0.716981...
    assert kpi["placement_rate"] == pytest.approx(38 / 53)

    # mean of the per-partnership completion rates: (10/18 + 17/18 + 18/21 + 5/8 + 3/5) / 5 = 0.71643...
    mean_completion = (10 / 18 + 17 / 18 + 18 / 21 + 5 / 8 + 3 / 5) / 5
    assert mean_completion == pytest.approx(0.716428, abs=1e-5)
    assert kpi["completion_rate"] != pytest.approx(mean_completion)
    # mean of the per-partnership placement rates: (7/10 + 14/17 + 10/18 + 4/5 + 3/3) / 5 = 0.77582...
    mean_placement = (7 / 10 + 14 / 17 + 10 / 18 + 4 / 5 + 3 / 3) / 5
    assert kpi["placement_rate"] != pytest.approx(mean_placement)


def test_kpi_rates_by_region_ratio_of_sums(engine):
    # capital completion: (10+5+3)/(18+8+5) = 18/31; mean of CT, CH, CL ratios = (10/18+5/8+3/5)/3 = 0.5935..
    df = metrics_by(engine, Filters(regions=("capital",)))
    assert df.loc[0, "completion_rate"] == pytest.approx(18 / 31)
    assert df.loc[0, "completion_rate"] != pytest.approx((10 / 18 + 5 / 8 + 3 / 5) / 3)
    # capital placement: (7+4+3)/(10+5+3) = 14/18
    assert df.loc[0, "placement_rate"] == pytest.approx(14 / 18)


@pytest.mark.parametrize(
    ("filters", "as_of", "expected", "months"),
    [
        # to 2022-09: E at 09 = 15+23+33+5 + CL's 7 of 08 (no 09 row) = 83; En 23+20+19 = 62; C 3+15+20 = 38;
        # P 3+7+15 = 25
        (Filters(month_to="2022-09"), date(2022, 9, 1), (83, 62, 38, 25), 3),
        # 08..09: E at 09 = 83 (CL's 08 is in the range); En 20+19 = 39; C 15+20 = 35; P 7+15 = 22
        (Filters(month_from="2022-08", month_to="2022-09"), date(2022, 9, 1), (83, 39, 35, 22), 2),
        # 09..09: E at 09 = 76: CL's 08 is before the range; En 19; C 20; P 15
        (Filters(month_from="2022-09", month_to="2022-09"), date(2022, 9, 1), (76, 19, 20, 15), 1),
        # 07..07: E 10+20+30 = 60; En 5+8+10 = 23; C 1+2+0 = 3; P 1+2+0 = 3
        (Filters(month_from="2022-07", month_to="2022-07"), date(2022, 7, 1), (60, 23, 3, 3), 1),
        # from 08: E at 10 = 56 + SM's 33 of 09 = 89; En 20+19+8 = 47; C 15+20+15 = 50; P 7+15+13 = 35
        (Filters(month_from="2022-08"), date(2022, 10, 1), (89, 47, 50, 35), 3),
        # from 10 only: E 56 (SM's 09 is before the range); En 8; C 15; P 13
        (Filters(month_from="2022-10", month_to="2022-10"), date(2022, 10, 1), (56, 8, 15, 13), 1),
    ],
)
def test_kpi_month_range_moves_the_as_of_month(engine, filters, as_of, expected, months):
    kpi = kpi_summary(engine, filters)
    assert kpi["as_of"] == as_of
    assert tuple(int(kpi[k]) for k in BASE) == expected
    assert kpi["months"] == months


@pytest.mark.parametrize(
    ("filters", "as_of", "expected"),
    [
        # southwest: ST + SM. E at 10 = ST 25 + SM 33 (no 10 row: as of its latest report, 09) = 58
        # En 18+21 = 39; C 17+18 = 35; P 14+10 = 24
        (Filters(regions=("southwest",)), date(2022, 10, 1), (58, 39, 35, 24)),
        # southwest to 09: E at 09 = 23+33 = 56; En 8+2+7 + 10+9+2 = 38; C 2+4+5 + 0+8+10 = 29; P 2+3+4 + 0+2+8 = 19
        (Filters(regions=("southwest",), month_to="2022-09"), date(2022, 9, 1), (56, 38, 29, 19)),
        # capital: CT + CH + CL. E at 10 = 16+6+9 = 31; En 18+8+5 = 31; C 10+5+3 = 18; P 7+4+3 = 14
        (Filters(regions=("capital",)), date(2022, 10, 1), (31, 31, 18, 14)),
        # manufacturing = SM only, whose last month is 09: the as-of month follows the filter. E 33
        (Filters(sectors=("manufacturing",)), date(2022, 9, 1), (33, 21, 18, 10)),
        # technology: CT + ST. E 16+25 = 41; En 18+18 = 36; C 10+17 = 27; P 7+14 = 21
        (Filters(sectors=("technology",)), date(2022, 10, 1), (41, 36, 27, 21)),
        # capital AND technology = CT only: E 16; En 18; C 10; P 7
        (Filters(regions=("capital",), sectors=("technology",)), date(2022, 10, 1), (16, 18, 10, 7)),
        # CL up to 09: its latest row is 08: E 7; En 3; C 1; P 1
        (Filters(partnerships=("capital-logistics",), month_to="2022-09"), date(2022, 8, 1), (7, 3, 1, 1)),
        # CH + SM: as-of 10 (CH has it): E = CH 6 + SM 33 (its 09); En 8+21 = 29; C 5+18 = 23; P 4+10 = 14
        (
            Filters(partnerships=("capital-healthcare", "southwest-manufacturing")),
            date(2022, 10, 1),
            (39, 29, 23, 14),
        ),
        # both regions = everything
        (Filters(regions=("capital", "southwest")), date(2022, 10, 1), (89, 70, 53, 38)),
    ],
)
def test_kpi_region_sector_partnership_filters(engine, filters, as_of, expected):
    kpi = kpi_summary(engine, filters)
    assert kpi["as_of"] == as_of
    assert tuple(int(kpi[k]) for k in BASE) == expected


@pytest.mark.parametrize(
    "filters",
    [
        Filters(regions=("eastern",)),  # no fixture partnership in Eastern
        Filters(partnerships=("northwest-ace",)),  # registered, but no facts
        Filters(month_from="2023-01"),  # after the last month with data
        Filters(month_to="2022-06"),  # before the first month with data
        Filters(regions=("capital",), sectors=("manufacturing",)),  # no such combination with data
    ],
)
def test_kpi_empty_result_gives_zeros(engine, filters):
    kpi = kpi_summary(engine, filters)
    assert tuple(int(kpi[k]) for k in BASE) == (0, 0, 0, 0)
    assert kpi["months"] == 0
    assert kpi["reporting"] == 0
    assert pd.isna(kpi["completion_rate"])
    assert pd.isna(kpi["placement_rate"])
    assert kpi["as_of"] is None
    assert kpi["as_of_label"] == ""


def test_metrics_by_empty_grouped_result(engine):
    df = metrics_by(engine, Filters(regions=("eastern",)), by="region")
    assert len(df) == 0
    assert list(df.columns) == [
        "group_id",
        "group_name",
        *BASE,
        "completion_rate",
        "placement_rate",
        "placements_per_employer",
        "months",
        "reporting",
        "as_of",
    ]


# --------------------------------------------------------------------------- metrics_by


def test_metrics_by_sector(engine):
    df = metrics_by(engine, ALL, by="sector")
    # sorted by group_name
    assert list(df["group_id"]) == ["healthcare", "logistics", "manufacturing", "technology"]
    assert list(df["group_name"]) == ["Healthcare", "Logistics & Transportation", "Manufacturing", "Technology"]
    rows = {r["group_id"]: r for r in df.to_dict("records")}
    # healthcare = CH: E at 10 = 6; En 8; C 5; P 4
    assert values(rows["healthcare"]) == dict(zip(BASE, (6, 8, 5, 4), strict=True))
    # logistics = CL: E at 10 = 9; En 5; C 3; P 3
    assert values(rows["logistics"]) == dict(zip(BASE, (9, 5, 3, 3), strict=True))
    # manufacturing = SM: no row at the common as-of month 2022-10 -> E 33 of 09; En 21; C 18; P 10
    assert values(rows["manufacturing"]) == dict(zip(BASE, (33, 21, 18, 10), strict=True))
    # technology = CT + ST: E 16+25 = 41; En 36; C 27; P 21
    assert values(rows["technology"]) == dict(zip(BASE, (41, 36, 27, 21), strict=True))
    assert rows["manufacturing"]["reporting"] == 0
    assert rows["technology"]["reporting"] == 2
    assert rows["manufacturing"]["months"] == 3
    assert rows["technology"]["months"] == 4
    # every group is compared at the same month
    assert set(df["as_of"]) == {date(2022, 10, 1)}
    # rates per group: technology 27/36 and 21/27
    assert rows["technology"]["completion_rate"] == pytest.approx(27 / 36)
    assert rows["technology"]["placement_rate"] == pytest.approx(21 / 27)
    # group sums equal the overall figures: E 6+9+33+41 = 89, P 4+3+10+21 = 38
    assert df["employers_engaged"].sum() == 89
    assert df["placements"].sum() == 38


def test_metrics_by_region(engine):
    df = metrics_by(engine, ALL, by="region")
    assert list(df["group_id"]) == ["capital", "southwest"]
    assert list(df["group_name"]) == ["Capital", "Southwest"]
    # capital: E at 10 = 16+6+9 = 31; En 18+8+5 = 31; C 10+5+3 = 18; P 7+4+3 = 14
    assert values(df.iloc[0]) == dict(zip(BASE, (31, 31, 18, 14), strict=True))
    # southwest: E at 10 = 25 + SM's 33 of 09; En 18+21 = 39; C 17+18 = 35; P 14+10 = 24
    assert values(df.iloc[1]) == dict(zip(BASE, (58, 39, 35, 24), strict=True))
    assert list(df["reporting"]) == [3, 1]
    # southwest completion 35/39, placement 24/35
    assert df.loc[1, "completion_rate"] == pytest.approx(35 / 39)
    assert df.loc[1, "placement_rate"] == pytest.approx(24 / 35)


def test_metrics_by_region_with_month_range(engine):
    df = metrics_by(engine, Filters(month_from="2022-08", month_to="2022-09"), by="region")
    # capital at 09: CT 15 + CH 5 + CL 7 (its 08) = 27; En 6+4 + 6 + 3 = 19; C 2+3 + 2 + 1 = 8; P 1+2 + 1 + 1 = 5
    assert values(df.iloc[0]) == dict(zip(BASE, (27, 19, 8, 5), strict=True))
    # southwest at 09: ST 23 + SM 33 = 56; En 2+7 + 9+2 = 20; C 4+5 + 8+10 = 27; P 3+4 + 2+8 = 17
    assert values(df.iloc[1]) == dict(zip(BASE, (56, 20, 27, 17), strict=True))


def test_metrics_by_partnership(engine):
    df = metrics_by(engine, ALL, by="partnership")
    names = {p.id: p.name for p in registry().partnerships}
    assert list(df["group_name"]) == sorted(
        names[r]
        for r in [
            "capital-healthcare",
            "capital-logistics",
            "capital-technology",
            "southwest-technology",
            "southwest-manufacturing",
        ]
    )
    assert list(df["group_id"]) == [
        "capital-healthcare",  # Capital Area Healthcare Partnership
        "capital-logistics",  # Capital Area Logistics & Transportation Partnership
        "capital-technology",  # Capital Area Tech Partnership
        "southwest-technology",  # Southwest CT Tech Hub
        "southwest-manufacturing",  # Southwest Region Manufacturing Partnership
    ]
    rows = {r["group_id"]: r for r in df.to_dict("records")}
    assert all(rows[k]["group_name"] == names[k] for k in rows)
    assert values(rows["capital-healthcare"]) == dict(zip(BASE, (6, 8, 5, 4), strict=True))
    assert values(rows["capital-logistics"]) == dict(zip(BASE, (9, 5, 3, 3), strict=True))
    assert values(rows["capital-technology"]) == dict(zip(BASE, (16, 18, 10, 7), strict=True))
    assert values(rows["southwest-technology"]) == dict(zip(BASE, (25, 18, 17, 14), strict=True))
    # SM: stock at the common as-of month 2022-10 where it has no row: as of its latest report, 33 of 2022-09
    assert values(rows["southwest-manufacturing"]) == dict(zip(BASE, (33, 21, 18, 10), strict=True))
    assert rows["southwest-manufacturing"]["reporting"] == 0
    # CL months: 08 and 10 = 2
    assert rows["capital-logistics"]["months"] == 2
    # per-partnership ratios: CT completion 10/18, ST placement 14/17
    assert rows["capital-technology"]["completion_rate"] == pytest.approx(10 / 18)
    assert rows["southwest-technology"]["placement_rate"] == pytest.approx(14 / 17)
    # SM completion: 18/21
    assert rows["southwest-manufacturing"]["completion_rate"] == pytest.approx(18 / 21)


def test_metrics_by_partnership_rate_with_zero_denominator(engine):
    # SM 07 only: C 0 -> placement rate undefined (NaN), completion 0/10 = 0.0
    df = metrics_by(engine, Filters(partnerships=("southwest-manufacturing",), month_to="2022-07"), by="partnership")
    assert df.loc[0, "completion_rate"] == 0.0
    assert pd.isna(df.loc[0, "placement_rate"])


# --------------------------------------------------------------------------- monthly_totals


def test_monthly_totals_without_split(engine):
    df = monthly_totals(engine, ALL)
    assert list(df.columns) == ["month", "group_id", "group_name", *BASE, *RATES]
    assert list(df["month"]) == list(pd.to_datetime(["2022-07-01", "2022-08-01", "2022-09-01", "2022-10-01"]))
    assert set(df["group_id"]) == {"all"}
    assert set(df["group_name"]) == {"All partnerships"}
    # per month (conftest): E 60, 71, 76 + CL's 7 of 08 = 83, 56 + SM's 33 of 09 = 89; En 23, 20, 19, 8;
    # C 3, 15, 20, 15; P 3, 7, 15, 13
    assert list(df["employers_engaged"]) == [60, 71, 83, 89]
    assert list(df["trainees_enrolled"]) == [23, 20, 19, 8]
    assert list(df["trainees_completed"]) == [3, 15, 20, 15]
    assert list(df["placements"]) == [3, 7, 15, 13]


def test_monthly_totals_with_month_filter(engine):
    df = monthly_totals(engine, Filters(month_from="2022-08", month_to="2022-09"))
    assert list(df["placements"]) == [7, 15]
    assert list(df["employers_engaged"]) == [71, 83]


def test_monthly_totals_split_by_region(engine):
    df = monthly_totals(engine, ALL, split="region")
    got = [
        (r["month"].strftime("%Y-%m"), r["group_id"], r["group_name"], *(int(r[k]) for k in BASE))
        for r in df.to_dict("records")
    ]
    assert got == [
        ("2022-07", "capital", "Capital", 10, 5, 1, 1),  # CT
        ("2022-07", "southwest", "Southwest", 50, 18, 2, 2),  # ST (20,8,2,2) + SM (30,10,0,0)
        ("2022-08", "capital", "Capital", 19, 9, 3, 2),  # CT (12,6,2,1) + CL (7,3,1,1)
        ("2022-08", "southwest", "Southwest", 52, 11, 12, 5),  # ST (21,2,4,3) + SM (31,9,8,2)
        ("2022-09", "capital", "Capital", 27, 10, 5, 3),  # CT (15,4,3,2) + CH (5,6,2,1) + CL's 7 of 08
        ("2022-09", "southwest", "Southwest", 56, 9, 15, 12),  # ST (23,7,5,4) + SM (33,2,10,8)
        ("2022-10", "capital", "Capital", 31, 7, 9, 8),  # CT (16,3,4,3) + CH (6,2,3,3) + CL (9,2,2,2)
        ("2022-10", "southwest", "Southwest", 58, 1, 6, 5),  # ST, and SM's 33 of 09 (it has no 10 row)
    ]


def test_monthly_totals_split_by_sector_and_partnership(engine):
    df = monthly_totals(engine, ALL, split="sector")
    oct_ = df[df["month"] == pd.Timestamp("2022-10-01")]
    # 2022-10: Healthcare CH (6,2,3,3), Logistics CL (9,2,2,2), Manufacturing SM's employers of 09 only (33,0,0,0),
    # Technology CT+ST (41,4,10,8)
    assert list(oct_["group_name"]) == ["Healthcare", "Logistics & Transportation", "Manufacturing", "Technology"]
    assert [int(v) for v in oct_["employers_engaged"]] == [6, 9, 33, 41]
    assert [int(v) for v in oct_["trainees_enrolled"]] == [2, 2, 0, 4]
    per_rsp = monthly_totals(engine, ALL, split="partnership")
    # every fact, and the two carried stocks: CL in 09 (its 7 of 08), SM in 10 (its 33 of 09)
    assert len(per_rsp) == len(FACTS) + 2 == 17
    carried = per_rsp[per_rsp["trainees_enrolled"].eq(0) & per_rsp["employers_engaged"].gt(0)]
    assert [(m.strftime("%Y-%m"), g, e) for m, g, e in carried[["month", "group_id", "employers_engaged"]].values] == [
        ("2022-09", "capital-logistics", 7),
        ("2022-10", "southwest-manufacturing", 33),
    ]


# --------------------------------------------------------------------------- trends


@pytest.fixture(scope="module")
def totals(engine):
    return monthly_totals(engine, ALL)


def test_trend_flow_monthly_quarterly_cumulative(totals):
    monthly = metric_series(totals, "placements", "monthly")
    assert list(monthly["value"]) == [3, 7, 15, 13]
    assert list(monthly["period_label"]) == ["Jul 2022", "Aug 2022", "Sep 2022", "Oct 2022"]

    quarterly = metric_series(totals, "placements", "quarterly")
    # Q3 = 3+7+15 = 25; Q4 = 13
    assert list(quarterly["value"]) == [25, 13]
    assert list(quarterly["period_label"]) == ["2022 Q3", "2022 Q4"]
    assert list(quarterly["months_in_period"]) == [3, 1]
    assert list(quarterly["period"]) == [pd.Timestamp("2022-07-01"), pd.Timestamp("2022-10-01")]

    cumulative = metric_series(totals, "placements", "cumulative")
    # 3, 3+7 = 10, 10+15 = 25, 25+13 = 38
    assert list(cumulative["value"]) == [3, 10, 25, 38]


def test_trend_enrolled_quarterly(totals):
    # En: Q3 = 23+20+19 = 62; Q4 = 8
    assert list(metric_series(totals, "trainees_enrolled", "quarterly")["value"]) == [62, 8]


def test_trend_stock_employers(totals):
    monthly = metric_series(totals, "employers_engaged", "monthly")
    assert list(monthly["value"]) == [60, 71, 83, 89]
    quarterly = metric_series(totals, "employers_engaged", "quarterly")
    # Q3 = value at 2022-09 = 83 (not 60+71+83 = 214); Q4 = value at 2022-10 = 89
    assert list(quarterly["value"]) == [83, 89]
    cumulative = metric_series(totals, "employers_engaged", "cumulative")
    # never accumulated: month-end counts unchanged (not 60, 131, 214, 303)
    assert list(cumulative["value"]) == [60, 71, 83, 89]


def test_trend_placement_rate(totals):
    monthly = metric_series(totals, "placement_rate", "monthly")
    # P/C per month: 3/3, 7/15, 15/20, 13/15
    assert list(monthly["value"]) == pytest.approx([3 / 3, 7 / 15, 15 / 20, 13 / 15])
    quarterly = metric_series(totals, "placement_rate", "quarterly")
    # Q3 = (3+7+15)/(3+15+20) = 25/38 (mean of monthly rates would be (1+7/15+0.75)/3 = 0.7389); Q4 = 13/15
    assert list(quarterly["value"]) == pytest.approx([25 / 38, 13 / 15])
    assert quarterly["value"].iloc[0] != pytest.approx((1 + 7 / 15 + 0.75) / 3)
    cumulative = metric_series(totals, "placement_rate", "cumulative")
    # running sums: P 3, 10, 25, 38 over C 3, 18, 38, 53
    assert list(cumulative["value"]) == pytest.approx([3 / 3, 10 / 18, 25 / 38, 38 / 53])


def test_trend_completion_rate_cumulative(totals):
    # running sums: C 3, 18, 38, 53 over En 23, 43, 62, 70
    cumulative = metric_series(totals, "completion_rate", "cumulative")
    assert list(cumulative["value"]) == pytest.approx([3 / 23, 18 / 43, 38 / 62, 53 / 70])


def test_trend_split_by_region(engine):
    split = monthly_totals(engine, ALL, split="region")
    q_emp = metric_series(split, "employers_engaged", "quarterly")
    got = [(r["period_label"], r["group_id"], r["value"]) for r in q_emp.to_dict("records")]
    # Q3 at 2022-09: capital 27 (CL's of 08), southwest 56; Q4 at 2022-10: capital 31, southwest 58 (SM's of 09)
    assert got == [
        ("2022 Q3", "capital", 27),
        ("2022 Q3", "southwest", 56),
        ("2022 Q4", "capital", 31),
        ("2022 Q4", "southwest", 58),
    ]

    q_pl = metric_series(split, "placements", "quarterly")
    # capital Q3 1+2+3 = 6, Q4 8; southwest Q3 2+5+12 = 19, Q4 5
    assert [r["value"] for r in q_pl.to_dict("records")] == [6, 19, 8, 5]

    cum_rate = metric_series(split, "placement_rate", "cumulative")
    capital = cum_rate[cum_rate["group_id"] == "capital"]["value"]
    # capital P running 1, 3, 6, 14 over C running 1, 4, 9, 18
    assert list(capital) == pytest.approx([1 / 1, 3 / 4, 6 / 9, 14 / 18])
    southwest = cum_rate[cum_rate["group_id"] == "southwest"]["value"]
    # southwest P running 2, 7, 19, 24 over C running 2, 14, 29, 35
    assert list(southwest) == pytest.approx([2 / 2, 7 / 14, 19 / 29, 24 / 35])


def test_trend_empty_frame_and_bad_view(engine):
    empty = monthly_totals(engine, Filters(regions=("eastern",)))
    out = metric_series(empty, "placements", "quarterly")
    assert out.empty
    with pytest.raises(ValueError):
        metric_series(monthly_totals(engine, ALL), "placements", "yearly")


# --------------------------------------------------------------------------- goals


def test_goal_progress_full(engine):
    gp = goal_progress(engine, ALL)
    # gjc partnerships (CT, ST, SM, CH; not CL), months >= 2022-08:
    #   08: CT 1 + ST 3 + SM 2 = 6   (CL's 1 excluded)
    #   09: CT 2 + ST 4 + SM 8 + CH 1 = 15
    #   10: CT 3 + ST 5 + CH 3 = 11  (CL's 2 excluded)
    #   total 6 + 15 + 11 = 32  (2022-07's 3 not counted: before the grant)
    assert gp.placements == 32
    assert gp.goal == 2000
    assert gp.since == date(2022, 8, 1)
    assert gp.through == date(2022, 10, 1)
    assert gp.partnerships == 4
    assert gp.share == pytest.approx(32 / 2000)


def test_goal_progress_ignores_month_from_but_honours_month_to(engine):
    # month_from is ignored: still counted from 2022-08 -> 32
    assert goal_progress(engine, Filters(month_from="2022-10")).placements == 32
    assert goal_progress(engine, Filters(month_from="2022-07")).placements == 32
    # through 2022-09: 6 + 15 = 21
    gp = goal_progress(engine, Filters(month_from="2022-09", month_to="2022-09"))
    assert gp.placements == 21
    assert gp.through == date(2022, 9, 1)
    # through 2022-07: nothing since the grant began
    before = goal_progress(engine, Filters(month_to="2022-07"))
    assert before.placements == 0
    assert before.through is None
    assert before.partnerships == 0


def test_goal_progress_with_filters(engine):
    # southwest: 08: ST 3 + SM 2 = 5; 09: 4 + 8 = 12; 10: ST 5 -> 22
    sw = goal_progress(engine, Filters(regions=("southwest",)))
    assert sw.placements == 22
    assert sw.partnerships == 2
    # capital: 08: CT 1 (CL excluded) ; 09: CT 2 + CH 1 = 3; 10: CT 3 + CH 3 = 6 -> 10
    assert goal_progress(engine, Filters(regions=("capital",))).placements == 10
    # logistics (CL) is not grant-supported -> 0
    lg = goal_progress(engine, Filters(sectors=("logistics",)))
    assert lg.placements == 0
    assert lg.partnerships == 0
    # chosen partnerships (summed from the facts): CH 09 1 + 10 3 = 4; CL's 1 + 2 excluded
    chosen = goal_progress(engine, Filters(partnerships=("capital-healthcare", "capital-logistics")))
    assert chosen.placements == 4
    assert chosen.partnerships == 1


def test_grant_placements_by_month(engine):
    df = grant_placements_by_month(engine, Filters(month_from="2022-10"))  # month_from ignored
    assert list(df.columns) == ["month", "placements", "cumulative"]
    assert list(df["month"]) == list(pd.to_datetime(["2022-08-01", "2022-09-01", "2022-10-01"]))
    # 6, 15, 11 (see test_goal_progress_full); cumulative 6, 21, 32
    assert list(df["placements"]) == [6, 15, 11]
    assert list(df["cumulative"]) == [6, 21, 32]

    to_sep = grant_placements_by_month(engine, Filters(month_to="2022-09"))
    assert list(to_sep["placements"]) == [6, 15]
    assert list(to_sep["cumulative"]) == [6, 21]

    none = grant_placements_by_month(engine, Filters(sectors=("logistics",)))
    assert none.empty


# --------------------------------------------------------------------------- registry


def test_month_bounds(engine):
    assert month_bounds(engine) == ("2022-07", "2022-10")


def test_month_bounds_empty_store(tmp_path):
    from rsp_data.store import init_store, make_engine

    eng = make_engine(f"sqlite:///{tmp_path}/empty.sqlite")
    init_store(eng)
    assert month_bounds(eng) == (None, None)
    eng.dispose()


def test_partnership_list(engine):
    df = partnership_list(engine)
    reg = registry()
    assert len(df) == 14
    assert dict(zip(df["rsp_id"], df["name"], strict=True)) == {p.id: p.name for p in reg.partnerships}
    assert list(df["name"]) == sorted(p.name for p in reg.partnerships)
    assert int(df["gjc_supported"].sum()) == 10
    rows = df.set_index("rsp_id")
    assert rows.loc["southwest-manufacturing", "sector_name"] == "Manufacturing"
    assert rows.loc["southwest-manufacturing", "region_name"] == "Southwest"
    assert rows.loc["southwest-manufacturing", "first_month"] == "2022-07"
    assert rows.loc["southwest-manufacturing", "last_month"] == "2022-09"
    assert rows.loc["capital-healthcare", "first_month"] == "2022-09"
    assert rows.loc["northwest-ace", "first_month"] == ""  # no data
    assert rows.loc["northwest-ace", "last_month"] == ""
    assert not bool(rows.loc["capital-logistics", "gjc_supported"])


@pytest.mark.parametrize("order_by", ["placements", "group_name"])  # from arrays; by name in SQL
def test_a_ranked_page_has_the_registry_columns_of_partnership_list(engine, order_by):
    """A page of partnership_rows (the map, the table) carries each partnership's registry columns:
    the same values partnership_list gives, read per partnership for the page."""
    from queries.metrics import partnership_rows

    listed = partnership_list(engine).set_index("rsp_id")
    page = partnership_rows(engine, Filters(month_from="2022-08"), order_by=order_by, limit=4, offset=1)
    assert len(page) == 4  # of the 5 that reported from 2022-08
    assert page["group_name"].tolist() == listed.loc[page["rsp_id"], "name"].tolist()
    for column in ("sector_name", "region_name", "first_month", "last_month", "gjc_supported", "region_id"):
        assert page[column].tolist() == listed.loc[page["rsp_id"], column].tolist(), column
    assert {m for m in page["first_month"]} <= {"2022-07", "2022-08", "2022-09"}


# --------------------------------------------------------------------------- data


def test_monthly_rows(engine):
    df = monthly_rows(engine, ALL)
    assert len(df) == 15
    assert list(df.columns) == [
        "rsp_id",
        "partnership",
        "sector",
        "region",
        "month",
        *STORED_KEYS,
        "source",
    ]
    assert set(df["source"]) == {"imported"}
    # ordered by partnership id, then month (the facts' primary key: pages are index ranges)
    keys = list(zip(df["rsp_id"], df["month"], strict=True))
    assert keys == sorted(keys)
    assert monthly_row_count(engine, ALL) == 15
    first = df.iloc[0].to_dict()
    assert first["rsp_id"] == "capital-healthcare"
    assert first["partnership"] == "Capital Area Healthcare Partnership"
    assert first["sector"] == "Healthcare"
    assert first["region"] == "Capital"
    assert first["month"] == "2022-09"
    assert values(first) == dict(zip(BASE, (5, 6, 2, 1), strict=True))

    # capital: CT 4 + CH 2 + CL 2 = 8 rows; capital up to 09: CT 3 + CH 1 + CL 1 = 5
    assert len(monthly_rows(engine, Filters(regions=("capital",)))) == 8
    assert len(monthly_rows(engine, Filters(regions=("capital",), month_to="2022-09"))) == 5
    assert len(monthly_rows(engine, Filters(regions=("eastern",)))) == 0
    # No rows selected counts 0 rows (not an error), from the rollups and from the facts.
    assert monthly_row_count(engine, Filters(regions=("eastern",))) == 0
    assert monthly_row_count(engine, Filters(partnerships=("northwest-ace",))) == 0


def test_monthly_rows_page_by_key_through_every_row_once(engine):
    everything = monthly_rows(engine, ALL)
    pages, after = [], None
    while True:
        page = monthly_rows(engine, ALL, after=after, limit=4)
        if page.empty:
            break
        pages.append(page)
        after = (page.iloc[-1]["rsp_id"], page.iloc[-1]["month"])
    assert [len(p) for p in pages] == [4, 4, 4, 3]
    assert pd.concat(pages, ignore_index=True).equals(everything)
    one = Filters(partnerships=("capital-healthcare",))
    assert monthly_row_count(engine, one) == len(monthly_rows(engine, one)) > 0


def _facts_in_pandas(engine, filters: Filters, after: tuple[str, str] | None = None) -> list[tuple]:
    """The answer from the hand-made facts in pandas: (rsp_id, month, E, En, C, P), by key."""
    with engine.connect() as conn:
        registry_rows = conn.exec_driver_sql("SELECT rsp_id, region_id, sector_id FROM partnerships").all()
    where = {rsp: (region, sector) for rsp, region, sector in registry_rows}
    df = pd.DataFrame(FACTS, columns=["rsp_id", "month", *BASE])
    keep = pd.Series(True, index=df.index)
    if filters.regions:
        keep &= df["rsp_id"].map(lambda r: where[r][0] in filters.regions)
    if filters.sectors:
        keep &= df["rsp_id"].map(lambda r: where[r][1] in filters.sectors)
    if filters.partnerships:
        keep &= df["rsp_id"].isin(filters.partnerships)
    if filters.month_from:
        keep &= df["month"] >= filters.month_from
    if filters.month_to:
        keep &= df["month"] <= filters.month_to
    if after is not None:
        keep &= pd.Series([(r, m) > after for r, m in zip(df["rsp_id"], df["month"], strict=True)], index=df.index)
    return sorted(df[keep].itertuples(index=False, name=None))


def _row_keys(df: pd.DataFrame) -> list[tuple]:
    return [(r, m, *map(int, v)) for r, m, *v in df[["rsp_id", "month", *BASE]].itertuples(index=False)]


PAGED_FILTERS = {
    "all": ALL,
    # SM has no row in 2022-10: its span ends before the range
    "from 2022-10": Filters(month_from="2022-10"),
    # CH starts in 2022-09 and CL reports in 2022-08 only up to here: both have no row in range
    "to 2022-07": Filters(month_to="2022-07"),
    # CL's span (2022-08..2022-10) covers 2022-09 but it has no row there: a gap inside a span
    "only 2022-09": Filters(month_from="2022-09", month_to="2022-09"),
    "capital 08-09": Filters(regions=("capital",), month_from="2022-08", month_to="2022-09"),
    "southwest technology": Filters(regions=("southwest",), sectors=("technology",)),
    "technology": Filters(sectors=("technology",)),
    "two partnerships": Filters(partnerships=("capital-logistics", "southwest-manufacturing")),
    # eastern's partnerships and capital-manufacturing are in the registry with no facts at all
    "partnerships without facts": Filters(regions=("eastern",)),
    "capital manufacturing": Filters(regions=("capital",), sectors=("manufacturing",)),
    "no partnership matches": Filters(regions=("southwest",), sectors=("healthcare",)),
}


@pytest.mark.parametrize("name", list(PAGED_FILTERS))
@pytest.mark.parametrize("limit", [1, 2, 3, 100])
@pytest.mark.parametrize("first_candidates", [1, 8])
def test_monthly_rows_pages_walked_to_the_end_equal_the_facts_in_pandas(
    engine, monkeypatch, name, limit, first_candidates
):
    # first_candidates=1: the partnerships that fill a page are asked for in growing batches
    monkeypatch.setattr("queries.data.FIRST_CANDIDATES", first_candidates)
    filters = PAGED_FILTERS[name]
    expected = _facts_in_pandas(engine, filters)
    pages, after = [], None
    while len(pages) <= len(FACTS):  # bounded: a page that repeats itself fails below, not forever
        page = monthly_rows(engine, filters, after=after, limit=limit)
        if page.empty:
            break
        assert list(page.columns) == ["rsp_id", "partnership", "sector", "region", "month", *STORED_KEYS, "source"]
        pages.append(page)
        after = (page.iloc[-1]["rsp_id"], page.iloc[-1]["month"])
    # every row exactly once, in key order; every page full but the last
    assert [_row_keys(p) for p in pages] == [expected[i : i + limit] for i in range(0, len(expected), limit)]
    everything = monthly_rows(engine, filters)  # the download: no limit
    assert _row_keys(everything) == expected
    if pages:
        assert pd.concat(pages, ignore_index=True).equals(everything)


@pytest.mark.parametrize(
    ("filters", "after", "rows"),
    [
        # the key's partnership is outside the region: the page starts at the next one inside it
        (Filters(regions=("southwest",)), ("capital-technology", "2022-07"), 7),
        # the key is the last month of its partnership: CT 08-10, SM 08-09, ST 08-10
        (Filters(month_from="2022-08"), ("capital-logistics", "2022-10"), 8),
        # mid-partnership, with a month range: CT 2022-09 (not 08, the key), then ST 08-09, SM 08-09
        (Filters(month_from="2022-08", month_to="2022-09"), ("capital-technology", "2022-08"), 5),
        # a key past every partnership
        (ALL, ("zzz", "2022-07"), 0),
    ],
)
def test_monthly_rows_page_after_a_key(engine, filters, after, rows):
    expected = _facts_in_pandas(engine, filters, after)
    assert len(expected) == rows
    assert _row_keys(monthly_rows(engine, filters, after=after, limit=100)) == expected
    assert _row_keys(monthly_rows(engine, filters, after=after, limit=2)) == expected[:2]


def test_load_history(engine, demo_engine):
    hist = load_history(engine)
    assert len(hist) == 1
    row = hist.iloc[0]
    assert row["kind"] == "import"
    assert row["file_name"] == "hand_made.csv"
    assert int(row["rows_held"]) == 15

    # The demo: one batch a day its rows were sent (newest first), each holding the facts whose latest
    # row it sent (the first report of the corrected month is no longer held); all the facts together.
    demo = load_history(demo_engine)
    assert set(demo["kind"]) == {"demo"}
    sent = read_demo_rows(as_sent=True)
    latest = {(r["rsp_id"], r["month"]): r["sent_on"] for r in sent}
    days = [loaded_day(v) for v in demo["loaded_at"]]
    assert days == sorted({r["sent_on"] for r in sent}, reverse=True)
    assert len(demo) == 168
    held = dict(zip(days, demo["rows_held"].astype(int), strict=True))
    assert held == {day: sum(1 for d in latest.values() if d == day) for day in days}
    assert sum(held.values()) == len(read_demo_rows()) == 911


def loaded_day(value) -> date:
    """A batch's loaded_at as a day in Connecticut (SQLite returns UTC without a zone)."""
    ts = pd.Timestamp(value)
    return (ts if ts.tzinfo else ts.tz_localize("UTC")).tz_convert(CONNECTICUT).date()


def test_a_suppression_table_beyond_its_rows_still_adds_up_to_the_months_totals(demo_engine):
    """The Data quality table of under-represented trainees with 3 rows: 2 leaders and "Other partnerships (n)";
    its columns add up to each month's total, and the leaders' rows are their own counts."""
    from queries.metrics import partnership_rows
    from queries.quality import quality_monthly, suppressed_by_month

    counts, reported = suppressed_by_month(demo_engine, ALL, "trainees_underrepresented", max_rows=3)
    assert len(counts) == 3 and counts.index[-1].startswith("Other partnerships (")
    monthly = quality_monthly(demo_engine, ALL).set_index("month")["trainees_underrepresented"]
    last = [pd.Timestamp(f"{m}-01") for m in counts.columns]
    assert counts.sum().tolist() == monthly.loc[last].tolist()
    window = Filters(month_from=counts.columns[0], month_to=counts.columns[-1])
    rows = partnership_rows(demo_engine, window, limit=None, metrics=("trainees_underrepresented",))
    names = rows.set_index("group_name")["trainees_underrepresented"]
    assert counts.iloc[:2].sum(axis=1).tolist() == names.loc[counts.index[:2]].tolist()
    assert reported.iloc[:2].any(axis=1).all()


def test_illustrative_share(engine, demo_engine):
    assert illustrative_share(engine, ALL) == 0.0
    assert illustrative_share(engine, Filters(regions=("eastern",))) == 0.0  # no rows: 0.0, no error
    assert illustrative_share(demo_engine, ALL) == 1.0
    assert illustrative_share(demo_engine, Filters(regions=("capital",))) == 1.0


# --------------------------------------------------------------------------- the full demo store


def demo_csv_facts() -> list[dict]:
    """The committed CSV's facts, by hand: the latest row sent for each partnership-month."""
    with open(DEMO_FILE, newline="", encoding="utf-8") as fh:
        return list({(r["rsp_id"], r["month"]): r for r in csv.DictReader(fh)}.values())


def test_demo_store_kpis_match_the_csv(demo_engine):
    rows = demo_csv_facts()
    last = max(r["month"] for r in rows)
    assert last == "2026-10"
    employers_at_last = sum(int(r["employers_engaged"]) for r in rows if r["month"] == last)
    placements = sum(int(r["placements"]) for r in rows)
    enrolled = sum(int(r["trainees_enrolled"]) for r in rows)
    completed = sum(int(r["trainees_completed"]) for r in rows)
    # The headline figures, checked once by hand against the file: 12 of 14 partnerships sent October; the other
    # two (capital-logistics 22, northwest-ace 20) count as of their latest report, September.
    assert (employers_at_last, placements) == (510, 2378)
    latest_sep = {r["rsp_id"]: int(r["employers_engaged"]) for r in rows if r["month"] == "2026-09"}
    assert (latest_sep["capital-logistics"], latest_sep["northwest-ace"]) == (22, 20)

    kpi = kpi_summary(demo_engine, ALL)
    assert kpi["as_of_label"] == "2026-10"
    assert kpi["employers_engaged"] == employers_at_last + 22 + 20 == 552
    assert (kpi["reporting"], kpi["carried"], kpi["carried_months"]) == (12, 2, ["2026-09"])
    assert kpi["placements"] == placements
    assert kpi["trainees_enrolled"] == enrolled
    assert kpi["trainees_completed"] == completed
    assert kpi["placement_rate"] == pytest.approx(placements / completed)
    # a sum of the stock over months would be far larger
    assert kpi["employers_engaged"] < sum(int(r["employers_engaged"]) for r in rows)


def test_demo_store_goal_progress_matches_the_csv(demo_engine):
    gjc = {p.id for p in registry().partnerships if p.gjc_supported}
    expected = sum(int(r["placements"]) for r in demo_csv_facts() if r["rsp_id"] in gjc and r["month"] >= "2022-08")
    assert goal_progress(demo_engine, ALL).placements == expected
    assert int(grant_placements_by_month(demo_engine, ALL)["cumulative"].iloc[-1]) == expected


@pytest.mark.parametrize("by", ["sector", "region", "partnership"])
def test_demo_store_groups_add_up_to_the_kpis(demo_engine, by):
    kpi = kpi_summary(demo_engine, ALL)
    df = metrics_by(demo_engine, ALL, by=by)
    for key in BASE:
        assert int(df[key].sum()) == int(kpi[key]), key
    assert set(df["as_of"]) == {kpi["as_of"]}


def test_search_ignores_case_and_takes_wildcards_literally(demo_engine):
    from queries.metrics import partnership_count
    from queries.registry import search_partnerships

    lower = search_partnerships(demo_engine, "northwest")
    assert len(lower) >= 1 and all("northwest" in f"{n} {i}".lower() for i, n in lower.itertuples(index=False))
    for text in ("NORTHWEST", "NorthWest", "  northWEST "):
        assert search_partnerships(demo_engine, text)["rsp_id"].tolist() == lower["rsp_id"].tolist()
        assert partnership_count(demo_engine, Filters(), search=text) == len(lower)
    assert search_partnerships(demo_engine, "north%west").empty  # % is a character, not "anything"
    assert search_partnerships(demo_engine, "north_est").empty


@pytest.mark.parametrize("order_by", ["placements", "placement_rate", "group_name"])
def test_a_page_past_the_last_partnership_is_empty(engine, order_by):
    """Paging past the end (a stale link, the last page's Next) gives no rows and the page's columns."""
    from queries.metrics import partnership_rows

    everyone = partnership_rows(engine, ALL, order_by=order_by, limit=None)
    past = partnership_rows(engine, ALL, order_by=order_by, limit=25, offset=len(everyone) + 5)
    assert past.empty
    assert set(past.columns) == set(everyone.columns)


def test_search_finds_names_holding_wildcard_characters_literally(stores):
    """A name with "_", "%" or "\\" is found by exactly those characters, and only by them."""
    from sqlalchemy import update

    from queries.registry import search_partnerships
    from rsp_data.schema import partnerships

    eng = stores.engine("search")
    renamed = {"capital-technology": "Tech_Works CT", "capital-healthcare": "Care 100% CT", "capital-logistics": "A\\B"}
    with eng.begin() as conn:
        for rsp_id, name in renamed.items():
            conn.execute(update(partnerships).where(partnerships.c.rsp_id == rsp_id).values(name=name))

    def found(text: str) -> list[str]:
        return search_partnerships(eng, text)["name"].tolist()

    assert found("h_w") == ["Tech_Works CT"]
    assert found("0% c") == ["Care 100% CT"]
    assert found("a\\b") == ["A\\B"]
    assert found("tech%ct") == [] and found("care_100") == []
    eng.dispose()
