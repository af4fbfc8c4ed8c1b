"""One colour per sector and per region, the same on every chart and on the map. Sectors use the
Okabe-Ito palette and regions Paul Tol's 'bright' scheme: both stay distinguishable with colour-blindness.
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
NEUTRAL = "#555555"
GOAL = "#D55E00"
# Sequential shading for the map's choropleth (light to dark blue).
SHADE_LOW = (222, 235, 247)
SHADE_HIGH = (8, 81, 156)


def colour_for(group_kind: str | None, group_id: str) -> str:
    return {"sector": SECTOR_COLOURS, "region": REGION_COLOURS}.get(group_kind, {}).get(group_id, NEUTRAL)


def hex_to_rgb(colour: str) -> list[int]:
    return list(bytes.fromhex(colour.lstrip("#")))


def shade(share: float) -> list[int]:
    """Colour on the light-to-dark scale for a share in [0, 1]."""
    share = min(max(share, 0.0), 1.0)
    return [round(lo + (hi - lo) * share) for lo, hi in zip(SHADE_LOW, SHADE_HIGH, strict=True)]
