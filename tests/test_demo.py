"""The illustrative demo data: reproducible, complete, and plausible against public figures."""

from __future__ import annotations

import csv
from collections import defaultdict
from itertools import pairwise

import pytest

from rsp_data.demo import CORRECTED, DEMO_FILE, LAST_MONTH, NOT_YET_SENT, generate, write_csv
from rsp_data.months import label, labels_between, month_to_date, shift
from rsp_data.registry import registry

COUNTS = ("employers_engaged", "trainees_enrolled", "trainees_completed", "placements")
OPTIONAL_COUNTS = ("placements_no_bachelor", "wbl_started", "trainees_underrepresented", "credentials_earned")
HEADER = (
    "rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements,"
    "avg_starting_wage,placements_no_bachelor,wbl_started,trainees_underrepresented,credentials_earned,sent_on"
)


@pytest.fixture(scope="module")
def sent() -> list[dict]:
    """Every row as sent, a correction after the report it corrects."""
    return generate()


@pytest.fixture(scope="module")
def rows(sent) -> list[dict]:
    """The facts: the latest figures of each partnership-month."""
    return list({(r["rsp_id"], r["month"]): r for r in sent}.values())


@pytest.fixture(scope="module")
def by_rsp(rows) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["rsp_id"]].append(row)
    return grouped


def test_committed_csv_is_reproduced_exactly(sent, tmp_path):
    committed = DEMO_FILE.read_bytes()
    out = tmp_path / "demo_metrics.csv"
    write_csv(sent, out)
    assert out.read_bytes() == committed, "regenerate with: python -m rsp_data.demo"

    with open(DEMO_FILE, newline="", encoding="utf-8") as fh:
        parsed = [
            {k: (int(v) if k in COUNTS or (k in OPTIONAL_COUNTS and v != "") else v) for k, v in r.items()}
            for r in csv.DictReader(fh)
        ]
    assert parsed == sent
    assert committed.decode("utf-8").splitlines()[0] == HEADER


def test_generate_is_deterministic(sent):
    assert generate() == sent


def test_sorted_by_rsp_then_month(sent, rows):
    keys = [(r["rsp_id"], r["month"]) for r in sent]
    assert keys == sorted(keys)
    # The only month sent twice is the correction, sent after the first report.
    twice = sorted({k for k in keys if keys.count(k) > 1})
    assert twice == sorted(CORRECTED)
    for key in twice:
        first, latest = (r for r in sent if (r["rsp_id"], r["month"]) == key)
        assert first["sent_on"] < latest["sent_on"] == CORRECTED[key][0]
    facts = [(r["rsp_id"], r["month"]) for r in rows]
    assert facts == sorted(set(keys))


def test_fourteen_partnerships(by_rsp):
    assert len(by_rsp) == 14
    assert set(by_rsp) == {p.id for p in registry().partnerships}


def test_each_series_runs_from_demo_start_to_last_month_without_gaps(by_rsp):
    assert LAST_MONTH == "2026-10"
    before_last = label(shift(month_to_date(LAST_MONTH), -1))
    for p in registry().partnerships:
        months = [r["month"] for r in by_rsp[p.id]]
        # The partnerships that have not yet sent the last month end the month before.
        last = before_last if p.id in NOT_YET_SENT else LAST_MONTH
        assert months == labels_between(p.demo_start, last), p.id


def test_counts_are_non_negative_ints(sent):
    for row in sent:
        assert list(row) == HEADER.split(",")
        for col in COUNTS:
            value = row[col]
            assert type(value) is int and value >= 0, (
                row["rsp_id"],
                row["month"],
                col,
                value,
            )


def test_flows_never_outrun_their_sources(by_rsp):
    for rsp_id, series in by_rsp.items():
        enrolled = completed = placed = 0
        for row in series:
            enrolled += row["trainees_enrolled"]
            completed += row["trainees_completed"]
            placed += row["placements"]
            assert completed <= enrolled, (rsp_id, row["month"])
            assert placed <= completed, (rsp_id, row["month"])


def test_employers_never_jump_more_than_half(by_rsp):
    for rsp_id, series in by_rsp.items():
        for prev, cur in pairwise(series):
            before, after = prev["employers_engaged"], cur["employers_engaged"]
            assert before > 0, (rsp_id, prev["month"])
            assert abs(after - before) / before <= 0.5, (
                rsp_id,
                cur["month"],
                before,
                after,
            )


def test_statewide_employers_at_last_month(rows):
    total = sum(r["employers_engaged"] for r in rows if r["month"] == LAST_MONTH)
    assert 500 <= total <= 650


def test_grant_supported_placements_on_track_not_done(rows):
    reg = registry()
    supported = {p.id for p in reg.partnerships if p.gjc_supported}
    assert len(supported) == reg.grant.supported_partnerships
    placed = sum(r["placements"] for r in rows if r["rsp_id"] in supported and "2022-09" <= r["month"] <= LAST_MONTH)
    assert 1500 <= placed <= 2000
    assert placed < reg.grant.goal_placements


def test_published_launch_sizes_are_respected(by_rsp):
    anchors = {
        "capital-technology": (40, 60),
        "southwest-technology": (45, 65),
        "capital-healthcare": (22, 30),
        "southwest-manufacturing": (25, 35),
        "south-central-manufacturing": (22, 30),
    }
    for rsp_id, (low, high) in anchors.items():
        assert low <= by_rsp[rsp_id][0]["employers_engaged"] <= high, rsp_id
    eastern_2014 = [r["employers_engaged"] for r in by_rsp["eastern-manufacturing"] if r["month"][:4] == "2014"]
    assert 22 <= sum(eastern_2014) / len(eastern_2014) <= 40


def test_sprint_internships_start_in_june(by_rsp):
    series = by_rsp["south-central-bioscience"]
    june = [r["trainees_enrolled"] for r in series if r["month"].endswith("-06")]
    other = [r["trainees_enrolled"] for r in series if not r["month"].endswith("-06")]
    assert sum(june) / len(june) > 2 * sum(other) / len(other)
