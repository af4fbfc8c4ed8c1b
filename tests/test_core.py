"""The core's promises a wrong edit would break silently: every metric kind aggregates as declared,
the "All other" row is a ratio of its sums, and a download escapes its headers too."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest

from queries._base import figures, needs
from queries.metrics import top_with_others
from rsp_data.metrics import (
    ADULTS,
    AVERAGE,
    DECLARED,
    FLOW,
    METRICS,
    PER_ADULTS,
    RATE,
    STOCK,
    SUMS,
    parts,
    reported,
    value,
)
from ui.export import safe_csv


def test_every_kind_is_computed_from_its_sums():
    sums = {s.name: np.array([6.0, 0.0]) for s in SUMS}
    sums |= {"placements": np.array([3.0, 1.0]), "trainees_completed": np.array([4.0, 0.0])}
    sums |= {ADULTS: np.array([30_000.0, 0.0])}  # the areas' adults, beside the sums of the store
    for metric in DECLARED:
        got = value(metric.key, sums)
        if metric.kind in (STOCK, FLOW):
            assert got.tolist() == sums[metric.key].tolist(), metric.key
        else:
            num, den = (sums[p] for p in parts(metric.key))
            scale = 10_000 if metric.kind == PER_ADULTS else 1
            assert got[0] == pytest.approx(num[0] * scale / den[0]), metric.key
            assert math.isnan(got[1]), metric.key  # no denominator: no value, not 0
    assert value("placement_rate", sums).tolist()[0] == 0.75
    assert value("placements_per_10k_adults", sums).tolist()[0] == 1.0  # 3 placements for 30,000 adults
    one = {"placements": np.array([1.0]), "trainees_completed": np.array([1.0])}
    assert value("placement_rate", one).tolist() == [1.0]  # one completion is a denominator like any other


def test_parts_follow_the_kind():
    # A weighted average divides its value × weight by the weight of the rows that reported it;
    # a rate over an optional numerator divides by the denominator of those rows only.
    assert parts("avg_starting_wage") == ("avg_starting_wage_weighted", "avg_starting_wage_weight")
    assert parts("placement_rate") == ("placements", "trainees_completed")
    assert parts("no_bachelor_share") == ("placements_no_bachelor", "no_bachelor_share_base")
    assert parts("credential_rate") == ("credentials_earned", "credential_rate_base")
    by_name = {s.name: s for s in SUMS}
    assert by_name["avg_starting_wage_weighted"].weight == "placements"
    assert by_name["avg_starting_wage_weight"].when == "avg_starting_wage"
    assert by_name["credential_rate_base"].source == "trainees_completed"
    assert by_name["credential_rate_base"].when == "credentials_earned"
    assert by_name[reported("wbl_started")].count
    for metric in DECLARED:
        assert set(needs(metric.key)) <= set(by_name), metric.key
        if metric.kind in (RATE, AVERAGE):
            assert len(needs(metric.key)) == 2


def test_the_all_other_row_is_a_ratio_of_the_summed_sums():
    columns = {
        "group_id": ["a", "b", "c", "d"],
        "group_name": ["A", "B", "C", "D"],
        "placements": [90, 5, 1, 4],
        "trainees_completed": [100, 10, 1, 40],
        "trainees_enrolled": [200, 20, 2, 80],
        "employers_engaged": [10, 1, 1, 2],
        "months": [3, 3, 3, 3],
    }
    rows = figures(columns, as_of=None)
    got = top_with_others(rows, "placements", 2, "partnerships").set_index("group_id")
    assert got.index.tolist() == ["a", "others"]
    other = got.loc["others"]
    assert other["placements"] == 10 and other["trainees_completed"] == 51
    assert other["placement_rate"] == pytest.approx(10 / 51)  # not the mean of 0.5, 1.0 and 0.1
    assert other["group_name"] == "All other 3 partnerships"


def test_a_sum_the_store_leaves_null_reads_as_zero():
    """A group whose sums come back NULL (nothing reported) shows 0 counts and no rate, beside a group with figures."""
    rows = figures(
        {
            "group_id": ["a", "b"],
            "group_name": ["A", "B"],
            "placements": [3, None],
            "trainees_completed": [4, None],
            "avg_starting_wage_weighted": [67.5, None],
            "avg_starting_wage_weight": [3, None],
            "months": [2, None],
        },
        as_of=None,
    ).set_index("group_id")
    assert rows["placements"].tolist() == [3, 0]
    assert rows["months"].tolist() == [2, 0]
    assert rows.loc["a", "placement_rate"] == 0.75 and math.isnan(rows.loc["b", "placement_rate"])
    assert rows.loc["a", "avg_starting_wage"] == 22.5 and math.isnan(rows.loc["b", "avg_starting_wage"])


def test_a_download_escapes_headers_and_cells():
    # Registry names become a matrix's column headers: they are escaped like any cell.
    matrix = pd.DataFrame({"Sector": ['=HYPERLINK("x")'], "@Region": [1.0], "+Other": [2.0]})
    rows = list(csv.reader(io.StringIO(safe_csv(matrix).decode("utf-8-sig"))))
    assert rows[0] == ["Sector", "'@Region", "'+Other"]
    assert rows[1][0] == '\'=HYPERLINK("x")'


def test_a_download_escapes_formulas_in_a_column_that_mixes_numbers_and_text():
    # A registry column can hold a number for one partnership and text for another (registry.toml values).
    table = pd.DataFrame({"Partnership": ["a", "b"], "grant_code": [1234, '=HYPERLINK("x")'], "placements": [3, 4]})
    assert table["grant_code"].dtype == object
    assert list(csv.reader(io.StringIO(safe_csv(table).decode("utf-8-sig")))) == [
        ["Partnership", "grant_code", "placements"],
        ["a", "1234", "3"],
        ["b", '\'=HYPERLINK("x")', "4"],
    ]


def test_every_declared_metric_has_a_format_and_a_dictionary_row():
    from rsp_data.metrics import data_dictionary_markdown
    from ui.format import metric_value

    table = data_dictionary_markdown()
    for metric in METRICS.values():
        assert f"`{metric.key}`" in table
        assert metric_value(metric.key, 1.5) != "—"


def test_the_sums_the_rollups_hold_follow_from_the_declarations():
    """(name, source, weight, when, count) of every sum: what a new declaration adds to the store."""
    from rsp_data import metrics

    got = [(s.name, s.source, s.weight, s.when, s.count) for s in metrics._sums()]
    assert got == [
        ("employers_engaged", "employers_engaged", "", "", False),
        ("trainees_enrolled", "trainees_enrolled", "", "", False),
        ("trainees_completed", "trainees_completed", "", "", False),
        ("placements", "placements", "", "", False),
        ("placements_no_bachelor", "placements_no_bachelor", "", "", False),
        ("wbl_started", "wbl_started", "", "", False),
        ("trainees_underrepresented", "trainees_underrepresented", "", "", False),
        ("credentials_earned", "credentials_earned", "", "", False),
        ("avg_starting_wage_weighted", "avg_starting_wage", "placements", "", False),
        ("avg_starting_wage_weight", "placements", "", "avg_starting_wage", False),
        ("no_bachelor_share_base", "placements", "", "placements_no_bachelor", False),
        ("credential_rate_base", "trainees_completed", "", "credentials_earned", False),
        ("avg_starting_wage_rows", "", "", "avg_starting_wage", True),
        ("placements_no_bachelor_rows", "", "", "placements_no_bachelor", True),
        ("wbl_started_rows", "", "", "wbl_started", True),
        ("trainees_underrepresented_rows", "", "", "trainees_underrepresented", True),
        ("credentials_earned_rows", "", "", "credentials_earned", True),
    ]
    assert [s.name for s in metrics._sums()] == list(metrics.SUM_NAMES)


def test_values_are_floats_and_a_count_has_no_parts():
    assert value("placements", {"placements": np.array([1, 2])}).dtype == np.float64
    with pytest.raises(ValueError, match="placements is a flow, not a ratio"):
        parts("placements")


def test_a_rate_in_sql_is_null_only_without_a_denominator(stores):
    """The rankings in SQL order by sql_value: one completion is a denominator like any other, and no
    completion is no rate (PostgreSQL, unlike SQLite, fails a division by zero)."""
    from sqlalchemy import create_engine, literal, select

    from queries._base import sql_value

    engine = create_engine(stores.url("rate"))

    def rate(placements: int, completed: int):
        sums = {"placements": literal(placements), "trainees_completed": literal(completed)}
        with engine.connect() as conn:
            return conn.execute(select(sql_value("placement_rate", sums))).scalar()

    assert rate(1, 1) == 1.0
    assert rate(3, 4) == 0.75
    assert rate(2, 0) is None
    assert rate(0, 5) == 0.0
    engine.dispose()
