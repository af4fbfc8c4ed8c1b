"""Figures of ui/charts.py that pages draw: what a reader sees on them, checked on the figure itself."""

from __future__ import annotations

import base64
import re

import pandas as pd

from ui.charts import breakdown_bar, sparkline_svg
from ui.theme import SPARKLINE, holds


def test_bar_values_are_printed_after_the_bars_with_room_for_the_longest():
    rows = pd.DataFrame({"group_id": ["a", "b"], "group_name": ["Alpha", "Beta"], "placements": [1_234_567, 3]})
    fig = breakdown_bar(rows, "placements", "sector", "Placements by sector")
    (bar,) = fig.data
    assert list(bar.text) == ["3", "1,234,567"]  # smallest first: plotly draws the first category at the bottom
    assert bar.textposition == "outside" and bar.cliponaxis is False
    assert fig.layout.margin.r >= 8 * len("1,234,567")  # the longest value fits in the margin it reaches into


def drawn(tag: str) -> str:
    """The SVG an <img> tag's data URI draws."""
    return base64.b64decode(re.search(r"base64,([^\"]*)", tag)[1]).decode()


def test_sparkline_is_an_image_whose_alt_text_reads_the_series():
    points = [("Oct 2024", 50.0), ("Nov 2024", 61.0), ("Dec 2024", 12.0)]
    tag = sparkline_svg("placements", points, bars=True)
    alt = re.search(r'alt="([^"]*)"', tag)[1]
    assert alt == (
        "Placements, Oct 2024 – Dec 2024: from 50 (Oct 2024) to 12 (Dec 2024); "
        "lowest 12 (Dec 2024), highest 61 (Nov 2024)"
    )
    svg = drawn(tag)
    assert "<desc>Oct 2024: 50; Nov 2024: 61; Dec 2024: 12</desc>" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([^"]*)"', svg)]
    assert heights.index(max(heights)) == 1 and len(heights) == 3  # one bar a month, November's the tallest
    assert f'fill="{SPARKLINE}"' in svg and holds(SPARKLINE)  # 3:1 against both themes' backgrounds
    assert "<polyline" in drawn(sparkline_svg("placement_rate", [("2024 Q1", 0.5), ("2024 Q2", 0.6)], bars=False))
    assert sparkline_svg("placements", [], bars=True) == ""
