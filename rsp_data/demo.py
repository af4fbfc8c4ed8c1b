"""Illustrative demo data: a seeded generator of monthly RSP figures, byte-identical every run.

No public per-partnership monthly figures exist, so the series is made up but shaped like the real
thing (facts: ../shared/DESIGN.md, "The 14 partnerships"). Regenerate with ``python -m rsp_data.demo``.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

from rsp_data.metrics import OPTIONAL_KEYS, STORED_KEYS
from rsp_data.months import label, labels_between, month_index, month_to_date, shift
from rsp_data.registry import Partnership, Registry, registry

SEED = 2026
LAST_MONTH = "2026-10"
DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo_metrics.csv"
COLUMNS = ("rsp_id", "month", *STORED_KEYS, "sent_on")

# When each row was sent (the reporting status reads it): on time on SENT_DAY of the next month, except
# two partnerships that have not sent the last month, one that sent a month late, and one correction.
SENT_DAY = 10
NOT_YET_SENT = ("capital-logistics", "northwest-ace")
SENT_LATE = {("eastern-healthcare", "2026-08"): "2026-10-14"}
# (rsp_id, month): (the day the correction was sent, what the first report over-stated)
CORRECTED = {("capital-technology", "2026-09"): ("2026-11-03", {"placements": 2, "trainees_completed": 3})}

# Largest month-to-month relative move of employers_engaged (a validator warns above 50%).
MAX_EMPLOYER_STEP = 0.25


def _month_index(month: str) -> int:
    return month_index(month_to_date(month))


@dataclass(frozen=True)
class Programme:
    """A training programme that starts cohorts in given calendar months."""

    start_months: tuple[int, ...]  # calendar months 1-12
    share: float  # cohort size relative to the partnership's base cohort
    duration: tuple[int, int]  # months from enrolment to completion, inclusive range
    skip: float = 0.1  # chance a scheduled cohort does not run (too few sign-ups, ...)


@dataclass(frozen=True)
class SectorModel:
    completion_rate: float  # share of enrolees who complete
    placement_rate: float  # share of completers placed into jobs
    rolling_duration: tuple[int, int]  # for individual (non-cohort) enrolments
    wage: float  # average starting wage, dollars an hour at OPTIONAL_FROM
    no_bachelor: float  # share of placements into roles that do not require a bachelor's degree
    underrepresented: float  # share of enrolments from under-represented groups
    credentials: float  # credentials earned per completer (some earn none, a few earn two)


# Wages are assumptions in the range of Connecticut entry-level wages, not published figures.
SECTORS: dict[str, SectorModel] = {
    "healthcare": SectorModel(0.80, 0.72, (3, 6), 19.75, 0.9, 0.42, 0.85),
    "manufacturing": SectorModel(0.82, 0.68, (3, 5), 21.25, 0.96, 0.33, 0.7),
    "technology": SectorModel(0.72, 0.58, (5, 6), 27.50, 0.72, 0.38, 0.55),
    "bioscience": SectorModel(0.85, 0.55, (3, 4), 23.00, 0.6, 0.45, 0.6),
    "logistics": SectorModel(0.78, 0.70, (3, 4), 22.25, 0.97, 0.36, 0.9),
    "ace": SectorModel(0.75, 0.62, (3, 5), 23.50, 0.82, 0.3, 0.6),
}
DEFAULT_SECTOR = SectorModel(0.75, 0.62, (3, 5), 20.00, 0.85, 0.35, 0.6)
# Cohorts start mainly in January/February and September; bioscience's SPRINT internships in June.
PROGRAMMES: dict[str, tuple[Programme, ...]] = {
    "healthcare": (
        Programme((1, 9), 1.0, (4, 5)),  # CNA / patient care technician
        Programme((2,), 0.5, (6, 6)),  # medical assistant
        Programme((5,), 0.3, (3, 3)),  # short certificates
    ),
    "manufacturing": (
        Programme((1, 9), 1.0, (3, 4)),  # pre-employment / CNC basics
        Programme((2,), 0.6, (4, 4)),  # welding, quality
        Programme((6,), 0.3, (3, 3)),  # summer bootcamp
    ),
    "technology": (
        Programme((1, 9), 1.0, (5, 6)),  # software / IT support bootcamps
        Programme((2,), 0.4, (5, 5)),  # cyber / data
    ),
    "bioscience": (
        Programme((6,), 1.0, (3, 3), skip=0.0),  # SPRINT summer internships: every June, never skipped
        Programme((1, 9), 0.3, (4, 4)),  # lab technician training
    ),
    "logistics": (Programme((1, 3, 9), 0.7, (3, 3)),),  # CDL and warehouse cohorts
    "ace": (Programme((1, 9), 1.0, (4, 4)),),  # pre-apprenticeship
}
DEFAULT_PROGRAMMES = (Programme((1, 9), 1.0, (4, 4)),)


@dataclass(frozen=True)
class Profile:
    employers_start: int  # employers engaged in the demo_start month
    employers_end: int  # target employers engaged at LAST_MONTH
    cohort: float  # base cohort size once fully ramped up
    rolling: float  # expected individual enrolments in a month when some arrive


# Launch sizes follow the published figures; end sizes are assumptions that sum to ~560 (the
# state's "500+ employers"). Cohorts are tuned so the grant-supported partnerships have placed
# roughly 1,750-1,950 people since the award: on track for, not yet at, the 2,000 goal.
PROFILES: dict[str, Profile] = {
    "south-central-bioscience": Profile(12, 34, 26.0, 2.0),
    "capital-technology": Profile(50, 72, 46.0, 4.5),
    "southwest-technology": Profile(52, 68, 42.0, 4.5),
    "capital-healthcare": Profile(26, 40, 40.0, 4.5),
    "southwest-manufacturing": Profile(30, 48, 34.0, 3.5),
    "south-central-manufacturing": Profile(26, 50, 35.0, 3.5),
    "eastern-manufacturing": Profile(20, 56, 14.0, 2.0),
    "northwest-manufacturing": Profile(14, 32, 20.0, 3.0),
    "capital-manufacturing": Profile(16, 40, 29.0, 3.0),
    "northwest-healthcare": Profile(10, 22, 17.0, 2.5),
    "south-central-healthcare": Profile(14, 34, 29.0, 3.0),
    "eastern-healthcare": Profile(12, 28, 22.0, 3.0),
    "capital-logistics": Profile(10, 24, 9.0, 1.5),
    "northwest-ace": Profile(10, 20, 8.0, 1.0),
}
DEFAULT_PROFILE = Profile(12, 28, 10.0, 1.5)

# Grant-supported partnerships run smaller programmes before the award, full size six months after it.
PRE_GRANT_FACTOR = 0.5
GRANT_RAMP_MONTHS = 6
# A new partnership's activity ramps up over its first year.
LAUNCH_RAMP_MONTHS = 12
# Probability that a month sees some individual (non-cohort) enrolments.
ROLLING_CHANCE = 0.3
# Lag from completion to placement, in months, and its weights.
PLACEMENT_LAGS = (1, 2, 3)
PLACEMENT_LAG_WEIGHTS = (0.5, 0.3, 0.2)


# Optional metrics are "collected" from this month on.
OPTIONAL_FROM = "2023-01"
WAGE_GROWTH = 0.03  # a year
# Which partnerships do not report an optional metric at all (so the pages hide or say so).
NOT_REPORTED: dict[str, frozenset[str]] = {
    "avg_starting_wage": frozenset({"northwest-ace", "eastern-healthcare"}),
    "placements_no_bachelor": frozenset({"capital-logistics", "northwest-ace", "eastern-healthcare"}),
    # Work-based learning: reported where it is part of the model (internships, apprenticeships).
    "wbl_started": frozenset(
        {"capital-healthcare", "northwest-healthcare", "south-central-healthcare", "eastern-healthcare"}
        | {"capital-logistics"}
    ),
    "trainees_underrepresented": frozenset({"capital-logistics", "eastern-manufacturing"}),
    "credentials_earned": frozenset({"capital-logistics", "northwest-healthcare", "south-central-bioscience"}),
}


def _rng(rsp_id: str, stream: str) -> random.Random:
    # A stream per partnership and purpose: adding one leaves the others; str seeds ignore PYTHONHASHSEED.
    return random.Random(f"{SEED}:{rsp_id}:{stream}")


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def _employers(p: Partnership, profile: Profile, n_months: int) -> list[int]:
    """A stock series: saturating growth from the launch size toward the end size, with noise."""
    rng = _rng(p.id, "employers")
    span = max(n_months - 1, 1)
    tau = max(30.0, span / 3)  # months: most growth happens in the first few years
    norm = 1.0 - math.exp(-span / tau)
    values: list[int] = []
    noise = 0.0
    for t in range(n_months):
        growth = (1.0 - math.exp(-t / tau)) / norm
        trend = profile.employers_start + (profile.employers_end - profile.employers_start) * growth
        noise = 0.85 * noise + rng.gauss(0.0, 0.025)
        value = max(1, round(trend * (1.0 + noise)))
        if values:
            prev = values[-1]
            value = min(value, math.floor(prev * (1 + MAX_EMPLOYER_STEP)) or 1)
            value = max(value, math.ceil(prev * (1 - MAX_EMPLOYER_STEP)))
        values.append(value)
    return values


def _activity_factor(p: Partnership, month_index: int, start_index: int, announced: int) -> float:
    t = month_index - start_index
    launch = min(1.0, 0.3 + 0.7 * t / LAUNCH_RAMP_MONTHS)
    if not p.gjc_supported:
        return launch
    since_award = max(month_index - announced, 0)
    return launch * (PRE_GRANT_FACTOR + (1 - PRE_GRANT_FACTOR) * min(1.0, since_award / GRANT_RAMP_MONTHS))


def _training(
    p: Partnership, profile: Profile, start_index: int, n_months: int, announced: int
) -> tuple[list[int], list[int], list[int]]:
    """Enrolments, completions and placements per month (index 0 = demo_start)."""
    model = SECTORS.get(p.sector, DEFAULT_SECTOR)
    rng = _rng(p.id, "training")
    enrolled = [0] * n_months
    completed = [0] * n_months
    placed = [0] * n_months

    def enrol(t: int, n: int, duration: tuple[int, int]) -> None:
        if n <= 0:
            return
        enrolled[t] += n
        done = t + rng.randint(*duration)
        finishers = _binomial(rng, n, model.completion_rate)
        if done < n_months:
            completed[done] += finishers
        hired = _binomial(rng, finishers, model.placement_rate)
        for _ in range(hired):
            when = done + rng.choices(PLACEMENT_LAGS, PLACEMENT_LAG_WEIGHTS)[0]
            if when < n_months:
                placed[when] += 1

    for t in range(n_months):
        month_index = start_index + t
        calendar_month = month_index % 12 + 1
        factor = _activity_factor(p, month_index, start_index, announced)
        for prog in PROGRAMMES.get(p.sector, DEFAULT_PROGRAMMES):
            if calendar_month not in prog.start_months or rng.random() < prog.skip:
                continue
            size = round(profile.cohort * prog.share * factor * rng.lognormvariate(0.0, 0.25))
            enrol(t, size, prog.duration)
        if rng.random() < ROLLING_CHANCE:
            size = round(profile.rolling * factor * rng.uniform(0.5, 1.8))
            enrol(t, size, model.rolling_duration)
    return enrolled, completed, placed


def _work_based_learning(p: Partnership, rng: random.Random, calendar_month: int, enrolled: int) -> int:
    """Internships and apprenticeships started in a month."""
    if p.sector == "bioscience":  # SPRINT summer internships start in June
        return round(enrolled * rng.uniform(0.8, 0.95)) if calendar_month == 6 else _binomial(rng, 2, 0.15)
    if p.sector == "technology":  # summer internships, a few apprenticeships
        return rng.randint(6, 14) if calendar_month == 6 else _binomial(rng, 3, 0.3)
    if p.sector in ("manufacturing", "ace"):  # registered apprenticeships, mostly with the autumn cohorts
        return _binomial(rng, 8, 0.45) if calendar_month in (1, 9) else _binomial(rng, 3, 0.25)
    return _binomial(rng, 2, 0.2)


def _optional(p: Partnership, month: str, enrolled: int, completed: int, placed: int) -> dict:
    """The optional metrics of one partnership-month ("" where not reported)."""
    row = dict.fromkeys(OPTIONAL_KEYS, "")
    if month < OPTIONAL_FROM:
        return row
    rng = _rng(p.id, f"optional:{month}")
    model = SECTORS.get(p.sector, DEFAULT_SECTOR)
    years = (_month_index(month) - _month_index(OPTIONAL_FROM)) / 12
    if p.id not in NOT_REPORTED["avg_starting_wage"] and placed > 0:
        wage = model.wage * (1 + WAGE_GROWTH) ** years + rng.gauss(0.0, 0.9)
        row["avg_starting_wage"] = f"{max(wage, 15.0):.2f}"
    if p.id not in NOT_REPORTED["placements_no_bachelor"]:
        row["placements_no_bachelor"] = _binomial(rng, placed, model.no_bachelor)
    if p.id not in NOT_REPORTED["wbl_started"]:
        row["wbl_started"] = _work_based_learning(p, rng, int(month[5:]), enrolled)
    if p.id not in NOT_REPORTED["trainees_underrepresented"]:
        row["trainees_underrepresented"] = _binomial(rng, enrolled, model.underrepresented)
    if p.id not in NOT_REPORTED["credentials_earned"]:  # its own stream: the other figures stay as they were
        credentials = _rng(p.id, f"credentials:{month}")
        row["credentials_earned"] = _binomial(credentials, completed, model.credentials)
    return row


def generate(reg: Registry | None = None) -> list[dict]:
    """Illustrative monthly rows as sent, sorted by rsp_id then month (a correction after the row it corrects)."""
    reg = reg if reg is not None else registry()
    announced = _month_index(reg.grant.announced)
    rows: list[dict] = []
    for p in sorted(reg.partnerships, key=lambda q: q.id):
        profile = PROFILES.get(p.id, DEFAULT_PROFILE)
        months = labels_between(p.demo_start, LAST_MONTH)
        employers = _employers(p, profile, len(months))
        enrolled, completed, placed = _training(p, profile, _month_index(p.demo_start), len(months), announced)
        for t, month in enumerate(months):
            rows.append(
                {
                    "rsp_id": p.id,
                    "month": month,
                    "employers_engaged": employers[t],
                    "trainees_enrolled": enrolled[t],
                    "trainees_completed": completed[t],
                    "placements": placed[t],
                    **_optional(p, month, enrolled[t], completed[t], placed[t]),
                }
            )
    return _as_sent(rows)


def _as_sent(rows: list[dict]) -> list[dict]:
    """The rows in the order they were sent, each with its sending day; a correction follows the first report
    of its partnership-month with the figures the first report over-stated."""
    out = []
    for row in rows:
        key = (row["rsp_id"], row["month"])
        if row["month"] == LAST_MONTH and row["rsp_id"] in NOT_YET_SENT:
            continue
        on_time = f"{label(shift(month_to_date(row['month']), 1))}-{SENT_DAY:02d}"
        if key in CORRECTED:
            day, over = CORRECTED[key]
            out.append({**row, **{m: row[m] + extra for m, extra in over.items()}, "sent_on": on_time})
            out.append({**row, "sent_on": day})
        else:
            out.append({**row, "sent_on": SENT_LATE.get(key, on_time)})
    return out


def write_csv(rows: list[dict], path: Path = DEMO_FILE) -> None:
    """Write rows in the import format (LF line endings, so the file is byte-for-byte stable)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    sent = generate()
    write_csv(sent)
    rows = list({(r["rsp_id"], r["month"]): r for r in sent}.values())  # the latest figures of each month
    reg = registry()
    supported = {p.id for p in reg.partnerships if p.gjc_supported}
    since = label(shift(month_to_date(reg.grant.announced), 1))
    months = [r["month"] for r in rows]
    print(f"wrote {DEMO_FILE} (illustrative data, seed {SEED})")
    print(f"  rows:                          {len(rows)}")
    print(f"  months:                        {min(months)} .. {max(months)}")
    employers = sum(r["employers_engaged"] for r in rows if r["month"] == LAST_MONTH)
    print(f"  statewide employers {LAST_MONTH}:  {employers}")
    print(f"  total enrolled:                {sum(r['trainees_enrolled'] for r in rows)}")
    print(f"  total completed:               {sum(r['trainees_completed'] for r in rows)}")
    print(f"  total placed:                  {sum(r['placements'] for r in rows)}")
    grant = sum(r["placements"] for r in rows if r["rsp_id"] in supported and since <= r["month"] <= LAST_MONTH)
    print(f"  grant-supported placements {since}..{LAST_MONTH}: {grant} (goal {reg.grant.goal_placements})")


if __name__ == "__main__":
    main()
