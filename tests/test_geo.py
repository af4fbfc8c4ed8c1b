"""Checks on the committed region map shapes, rsp_data/data/ct_regions.geojson.

The file is built by scripts/build_regions_geojson.py. Most checks here are pure Python so
they run without shapely (a dev-only dependency); the geometry-validity checks skip without it.
"""

from __future__ import annotations

import itertools
import json

import pytest

from rsp_data.registry import DATA_DIR, registry

GEOJSON = DATA_DIR / "ct_regions.geojson"

# Connecticut's bounding box, with a little slack.
LON_MIN, LON_MAX = -73.75, -71.75
LAT_MIN, LAT_MAX = 40.95, 42.06

TOWNS = [
    ("Hartford", -72.685, 41.764, "capital"),
    ("New Haven", -72.925, 41.308, "south-central"),
    ("Bridgeport", -73.19, 41.18, "southwest"),
    ("Torrington", -73.12, 41.80, "northwest"),
    ("Norwich", -72.08, 41.52, "eastern"),
]


@pytest.fixture(scope="module")
def collection() -> dict:
    with open(GEOJSON, encoding="utf-8") as fh:
        return json.load(fh)


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
    assert collection["metadata"]["generated_by"] == "scripts/build_regions_geojson.py"
    assert "cb_2016_us_county_500k" in collection["metadata"]["source"]
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("region") == 5
    assert kinds.count("state") == 1
    assert kinds[-1] == "state"


def test_region_ids_match_registry(collection, regions):
    reg = registry().regions
    assert set(regions) == {r.id for r in reg}
    ordered = [f["properties"]["region_id"] for f in collection["features"][:5]]
    assert ordered == [r.id for r in reg]
    for r in reg:
        props = regions[r.id]["properties"]
        assert props["region_name"] == r.name
        assert props["counties"] == list(r.counties)


def test_state_feature(state):
    assert state["properties"]["region_id"] == ""
    assert state["properties"]["region_name"] == "Connecticut"


def test_coordinates_within_connecticut(collection):
    for f in collection["features"]:
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
