"""Every metric the dashboard shows, declared once: what it is, how it aggregates (its kind), whether it
must be reported. Columns, import checks, rollup sums, SQL, ratios and the data dictionary follow from
this list, so a new metric is one declaration here and one Alembic migration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rsp_data.registry import registry

STOCK = "stock"  # a count at the month's end: read at the latest month, never summed over months
FLOW = "flow"  # new in the month: summed over months and partnerships
RATE = "rate"  # a ratio of two sums (never a mean of ratios)
AVERAGE = "average"  # a mean weighted by another metric: Σ(value × weight) ÷ Σ weight
PER_ADULTS = "per adults"  # a flow per 10,000 adults (18+) of the areas: defined by region only
ADULTS = "adults_18_plus"  # PER_ADULTS' denominator: the areas' adults, from rsp_data/ct.py, not a sum of the store
PER = 10_000

CARRY = 2  # months a stock's latest report stands in for a month its partnership has not reported

OVER_TIME = {
    STOCK: "Latest month in the range (a stock: never summed over months). A partnership that did not report that "
    f'month counts with its latest report of the {CARRY} months before it that lies in the range ("as of their '
    'latest report"); one whose latest report is older is overdue and not counted.',
    FLOW: "Sum over the months in the range.",
    RATE: "Ratio of the sums over the range (not a mean of monthly rates).",
    AVERAGE: "Weighted by {weight}: Σ(value × {weight}) ÷ Σ {weight} over the months that reported it "
    "(never a mean of monthly averages).",
    PER_ADULTS: "Sum over the range × 10,000 ÷ the area's adults 18+ (ACS 2019–2023 5-year, summed from its towns).",
}
ACROSS = {
    STOCK: "Sum.",
    FLOW: "Sum.",
    RATE: "Ratio of the sums (not a mean of partnership rates).",
    AVERAGE: "Weighted by {weight} over the partnerships that reported it (never a mean of partnership averages).",
    PER_ADULTS: "Defined per area: the sum over its partnerships ÷ all of its adults, even when the filters narrow "
    "by sector or partnership; several areas: their sums ÷ their adults.",
}
FORMATS = {STOCK: "count", FLOW: "count", RATE: "percent", AVERAGE: "dollars", PER_ADULTS: "decimal"}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    kind: str
    description: str
    numerator: str = ""  # RATE, PER_ADULTS: the metric divided
    denominator: str = ""  # RATE: the metric it is divided by
    weight: str = ""  # AVERAGE: the metric each value is weighted by
    optional: bool = False  # NULL where a partnership did not report it; shown only where reported
    suppressed: bool = False  # small counts by partnership and month are shown as "<n"
    at_most: str = ""  # import check: never more than this metric in the same row
    bounds: tuple[float, float] = ()  # import check: a value outside is a typo or the wrong unit
    note: str = ""  # added to "across partnerships" in the data dictionary
    section: str = ""  # optional metrics: the question the Good jobs & reach page answers with it
    number_format: str = ""  # "count", "percent", "dollars" or "decimal"; by kind when empty

    @property
    def whole(self) -> bool:
        """Stored as a whole number (an average is a decimal)."""
        return self.kind in (STOCK, FLOW)

    @property
    def format(self) -> str:
        return self.number_format or FORMATS[self.kind]

    @property
    def over_time(self) -> str:
        return OVER_TIME[self.kind].format(weight=self.weight)


DECLARED: tuple[Metric, ...] = (
    Metric(
        "employers_engaged",
        "Employers engaged",
        "employers",
        STOCK,
        "Employers actively engaged with the partnership at the end of the month.",
        note="An employer engaged with two partnerships counts twice.",
    ),
    Metric(
        "trainees_enrolled",
        "Trainees enrolled",
        "people",
        FLOW,
        "People newly enrolled in a partnership's training during the month.",
    ),
    Metric(
        "trainees_completed",
        "Trainees completed",
        "people",
        FLOW,
        "People who completed a partnership's training during the month.",
    ),
    Metric("placements", "Placements", "people", FLOW, "Completers placed into jobs during the month."),
    Metric(
        "completion_rate",
        "Completion rate",
        "% of enrolled",
        RATE,
        "Trainees completed divided by trainees enrolled over the same range.",
        numerator="trainees_completed",
        denominator="trainees_enrolled",
    ),
    Metric(
        "placement_rate",
        "Placement rate",
        "% of completed",
        RATE,
        "Placements divided by trainees completed over the same range.",
        numerator="placements",
        denominator="trainees_completed",
    ),
    Metric(
        "placements_per_employer",
        "Placements per employer engaged",
        "placements per employer",
        RATE,
        "Placements over the range divided by employers engaged at its latest month.",
        numerator="placements",
        denominator="employers_engaged",
        number_format="decimal",
    ),
    Metric(
        "placements_per_10k_adults",
        "Placements per 10,000 adults",
        "placements per 10,000 residents 18+",
        PER_ADULTS,
        "Placements over the range per 10,000 adults (18+) living in the area: compares areas of different sizes.",
        numerator="placements",
    ),
    Metric(
        "enrolled_per_10k_adults",
        "Trainees enrolled per 10,000 adults",
        "enrolments per 10,000 residents 18+",
        PER_ADULTS,
        "Trainees enrolled over the range per 10,000 adults (18+) living in the area.",
        numerator="trainees_enrolled",
    ),
    Metric(
        "avg_starting_wage",
        "Average starting wage",
        "$ per hour",
        AVERAGE,
        "Optional. Average hourly wage at placement of the month's placements, in dollars and cents.",
        weight="placements",
        optional=True,
        bounds=(7.25, 500.0),  # dollars an hour: the federal minimum wage; far above any starting wage
        section="Are these good jobs?",
    ),
    Metric(
        "placements_no_bachelor",
        "Placements without a bachelor's requirement",
        "people",
        FLOW,
        "Optional. Of the month's placements, those into roles that do not require a bachelor's degree "
        "(never more than placements).",
        optional=True,
        at_most="placements",
        section="Are these good jobs?",
    ),
    Metric(
        "no_bachelor_share",
        "Share without a bachelor's requirement",
        "% of placements",
        RATE,
        "Optional. Placements without a bachelor's requirement divided by the placements of the same "
        "partnership-months (those that reported it).",
        numerator="placements_no_bachelor",
        denominator="placements",
        optional=True,
        section="Are these good jobs?",
    ),
    Metric(
        "wbl_started",
        "Work-based learning started",
        "people",
        FLOW,
        "Optional. Internships and apprenticeships that started during the month (e.g. the SPRINT summer internships).",
        optional=True,
        section="How much work-based learning?",
    ),
    Metric(
        "trainees_underrepresented",
        "Under-represented trainees",
        "people",
        FLOW,
        "Optional. Trainees enrolled during the month who are from under-represented groups, as a count.",
        optional=True,
        suppressed=True,
        note='By partnership and month, counts from 1 to 4 are shown as "<5" (threshold configurable); '
        "totals are exact.",
        section="Who is being reached?",
    ),
    Metric(
        "credentials_earned",
        "Credentials earned",
        "credentials",
        FLOW,
        "Optional. Industry-recognised credentials that trainees earned during the month (WIOA's credential "
        "attainment).",
        optional=True,
        section="Do trainees earn credentials?",
    ),
    Metric(
        "credential_rate",
        "Credential rate",
        "credentials per completion",
        RATE,
        "Optional. Credentials earned divided by the trainees completed of the same partnership-months (those "
        "that reported credentials).",
        numerator="credentials_earned",
        denominator="trainees_completed",
        optional=True,
        section="Do trainees earn credentials?",
    ),
)

METRICS: dict[str, Metric] = {m.key: m for m in DECLARED}
# The pickers' order; a per-adults measure only where a breakdown by area is drawn (REGION_MEASURES).
MEASURES: tuple[str, ...] = ("placements", *[m.key for m in DECLARED if m.key != "placements" and m.kind != PER_ADULTS])
REGION_MEASURES: tuple[str, ...] = (*MEASURES, *[m.key for m in DECLARED if m.kind == PER_ADULTS])
STORED: tuple[Metric, ...] = tuple(m for m in DECLARED if m.kind not in (RATE, PER_ADULTS))  # the rest are computed
REQUIRED_KEYS: tuple[str, ...] = tuple(m.key for m in STORED if not m.optional)
OPTIONAL_KEYS: tuple[str, ...] = tuple(m.key for m in STORED if m.optional)
STORED_KEYS: tuple[str, ...] = (*REQUIRED_KEYS, *OPTIONAL_KEYS)
FLOW_KEYS: tuple[str, ...] = tuple(m.key for m in STORED if m.kind == FLOW and not m.optional)
BASE_RATES: tuple[Metric, ...] = tuple(m for m in DECLARED if m.kind == RATE and not m.optional)


@dataclass(frozen=True)
class Sum:
    """A rollup column: Σ `source` (1 when `count`) × `weight`, over the rows that reported `when` (or all)."""

    name: str
    source: str = ""
    weight: str = ""
    when: str = ""
    count: bool = False

    @property
    def whole(self) -> bool:
        return not (self.source and METRICS[self.source].kind == AVERAGE)

    @property
    def stock(self) -> bool:
        return bool(self.source) and METRICS[self.source].kind == STOCK


def reported(key: str) -> str:
    """The sum that counts the rows reporting an optional stored metric."""
    return f"{key}_rows"


def parts(key: str) -> tuple[str, str]:
    """(numerator sum, denominator sum); an optional numerator's rate divides by its reporters' `_base` sum."""
    m = METRICS[key]
    if m.kind == AVERAGE:
        return f"{key}_weighted", f"{key}_weight"
    if m.kind == RATE:
        return m.numerator, (f"{key}_base" if METRICS[m.numerator].optional else m.denominator)
    if m.kind == PER_ADULTS:
        return m.numerator, ADULTS
    raise ValueError(f"{key} is a {m.kind}, not a ratio")


def _sums() -> tuple[Sum, ...]:
    out = [Sum(m.key, source=m.key) for m in STORED if m.kind != AVERAGE]
    for m in STORED:
        if m.kind == AVERAGE:
            weighted, weight = parts(m.key)
            out += [Sum(weighted, source=m.key, weight=m.weight), Sum(weight, source=m.weight, when=m.key)]
    for m in DECLARED:
        if m.kind == RATE and METRICS[m.numerator].optional:
            out.append(Sum(parts(m.key)[1], source=m.denominator, when=m.numerator))
    out += [Sum(reported(m.key), when=m.key, count=True) for m in STORED if m.optional]
    return tuple(out)


SUMS: tuple[Sum, ...] = _sums()
SUM_NAMES: tuple[str, ...] = tuple(s.name for s in SUMS)
FLOW_SUMS: tuple[str, ...] = tuple(s.name for s in SUMS if not s.stock)  # what may be summed over months
STOCK_SUMS: tuple[str, ...] = tuple(s.name for s in SUMS if s.stock)


def carried(name: str, months: int) -> str:
    """The rollup sum of stock `name` at month M over the partnerships whose report of M is their latest
    at M + `months` (1..CARRY): what M's reports add to the stock of M + `months`."""
    return f"{name}_carry{months}"


CARRY_SUMS: tuple[str, ...] = tuple(carried(n, k) for n in STOCK_SUMS for k in range(1, CARRY + 1))


def reported_by(key: str) -> str:
    """The `_rows` sum that says whether (and by how many rows) an optional metric was reported."""
    m = METRICS[key]
    return reported(m.numerator if m.kind == RATE else key)


def value(key: str, sums: Mapping[str, object]) -> np.ndarray:
    """A metric's values from its sums (one per row): its sum, or the ratio of two, NaN without a denominator."""
    if METRICS[key].kind in (STOCK, FLOW):
        return np.asarray(sums[key], dtype="float64")
    num, den = (np.asarray(sums[p], dtype="float64") for p in parts(key))
    scale = PER if METRICS[key].kind == PER_ADULTS else 1
    return np.divide(num * scale, den, out=np.full(den.shape, np.nan), where=den > 0)


def data_dictionary_markdown() -> str:
    """The data dictionary as a Markdown table: shown on the Data page and kept in the README."""
    lines = [
        "| Metric | Column | Kind | Unit | Meaning | Over a range of months | Across partnerships |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in DECLARED:
        across = " ".join(filter(None, [ACROSS[m.kind].format(weight=m.weight), m.note]))
        lines.append(f"| {m.label} | `{m.key}` | {m.kind} | {m.unit} | {m.description} | {m.over_time} | {across} |")
    due = registry().due_day
    lines += [
        "",
        f"**Reporting calendar.** A month's figures are due on day {due} of the following month (`due_day` in "
        "`registry.toml`). A partnership's month is *on time* when the first batch holding it was loaded on or before "
        "that day (Connecticut time), *late* by the days after it, *corrected* when a later batch changed it, "
        "*overdue* when nothing has arrived after the due day, *not yet due* before it. A month is *partial* when "
        "some partnership that had reported before has not sent it: pages name it, and goal projections leave it out.",
    ]
    return "\n".join(lines)
