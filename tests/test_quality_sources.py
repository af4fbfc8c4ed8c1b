"""The Good jobs & reach queries (queries/quality.py) give the numbers a plain computation over the
facts gives.

The queries read rollup_cells, running_totals (two rows per partnership, ranked and limited in
SQL) or, for a partnership filter, the chosen partnerships' rows. Here a reference written in
pandas over the whole fact table (what the pages must never do at scale, fine for these stores)
is compared with every path, for many filter combinations, on the demo store and on a small
synthetic national store (400 partnerships in 51 regions: more than the table's 40 rows and the
charts' 15 bars), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from queries.filters import Filters
from queries.metrics import sums_for
from queries.quality import (
    QUALITY,
    quality_by,
    quality_monthly,
    quality_summary,
    suppressed_by_month,
)
from rsp_data.metrics import OPTIONAL_KEYS
from rsp_data.months import as_date
from rsp_data.schema import monthly_metrics, partnerships
from rsp_data.store import make_engine
from rsp_data.synth import synthesize

# What the quality queries sum (the optional metrics' declared sums): each compared with the facts.
SUMMED = list(sums_for(QUALITY))
OPTIONAL_COUNT_COLUMNS = [m for m in OPTIONAL_KEYS if m != "avg_starting_wage"]
RATIOS = ("avg_starting_wage", "no_bachelor_share", "credential_rate")
MEASURES = (*RATIOS, "wbl_started", "trainees_underrepresented", "credentials_earned")
REPORTED_BY = {"no_bachelor_share": "placements_no_bachelor", "credential_rate": "credentials_earned"}


@pytest.fixture(scope="module", params=["demo", "synthetic"])
def source(request, stores):
    """(engine, facts with region, sector and name) of the demo store or a synthetic national one."""
    if request.param == "demo":
        engine = request.getfixturevalue("demo_engine")
    else:
        engine = make_engine(stores.url("synth"))
        synthesize(engine, 400, 24, seed=7, log=lambda _: None)
    stmt = select(
        monthly_metrics, partnerships.c.region_id, partnerships.c.sector_id, partnerships.c.name.label("name")
    ).join(partnerships, partnerships.c.rsp_id == monthly_metrics.c.rsp_id)
    with engine.connect() as conn:
        facts = pd.DataFrame(conn.execute(stmt).mappings().all())
    facts["month"] = facts["month"].map(as_date)
    for c in OPTIONAL_KEYS:
        facts[c] = pd.to_numeric(facts[c]).astype("float64")
    yield engine, facts
    if request.param != "demo":
        engine.dispose()


def month_text(value: date) -> str:
    return f"{value:%Y-%m}"


def filter_cases(facts: pd.DataFrame) -> list[Filters]:
    """Filters built from the data: whole range, ranges, regions, sectors, both, partnerships
    (some of them without a report in range), a range past the data, and nothing in range."""
    first, last = facts["month"].min(), facts["month"].max()
    months = sorted(facts["month"].unique())
    middle = months[len(months) // 2]
    regions = facts["region_id"].value_counts().index.tolist()
    sectors = facts["sector_id"].value_counts().index.tolist()
    ids = sorted(facts["rsp_id"].unique())
    return [
        Filters(),
        Filters(month_from=month_text(first), month_to=month_text(last)),  # the page's default
        Filters(month_from=month_text(middle)),
        Filters(month_to=month_text(middle)),
        Filters(month_from=month_text(months[3]), month_to=month_text(months[-4])),
        Filters(regions=tuple(regions[:2])),
        Filters(sectors=(sectors[0],), month_from=month_text(months[-8])),
        Filters(regions=(regions[0],), sectors=tuple(sectors[:2])),
        Filters(partnerships=tuple(ids[::7]), month_from=month_text(middle)),
        Filters(partnerships=tuple(ids[:3]), regions=(regions[0],)),
        Filters(month_from=month_text(months[-3]), month_to="2099-12"),
        Filters(month_from="2099-01"),
    ]


def in_filters(facts: pd.DataFrame, f: Filters) -> pd.DataFrame:
    df = facts
    for col, values in (("region_id", f.regions), ("sector_id", f.sectors), ("rsp_id", f.partnerships)):
        if values:
            df = df[df[col].isin(values)]
    if f.month_from:
        df = df[df["month"] >= date.fromisoformat(f.month_from + "-01")]
    if f.month_to:
        df = df[df["month"] <= date.fromisoformat(f.month_to + "-01")]
    return df


def sums(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """SUMMED per `key`, from the fact rows themselves."""
    wage = df["avg_starting_wage"].notna()
    rows = df.assign(
        months=1,
        avg_starting_wage_weighted=(df["avg_starting_wage"] * df["placements"]).where(wage, 0.0),
        avg_starting_wage_weight=df["placements"].where(wage, 0),
        no_bachelor_share_base=df["placements"].where(df["placements_no_bachelor"].notna(), 0),
        credential_rate_base=df["trainees_completed"].where(df["credentials_earned"].notna(), 0),
        **{f"{m}_rows": df[m].notna().astype("int64") for m in OPTIONAL_KEYS},
        **{m: df[m].fillna(0) for m in OPTIONAL_COUNT_COLUMNS},
    )
    out = rows.groupby(key)[SUMMED].sum()
    for c in SUMMED:
        if c != "avg_starting_wage_weighted":
            out[c] = out[c].round().astype("int64")
    return out


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["avg_starting_wage"] = df["avg_starting_wage_weighted"] / df["avg_starting_wage_weight"].where(
        df["avg_starting_wage_weight"] > 0
    )
    den = df["no_bachelor_share_base"].where(df["no_bachelor_share_base"] > 0)
    df["no_bachelor_share"] = df["placements_no_bachelor"] / den
    den = df["credential_rate_base"].where(df["credential_rate_base"] > 0)
    df["credential_rate"] = df["credentials_earned"] / den
    return df


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    cols = [*SUMMED, *RATIOS]
    assert got.index.tolist() == want.index.tolist()
    for c in cols:
        np.testing.assert_allclose(
            got[c].astype("float64").to_numpy(), want[c].astype("float64").to_numpy(), rtol=1e-9, err_msg=c
        )


def test_summary_equals_the_facts(source):
    engine, facts = source
    for f in filter_cases(facts):
        got = quality_summary(engine, f)
        df = in_filters(facts, f)
        per = sums(df, "rsp_id")
        want = ratios(per.sum().to_frame().T).iloc[0] if len(per) else None
        for c in [*SUMMED, *RATIOS]:
            expected = want[c] if want is not None else (math.nan if c in RATIOS else 0)
            if isinstance(expected, float) and math.isnan(expected):
                assert math.isnan(got[c]), (f, c)
            else:
                assert got[c] == pytest.approx(expected, rel=1e-9), (f, c)
        assert got["partnerships"] == len(per), f
        assert got["reporting"] == {m: int((per[f"{m}_rows"] > 0).sum()) for m in OPTIONAL_KEYS}, f


@pytest.mark.parametrize("by", ["sector", "region"])
def test_by_sector_and_region_equal_the_facts(source, by):
    engine, facts = source
    for f in filter_cases(facts):
        got = quality_by(engine, f, by).set_index("group_id").sort_index()
        want = ratios(sums(in_filters(facts, f), f"{by}_id")).sort_index()
        assert_same(got, want)


def test_by_partnership_in_full_equals_the_facts(source):
    engine, facts = source
    for f in filter_cases(facts)[:6]:
        got = quality_by(engine, f, "partnership").set_index("group_id").sort_index()
        want = ratios(sums(in_filters(facts, f), "rsp_id")).sort_index()
        assert_same(got, want)
        names = facts.drop_duplicates("rsp_id").set_index("rsp_id")["name"]
        assert got["group_name"].tolist() == names.reindex(got.index).tolist()


@pytest.mark.parametrize("metric", MEASURES)
@pytest.mark.parametrize("top", [5, 15])
def test_by_partnership_leaders_and_all_the_others_equal_the_facts(source, metric, top):
    engine, facts = source
    for f in filter_cases(facts):
        got = quality_by(engine, f, "partnership", metric=metric, top=top)
        per = ratios(sums(in_filters(facts, f), "rsp_id"))
        per = per[(per[f"{REPORTED_BY.get(metric, metric)}_rows"] > 0) & per[metric].notna()]
        per = per.reset_index().sort_values([metric, "rsp_id"], ascending=[False, True]).set_index("rsp_id")
        if len(per) <= top:
            assert got["group_id"].tolist() == per.index.tolist(), (f, metric)
            assert_same(got.set_index("group_id"), per)
            continue
        head, rest = per.iloc[: top - 1], per.iloc[top - 1 :]
        rows = in_filters(facts, f)
        others = ratios(sums(rows[~rows["rsp_id"].isin(head.index)].assign(k="others"), "k"))
        want = pd.concat([head, others])
        assert got["group_id"].tolist() == [*head.index, "others"], (f, metric)
        assert got["group_name"].iloc[-1] == f"All other {len(rest):,} partnerships"
        assert_same(got.set_index("group_id"), want)
        # The others' measure equals the rest's own (their sums are the rest's sums).
        assert got[metric].iloc[-1] == pytest.approx(ratios(rest[SUMMED].sum().to_frame().T)[metric].iloc[0])


def test_monthly_equals_the_facts(source):
    engine, facts = source
    for f in filter_cases(facts):
        got = quality_monthly(engine, f)
        want = ratios(sums(in_filters(facts, f), "month"))
        assert [m.date() for m in got["month"]] == want.index.tolist()
        for c in [
            "avg_starting_wage_weight",
            *OPTIONAL_COUNT_COLUMNS,
            *[f"{m}_rows" for m in OPTIONAL_KEYS],
        ]:
            assert got[c].tolist() == want[c].tolist(), (f, c)
        np.testing.assert_allclose(got["avg_starting_wage"], want["avg_starting_wage"], rtol=1e-9)


def reference_table(facts: pd.DataFrame, f: Filters, months: int, max_rows: int):
    """suppressed_by_month from the fact rows: the last `months` months of the range up to
    the store's last month, from the first month anybody in the filters reported it."""
    last = facts["month"].max()
    if f.month_to:
        last = min(last, date.fromisoformat(f.month_to + "-01"))
    first = date.fromisoformat(f.month_from + "-01") if f.month_from else None
    all_months = [m for m in pd.date_range(end=pd.Timestamp(last), periods=months, freq="MS").date]
    window = [m for m in all_months if first is None or m >= first]
    df = in_filters(facts, f)
    df = df[df["month"].isin(window) & df["trainees_underrepresented"].notna()]
    if df.empty or (first is not None and first > last):
        return pd.DataFrame(), pd.DataFrame()
    window = [m for m in window if m >= df["month"].min()]
    counts = df.pivot_table(index="rsp_id", columns="month", values="trainees_underrepresented", aggfunc="sum")
    counts = counts.reindex(columns=window)
    reported = counts.notna()
    counts = counts.fillna(0).round().astype("int64")
    order = counts.sum(axis=1).reset_index(name="total").sort_values(["total", "rsp_id"], ascending=[False, True])
    counts, reported = counts.loc[order["rsp_id"]], reported.loc[order["rsp_id"]]
    if len(counts) > max_rows:
        head, rest = counts.iloc[: max_rows - 1], counts.iloc[max_rows - 1 :]
        label = f"Other partnerships ({len(rest)})"
        counts = pd.concat([head, rest.sum().to_frame(label).T])
        reported = pd.concat([reported.iloc[: max_rows - 1], reported.iloc[max_rows - 1 :].any().to_frame(label).T])
    names = facts.drop_duplicates("rsp_id").set_index("rsp_id")["name"].to_dict()
    counts.index = reported.index = pd.Index([names.get(i, i) for i in counts.index], name="Partnership")
    counts.columns = reported.columns = [f"{m:%Y-%m}" for m in window]
    return counts, reported


@pytest.mark.parametrize(("months", "max_rows"), [(12, 40), (6, 5)])
def test_underrepresented_table_equals_the_facts(source, months, max_rows):
    engine, facts = source
    for f in filter_cases(facts):
        counts, reported = suppressed_by_month(engine, f, "trainees_underrepresented", months=months, max_rows=max_rows)
        want_counts, want_reported = reference_table(facts, f, months, max_rows)
        if want_counts.empty:
            assert counts.empty, f
            continue
        pd.testing.assert_frame_equal(counts, want_counts, check_dtype=False, check_names=False, obj=str(f))
        pd.testing.assert_frame_equal(reported, want_reported.astype(bool), check_names=False, obj=str(f))
        # The column totals cover every partnership in the filters.
        assert counts.to_numpy().sum() == want_counts.to_numpy().sum()


def test_the_synthetic_store_exercises_the_leaders_and_the_others(source):
    """The synthetic store has more reporters than the table's rows and the charts' bars."""
    engine, facts = source
    if facts["rsp_id"].nunique() < 100:
        pytest.skip("the demo store is small: the cases with max_rows=5 cover it")
    counts, _ = suppressed_by_month(engine, Filters(), "trainees_underrepresented")
    assert len(counts) == 40 and counts.index[-1].startswith("Other partnerships (")
    rows = quality_by(engine, Filters(), "partnership", metric="avg_starting_wage", top=15)
    assert len(rows) == 15 and rows["group_id"].iloc[-1] == "others"
