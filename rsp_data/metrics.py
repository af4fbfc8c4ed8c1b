"""The data dictionary: every metric the dashboard shows, and how it aggregates.

This is the single source of the metric semantics. The Data page renders it and
tests/test_docs.py checks the README's data dictionary against it.
"""

from __future__ import annotations

from dataclasses import dataclass

STOCK = "stock"
FLOW = "flow"
RATE = "rate"
AVERAGE = "average"  # a weighted average: numerator and denominator are summed, then divided


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    kind: str
    meaning: str
    over_time: str
    across_partnerships: str
    numerator: str = ""
    denominator: str = ""


BASE_METRICS: tuple[Metric, ...] = (
    Metric(
        "employers_engaged",
        "Employers engaged",
        "employers",
        STOCK,
        "Employers actively engaged with the partnership at the end of the month.",
        "Latest month in the range (a stock: never summed over months).",
        "Sum. An employer engaged with two partnerships counts twice.",
    ),
    Metric(
        "trainees_enrolled",
        "Trainees enrolled",
        "people",
        FLOW,
        "People newly enrolled in a partnership's training during the month.",
        "Sum over the months in the range.",
        "Sum.",
    ),
    Metric(
        "trainees_completed",
        "Trainees completed",
        "people",
        FLOW,
        "People who completed a partnership's training during the month.",
        "Sum over the months in the range.",
        "Sum.",
    ),
    Metric(
        "placements",
        "Placements",
        "people",
        FLOW,
        "Completers placed into jobs during the month.",
        "Sum over the months in the range.",
        "Sum.",
    ),
)

DERIVED_METRICS: tuple[Metric, ...] = (
    Metric(
        "completion_rate",
        "Completion rate",
        "% of enrolled",
        RATE,
        "Trainees completed divided by trainees enrolled over the same range.",
        "Ratio of the sums over the range (not a mean of monthly rates).",
        "Ratio of the sums (not a mean of partnership rates).",
        "trainees_completed",
        "trainees_enrolled",
    ),
    Metric(
        "placement_rate",
        "Placement rate",
        "% of completed",
        RATE,
        "Placements divided by trainees completed over the same range.",
        "Ratio of the sums over the range (not a mean of monthly rates).",
        "Ratio of the sums (not a mean of partnership rates).",
        "placements",
        "trainees_completed",
    ),
)

# Optional quality and reach metrics: accepted by the import format when present, NULL where a
# partnership did not report them, and shown only when some row in the filters reported them.
OPTIONAL_METRICS: tuple[Metric, ...] = (
    Metric(
        "avg_starting_wage",
        "Average starting wage",
        "$ per hour",
        AVERAGE,
        "Optional. Average hourly wage at placement of the month's placements, in dollars and cents.",
        "Weighted by placements: Σ(wage × placements) ÷ Σ placements over the months that reported a wage "
        "(never a mean of monthly averages).",
        "Weighted by placements over the partnerships that reported a wage (never a mean of partnership averages).",
        "wage_dollars",
        "wage_placements",
    ),
    Metric(
        "placements_no_bachelor",
        "Placements without a bachelor's requirement",
        "people",
        FLOW,
        "Optional. Of the month's placements, those into roles that do not require a bachelor's degree "
        "(never more than placements).",
        "Sum over the months in the range.",
        "Sum. Its share of placements counts only the placements of months that reported it.",
    ),
    Metric(
        "wbl_started",
        "Work-based learning started",
        "people",
        FLOW,
        "Optional. Internships and apprenticeships that started during the month (e.g. the SPRINT summer internships).",
        "Sum over the months in the range.",
        "Sum.",
    ),
    Metric(
        "trainees_underrepresented",
        "Under-represented trainees",
        "people",
        FLOW,
        "Optional. Trainees enrolled during the month who are from under-represented groups, as a count.",
        "Sum over the months in the range.",
        'Sum. By partnership and month, counts from 1 to 4 are shown as "<5" (threshold configurable); '
        "totals are exact.",
    ),
)

OPTIONAL_DERIVED: tuple[Metric, ...] = (
    Metric(
        "no_bachelor_share",
        "Share without a bachelor's requirement",
        "% of placements",
        RATE,
        "Optional. Placements without a bachelor's requirement divided by the placements of the same "
        "partnership-months (those that reported it).",
        "Ratio of the sums over the months that reported it.",
        "Ratio of the sums (not a mean of partnership shares).",
        "placements_no_bachelor",
        "no_bachelor_placements",
    ),
)

METRICS: dict[str, Metric] = {m.key: m for m in BASE_METRICS + DERIVED_METRICS + OPTIONAL_METRICS + OPTIONAL_DERIVED}
OPTIONAL_KEYS: tuple[str, ...] = tuple(m.key for m in OPTIONAL_METRICS)
BASE_KEYS: tuple[str, ...] = tuple(m.key for m in BASE_METRICS)
FLOW_KEYS: tuple[str, ...] = tuple(m.key for m in BASE_METRICS if m.kind == FLOW)
STOCK_KEYS: tuple[str, ...] = tuple(m.key for m in BASE_METRICS if m.kind == STOCK)


def label(key: str) -> str:
    return METRICS[key].label


def data_dictionary_markdown() -> str:
    """The data dictionary as a Markdown table: shown on the Data page and kept in the README."""
    lines = [
        "| Metric | Column | Kind | Unit | Meaning | Over a range of months | Across partnerships |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in METRICS.values():
        lines.append(
            f"| {m.label} | `{m.key}` | {m.kind} | {m.unit} | {m.meaning} | {m.over_time} | {m.across_partnerships} |"
        )
    return "\n".join(lines)
