"""Build ``rsp_data/data/ct_regions.geojson``: Connecticut's five workforce regions as map shapes.

Why this script exists
----------------------
The app draws a map of Connecticut's five workforce-development regions. The regions are
officially defined by towns, but no town-level boundary file ships in any package we depend
on, and fetching one at run time would make the app depend on the network. Every region is
close to a union of whole counties, though, and the US Census county shapes *do* ship inside
the ``plotly-geo`` package. So we approximate each region by its counties, which is honest
(the map says so) and good enough at state zoom.

The region ids, names and county lists come from the registry (``rsp_data/data/registry.toml``),
not from this file. The output is committed, so at run time the app needs neither the network
nor the shapefile, nor ``pyshp``/``shapely`` (both are only needed to rerun this script).

What it does
------------
1. Reads the Connecticut (state FIPS 09) counties from ``cb_2016_us_county_500k`` with ``pyshp``.
2. Unions the counties of each region with ``shapely`` and drops tiny offshore islands.
3. Simplifies the five regions together as a polygonal coverage, so shared borders stay shared
   (no gaps or overlaps between neighbouring regions), then snaps coordinates to a 1e-4 degree
   grid (4 decimals).
4. Adds the state outline (the union of the five regions) and, for every region, a label point
   that is guaranteed to lie inside it (pole of inaccessibility, i.e. a visually central point).
5. Writes a deterministic GeoJSON FeatureCollection: sorted keys, regions in registry order,
   then the state feature. Running it twice gives a byte-identical file.

Run from the repo root::

    .venv/bin/python scripts/build_regions_geojson.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import _plotly_geo  # ships the Census shapefiles as package data
import shapefile  # pyshp
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.polygon import orient
from shapely.ops import polylabel

from rsp_data.registry import DATA_DIR, registry

OUTPUT = DATA_DIR / "ct_regions.geojson"
SHAPEFILE_NAME = "cb_2016_us_county_500k"
CT_STATE_FIPS = "09"

# Islands smaller than this (square degrees, ~0.4 km2 at CT's latitude) are dropped.
MIN_ISLAND_AREA = 5e-5
# Coverage simplification tolerance (Visvalingam-Whyatt, in degrees: roughly the square root
# of the area of the triangles removed).
SIMPLIFY_TOLERANCE = 0.003
# Coordinates are snapped to this grid and written with this many decimals (~10 m).
GRID_SIZE = 1e-4
DECIMALS = 4
# Precision of the label-point search, in degrees.
LABEL_TOLERANCE = 1e-4

METADATA = {
    "source": (
        "US Census Bureau cartographic boundary file cb_2016_us_county_500k (public domain), via the plotly-geo package"
    ),
    "approximation": "regions approximated by county",
    "generated_by": "scripts/build_regions_geojson.py",
}


def shapefile_path() -> Path:
    """The county shapefile inside the installed ``plotly-geo`` package (no extension)."""
    return Path(_plotly_geo.__file__).resolve().parent / "package_data" / SHAPEFILE_NAME


def load_ct_counties() -> dict[str, Polygon | MultiPolygon]:
    """Connecticut county geometries keyed by county name (e.g. ``"New Haven"``)."""
    counties: dict[str, Polygon | MultiPolygon] = {}
    with shapefile.Reader(str(shapefile_path())) as reader:
        for shape_record in reader.iterShapeRecords():
            record = shape_record.record
            if record["STATEFP"] != CT_STATE_FIPS:
                continue
            geom = shape(shape_record.shape.__geo_interface__)
            counties[record["NAME"]] = shapely.make_valid(geom)
    if len(counties) != 8:
        raise SystemExit(f"expected 8 Connecticut counties, found {sorted(counties)}")
    return counties


def polygons(geom) -> list[Polygon]:
    """The polygon parts of a (multi)polygon or geometry collection."""
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    return [p for part in getattr(geom, "geoms", []) for p in polygons(part)]


def drop_islands(geom) -> Polygon | MultiPolygon:
    """Drop polygon parts smaller than MIN_ISLAND_AREA (always keeping the largest part)."""
    parts = sorted(polygons(geom), key=lambda p: p.area, reverse=True)
    kept = [parts[0]] + [p for p in parts[1:] if p.area >= MIN_ISLAND_AREA]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def finish(geom) -> Polygon | MultiPolygon:
    """Snap to the output grid, keep only polygonal parts, orient rings per RFC 7946."""
    geom = shapely.set_precision(geom, GRID_SIZE)
    parts = [orient(p, sign=1.0) for p in polygons(geom) if p.area > 0]
    parts.sort(key=lambda p: p.area, reverse=True)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def label_point(geom) -> tuple[float, float]:
    """A visually central point inside the region's largest polygon, rounded to DECIMALS."""
    largest = max(polygons(geom), key=lambda p: p.area)
    for candidate in (
        polylabel(largest, LABEL_TOLERANCE),
        largest.representative_point(),
    ):
        lon, lat = round(candidate.x, DECIMALS), round(candidate.y, DECIMALS)
        if largest.contains(Point(lon, lat)):
            return lon, lat
    raise SystemExit("could not find a label point inside the region")


def rounded(obj):
    """Round every coordinate in a GeoJSON coordinates structure (tuples become lists)."""
    if isinstance(obj, (list, tuple)):
        return [rounded(item) for item in obj]
    return round(float(obj), DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def vertex_count(geom) -> int:
    return int(shapely.get_num_coordinates(geom))


def feature(geom, properties: dict) -> dict:
    geometry = mapping(geom)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {
            "type": geometry["type"],
            "coordinates": rounded(geometry["coordinates"]),
        },
    }


def build() -> tuple[dict, dict[str, int]]:
    """The FeatureCollection and each region's vertex count."""
    counties = load_ct_counties()
    regions = registry().regions

    assigned = [c for region in regions for c in region.counties]
    if sorted(assigned) != sorted(counties) or len(set(assigned)) != len(assigned):
        raise SystemExit(f"registry counties {sorted(assigned)} do not match the shapefile's {sorted(counties)}")

    unions = [drop_islands(shapely.union_all([counties[name] for name in region.counties])) for region in regions]
    if not shapely.coverage_is_valid(unions):
        raise SystemExit("region polygons do not form a valid coverage")
    simplified = shapely.coverage_simplify(unions, SIMPLIFY_TOLERANCE)
    shapes = [finish(geom) for geom in simplified]
    state = finish(shapely.union_all(shapes))

    features = []
    vertices: dict[str, int] = {}
    for region, geom in zip(regions, shapes, strict=True):
        if not geom.is_valid:
            raise SystemExit(f"region {region.id}: invalid geometry after simplification")
        lon, lat = label_point(geom)
        vertices[region.id] = vertex_count(geom)
        features.append(
            feature(
                geom,
                {
                    "kind": "region",
                    "region_id": region.id,
                    "region_name": region.name,
                    "counties": list(region.counties),
                    "label_lon": lon,
                    "label_lat": lat,
                },
            )
        )
    lon, lat = label_point(state)
    vertices["state"] = vertex_count(state)
    features.append(
        feature(
            state,
            {
                "kind": "state",
                "region_id": "",
                "region_name": "Connecticut",
                "counties": [c for region in regions for c in region.counties],
                "label_lon": lon,
                "label_lat": lat,
            },
        )
    )
    collection = {
        "type": "FeatureCollection",
        "metadata": METADATA,
        "features": features,
    }
    return collection, vertices


def main() -> None:
    collection, vertices = build()
    text = json.dumps(collection, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    OUTPUT.write_text(text + "\n", encoding="utf-8")
    try:
        shown = OUTPUT.relative_to(Path.cwd())
    except ValueError:
        shown = OUTPUT
    print(f"wrote {shown} ({OUTPUT.stat().st_size} bytes)")
    for key, count in vertices.items():
        print(f"  {key:<14} {count:>5} vertices")


if __name__ == "__main__":
    main()
