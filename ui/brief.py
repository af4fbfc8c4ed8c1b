"""A one-page partnership brief: a self-contained HTML file that opens offline, anywhere, and prints. Its chart
is an inline matplotlib SVG (no fonts, JavaScript or network), so the file is small enough to e-mail."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")  # no display: render to SVG only
import matplotlib.pyplot as plt
import pandas as pd
from sqlalchemy import Engine

from queries.data import illustrative_share
from queries.filters import Filters
from queries.metrics import kpi_summary, monthly_totals
from queries.registry import partnership_list
from queries.trends import metric_series
from rsp_data.metrics import METRICS
from ui.charts import KPI_METRICS, PEOPLE
from ui.format import metric_value, month_name
from ui.views import sector_peers


def trend_svg(monthly: pd.DataFrame, title: str) -> str:
    """Grouped quarterly bars of enrolments, completions and placements, as an inline SVG string."""
    series = {m: metric_series(monthly, m, "quarterly") for m in PEOPLE}
    labels = list(series["placements"]["period_label"])
    fig, ax = plt.subplots(figsize=(7.2, 2.8), dpi=100)
    width = 0.27
    for i, (metric, colour) in enumerate(PEOPLE.items()):
        values = series[metric]["value"].tolist()
        ax.bar(
            [x + (i - 1) * width for x in range(len(values))], values, width, label=METRICS[metric].label, color=colour
        )
    step = max(1, len(labels) // 10)
    ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)], fontsize=8)
    ax.set_ylabel("People", fontsize=9)
    ax.set_title(title, fontsize=10, loc="left", pad=22)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, ncols=3, loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})  # no timestamp: same input, same file
    plt.close(fig)
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def brief_html(engine: Engine, rsp_id: str, month_from: str | None = None, month_to: str | None = None) -> str:
    """The brief of one partnership over the month range, as one HTML document."""
    p = partnership_list(engine, (rsp_id,)).set_index("rsp_id").loc[rsp_id]
    mine = Filters(partnerships=(rsp_id,), month_from=month_from, month_to=month_to)
    kpis = kpi_summary(engine, mine)
    monthly = monthly_totals(engine, mine, None)
    peer_filter = Filters(sectors=(p["sector_id"],), month_from=month_from, month_to=month_to)
    peers = sector_peers(lambda query, *args, **kwargs: query(engine, *args, **kwargs), rsp_id, peer_filter)
    illustrative = illustrative_share(engine, mine) > 0
    as_of = month_name(kpis["as_of_label"])
    first = month_from or (p["first_month"] or "")
    last = month_to or (p["last_month"] or "")
    e = html.escape

    kpi_cells = "".join(
        f'<div class="kpi"><div class="label">{e(METRICS[m].label)}</div>'
        f'<div class="value" data-metric="{m}">{e(metric_value(m, kpis[m]))}</div></div>'
        for m in KPI_METRICS
    )
    peer_rows = "".join(
        f'<tr class="{"me" if r.group_id == rsp_id else ""}"><td>{e(r.group_name)}</td>'
        f'<td class="n">{e(metric_value("placements", r.placements))}</td>'
        f'<td class="n">{e(metric_value("placement_rate", r.placement_rate))}</td>'
        f'<td class="n">{e(metric_value("employers_engaged", r.employers_engaged))}</td></tr>'
        for r in peers.sort_values("placements", ascending=False).itertuples()
    )
    facts = [
        ("Sector", p["sector_name"]),
        ("Region", p["region_name"]),
        ("Convener", p["convener"] or "not published"),
        ("Launched", p["launched"] or "not published"),
        ("Good Jobs Challenge", "supported" if p["gjc_supported"] else "not supported"),
    ]
    fact_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in facts)
    chart = trend_svg(monthly, "People trained and placed each quarter") if not monthly.empty else "<p>No figures.</p>"
    data_note = (
        "These figures are ILLUSTRATIVE: generated for demonstration, not reported by the partnership."
        if illustrative
        else "Figures as reported monthly by the partnership's convener."
    )
    generated = datetime.now(UTC).strftime("%d %b %Y")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(p["name"])}: partnership brief, as of {e(as_of)}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b;
         max-width: 820px; margin: 24px auto; padding: 0 16px; line-height: 1.4; }}
  h1 {{ font-size: 24px; margin: 0 0 4px; }}
  .sub {{ color: #444; margin: 0 0 16px; }}
  .badge {{ background: #fdebd3; color: #8a4b00; border-radius: 4px; padding: 1px 6px; font-size: 13px; }}
  table {{ border-collapse: collapse; }}
  .facts th {{ text-align: left; padding: 2px 12px 2px 0; color: #555; font-weight: 600; }}
  .kpis {{ display: grid; grid-template-columns: repeat(5, 1fr); gap: 8px; margin: 16px 0; }}
  .kpi {{ border: 1px solid #ccc; border-radius: 6px; padding: 8px; }}
  .kpi .label {{ font-size: 12px; color: #555; }}
  .kpi .value {{ font-size: 26px; font-weight: 700; }}
  .peers td, .peers th {{ padding: 3px 10px; border-bottom: 1px solid #e3e3e3; }}
  .peers .n {{ text-align: right; font-variant-numeric: tabular-nums; }}
  .peers tr.me {{ font-weight: 700; background: #eef5fb; }}
  .note {{ font-size: 12px; color: #555; margin-top: 16px; }}
  svg {{ max-width: 100%; height: auto; }}
  @media print {{ body {{ margin: 0; }} }}
</style></head>
<body>
<h1>{e(p["name"])}</h1>
<p class="sub">Partnership brief · as of <b>{e(as_of)}</b> · {e(month_name(first))} – {e(month_name(last))}
{' · <span class="badge">Illustrative data</span>' if illustrative else ""}</p>
<table class="facts">{fact_rows}</table>
<div class="kpis">{kpi_cells}</div>
<p class="note">Employers engaged: count at the end of {e(as_of)} (a stock, not summed over months).
Other figures: summed over the months shown. Placement rate: placements ÷ trainees completed.</p>
{chart}
<h2 style="font-size:18px">Compared with {e(p["sector_name"].lower())} peers</h2>
<table class="peers"><tr><th>Partnership</th><th class="n">Placements</th><th class="n">Placement rate</th>
<th class="n">Employers</th></tr>{peer_rows}</table>
<p class="note">{e(data_note)} Source: RSP Metrics Dashboard, Connecticut. Brief generated {e(generated)}.</p>
</body></html>
"""
