"""Snapping: a point outside every polygon of a level goes to the nearest region within a
distance (geodesic metres on WGS84; the nearest candidate is chosen in a local projection
at the point, ties by code). Snapping does not cross the antimeridian."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

from crisismap.join.inputs import _MATCH_VALUES, _Regions
from crisismap.schema import MatchStatus

_WGS84 = Geod(ellps="WGS84")
_A = 6378137.0
_E2 = 0.00669437999014


def _snap(
    regions: _Regions,
    x: np.ndarray,
    y: np.ndarray,
    region: np.ndarray,
    status: np.ndarray,
    distance_m: float,
) -> None:
    """Move outside points to the nearest region within ``distance_m`` metres, in place."""
    outside = np.flatnonzero(
        (status == _MATCH_VALUES.index(MatchStatus.OUTSIDE.value))
        & ~np.isnan(x)
        & ~np.isnan(y)
        & (np.abs(y) <= 90)
        & (np.abs(x) <= 180)
    )
    if len(outside) == 0 or len(regions.index.geoms) == 0:
        return
    px, py = x[outside], y[outside]
    # Conservative search box in degrees: a degree of latitude is ≥ 110,574 m and a
    # degree of longitude ≥ 111,319 m × cos(latitude) on WGS84.
    dlat = distance_m / 110_574.0 * 1.01
    far_lat = np.minimum(np.abs(py) + dlat, 89.999)
    dlon = np.minimum(distance_m / (111_319.0 * np.cos(np.radians(far_lat))) * 1.01, 360.0)
    boxes = shapely.box(px - dlon, py - dlat, px + dlon, py + dlat)
    query_i, poly_i = regions.index.tree.query(boxes)
    near = shapely.intersects(regions.index.geoms[poly_i], boxes[query_i])  # prepared: fast
    query_i, poly_i = query_i[near], poly_i[near]
    if len(query_i) == 0:
        return
    pieces = shapely.intersection(regions.index.geoms[poly_i], boxes[query_i])
    keep = ~shapely.is_empty(pieces)
    query_i, poly_i, pieces = query_i[keep], poly_i[keep], pieces[keep]
    local = _to_local(pieces, px[query_i], py[query_i])
    near = shapely.shortest_line(shapely.points(np.zeros(len(local)), 0.0), local)
    end = shapely.get_coordinates(near)[1::2]
    lon_near, lat_near = _from_local(end, px[query_i], py[query_i])
    _, _, metres = _WGS84.inv(px[query_i], py[query_i], lon_near, lat_near)
    ok = metres <= distance_m
    if not ok.any():
        return
    query_i, poly_i, metres = query_i[ok], poly_i[ok], metres[ok]
    order = np.lexsort((regions.rank[poly_i], metres, query_i))
    query_i, poly_i = query_i[order], poly_i[order]
    first = np.concatenate(([True], query_i[1:] != query_i[:-1]))
    chosen = outside[query_i[first]]
    region[chosen] = poly_i[first]
    status[chosen] = _MATCH_VALUES.index(MatchStatus.SNAPPED.value)


def _radii(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres per degree of latitude and of longitude at ``lat`` on WGS84."""
    s2 = np.sin(np.radians(lat)) ** 2
    meridian = _A * (1 - _E2) / (1 - _E2 * s2) ** 1.5
    normal = _A / np.sqrt(1 - _E2 * s2)
    return np.radians(meridian), np.radians(normal) * np.cos(np.radians(lat))


def _to_local(pieces: np.ndarray, lon0: np.ndarray, lat0: np.ndarray) -> np.ndarray:
    """Each piece in metres, equirectangular around its own point (exact enough locally)."""
    coords, which = shapely.get_coordinates(pieces, return_index=True)
    per_lat, per_lon = _radii(lat0)
    local = np.column_stack(
        (
            (coords[:, 0] - lon0[which]) * per_lon[which],
            (coords[:, 1] - lat0[which]) * per_lat[which],
        )
    )
    return shapely.set_coordinates(pieces.copy(), local)


def _from_local(
    xy: np.ndarray, lon0: np.ndarray, lat0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    per_lat, per_lon = _radii(lat0)
    return lon0 + xy[:, 0] / per_lon, lat0 + xy[:, 1] / per_lat
