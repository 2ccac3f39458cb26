"""Snapping by default only where the boundaries' own coastline is generalised."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box, mapping

from crisismap import pipeline
from crisismap.boundaries import load_boundaries


def _csv(points: list[tuple[float, float]]) -> bytes:
    rows = [{"id": i, "date": "2020-01-05", "lat": y, "lon": x} for i, (x, y) in enumerate(points)]
    return pd.DataFrame(rows).to_csv(index=False).encode()


def _coast_file(path: Path) -> Path:
    """One square region, 0..1° × 0..1°: the 'sea' is everything around it."""
    feature = {
        "type": "Feature",
        "properties": {"code": "XA", "name": "Coast"},
        "geometry": mapping(box(0, 0, 1, 1)),
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


# 0.005° of longitude at the equator ≈ 557 m; 0.05° ≈ 5.6 km
_OFFSHORE = [(1.005, 0.5), (1.005, 0.6), (1.05, 0.5), (0.5, 0.5)]


def test_a_users_boundaries_do_not_snap_by_default(tmp_path):
    own = load_boundaries(_coast_file(tmp_path / "coast.geojson"), level=1, country="XXA")
    assert own.snap_default_m == 0
    analysis = pipeline.analyse(_csv(_OFFSHORE), own)
    assert list(analysis.joined["adm1_match"].astype(str)) == [
        "outside",
        "outside",
        "outside",
        "inside",
    ]
    assert analysis.parameters["snap_distance_m"] is None
    assert analysis.parameters["snap_default"] is True


def test_a_distance_asked_for_snaps_the_points_within_it(tmp_path):
    own = load_boundaries(_coast_file(tmp_path / "coast.geojson"), level=1, country="XXA")
    analysis = pipeline.analyse(_csv(_OFFSHORE), own, snap_distance_m=1000)
    assert list(analysis.joined["adm1_match"].astype(str)) == [
        "snapped",
        "snapped",
        "outside",
        "inside",
    ]
    assert analysis.parameters["snap_default"] is False


def test_the_bundled_set_snaps_within_its_generalisation_distance():
    world = load_boundaries("world:YEM")
    assert world.snap_default_m == 2000
    aden = world.level(0).geometry.iloc[0]
    # points 1 km and 5 km due south of the southernmost coast vertex (in the sea)
    x, y = shapely.get_coordinates(aden)[np.argmin(shapely.get_coordinates(aden)[:, 1])]
    near, far = (x, y - 1000 / 110_574), (x, y - 5000 / 110_574)
    by_default = pipeline.analyse(_csv([near, far]), world)
    assert list(by_default.joined["adm0_match"].astype(str)) == ["snapped", "outside"]
    assert by_default.parameters["snap_distance_m"] == 2000
    off = pipeline.analyse(_csv([near, far]), world, snap_distance_m=0)
    assert list(off.joined["adm0_match"].astype(str)) == ["outside", "outside"]


def test_real_coast_points_outside_the_bundled_yemen_are_snapped(shared_data):
    """geoBoundaries' finer Yemen coast (real land) against the bundled generalised one."""
    fine = gpd.read_file(
        shared_data / "boundaries/yem_geoboundaries/geoBoundaries-YEM-ADM1.geojson"
    )
    world = load_boundaries("world:YEM")
    coarse = world.level(0).geometry.iloc[0]
    mainland = max(shapely.get_parts(shapely.union_all(fine.geometry)), key=shapely.area)
    vertices = shapely.get_coordinates(mainland.exterior)[::25]
    off_coast = vertices[~shapely.contains_xy(coarse, vertices[:, 0], vertices[:, 1])]
    # away from the Saudi and Omani land borders (north of 16.5°N or east of 52°E)
    off_coast = off_coast[(off_coast[:, 1] < 16.5) & (off_coast[:, 0] < 52)]
    assert len(off_coast) > 200
    analysis = pipeline.analyse(_csv([tuple(p) for p in off_coast]), world)
    match = analysis.joined["adm0_match"].astype(str)
    assert (match == "snapped").mean() > 0.95
    off = pipeline.analyse(_csv([tuple(p) for p in off_coast]), world, snap_distance_m=0)
    assert (off.joined["adm0_match"].astype(str) == "outside").all()
