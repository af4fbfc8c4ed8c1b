"""One colour per sector and per region, the same on every chart and on the map. Sectors use the
Okabe-Ito palette and regions Paul Tol's 'bright' scheme: both stay distinguishable with colour-blindness.

Contrast (WCAG 1.4.11: chart marks 3:1 against the background, in both themes): the charts are drawn once for
every viewer, so a mark must hold on the light and the dark background alike. Bars and markers keep their
palette fill and get an outline in MARK_OUTLINE where the fill alone falls short (`outline`); lines, which
cannot be outlined, take the colour moved just far enough towards black or white (`for_line`).
tests/test_contrast.py computes every pair.
"""

from __future__ import annotations

SECTOR_COLOURS = {
    "healthcare": "#0072B2",
    "manufacturing": "#D55E00",
    "technology": "#009E73",
    "bioscience": "#CC79A7",
    "logistics": "#E69F00",
    "ace": "#56B4E9",
}
REGION_COLOURS = {
    "northwest": "#228833",
    "capital": "#4477AA",
    "south-central": "#AA3377",
    "eastern": "#CCBB44",
    "southwest": "#66CCEE",
}
NEUTRAL = "#808080"  # "all others", the grant series: 3.9:1 on white, 4.6:1 on the dark background
OTHER_PEER = "#8C8C8C"  # a profile's peers beside the highlighted partnership
# The themes' backgrounds (.streamlit/config.toml) that every mark is measured against.
BACKGROUNDS = {"light": "#FFFFFF", "dark": "#171614"}
MARK_CONTRAST = 3.0  # WCAG 1.4.11 for graphical objects
MARK_OUTLINE = "#808080"  # an outline that keeps 3:1 on both backgrounds
FOCUS_RING = "#0072B2"  # the keyboard focus outline: 5.2:1 on white, 3.5:1 on the dark background
# Text on primary buttons: Streamlit's white in light; in dark, white on the sky-blue primary is 2.3:1.
PRIMARY_BUTTON_TEXT = {"light": "#FFFFFF", "dark": "#111111"}
GOAL = "#D55E00"
SPARKLINE = "#0072B2"  # the KPI tiles' small charts: 5.2:1 on white, 3.5:1 on the dark background
# Sequential shading for the map's choropleth (light to dark blue).
SHADE_LOW = (222, 235, 247)
SHADE_HIGH = (8, 81, 156)


def colour_for(group_kind: str | None, group_id: str) -> str:
    return {"sector": SECTOR_COLOURS, "region": REGION_COLOURS}.get(group_kind, {}).get(group_id, NEUTRAL)


def hex_to_rgb(colour: str) -> list[int]:
    return list(bytes.fromhex(colour.lstrip("#")))


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #RRGGBB colour."""
    channels = [v / 255 for v in hex_to_rgb(colour)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two #RRGGBB colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def holds(colour: str) -> bool:
    """True when `colour` keeps 3:1 against both themes' backgrounds."""
    return all(contrast(colour, bg) >= MARK_CONTRAST for bg in BACKGROUNDS.values())


def outline(colour: str) -> str:
    """The outline of a bar or marker filled with `colour`: the fill itself where it holds, else MARK_OUTLINE."""
    return colour if holds(colour) else MARK_OUTLINE


def for_line(colour: str) -> str:
    """`colour` for a line: unchanged where it holds, else mixed with black (too light) or white (too dark) in
    steps of 2% until it does, so the hue stays recognisable."""
    rgb = hex_to_rgb(colour)
    too_light = contrast(colour, BACKGROUNDS["light"]) < MARK_CONTRAST
    for step in range(51):
        share = step / 50
        target = 0 if too_light else 255
        mixed = "#" + "".join(f"{round(v + (target - v) * share):02X}" for v in rgb)
        if holds(mixed):
            return mixed
    return MARK_OUTLINE


def shade(share: float) -> list[int]:
    """Colour on the light-to-dark scale for a share in [0, 1]."""
    share = min(max(share, 0.0), 1.0)
    return [round(lo + (hi - lo) * share) for lo, hi in zip(SHADE_LOW, SHADE_HIGH, strict=True)]
