"""Boundary geometry in EPSG:4326: reprojected with lon/lat order, cut at the
antimeridian, made valid and polygonal; what was changed or dropped is said in a note."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from crisismap.errors import BoundaryError
from crisismap.i18n import _, ngettext

WGS84 = CRS.from_epsg(4326)


def to_wgs84(frame: gpd.GeoDataFrame, origin: str, notes: list[str]) -> gpd.GeoDataFrame:
    """EPSG:4326 with lon/lat order; a file without CRS must already look like lon/lat."""
    geoms = frame.geometry.values
    _check_finite(geoms, origin)
    if frame.crs is None:
        if not _fits_lonlat(geoms):
            raise BoundaryError(
                _(
                    "{origin} has no coordinate reference system and its coordinates "
                    "are not longitude/latitude degrees: add the .prj file (Shapefile) "
                    "or export it with its CRS, or reproject it to EPSG:4326."
                ).format(origin=origin)
            )
        notes.append(
            _(
                "{origin} states no CRS; its coordinates fit longitude/latitude, "
                "so EPSG:4326 was assumed."
            ).format(origin=origin)
        )
    elif not CRS(frame.crs).equals(WGS84, ignore_axis_order=True):
        source = CRS(frame.crs)
        transformer = Transformer.from_crs(source, WGS84, always_xy=True)
        geoms = shapely.transform(
            np.asarray(geoms, dtype=object),
            lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
        )
        if not _fits_lonlat(geoms):
            raise BoundaryError(
                _(
                    "{origin} could not be reprojected from {name} to EPSG:4326: some "
                    "coordinates fall outside longitude/latitude; check the file's CRS."
                ).format(origin=origin, name=source.name)
            )
        label = f"EPSG:{source.to_epsg()}" if source.to_epsg() else source.name
        notes.append(
            _("{origin} was reprojected from {label} ({name}) to EPSG:4326.").format(
                origin=origin, label=label, name=source.name
            )
        )
    elif not _fits_lonlat(geoms):
        raise BoundaryError(
            _(
                "{origin} says EPSG:4326 but its coordinates are not "
                "longitude/latitude degrees: the file's CRS is wrong; fix it in a "
                "GIS and export again."
            ).format(origin=origin)
        )
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=WGS84), crs=WGS84)


def _check_finite(geoms: Any, origin: str) -> None:
    """Refuse coordinates that are not numbers (NaN, infinity): GEOS cannot repair them."""
    coords, index = shapely.get_coordinates(np.asarray(geoms, dtype=object), return_index=True)
    bad = np.unique(index[~np.isfinite(coords).all(axis=1)])
    if len(bad):
        raise BoundaryError(
            ngettext(
                "{origin} has coordinates that are not numbers (NaN or infinity) "
                "in {n} feature (feature {features}): fix or delete it in a GIS "
                "such as QGIS and export the file again.",
                "{origin} has coordinates that are not numbers (NaN or infinity) "
                "in {n} features (feature {features}): fix or delete those "
                "features in a GIS such as QGIS and export the file again.",
                len(bad),
            ).format(origin=origin, n=len(bad), features=feature_list(bad))
        )


def feature_list(indices: Any, limit: int = 5) -> str:
    """1-based feature numbers, at most ``limit`` of them, for a message."""
    numbers = [str(int(i) + 1) for i in indices[:limit]]
    if len(indices) <= limit:
        return ", ".join(numbers)
    more = len(indices) - limit
    return ngettext("{numbers} and {n:,} more", "{numbers} and {n:,} more", more).format(
        numbers=", ".join(numbers), n=more
    )


def _fits_lonlat(geoms) -> bool:
    present = np.asarray(geoms, dtype=object)
    present = present[~shapely.is_missing(present) & ~shapely.is_empty(present)]
    if not len(present):
        return True
    xmin, ymin, xmax, ymax = shapely.total_bounds(present)
    finite = np.isfinite([xmin, ymin, xmax, ymax]).all()
    return bool(finite and -180.5 <= xmin and xmax <= 360.5 and -90.5 <= ymin and ymax <= 90.5)


def clean_geometries(frame, level, origin, notes) -> gpd.GeoDataFrame:
    missing = shapely.is_missing(frame.geometry.values) | shapely.is_empty(frame.geometry.values)
    unwrapped, cut = _cut_at_antimeridian(frame.geometry.values)
    if cut:
        notes.append(
            ngettext(
                "Level {level} ({origin}): {n} polygon drawn across the antimeridian "
                "(180°) or beyond it was cut there into parts on each side; "
                "read as drawn, a polygon would wrap round the globe the other way.",
                "Level {level} ({origin}): {n} polygons drawn across the antimeridian "
                "(180°) or beyond it were cut there into parts on each side; "
                "read as drawn, a polygon would wrap round the globe the other way.",
                cut,
            ).format(level=level, origin=origin, n=cut)
        )
    geoms, invalid = repair_polygons(unwrapped)
    kept = np.array([g is not None for g in geoms])
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=WGS84))
    if invalid:
        notes.append(
            ngettext(
                "Level {level} ({origin}): repaired {n} invalid geometry with make_valid "
                "(polygonal parts kept).",
                "Level {level} ({origin}): repaired {n} invalid geometries with make_valid "
                "(polygonal parts kept).",
                invalid,
            ).format(level=level, origin=origin, n=invalid)
        )
    if missing.sum():
        notes.append(
            ngettext(
                "Level {level} ({origin}): dropped {n} feature with empty geometry.",
                "Level {level} ({origin}): dropped {n} features with empty geometry.",
                int(missing.sum()),
            ).format(level=level, origin=origin, n=int(missing.sum()))
        )
    not_polygons = int((~kept & ~missing).sum())
    if not_polygons:
        notes.append(
            ngettext(
                "Level {level} ({origin}): dropped {n} feature that is not a polygon.",
                "Level {level} ({origin}): dropped {n} features that are not polygons.",
                not_polygons,
            ).format(level=level, origin=origin, n=not_polygons)
        )
    if not kept.any():
        raise BoundaryError(
            _("{origin} has no polygons: admin boundaries must be (multi)polygons.").format(
                origin=origin
            )
        )
    return frame[kept]


def _cut_at_antimeridian(geoms: Any) -> tuple[np.ndarray, int]:
    """Polygons with an edge jumping more than 180° of longitude, or lying beyond ±180°,
    cut at the antimeridian into a MultiPolygon within [-180, 180]."""
    out = np.asarray(geoms, dtype=object).copy()
    cut = 0
    for i, geom in enumerate(out):
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        if not any(_wraps(p) for p in parts):
            continue
        pieces = [q for p in parts for q in (_cut(p) if _wraps(p) else [p])]
        out[i] = shapely.MultiPolygon([q for q in pieces if not q.is_empty])
        cut += 1
    return out, cut


def _wraps(polygon: Any) -> bool:
    x = np.asarray(polygon.exterior.coords)[:, 0]
    if x.min() < -180 or x.max() > 180:
        return True
    on_edge = (np.abs(x[:-1]) >= 180 - 1e-9) & (np.abs(x[1:]) >= 180 - 1e-9)  # map border
    return bool(((np.abs(np.diff(x)) > 180) & ~on_edge).any())


def _unwrapped(ring: Any, near: float | None = None) -> np.ndarray:
    """Ring coordinates with 360° added or removed so that no edge jumps over 180°."""
    xy = np.asarray(ring.coords, dtype=float)[:, :2].copy()
    steps = np.round(np.diff(xy[:, 0]) / 360.0)
    xy[1:, 0] -= 360.0 * np.cumsum(steps)
    if near is not None:  # a hole goes with its shell
        xy[:, 0] += 360.0 * np.round((near - xy[:, 0].mean()) / 360.0)
    return xy


def _cut(polygon: Any) -> list[Any]:
    from shapely.affinity import translate

    shell = _unwrapped(polygon.exterior)
    holes = [_unwrapped(h, shell[:, 0].mean()) for h in polygon.interiors]
    whole = shapely.make_valid(shapely.Polygon(shell, holes))
    pieces = []
    for offset in (-360.0, 0.0, 360.0):  # the world, and its copies either side
        window = shapely.box(-180.0 - offset, -90.0, 180.0 - offset, 90.0)
        part = translate(whole.intersection(window), xoff=offset)
        pieces += [g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon"]
    return pieces


def repair_polygons(geoms: Any) -> tuple[np.ndarray, int]:
    """Make geometries valid, drop Z, and keep only their polygonal parts.

    Returns the repaired array (None where nothing polygonal is left) and how many of the
    input geometries were invalid.
    """
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    present = ~shapely.is_missing(geoms)
    invalid = present & ~shapely.is_valid(geoms)
    out = geoms.copy()
    if invalid.any():
        out[invalid] = shapely.make_valid(geoms[invalid])
    return np.array([polygonal(g) for g in out], dtype=object), int(invalid.sum())


def polygonal(geom):
    """The polygonal part of ``geom`` as a Polygon or MultiPolygon, or None."""
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection" or kind.startswith("Multi"):
        polys = []
        for part in shapely.get_parts(geom):
            p = polygonal(part)
            if p is not None:
                polys.extend(shapely.get_parts(p))
        if not polys:
            return None
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return None
