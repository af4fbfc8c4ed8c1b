"""Contrast in both themes (WCAG 1.4.3 text 4.5:1, 1.4.11 chart marks and control edges 3:1), computed from
the colours the app ships: .streamlit/config.toml's themes and ui/theme.py's palettes, and what the charts
built from them really carry."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from ui import charts, theme
from ui.theme import BACKGROUNDS, MARK_CONTRAST, contrast, for_line, outline

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
PRESENT_CSS = (ROOT / "ui" / "present.css").read_text()
TEXT = 4.5
CAPTION_OPACITY = 0.6  # Streamlit draws captions in the text colour at 60% opacity

PALETTE = {
    **{f"sector {k}": v for k, v in theme.SECTOR_COLOURS.items()},
    **{f"region {k}": v for k, v in theme.REGION_COLOURS.items()},
    **{f"people {k}": v for k, v in charts.PEOPLE.items()},
    "neutral": theme.NEUTRAL,
    "goal": theme.GOAL,
    "other peers": theme.OTHER_PEER,
}


def blend(colour: str, background: str, opacity: float) -> str:
    fg, bg = theme.hex_to_rgb(colour), theme.hex_to_rgb(background)
    return "#" + "".join(f"{round(f * opacity + b * (1 - opacity)):02X}" for f, b in zip(fg, bg, strict=True))


def test_contrast_formula_matches_wcag() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the well-known AA grey
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_theme_text_and_captions(scheme: str) -> None:
    colours = CONFIG["theme"][scheme]
    background = colours["backgroundColor"]
    assert background.upper() == BACKGROUNDS[scheme], "ui/theme.py measures marks against another background"
    assert contrast(colours["textColor"], background) >= TEXT
    caption = blend(colours["textColor"], background, CAPTION_OPACITY)
    assert contrast(caption, background) >= TEXT, f"captions {caption} on {background}"
    # Primary buttons: their text on the primary colour; the primary colour as text (a selected segment), a
    # control edge or a focus ring.
    assert contrast(theme.PRIMARY_BUTTON_TEXT[scheme], colours["primaryColor"]) >= TEXT
    assert contrast(colours["primaryColor"], background) >= (TEXT if scheme == "dark" else MARK_CONTRAST)
    assert contrast(theme.FOCUS_RING, background) >= MARK_CONTRAST  # WCAG 1.4.11: the focus indicator


@pytest.mark.parametrize(("name", "colour"), PALETTE.items(), ids=list(PALETTE))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_palette_colour_is_visible_on_both_backgrounds(scheme: str, name: str, colour: str) -> None:
    """A bar or marker: its fill or, where the fill is too close to the background, its outline; a line: its
    line colour."""
    background = BACKGROUNDS[scheme]
    edge = max(contrast(colour, background), contrast(outline(colour), background))
    assert edge >= MARK_CONTRAST, f"{name} {colour} on {background}: {edge:.2f}"
    line = for_line(colour)
    assert contrast(line, background) >= MARK_CONTRAST, f"{name} as a line {line} on {background}"


def test_line_colours_stay_close_to_the_palette() -> None:
    """Colour-blind safety comes from the palette's hues: a line colour only darkens or lightens its colour."""
    for colour in PALETTE.values():
        line = for_line(colour)
        r, g, b = theme.hex_to_rgb(colour)
        lr, lg, lb = theme.hex_to_rgb(line)
        if line != colour:  # the same channel order: the hue is kept
            assert sorted(range(3), key=[r, g, b].__getitem__) == sorted(range(3), key=[lr, lg, lb].__getitem__)


def test_charts_outline_the_bars_that_need_it() -> None:
    rows = pd.DataFrame(
        {
            "group_id": list(theme.REGION_COLOURS),
            "group_name": [k.title() for k in theme.REGION_COLOURS],
            "placements": [10, 20, 30, 40, 50],
        }
    )
    fig = charts.breakdown_bar(rows, "placements", "region", "Placements by region")
    bar = fig.data[0]
    for fill, edge in zip(bar.marker.color, bar.marker.line.color, strict=True):
        assert max(contrast(fill, bg) for bg in BACKGROUNDS.values()) >= MARK_CONTRAST
        for background in BACKGROUNDS.values():
            assert max(contrast(fill, background), contrast(edge, background)) >= MARK_CONTRAST, (fill, edge)
    assert bar.marker.line.width >= 1


def test_trend_lines_hold_on_both_backgrounds() -> None:
    months = pd.date_range("2025-01-01", periods=3, freq="MS")
    series = pd.DataFrame(
        [
            {
                "group_id": g,
                "group_name": g,
                "period": m,
                "period_label": f"{m:%b %Y}",
                "months_in_period": 1,
                "value": 1,
            }
            for g in theme.REGION_COLOURS
            for m in months
        ]
    )
    fig = charts.trend_chart(series, "placements", "monthly", "region", "Placements")
    for trace in fig.data:
        for background in BACKGROUNDS.values():
            assert contrast(trace.line.color, background) >= MARK_CONTRAST, (trace.name, trace.line.color)


def test_presenter_colours() -> None:
    """The presenter's own CSS: the illustrative badge's text and the goal bar's fill."""
    badge = re.search(r"\.rsp-badge \{[^}]*background: (#[0-9A-Fa-f]{6}); color: (#[0-9A-Fa-f]{6})", PRESENT_CSS)
    assert badge and contrast(badge.group(2), badge.group(1)) >= TEXT
    fill = re.search(r"\.rsp-goal-fill \{[^}]*background: (#[0-9A-Fa-f]{6})", PRESENT_CSS).group(1)
    for background in BACKGROUNDS.values():
        assert contrast(fill, background) >= MARK_CONTRAST
