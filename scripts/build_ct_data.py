"""Build the app's Connecticut data from the public sources in data/ct/ (see data/ct/PROVENANCE.md).

Writes, deterministically (a second run gives byte-identical files):
- rsp_data/data/ct_regions.geojson: the five workforce areas dissolved from the 169 town shapes,
  the state outline, and the town borders as one faint line feature;
- rsp_data/data/ct_towns.csv: each town's area, county, label point and census counts;
- rsp_data/data/published_figures.csv: the published figures, checked to carry a date and a source.

Run from the repo root: `make ct-data` (shapely is a dev-only dependency; the app reads the output).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.polygon import orient
from shapely.ops import polylabel

from rsp_data.registry import DATA_DIR, registry

SOURCE = REPO_ROOT / "data" / "ct"
REGIONS_FILE = DATA_DIR / "ct_regions.geojson"
TOWNS_FILE = DATA_DIR / "ct_towns.csv"
FIGURES_FILE = DATA_DIR / "published_figures.csv"

# Islands smaller than this (square degrees, ~0.4 km2 at CT's latitude) are dropped from the areas.
MIN_ISLAND_AREA = 5e-5
# Coverage simplification (Visvalingam-Whyatt, degrees): areas stay gap-free and small to send.
SIMPLIFY_TOLERANCE = 0.002
# The faint town borders are drawn thin, so they can be simplified further.
LINE_TOLERANCE = 0.004
GRID_SIZE = 1e-4
DECIMALS = 4
LABEL_TOLERANCE = 1e-4

# Census county FIPS (GEOID digits 3-5): the eight historical counties, still the towns' GEOID prefix.
COUNTIES = {
    "001": "Fairfield",
    "003": "Hartford",
    "005": "Litchfield",
    "007": "Middlesex",
    "009": "New Haven",
    "011": "New London",
    "013": "Tolland",
    "015": "Windham",
}
# ACS columns summed into areas (counts only: rates are recomputed from them).
CENSUS = {
    "population": "Total population",
    "adults_18_plus": "Population ages 18+",
    "adults_25_plus": "Adults ages 25+",
    "bachelors_or_higher": "Adults with bachelor's or higher",
    "poverty_known": "Poverty status known",
    "in_poverty": "Population in poverty",
    "median_household_income": "Median household income",
}
FIGURE_COLUMNS = ("subject", "figure", "value", "unit", "as_of", "source", "source_url", "note")
METADATA = {
    "source": (
        "Town shapes: U.S. Census Bureau cartographic boundary files 2020 (public domain), via the cwi R "
        "package by CT Data Haven (MIT licence); workforce areas: CT Department of Labor town lists"
    ),
    "generated_by": "scripts/build_ct_data.py",
}


def read_csv(name: str) -> list[dict]:
    with open(SOURCE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def polygons(geom) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    return [p for part in getattr(geom, "geoms", []) for p in polygons(part)]


def drop_islands(geom):
    parts = sorted(polygons(geom), key=lambda p: p.area, reverse=True)
    kept = [parts[0]] + [p for p in parts[1:] if p.area >= MIN_ISLAND_AREA]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def finish(geom):
    """Snap to the output grid and orient rings per RFC 7946, largest part first."""
    geom = shapely.set_precision(geom, GRID_SIZE)
    parts = sorted((orient(p, sign=1.0) for p in polygons(geom) if p.area > 0), key=lambda p: p.area, reverse=True)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def label_point(geom) -> tuple[float, float]:
    """A visually central point inside the largest part (pole of inaccessibility)."""
    largest = max(polygons(geom), key=lambda p: p.area)
    for candidate in (polylabel(largest, LABEL_TOLERANCE), largest.representative_point()):
        lon, lat = round(candidate.x, DECIMALS), round(candidate.y, DECIMALS)
        if largest.contains(Point(lon, lat)):
            return lon, lat
    raise SystemExit("could not find a label point inside the shape")


def rounded(obj):
    if isinstance(obj, list | tuple):
        return [rounded(item) for item in obj]
    return round(float(obj), DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def feature(geom, properties: dict) -> dict:
    geometry = mapping(geom)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])},
    }


def area_ids() -> dict[str, str]:
    """The source's area names (name or also-called) to registry region ids."""
    ids = {}
    for region in registry().regions:
        ids[region.name] = region.id
        if region.also_called:
            ids[region.also_called] = region.id
    return ids


def towns() -> tuple[list[dict], list, list]:
    """Town rows (sorted by name), their simplified shapes and their source shapes, in the same order."""
    shapes = json.loads((SOURCE / "towns.geojson").read_text(encoding="utf-8"))["features"]
    areas = {r["town"]: r["wda"] for r in read_csv("town_workforce_area.csv")}
    acs = {r["name"]: r for r in read_csv("town_acs_2023.csv") if r["level"] == "6_town"}
    shapes.sort(key=lambda f: f["properties"]["name"])
    names = [f["properties"]["name"] for f in shapes]
    if len(names) != 169 or set(names) != set(areas) or set(names) != set(acs):
        raise SystemExit("the town shapes, the area list and the census rows do not name the same 169 towns")
    geoms = [shapely.make_valid(shape(f["geometry"])) for f in shapes]
    if not shapely.coverage_is_valid(geoms):
        raise SystemExit("the town shapes overlap or leave gaps")
    simplified = [finish(g) for g in shapely.coverage_simplify(geoms, SIMPLIFY_TOLERANCE)]
    ids = area_ids()
    rows = []
    for f, geom in zip(shapes, simplified, strict=True):
        name, geoid = f["properties"]["name"], f["properties"]["GEOID"]
        lon, lat = label_point(geom)
        row = {
            "town": name,
            "geoid": geoid,
            "county": COUNTIES[geoid[2:5]],
            "region_id": ids[areas[name]],
            "lon": lon,
            "lat": lat,
        }
        row.update({key: int(acs[name][column]) for key, column in CENSUS.items()})
        rows.append(row)
    return rows, simplified, geoms


def town_lines(geoms) -> MultiLineString:
    """Every town border once, as lines (a shared border is one line, not two)."""
    shapes = [finish(g) for g in shapely.coverage_simplify(geoms, LINE_TOLERANCE)]
    merged = shapely.line_merge(shapely.union_all([g.boundary for g in shapes]))
    lines = [merged] if isinstance(merged, LineString) else list(merged.geoms)
    return MultiLineString(sorted(lines, key=lambda line: line.coords[0]))


def regions_collection(rows: list[dict], simplified, geoms) -> dict:
    features = []
    for region in registry().regions:
        members = [g for row, g in zip(rows, simplified, strict=True) if row["region_id"] == region.id]
        geom = finish(drop_islands(shapely.union_all(members)))
        lon, lat = label_point(geom)
        features.append(
            feature(
                geom,
                {
                    "kind": "region",
                    "region_id": region.id,
                    "region_name": region.name,
                    "towns": len(members),
                    "label_lon": lon,
                    "label_lat": lat,
                },
            )
        )
    state = finish(drop_islands(shapely.union_all(simplified)))
    lon, lat = label_point(state)
    props = {"kind": "state", "region_id": "", "region_name": "Connecticut", "towns": len(rows)}
    features.append(feature(state, {**props, "label_lon": lon, "label_lat": lat}))
    lines = shapely.set_precision(town_lines(geoms), GRID_SIZE)
    features.append(feature(lines, {"kind": "towns", "region_id": "", "region_name": "Town borders"}))
    return {"type": "FeatureCollection", "metadata": METADATA, "features": features}


def published_figures() -> list[dict]:
    rows = read_csv("published_figures.csv")
    for number, row in enumerate(rows, start=2):
        if tuple(row) != FIGURE_COLUMNS or not row["as_of"] or not row["source"] or not row["value"]:
            raise SystemExit(f"published_figures.csv line {number}: every figure needs a value, a date and a source")
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rows, simplified, geoms = towns()
    collection = regions_collection(rows, simplified, geoms)
    text = json.dumps(collection, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    REGIONS_FILE.write_text(text + "\n", encoding="utf-8")
    write_csv(TOWNS_FILE, rows)
    write_csv(FIGURES_FILE, published_figures())
    for path in (REGIONS_FILE, TOWNS_FILE, FIGURES_FILE):
        print(f"wrote {path.relative_to(REPO_ROOT)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
