"""Checks on the committed Connecticut data built by scripts/build_ct_data.py from data/ct/.

Point-in-polygon is pure Python here, so the known-town checks do not lean on the library that built
the shapes; the validity checks use shapely (a dev dependency).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections import Counter

import pytest

from rsp_data.registry import DATA_DIR, registry

GEOJSON = DATA_DIR / "ct_regions.geojson"

# Connecticut's bounding box, with a little slack.
LON_MIN, LON_MAX = -73.75, -71.75
LAT_MIN, LAT_MAX = 40.95, 42.06

# City-hall coordinates, looked up independently of the shapes. Danbury and Waterbury are the towns the
# old county approximation put in the wrong area.
TOWNS = [
    ("Danbury", -73.4540, 41.3948, "northwest"),
    ("Waterbury", -73.0515, 41.5582, "northwest"),
    ("Torrington", -73.1212, 41.8007, "northwest"),
    ("Stamford", -73.5387, 41.0534, "southwest"),
    ("Bridgeport", -73.1952, 41.1792, "southwest"),
    ("Shelton", -73.0932, 41.3165, "southwest"),
    ("Meriden", -72.8071, 41.5382, "south-central"),
    ("Middletown", -72.6507, 41.5623, "south-central"),
    ("Milford", -73.0565, 41.2223, "south-central"),
    ("New Haven", -72.9250, 41.3083, "south-central"),
    ("Enfield", -72.5918, 41.9762, "capital"),
    ("Bristol", -72.9493, 41.6718, "capital"),
    ("Hartford", -72.6851, 41.7637, "capital"),
    ("Norwich", -72.0759, 41.5243, "eastern"),
    ("Mansfield", -72.2290, 41.7883, "eastern"),
]
AREA_TOWNS = {"northwest": 41, "capital": 37, "south-central": 30, "eastern": 41, "southwest": 20}


@pytest.fixture(scope="module")
def collection() -> dict:
    with open(GEOJSON, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def towns() -> list[dict]:
    with open(DATA_DIR / "ct_towns.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def regions(collection) -> dict[str, dict]:
    return {f["properties"]["region_id"]: f for f in collection["features"] if f["properties"]["kind"] == "region"}


@pytest.fixture(scope="module")
def state(collection) -> dict:
    (feature,) = [f for f in collection["features"] if f["properties"]["kind"] == "state"]
    return feature


def polygons(geometry: dict) -> list[list]:
    """The polygons (each a list of rings) of a Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon", geometry["type"]
    return geometry["coordinates"]


def in_ring(lon: float, lat: float, ring: list) -> bool:
    """Ray casting: is the point inside the closed ring?"""
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def contains(geometry: dict, lon: float, lat: float) -> bool:
    for exterior, *holes in polygons(geometry):
        if in_ring(lon, lat, exterior) and not any(in_ring(lon, lat, h) for h in holes):
            return True
    return False


def f_label(feature: dict) -> tuple[float, float]:
    return feature["properties"]["label_lon"], feature["properties"]["label_lat"]


def test_feature_collection_shape(collection):
    assert collection["type"] == "FeatureCollection"
    assert collection["metadata"]["generated_by"] == "scripts/build_ct_data.py"
    assert "Census" in collection["metadata"]["source"] and "MIT" in collection["metadata"]["source"]
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds == ["region"] * 5 + ["state", "towns"]


def test_region_ids_match_registry(collection, regions):
    reg = registry().regions
    assert set(regions) == {r.id for r in reg}
    ordered = [f["properties"]["region_id"] for f in collection["features"][:5]]
    assert ordered == [r.id for r in reg]
    for r in reg:
        props = regions[r.id]["properties"]
        assert props["region_name"] == r.name
        assert props["towns"] == AREA_TOWNS[r.id]


def test_each_town_is_in_exactly_one_area(towns):
    assert len(towns) == 169
    assert len({t["town"] for t in towns}) == 169
    assert Counter(t["region_id"] for t in towns) == AREA_TOWNS


def test_registry_counts_towns_from_the_data(towns):
    for r in registry().regions:
        assert r.towns == AREA_TOWNS[r.id]
        assert len(r.town_names) == r.towns
        assert set(r.town_names) == {t["town"] for t in towns if t["region_id"] == r.id}


def test_state_feature(state):
    assert state["properties"]["region_id"] == ""
    assert state["properties"]["region_name"] == "Connecticut"


def test_coordinates_within_connecticut(collection):
    for f in collection["features"][:-1]:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        for polygon in polygons(f["geometry"]):
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1]
                for lon, lat in ring:
                    assert LON_MIN <= lon <= LON_MAX, (
                        f["properties"]["region_id"],
                        lon,
                    )
                    assert LAT_MIN <= lat <= LAT_MAX, (
                        f["properties"]["region_id"],
                        lat,
                    )


def test_label_points_inside_regions(regions):
    for region_id, f in regions.items():
        assert contains(f["geometry"], *f_label(f)), region_id


@pytest.mark.parametrize("town, lon, lat, region_id", TOWNS, ids=[t[0] for t in TOWNS])
def test_towns_fall_in_their_region(regions, state, town, lon, lat, region_id):
    assert contains(regions[region_id]["geometry"], lon, lat)
    assert contains(state["geometry"], lon, lat)
    others = [rid for rid, f in regions.items() if rid != region_id and contains(f["geometry"], lon, lat)]
    assert others == [], f"{town} also falls in {others}"


def test_town_borders_are_lines_inside_the_state(collection, state):
    lines = collection["features"][-1]["geometry"]
    assert lines["type"] == "MultiLineString"
    points = [p for line in lines["coordinates"] for p in line]
    assert len(points) > 1000
    assert all(LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX for lon, lat in points)


def test_town_label_points_fall_in_their_area(regions, towns):
    misplaced = [
        t["town"] for t in towns if not contains(regions[t["region_id"]]["geometry"], float(t["lon"]), float(t["lat"]))
    ]
    assert misplaced == []


def test_geometries_valid_and_tile_the_state(regions, state):
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import shape

    shapes = {rid: shape(f["geometry"]) for rid, f in regions.items()}
    outline = shape(state["geometry"])
    for rid, geom in shapes.items():
        assert geom.is_valid, rid
        assert geom.area > 0.05, rid  # each region is at least ~400 km2
        assert geom.contains(shapely.Point(f_label(regions[rid]))), rid
    assert outline.is_valid
    union = shapely.union_all(list(shapes.values()))
    # Regions neither overlap nor leave gaps: their areas add up to the state's.
    assert sum(g.area for g in shapes.values()) == pytest.approx(outline.area, rel=1e-6)
    assert union.symmetric_difference(outline).area < 1e-6
