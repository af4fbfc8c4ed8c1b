"""Real Connecticut data: the 169 towns, their workforce areas and census counts, and published figures.

Built from data/ct/ by scripts/build_ct_data.py; the sources are in the README's "Data sources".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CENSUS_SOURCE = "U.S. Census Bureau, American Community Survey 2019–2023 5-year estimates, via CT Data Haven"
CENSUS_URL = "https://github.com/CT-Data-Haven/2023acs"
SHAPES_SOURCE = (
    "Town shapes: U.S. Census Bureau 2020 cartographic boundaries via CT Data Haven's cwi package (MIT); "
    "workforce areas: CT Department of Labor town lists"
)
PER_ADULTS = 10_000


@dataclass(frozen=True)
class Town:
    town: str
    geoid: str
    county: str
    region_id: str
    lon: float
    lat: float
    population: int
    adults_18_plus: int
    adults_25_plus: int
    bachelors_or_higher: int
    poverty_known: int
    in_poverty: int
    median_household_income: int


@dataclass(frozen=True)
class Census:
    """Town counts summed over an area; rates are recomputed from the sums, never averaged."""

    towns: int
    population: int
    adults_18_plus: int
    adults_25_plus: int
    bachelors_or_higher: int
    poverty_known: int
    in_poverty: int
    # A median cannot be summed: the lowest and highest town medians, with their towns.
    income_low: tuple[str, int]
    income_high: tuple[str, int]

    @property
    def bachelors_share(self) -> float:
        return self.bachelors_or_higher / self.adults_25_plus

    @property
    def poverty_rate(self) -> float:
        return self.in_poverty / self.poverty_known


@dataclass(frozen=True)
class Figure:
    subject: str
    figure: str
    value: float
    unit: str
    as_of: str
    source: str
    source_url: str
    note: str


def _rows(name: str) -> list[dict]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def towns() -> tuple[Town, ...]:
    types = {f.name: f.type for f in fields(Town)}
    convert = {"str": str, "float": float, "int": int}
    return tuple(Town(**{k: convert[types[k]](v) for k, v in row.items()}) for row in _rows("ct_towns.csv"))


def town(name: str) -> Town:
    for t in towns():
        if t.town == name:
            return t
    raise KeyError(f"no Connecticut town is called {name!r}")


def town_names(region_id: str) -> tuple[str, ...]:
    return tuple(t.town for t in towns() if t.region_id == region_id)


def largest_town(region_id: str) -> Town:
    return max((t for t in towns() if t.region_id == region_id), key=lambda t: t.population)


@cache
def census(region_ids: tuple[str, ...]) -> Census:
    """The census counts of the towns in these areas (every area when none are named)."""
    chosen = [t for t in towns() if not region_ids or t.region_id in region_ids]
    if not chosen:
        raise ValueError(f"no towns in {region_ids}")
    low = min(chosen, key=lambda t: t.median_household_income)
    high = max(chosen, key=lambda t: t.median_household_income)
    counted = ("population", "adults_18_plus", "adults_25_plus", "bachelors_or_higher", "poverty_known", "in_poverty")
    return Census(
        towns=len(chosen),
        **{name: sum(getattr(t, name) for t in chosen) for name in counted},
        income_low=(low.town, low.median_household_income),
        income_high=(high.town, high.median_household_income),
    )


def adults(region_id: str) -> int:
    """An area's adults (18+); 0 for a region that is not one of Connecticut's five (a synthetic store's)."""
    return census((region_id,)).adults_18_plus if any(t.region_id == region_id for t in towns()) else 0


@cache
def published_figures() -> tuple[Figure, ...]:
    return tuple(Figure(**{**row, "value": float(row["value"])}) for row in _rows("published_figures.csv"))


def figures_about(subject: str) -> tuple[Figure, ...]:
    return tuple(f for f in published_figures() if f.subject == subject)
