"""Real Connecticut facts on the pages: published figures with their sources, and who lives in an area."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rsp_data.ct import CENSUS_SOURCE, census, figures_about, published_figures
from rsp_data.registry import registry
from ui import charts
from ui.format import number, percent, published_value

SUBJECTS = {"statewide": "Statewide", "good-jobs-challenge": "Good Jobs Challenge grant"}


def _linked(f) -> bool:
    return f.source_url.startswith("https://")


def published_table(subject: str | None = None) -> pd.DataFrame:
    """What, value, as of, source and link of the published figures (about `subject` only, when given)."""
    names = {**SUBJECTS, **{p.id: p.name for p in registry().partnerships}}
    rows = [
        {
            "About": names.get(f.subject, f.subject),
            "What": f.figure,
            "Value": published_value(f.value, f.unit),
            "As of": f.as_of,
            # A reference that is not a link (a copy of a release, an article's site) stays readable in Source.
            "Source": f.source if _linked(f) or not f.source_url else f"{f.source}: {f.source_url}",
            "Link": f.source_url if _linked(f) else None,
            "Note": f.note,
        }
        for f in (figures_about(subject) if subject else published_figures())
    ]
    return pd.DataFrame(rows)


HEADLINE = (
    ("statewide", "Regional Sector Partnerships"),
    ("statewide", "Employers in the partnerships"),
    ("good-jobs-challenge", "Grant amount"),
    ("good-jobs-challenge", "People to train and place"),
)


def published_headline() -> None:
    """The real, published headline figures, marked as such beside the illustrative ones."""
    latest = {}
    for f in published_figures():
        if (f.subject, f.figure) in HEADLINE and f.as_of >= latest.get((f.subject, f.figure), f).as_of:
            latest[(f.subject, f.figure)] = f
    shown = [latest[k] for k in HEADLINE if k in latest]
    text = " · ".join(f"{f.figure}: {published_value(f.value, f.unit)} ({f.as_of})" for f in shown)
    st.markdown(f":green-badge[Published] {text}. Sources: the Data page's Published figures.")


def published_about(subject: str) -> None:
    """The figures published about a partnership, and each dated series among them as a chart."""
    table = published_table(subject)
    if table.empty:
        return
    st.subheader("Published about this partnership")
    for name, points in table.groupby("What", sort=False):
        if len(points) < 2:
            continue
        rows = [f for f in figures_about(subject) if f.figure == name]
        series = pd.DataFrame({"as_of": [f.as_of for f in rows], "value": [f.value for f in rows]})
        series["label"] = list(points["Value"])
        subtitle = (
            f"The program's published totals, {rows[0].as_of[:4]}–{rows[-1].as_of[:4]}, from press releases: real "
            "figures, not the partnership's monthly data and not part of the illustrative series"
        )
        st.plotly_chart(
            charts.published_series(series, name, subtitle),
            config=charts.plotly_config(subject),
            alt=f"{name}: "
            + ", ".join(f"{v} as of {d}" for v, d in zip(points["Value"], points["As of"], strict=True)),
        )
    st.dataframe(
        table.drop(columns="About"),
        hide_index=True,
        width="stretch",
        alt="Published figures: what, value, as of, source",
        column_config={"Link": st.column_config.LinkColumn("Link", display_text="open source")},
    )


def who_lives_here(region_ids: tuple[str, ...]) -> None:
    """The areas' census counts summed from their towns, rates recomputed from the sums."""
    c = census(region_ids)
    names = [r.name for r in registry().regions if r.id in region_ids] or ["All five areas"]
    st.markdown(f"**Who lives here: {', '.join(names)}** ({c.towns} towns)")
    cols = st.columns(4)
    cols[0].metric("Residents", number(c.population))
    cols[1].metric("Adults 18+", number(c.adults_18_plus))
    cols[2].metric("Adults 25+ with a bachelor's or higher", percent(c.bachelors_share))
    cols[3].metric("In poverty", percent(c.poverty_rate), help=f"{number(c.in_poverty)} people")
    (low_town, low), (high_town, high) = c.income_low, c.income_high
    st.caption(
        f"Median household income is a median per town, so it is not summed: from {_income(low)} ({low_town}) to "
        f"{_income(high)} ({high_town}) across these towns. Source: {CENSUS_SOURCE}."
    )


def _income(value: int) -> str:
    # The ACS top-codes medians: 250,001 stands for "more than $250,000".
    return "more than $250,000" if value >= 250_001 else f"${value:,}"
