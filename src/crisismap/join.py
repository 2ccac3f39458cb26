"""Attribute each record's point to one region at every admin level.

Rules (the contract the rest of crisismap relies on):

* **Inside** — a point that intersects exactly one polygon of a level gets that region,
  the same answer as ``geopandas.sjoin(predicate="intersects")``.
* **Border** — a point that intersects two or more polygons (a shared border, or an
  overlap in faulty boundaries) is counted once, by this deterministic tie rule: among
  the polygons it touches, prefer those whose ``parent_code`` is the region chosen for the
  point at the next coarser level (so the levels stay nested), then take the smallest
  ``code`` in plain string order. Its match is ``border``.
* **Outside** — a point in no polygon has no region (NA) and match ``outside``; with
  ``snap_distance_m`` it goes to the nearest region within that many metres (geodesic
  distance on WGS84, nearest candidate chosen in a local projection at the point; ties
  by code) with match ``snapped``. Snapping does not cross the antimeridian.
* **Imprecise** — where the record's ``max_level`` is set and the level is finer than it
  (``-1`` means every level), or the record has no coordinates, the region is NA and
  the match is ``imprecise``: a record geocoded to a province centroid is never
  attributed to whichever district happens to hold that centroid.

Speed: each level is indexed once (cached on the geometry's content). Small inputs use an
STRtree bounding-box query and exact ``intersects_xy`` on prepared polygons. Large inputs
use a grid over the level: cells that no polygon boundary crosses are answered from the
grid; only points in cells crossed by a boundary get the exact test, so results are
identical to the exact method.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy import ndimage

from crisismap.errors import BoundaryError
from crisismap.schema import MatchStatus

# Inputs with at least this many points build (or reuse) the grid index.
GRID_MIN_POINTS = 100_000
# Upper bound on grid cells per level (int32 each: 16 MB at most).
GRID_MAX_CELLS = 4_000_000
_CACHE_SIZE = 8
_MATCH_VALUES = [m.value for m in MatchStatus]
_NO_REGION = -1
_WGS84 = Geod(ellps="WGS84")
_A = 6378137.0
_E2 = 0.00669437999014


# --- public API ---------------------------------------------------------------------


def join_points(
    records: pd.DataFrame, levels: Any, *, snap_distance_m: float | None = None
) -> pd.DataFrame:
    """Attribute every record to a region at each level of ``levels``.

    Parameters
    ----------
    records
        Validated records: ``lat``, ``lon`` (WGS84) and optionally ``max_level`` (Int64).
    levels
        ``{level: GeoDataFrame}`` (columns ``code``, ``name``, ``parent_code``,
        ``geometry``; EPSG:4326) or any object with such a ``.levels`` mapping.
    snap_distance_m
        When set, points outside every polygon of a level go to the nearest region
        within this many metres (match ``snapped``).

    Returns
    -------
    DataFrame on ``records.index`` with ``admN_code``, ``admN_name``, ``admN_match``
    per level, coarsest first. All three are categoricals of strings (fast to group);
    code and name are NA where the match is ``outside`` or ``imprecise``.
    """
    frames = _level_frames(levels)
    x, y = _coordinates(records)
    max_level = _max_levels(records)
    has_xy = ~(np.isnan(x) | np.isnan(y))
    columns: dict[str, pd.Categorical] = {}
    chosen_above: np.ndarray | None = None
    codes_above: np.ndarray | None = None
    for level, frame in frames.items():
        regions = _Regions.from_frame(level, frame)
        preferred = _preferred_parent(regions, chosen_above, codes_above)
        region, status = _locate(regions, x, y, has_xy, preferred)
        if snap_distance_m:
            _snap(regions, x, y, region, status, float(snap_distance_m))
        imprecise = ~has_xy | (~np.isnan(max_level) & (level > max_level))
        region[imprecise] = _NO_REGION
        status[imprecise] = _MATCH_VALUES.index(MatchStatus.IMPRECISE.value)
        columns.update(_output_columns(level, regions, region, status))
        chosen_above, codes_above = region, regions.codes
    return pd.DataFrame(columns, index=records.index)


def find_swapped(records: pd.DataFrame, levels: Any) -> pd.Series:
    """True where a point is outside the coarsest level but inside it with lat/lon swapped.

    Only pairs that are valid once swapped count (|lon| ≤ 90 becomes the latitude), and
    records located at no admin level (``max_level`` below the coarsest level, e.g. UCDP
    "international waters") are never flagged: being outside is what they say.
    The pipeline reports these; it swaps them only when the user asks.
    """
    frames = _level_frames(levels)
    x, y = _coordinates(records)
    top_level = min(frames)
    regions = _Regions.from_frame(top_level, frames[top_level])
    max_level = _max_levels(records)
    valid = ~(np.isnan(x) | np.isnan(y)) & ~(max_level < top_level)
    hits_as_given = _hit_counts(regions, x, y, valid)
    swappable = valid & (np.abs(x) <= 90) & (np.abs(y) <= 180) & (hits_as_given == 0)
    hits_swapped = _hit_counts(regions, y, x, swappable)
    return pd.Series(swappable & (hits_swapped > 0), index=records.index, name="swapped")


def clear_index_cache() -> None:
    """Forget every cached spatial index (benchmarks use it to time a cold start)."""
    with _cache_lock:
        _cache.clear()
        _seen.clear()


# --- inputs ---------------------------------------------------------------------------


def _level_frames(levels: Any) -> dict[int, Any]:
    """Levels as ``{level: frame}`` sorted coarsest first; refuse unusable frames."""
    mapping = getattr(levels, "levels", levels)
    if not isinstance(mapping, Mapping) or not mapping:
        raise BoundaryError(
            "Expected boundary levels as a non-empty {level: GeoDataFrame} mapping (or a "
            f"BoundarySet), got {type(levels).__name__}. Load a boundary set first."
        )
    frames = {}
    for level in sorted(mapping):
        frame = mapping[level]
        missing = {"code", "geometry"} - set(frame.columns)
        if missing:
            raise BoundaryError(
                f"Admin level {level} lacks column(s) {sorted(missing)}; expected code, name, "
                "parent_code, geometry. Load boundaries through crisismap.boundaries."
            )
        crs = getattr(frame, "crs", None)
        if crs is not None and crs.to_epsg() != 4326:
            raise BoundaryError(
                f"Admin level {level} is in {crs.to_string()}, expected EPSG:4326 (WGS84 "
                "lon/lat) like the records. Reproject it with frame.to_crs(4326)."
            )
        frames[int(level)] = frame
    return frames


def _coordinates(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude (x) and latitude (y) as float arrays, NaN where missing."""
    for column in ("lat", "lon"):
        if column not in records.columns:
            raise ValueError(f"Records need a {column!r} column (WGS84 degrees); it is missing.")
    lon = pd.to_numeric(records["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lat = pd.to_numeric(records["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return lon, lat


def _max_levels(records: pd.DataFrame) -> np.ndarray:
    """``max_level`` as floats (NaN = any level); absent column = any level."""
    if "max_level" not in records.columns:
        return np.full(len(records), np.nan)
    values = pd.to_numeric(records["max_level"], errors="coerce")
    return values.to_numpy(dtype=float, na_value=np.nan)


@dataclass
class _Regions:
    """One level's regions with its (cached) spatial index."""

    level: int
    codes: np.ndarray  # object array of str
    names: np.ndarray
    parents: np.ndarray  # object array of str or None
    rank: np.ndarray  # position of each code in sorted code order (the tie rule)
    index: _LevelIndex

    @classmethod
    def from_frame(cls, level: int, frame: Any) -> _Regions:
        codes = _text_array(frame["code"])
        names = _text_array(frame["name"]) if "name" in frame.columns else codes.copy()
        names = np.where(pd.isna(names), codes, names)
        if "parent_code" in frame.columns:
            parents = _text_array(frame["parent_code"])
        else:
            parents = np.full(len(frame), None, dtype=object)
        rank = np.empty(len(codes), dtype=np.int64)
        rank[np.argsort(codes.astype(str), kind="stable")] = np.arange(len(codes))
        return cls(level, codes, names, parents, rank, _index_for(frame.geometry.values))


def _text_array(series: pd.Series) -> np.ndarray:
    """Object array of str, None for missing."""
    values = series.astype(object).to_numpy()
    return np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)


# --- the spatial index ------------------------------------------------------------------


@dataclass
class _LevelIndex:
    """STRtree over prepared polygons, plus an optional grid (built for large inputs)."""

    geoms: np.ndarray
    tree: shapely.STRtree
    grid: _Grid | None = None

    @property
    def has_area(self) -> bool:
        return bool(len(self.geoms)) and bool(np.isfinite(shapely.total_bounds(self.geoms)).all())


@dataclass
class _Grid:
    """Cell → region lookup. ``cells`` ≥ 0: region; -1: no region; ≤ -2: mixed cell
    ``-(v + 2)`` whose candidate regions are ``candidates[offsets[m]:offsets[m + 1]]``."""

    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    cells: np.ndarray
    offsets: np.ndarray
    candidates: np.ndarray


_cache: OrderedDict[str, _LevelIndex] = OrderedDict()
_cache_lock = threading.Lock()


_seen: OrderedDict[int, tuple[Any, tuple[Any, ...], str]] = OrderedDict()


def _index_for(geometries: Any) -> _LevelIndex:
    """The index for these geometries, reused while their content is unchanged."""
    geoms = np.asarray(geometries, dtype=object)
    key = _content_key(geometries, geoms)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    geoms = geoms.copy()
    shapely.prepare(geoms)
    index = _LevelIndex(geoms=geoms, tree=shapely.STRtree(geoms))
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def _content_key(geometries: Any, geoms: np.ndarray) -> str:
    """Digest of the geometries' WKB; the same array object seen again skips the hashing
    (35 MB of WKB for 3,000 detailed regions) when a cheap fingerprint still matches."""
    sample = geoms[np.linspace(0, len(geoms) - 1, min(len(geoms), 64)).astype(np.int64)]
    fingerprint = (
        len(geoms),
        int(shapely.get_num_coordinates(geoms).sum()),
        tuple(shapely.total_bounds(geoms)) if len(geoms) else (),
        hashlib.blake2b(b"".join(w or b"" for w in shapely.to_wkb(sample))).hexdigest(),
    )
    with _cache_lock:
        seen = _seen.get(id(geometries))
    if seen is not None and seen[0] is geometries and seen[1] == fingerprint:
        return seen[2]
    digest = hashlib.blake2b(str(len(geoms)).encode(), digest_size=16)
    for wkb in shapely.to_wkb(geoms, hex=False).tolist():
        digest.update(b"\x00" if wkb is None else wkb)  # WKB is self-delimiting
    key = digest.hexdigest()
    with _cache_lock:
        _seen[id(geometries)] = (geometries, fingerprint, key)  # holds it: the id stays valid
        while len(_seen) > _CACHE_SIZE:
            _seen.popitem(last=False)
    return key


def _build_grid(index: _LevelIndex, max_cells: int = GRID_MAX_CELLS) -> _Grid:
    """Grid whose cells are answered directly unless a polygon boundary may cross them."""
    geoms = index.geoms
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
    # Finer grids for more detailed boundaries: fewer points need the exact test.
    vertices = int(shapely.get_num_coordinates(geoms).sum())
    max_cells = int(np.clip(1000 * vertices, 2**16, max_cells))
    size = max(np.sqrt(width * height / max_cells), 1e-9)
    nx, ny = int(width / size) + 1, int(height / size) + 1
    while nx * ny > max_cells:
        size *= 1.01
        nx, ny = int(width / size) + 1, int(height / size) + 1
    grid = _Grid(float(xmin), float(ymin), float(size), nx, ny, np.empty(0), np.empty(0), None)
    mixed = _boundary_cells(grid, geoms)
    cells = np.full(nx * ny, _NO_REGION, dtype=np.int32)
    # A connected set of unmixed cells holds no boundary, so it lies in one region (or
    # in none): one exact test per connected set.
    clean = ~mixed
    labels, n_sets = ndimage.label(clean.reshape(ny, nx))
    labels = labels.ravel()
    first = np.zeros(n_sets + 1, dtype=np.int64)
    first[labels[::-1]] = np.arange(len(labels) - 1, -1, -1)  # first cell of each set
    probe = first[1:]
    cx = xmin + (probe % nx + 0.5) * size
    cy = ymin + (probe // nx + 0.5) * size
    region, hits = _exact(index, cx, cy, np.ones(len(cx), bool), rank=None, preferred=None)
    set_region = np.concatenate(([_NO_REGION], np.where(hits == 1, region, _NO_REGION)))
    overlapping = np.concatenate(([False], hits > 1))  # faulty overlaps: exact test settles
    cells[clean] = set_region[labels[clean]]
    mixed[clean] = overlapping[labels[clean]]
    mixed_cells = np.flatnonzero(mixed)
    cell_i, poly_i = _bbox_candidates(grid, geoms, mixed_cells)
    offsets = np.searchsorted(cell_i, np.arange(len(mixed_cells) + 1))
    cells[mixed_cells] = -(np.arange(len(mixed_cells), dtype=np.int32) + 2)
    grid.cells, grid.offsets, grid.candidates = cells, offsets, poly_i.astype(np.int32)
    return grid


def _bbox_candidates(
    grid: _Grid, geoms: np.ndarray, mixed_cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(mixed cell, polygon) pairs whose bounding boxes meet, sorted by cell then polygon.

    The same pairs an STRtree query with the cells' boxes gives (plus a one-cell margin,
    harmless: the exact test decides), found with array arithmetic on cell numbers.
    """
    bounds = shapely.bounds(geoms)
    usable = np.isfinite(bounds).all(axis=1)
    col0 = np.clip(np.floor((bounds[:, 0] - grid.x0) / grid.size) - 1, 0, grid.nx - 1)
    col1 = np.clip(np.floor((bounds[:, 2] - grid.x0) / grid.size) + 1, 0, grid.nx - 1)
    row0 = np.clip(np.floor((bounds[:, 1] - grid.y0) / grid.size) - 1, 0, grid.ny - 1)
    row1 = np.clip(np.floor((bounds[:, 3] - grid.y0) / grid.size) + 1, 0, grid.ny - 1)
    polys = np.flatnonzero(usable)
    col0, col1 = col0[polys].astype(np.int64), col1[polys].astype(np.int64)
    row0, row1 = row0[polys].astype(np.int64), row1[polys].astype(np.int64)
    n_rows = row1 - row0 + 1
    which = np.repeat(np.arange(len(polys)), n_rows)  # one entry per (polygon, grid row)
    row = row0[which] + np.arange(len(which)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    lo = np.searchsorted(mixed_cells, row * grid.nx + col0[which], side="left")
    hi = np.searchsorted(mixed_cells, row * grid.nx + col1[which], side="right")
    count = hi - lo
    cell_i = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    poly_i = np.repeat(polys[which], count)
    order = np.argsort(cell_i, kind="stable")  # polygons ascend within a cell already
    return cell_i[order], poly_i[order]


def _boundary_cells(grid: _Grid, geoms: np.ndarray) -> np.ndarray:
    """Flat bool per cell: cells that any polygon boundary may touch (conservative)."""
    lines = shapely.get_parts(shapely.boundary(geoms[~shapely.is_empty(geoms)]))
    lines = shapely.segmentize(lines, grid.size / 4)
    coords, part = shapely.get_coordinates(lines, return_index=True)
    # Boundaries lie within the grid: truncation is floor here.
    ix = np.minimum(((coords[:, 0] - grid.x0) / grid.size).astype(np.int64), grid.nx - 1)
    iy = np.minimum(((coords[:, 1] - grid.y0) / grid.size).astype(np.int64), grid.ny - 1)
    del coords
    np.maximum(ix, 0, out=ix)
    np.maximum(iy, 0, out=iy)
    flat = iy * grid.nx + ix
    mixed = np.zeros(grid.nx * grid.ny, dtype=bool)
    # A segment lies in the box of its end points: mark that box's cells. Segments are
    # at most a quarter cell long, so the box spans at most 2 x 2 cells; only segments
    # that leave their cell add corners.
    a = np.flatnonzero((part[1:] == part[:-1]) & (flat[1:] != flat[:-1]))
    mixed[flat] = True
    mixed[iy[a] * grid.nx + ix[a + 1]] = True
    mixed[iy[a + 1] * grid.nx + ix[a]] = True
    far = np.flatnonzero((np.abs(ix[a + 1] - ix[a]) > 1) | (np.abs(iy[a + 1] - iy[a]) > 1))
    view = mixed.reshape(grid.ny, grid.nx)
    for k in a[far]:  # never seen: segments are shorter than a cell
        c, d, e, f = sorted((ix[k], ix[k + 1])) + sorted((iy[k], iy[k + 1]))
        view[e : f + 1, c : d + 1] = True
    return mixed


def _cell_xy(grid: _Grid, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of each point, clipped to the grid (callers mask out-of-range)."""
    ix = np.floor((x - grid.x0) / grid.size)
    iy = np.floor((y - grid.y0) / grid.size)
    ix = np.clip(np.nan_to_num(ix, nan=-1), -1, grid.nx).astype(np.int64)
    iy = np.clip(np.nan_to_num(iy, nan=-1), -1, grid.ny).astype(np.int64)
    return np.clip(ix, 0, grid.nx - 1), np.clip(iy, 0, grid.ny - 1)


# --- locating points ----------------------------------------------------------------------


def _preferred_parent(
    regions: _Regions, chosen_above: np.ndarray | None, codes_above: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(parent region index of each region, region chosen above for each point)."""
    if chosen_above is None or codes_above is None:
        return None
    position = {code: i for i, code in enumerate(codes_above)}
    parent_index = np.array([position.get(p, -2) for p in regions.parents], dtype=np.int64)
    return parent_index, chosen_above


def _locate(
    regions: _Regions,
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    preferred: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Region index (-1 none) and match-status index for every point."""
    index = regions.index
    if index.grid is None and valid.sum() >= GRID_MIN_POINTS and index.has_area:
        index.grid = _build_grid(index)
    region, hits = _exact(index, x, y, valid, regions.rank, preferred)
    status = np.full(len(x), _MATCH_VALUES.index(MatchStatus.OUTSIDE.value), dtype=np.int8)
    status[hits == 1] = _MATCH_VALUES.index(MatchStatus.INSIDE.value)
    status[hits > 1] = _MATCH_VALUES.index(MatchStatus.BORDER.value)
    return region, status


def _hit_counts(regions: _Regions, x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return _exact(regions.index, x, y, valid, regions.rank, None)[1]


def _exact(
    index: _LevelIndex,
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    rank: np.ndarray | None,
    preferred: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Chosen region and number of polygons each point intersects (exact answers)."""
    n = len(x)
    region = np.full(n, _NO_REGION, dtype=np.int64)
    hits = np.zeros(n, dtype=np.int64)
    if len(index.geoms) == 0 or not valid.any():
        return region, hits
    if index.grid is not None:
        point_i, poly_i = _grid_candidates(index.grid, x, y, valid, region, hits)
    else:
        ids = np.flatnonzero(valid)
        query_i, poly_i = index.tree.query(shapely.points(x[ids], y[ids]))
        point_i = ids[query_i]
    inside = shapely.intersects_xy(index.geoms[poly_i], x[point_i], y[point_i])
    point_i, poly_i = point_i[inside], poly_i[inside]
    if len(point_i) == 0:
        return region, hits
    counts = np.bincount(point_i, minlength=n)
    hits += counts
    key = rank[poly_i] if rank is not None else poly_i.astype(np.int64)
    if preferred is not None:
        parent_index, chosen_above = preferred
        off_parent = parent_index[poly_i] != chosen_above[point_i]
        key = key + off_parent * (len(index.geoms) + 1)
    order = np.lexsort((key, point_i))
    point_i, poly_i = point_i[order], poly_i[order]
    first = np.concatenate(([True], point_i[1:] != point_i[:-1]))
    region[point_i[first]] = poly_i[first]
    return region, hits


def _grid_candidates(
    grid: _Grid,
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    region: np.ndarray,
    hits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Answer points in clean cells in place; return (point, region) pairs to test exactly."""
    ix, iy = _cell_xy(grid, x, y)
    in_grid = (
        valid
        & (x >= grid.x0)
        & (y >= grid.y0)
        & (x <= grid.x0 + grid.nx * grid.size)
        & (y <= grid.y0 + grid.ny * grid.size)
    )
    value = np.where(in_grid, grid.cells[iy * grid.nx + ix], _NO_REGION)
    clean = value >= 0
    region[clean] = value[clean]
    hits[clean] = 1
    point_ids = np.flatnonzero(value <= -2)
    mixed = -(value[point_ids] + 2)
    start, stop = grid.offsets[mixed], grid.offsets[mixed + 1]
    counts = stop - start
    point_i = np.repeat(point_ids, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    poly_i = grid.candidates[np.repeat(start, counts) + np.arange(len(point_i)) - first]
    return point_i, poly_i


# --- snapping ---------------------------------------------------------------------------


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


# --- output ---------------------------------------------------------------------------------


def _output_columns(
    level: int, regions: _Regions, region: np.ndarray, status: np.ndarray
) -> dict[str, pd.Categorical]:
    return {
        f"adm{level}_code": _categorical(regions.codes, region),
        f"adm{level}_name": _categorical(regions.names, region),
        f"adm{level}_match": pd.Categorical.from_codes(status, categories=_MATCH_VALUES),
    }


def _categorical(values: np.ndarray, region: np.ndarray) -> pd.Categorical:
    """Categorical of ``values[region]`` (NA where region is -1) without a Python loop."""
    if len(values) == 0:
        return pd.Categorical.from_codes(
            np.full(len(region), -1), categories=pd.Index([], dtype="str")
        )
    text = np.array(["" if v is None else v for v in values], dtype=object)
    categories, inverse = np.unique(text.astype(str), return_inverse=True)
    codes = np.where(region >= 0, inverse[np.maximum(region, 0)], -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype="str"))
