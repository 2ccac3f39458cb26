"""How far the bundled world set's generalised coastline lies from a finer one.

Measures the snap distance the bundled set uses by default (``snap_default_m`` in
data/boundaries/world_boundaries.json): the vertices of geoBoundaries Yemen ADM1's
mainland and Socotra coast (land borders with Saudi Arabia and Oman, and small islands
the bundled set leaves out, are excluded) that lie outside the bundled Yemen, and how far
outside, in metres (UTM 38N). Reads ../shared/data (see its ATTRIBUTION.md).

    uv run python scripts/measure_coast_offset.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from crisismap.boundaries import load_boundaries

ROOT = Path(__file__).resolve().parents[1]
FINE = ROOT.parent / "shared/data/boundaries/yem_geoboundaries/geoBoundaries-YEM-ADM1.geojson"
UTM_38N = 32638
LAND_BORDER_M = 30_000  # vertices this close to a neighbour are land border, not coast
BIG_PART_M2 = 1e9  # parts over 1,000 km²: the mainland and Socotra


def main() -> None:
    coarse = shapely.union_all(load_boundaries("world:YEM").level(0).to_crs(UTM_38N).geometry)
    neighbours = shapely.union_all(
        load_boundaries("world:SAU,OMN").level(0).to_crs(UTM_38N).geometry
    )
    fine_frame = gpd.read_file(FINE).to_crs(UTM_38N)
    fine = shapely.union_all(fine_frame.geometry)
    parts = shapely.get_parts(fine)
    big = parts[shapely.area(parts) > BIG_PART_M2]
    vertices = shapely.points(shapely.get_coordinates(shapely.boundary(big)))
    coast = vertices[shapely.distance(neighbours, vertices) > LAND_BORDER_M]
    outside = coast[~shapely.contains(coarse, coast)]
    metres = shapely.distance(coarse, outside)
    print(
        f"finer set: {shapely.get_num_coordinates(fine_frame.geometry).sum():,} vertices; "
        f"coast vertices {len(coast):,}, outside the bundled set {len(outside):,}"
    )
    for q in (50, 75, 90, 95, 99, 99.9, 100):
        print(f"  {q:>5} % within {np.percentile(metres, q):,.0f} m")


if __name__ == "__main__":
    main()
