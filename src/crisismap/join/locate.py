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
use a grid over the level, built from the boundary segments in a few vectorised passes: a
cell that no boundary touches holds the region painted at its centre by ray parity (the
rule of GEOS's prepared test); a cell a boundary may touch lists its candidate polygons,
and where one call's points crowd in such cells they are subdivided into blocks of
sub-cells, classified the same way and kept for later calls. Only points in touched
(sub-)cells get the exact test, against those candidates, so results are identical to the
exact method. Large array steps run on a second thread (numpy and GEOS release the GIL).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
# Upper bound on root grid cells per level (int32 each: 8 MB at most); crowded cells near
# boundaries are refined by subdivision, so a finer root costs more than it saves.
GRID_MAX_CELLS = 2_000_000
# A mixed cell is subdivided when one call would test this many (point, polygon) pairs
# in it; a block costs about as much as 100 exact tests.
SUBDIVIDE_MIN_PAIRS = 128
_SUB = 16  # sub-cells a side in a block
_MAX_DEPTH = 3  # blocks within blocks
_MAX_BLOCKS = 8192  # per level: _SUB² int32 each, 8 MB
# numpy and GEOS release the GIL: large array steps run in chunks on this many threads.
_WORKERS = min(
    4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
_CHUNK_MIN = 50_000
_PLANES = np.array([np.zeros((3, 3)), [[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.zeros((3, 3))])
_CACHE_SIZE = 8
_MATCH_VALUES = [m.value for m in MatchStatus]
_NO_REGION = -1
_LITTLE_ENDIAN = sys.byteorder == "little"
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
    missing = pd.isna(values)
    text = values.astype(str).astype(object)  # str() of each value
    text[missing] = None
    return text


# --- the spatial index ------------------------------------------------------------------


@dataclass
class _LevelIndex:
    """STRtree over prepared polygons, plus a grid (built for large inputs)."""

    geoms: np.ndarray
    tree: shapely.STRtree
    rings: _Rings | None = None  # None: not only polygons, so no grid
    grid: _Grid | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # The coordinates hashed for the cache key, held only until the first lookup.
    fresh_coords: np.ndarray | None = field(default=None, repr=False)

    @property
    def has_area(self) -> bool:
        """Polygons only, with coordinates: the grid can be built."""
        return self.rings is not None and bool(self.rings.lengths.sum())


@dataclass
class _Rings:
    """The polygons' rings in ``shapely.get_coordinates`` order."""

    part_owners: np.ndarray  # int32: polygon (row) of each polygon part
    part_rings: np.ndarray  # int64: rings in each part
    lengths: np.ndarray  # int64: coordinates in each ring
    owners: np.ndarray  # int32: polygon (row) of each ring


@dataclass
class _Grid:
    """Cell → region lookup over a level, refined where points crowd near boundaries.

    A cell value ≥ 0 is a region, -1 no region, ≤ -2 the *entry* ``-(v + 2)`` of a mixed
    cell (one a boundary may cross, or where polygons overlap). An entry lists its
    candidate regions (``cands[e_first:e_stop]``, -1 until a call first needs them) and may
    be subdivided into a block of ``_SUB`` × ``_SUB`` sub-cells with values of the same
    kind. Root cells use ``floor((x - x0) / size)``; a block's sub-cells use
    ``floor((x - b_x0) / b_size)`` clipped to the block, so every cell at every depth is a
    box, and a box that no boundary touches lies wholly inside or outside each polygon.
    """

    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    eps: float  # bound on the rounding of interpolated boundary points
    cells: np.ndarray = field(default_factory=lambda: _empty(np.int32))  # per root cell
    # Boundary runs: segments first … stop - 1 of one polygon's ring touch the root cell;
    # sorted by cell. Candidates and subdivisions read them.
    run_cell: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    run_owner: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    run_first: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    run_stop: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    # Entries (int32): the cell (root) or sub-cell (in its block), the block holding it
    # (-1: root), the block subdividing it (-1: none), its candidates (-1: not yet) and,
    # for root entries, the polygon painted at its centre (-1 none, -2 several).
    e_where: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_block: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_child: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_first: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_stop: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    e_inside: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    cands: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    # Blocks: _SUB² values each, the origin and sub-cell size, the root cell and depth.
    blocks: np.ndarray = field(default_factory=lambda: _empty(np.int32).reshape(0, _SUB**2))
    b_x0: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    b_y0: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    b_size: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    b_root: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    b_depth: np.ndarray = field(default_factory=lambda: _empty(np.int8))


def _empty(dtype: Any) -> np.ndarray:
    """A table with no rows yet."""
    return np.empty(0, dtype=dtype)


_cache: OrderedDict[str, _LevelIndex] = OrderedDict()
_cache_lock = threading.Lock()


_seen: OrderedDict[int, tuple[Any, tuple[Any, ...], str]] = OrderedDict()


def _index_for(geometries: Any) -> _LevelIndex:
    """The index for these geometries, reused while their content is unchanged."""
    geoms = np.asarray(geometries, dtype=object)
    key, rings, coords = _content_key(geometries, geoms)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    geoms = geoms.copy()
    shapely.prepare(geoms)
    if rings is None:
        rings = _ring_structure(geoms)
    index = _LevelIndex(geoms, shapely.STRtree(geoms), rings, fresh_coords=coords)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def _content_key(
    geometries: Any, geoms: np.ndarray
) -> tuple[str, _Rings | None, np.ndarray | None]:
    """Digest of the geometries (and their rings and coordinates when they were read);
    the same array object seen again skips the hashing when a fingerprint still matches."""
    with _cache_lock:
        seen = _seen.get(id(geometries))
    if seen is not None and seen[0] is geometries and seen[1] == _fingerprint(geoms):
        return seen[2], None, None
    coords = shapely.get_coordinates(geoms)
    halves = np.array_split(coords, 2)
    (rings, first_half), second_half = _in_parallel(
        [
            lambda: (_ring_structure(geoms), hashlib.sha256(halves[0].tobytes()).digest()),
            lambda: hashlib.sha256(halves[1].tobytes()).digest(),
        ]
    )
    if rings is None:  # not only polygons: hash the WKB
        coords = None
        digest = hashlib.sha256(b"wkb %d" % len(geoms))
        for wkb in shapely.to_wkb(geoms, hex=False).tolist():
            digest.update(b"\x00" if wkb is None else wkb)  # WKB is self-delimiting
    else:  # type, parts, rings and coordinates say all there is to a polygon
        digest = hashlib.sha256(b"polygons %d %d" % (len(geoms), len(rings.part_owners)))
        digest.update(shapely.get_type_id(geoms).astype(np.int8).tobytes())
        for array in (rings.part_owners, rings.part_rings, rings.lengths):
            digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
        digest.update(first_half + second_half)
    key = digest.hexdigest()
    with _cache_lock:
        # Holding the array keeps its id from being reused while the entry lives.
        _seen[id(geometries)] = (geometries, _fingerprint(geoms), key)
        while len(_seen) > _CACHE_SIZE:
            _seen.popitem(last=False)
    return key, rings, coords


def _fingerprint(geoms: np.ndarray) -> tuple[Any, ...]:
    """Cheap summary that changes when an array's geometries are replaced in place."""
    sample = geoms[np.linspace(0, len(geoms) - 1, min(len(geoms), 64)).astype(np.int64)]
    return (
        len(geoms),
        int(shapely.get_num_coordinates(geoms).sum()),
        tuple(shapely.total_bounds(geoms)) if len(geoms) else (),
        hashlib.blake2b(b"".join(w or b"" for w in shapely.to_wkb(sample))).hexdigest(),
    )


def _ring_structure(geoms: np.ndarray) -> _Rings | None:
    """Parts and rings of (Multi)Polygons, None when other geometry types are present."""
    types = shapely.get_type_id(geoms)
    if not np.isin(types, (-1, 3, 6)).all():  # missing, Polygon, MultiPolygon
        return None
    single, multi = np.flatnonzero(types == 3), np.flatnonzero(types == 6)
    parts, part_of = shapely.get_parts(geoms[multi], return_index=True)
    owners = np.concatenate([single, multi[part_of]])
    order = np.argsort(owners, kind="stable")
    owners, polys = owners[order], np.concatenate([geoms[single], parts])[order]
    holes = shapely.get_num_interior_rings(polys)
    part_rings = (1 + holes).astype(np.int64)
    lengths = np.repeat(shapely.get_num_coordinates(polys), part_rings).astype(np.int64)
    holed = np.flatnonzero(holes)
    if len(holed):  # only these need their rings measured one by one
        starts = (np.cumsum(part_rings) - part_rings)[holed]
        lengths[_ramp_from(starts, part_rings[holed])] = shapely.get_num_coordinates(
            shapely.get_rings(polys[holed])
        )
    return _Rings(
        owners.astype(np.int32), part_rings, lengths, np.repeat(owners, part_rings).astype(np.int32)
    )


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """Sorted values without repeats."""
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, c - 1 for each count c, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def _ramp_from(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """start, start + 1, …, start + c - 1 for each (start, count), concatenated."""
    return np.repeat(starts, counts) + _ramp(counts)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_worker = threading.local()


def _in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Results of ``calls``, the first in this thread and the others on the pool."""
    global _pool
    if len(calls) > 1 and _WORKERS > 1 and not getattr(_worker, "busy", False):
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_WORKERS - 1, thread_name_prefix="crisismap-join")
        futures = [_pool.submit(_as_worker, call) for call in calls[1:]]
        return [calls[0](), *(f.result() for f in futures)]
    return [call() for call in calls]


def _forget_pool() -> None:
    """A forked child has none of the pool's threads: it starts its own when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _as_worker(call: Callable[[], Any]) -> Any:
    """Run a pool task; tasks run their own parallel steps inline (no waiting on the pool
    from inside it)."""
    _worker.busy = True
    return call()


def _chunked(func: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` computed on slices in parallel (for element-wise steps)."""
    n = len(arrays[0])
    parts = min(_WORKERS, max(1, n // _CHUNK_MIN))
    if parts == 1:
        return func(*arrays)
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)
    calls = [
        lambda lo=lo, hi=hi: func(*(a[lo:hi] for a in arrays))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return np.concatenate(_in_parallel(calls))


def _index_1d(values: np.ndarray, origin: float, size: float, n: int) -> np.ndarray:
    """``floor((v - origin) / size)`` clipped to 0 … n - 1: monotone in v (not NaN)."""
    cell = values - origin
    cell /= size
    np.clip(cell, 0, n - 1, out=cell)  # then truncating is flooring
    return cell.astype(np.int32)


def _sub_index(values: np.ndarray, origin: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Sub-cell column (or row) in blocks at ``origin`` with sub-cells of ``size``."""
    cell = values - origin
    cell /= size
    np.clip(cell, 0, _SUB - 1, out=cell)
    return cell.astype(np.int32)


# --- building the grid ---------------------------------------------------------------------


def _build_grid(index: _LevelIndex, coords: np.ndarray) -> _Grid | None:
    """The root grid: cells no boundary touches hold their region, painted by ray parity."""
    rings = index.rings
    if rings is None or len(coords) == 0:
        return None
    xmin, ymin, xmax, ymax = shapely.total_bounds(index.geoms)
    if not np.isfinite(coords[:, 0].sum() + coords[:, 1].sum()):  # no NaN nor inf
        return None
    eps = 1e-11 * max(1.0, float(np.abs([xmin, ymin, xmax, ymax]).max()))
    width, height = max(xmax - xmin, 1e4 * eps), max(ymax - ymin, 1e4 * eps)
    # Finer grids for more detailed boundaries: fewer points need the exact test.
    max_cells = min(max(1000 * len(coords), 2**16), GRID_MAX_CELLS)
    size = max(np.sqrt(width * height / max_cells), 1e4 * eps)
    nx, ny = int(width / size) + 1, int(height / size) + 1
    while nx * ny > max_cells:
        size *= 1.01
        nx, ny = int(width / size) + 1, int(height / size) + 1
    grid = _Grid(float(xmin), float(ymin), float(size), nx, ny, eps)
    _, (count, painted) = _in_parallel(
        [
            lambda: _root_runs(grid, coords, rings.lengths, rings.owners),
            lambda: _paint(grid, coords, rings.lengths, rings.owners),
        ]
    )
    mixed = count > 1  # overlapping polygons: the exact test settles
    mixed[grid.run_cell] = True
    entries = np.flatnonzero(mixed)
    del mixed
    cells = painted - 1
    cells[count != 1] = _NO_REGION
    del painted
    region = cells[entries]
    cells[entries] = -(np.arange(len(entries), dtype=np.int32) + 2)
    grid.cells = cells
    inside = np.where(count[entries] > 1, -2, region)
    _add_entries(grid, entries, np.full(len(entries), -1), -1, -1, inside)
    return grid


def _add_entries(
    grid: _Grid,
    where: np.ndarray,
    block: np.ndarray,
    first: np.ndarray | int,
    stop: np.ndarray | int,
    inside: np.ndarray | int,
) -> None:
    """Append entries (scalars apply to every new entry); none has a block yet."""
    n = len(where)
    grow = {
        "e_where": where,
        "e_block": block,
        "e_child": -1,
        "e_first": first,
        "e_stop": stop,
        "e_inside": inside,
    }
    for name, values in grow.items():
        new = np.broadcast_to(np.asarray(values, dtype=np.int32), (n,))
        setattr(grid, name, np.concatenate([getattr(grid, name), new]))


def _root_runs(grid: _Grid, coords: np.ndarray, lengths: np.ndarray, owners: np.ndarray) -> None:
    """Every root cell each boundary segment may touch, as runs of consecutive segments.

    Consecutive points of a ring in one cell make a run (with the segments entering and
    leaving the cell). A segment lies in the box of its end points, so the cells between
    its end points' cells hold it (the index is monotone): a segment moving diagonally
    also touches the two other corners; one spanning more cells is followed column by
    column.
    """
    nx = grid.nx
    vx = _index_1d(coords[:, 0], grid.x0, grid.size, grid.nx)
    vy = _index_1d(coords[:, 1], grid.y0, grid.size, grid.ny)
    cell = vy * nx + vx
    n = len(cell)
    ring_start = np.zeros(n + 1, dtype=bool)
    ring_start[(np.cumsum(lengths) - lengths)[lengths > 0]] = True
    ring_start[n] = True
    begins = np.empty(n, dtype=bool)
    begins[0] = True
    np.not_equal(cell[1:], cell[:-1], out=begins[1:])
    begins |= ring_start[:n]
    s = np.flatnonzero(begins)
    e = np.append(s[1:], n)
    entering, leaving = ~ring_start[s], ~ring_start[e]
    first, stop = s - entering, e - 1 + leaving  # segment k joins points k and k + 1
    # Segments leaving a cell: the corners they cut, or pieces when they span far.
    k = e[leaving] - 1
    ax, ay, bx, by = vx[k], vy[k], vx[k + 1], vy[k + 1]
    far = (np.abs(bx - ax) > 1) | (np.abs(by - ay) > 1)
    diagonal = ~far & (ax != bx) & (ay != by)
    d = np.flatnonzero(diagonal)
    long_cells, long_segs = _long_segment_cells(grid, coords, k[far], vx)
    cells = [cell[s], ay[d] * nx + bx[d], by[d] * nx + ax[d], long_cells]
    firsts = [first, k[d], k[d], long_segs]
    keep = np.concatenate([stop > first, np.ones(2 * len(d) + len(long_cells), dtype=bool)])
    grid.run_cell = np.concatenate(cells).astype(np.int32)[keep]
    grid.run_first = np.concatenate(firsts).astype(np.int32)[keep]
    grid.run_stop = np.concatenate([stop, k[d] + 1, k[d] + 1, long_segs + 1]).astype(np.int32)[keep]
    grid.run_owner = np.repeat(owners.astype(np.int32), lengths)[grid.run_first]
    order = np.argsort(grid.run_cell)  # by cell, for _runs_of
    for name in ("run_cell", "run_owner", "run_first", "run_stop"):
        setattr(grid, name, getattr(grid, name)[order])


def _runs_of(grid: _Grid, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``cells``, run) for every boundary run in each of the root cells."""
    lo = np.searchsorted(grid.run_cell, cells, side="left")
    hi = np.searchsorted(grid.run_cell, cells, side="right")
    return np.repeat(np.arange(len(cells)), hi - lo), _ramp_from(lo, hi - lo)


def _long_segment_cells(
    grid: _Grid, coords: np.ndarray, seg: np.ndarray, vx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(cell, segment) for segments spanning several root cells: column by column, the
    rows the segment crosses there.

    The column lines are computed, so each column's stretch of the segment is widened by
    ``eps`` (in x, hence in its parameter t) before its rows are read.
    """
    c0, c1 = np.minimum(vx[seg], vx[seg + 1]), np.maximum(vx[seg], vx[seg + 1])
    which = np.repeat(np.arange(len(seg)), c1 - c0 + 1)
    col = c0[which] + _ramp(c1 - c0 + 1)
    k = seg[which]
    ax, ay = coords[k, 0], coords[k, 1]
    dx, dy = coords[k + 1, 0] - ax, coords[k + 1, 1] - ay
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = (grid.x0 + col * grid.size - ax) / dx
        tb = (grid.x0 + (col + 1) * grid.size - ax) / dx
        widen = grid.eps / np.abs(dx)
    upright = dx == 0  # one column: all of it
    t0 = np.where(upright, 0.0, np.clip(np.minimum(ta, tb) - widen, 0.0, 1.0))
    t1 = np.where(upright, 1.0, np.clip(np.maximum(ta, tb) + widen, 0.0, 1.0))
    y0, y1 = ay + t0 * dy, ay + t1 * dy
    low = _index_1d(np.minimum(y0, y1) - grid.eps, grid.y0, grid.size, grid.ny)
    high = _index_1d(np.maximum(y0, y1) + grid.eps, grid.y0, grid.size, grid.ny)
    cells, rect = _rect_cells(col, col, low, high, grid.nx)
    return cells.astype(np.int32), seg[which[rect]]


def _rect_cells(
    x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray, nx: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat cells of each box of cells [x0, x1] × [y0, y1], and the box each came from."""
    w, h = (x1 - x0 + 1).astype(np.int64), (y1 - y0 + 1).astype(np.int64)
    which = np.repeat(np.arange(len(w)), w * h)
    k = _ramp(w * h)
    col = x0[which] + k % w[which]
    row = y0[which] + k // w[which]
    return row.astype(np.int64) * nx + col, which


def _paint(
    grid: _Grid, coords: np.ndarray, lengths: np.ndarray, owners: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per root cell: how many polygons hold its centre, and the sum of their indices + 1
    (the polygon's index + 1 when it is one).

    Even-odd ray crossings along each row of centres, like GEOS's point-in-area test of
    prepared polygons. Only trusted where no boundary touches the cell: the centre is then
    half a cell from any boundary, far beyond rounding.
    """
    nx, ny, size = grid.nx, grid.ny, grid.size
    # Row r's centre line crosses the segments between points with different counts of
    # centres below them (a monotone count keeps the half-open rule consistent).
    below = np.ceil((coords[:, 1] - grid.y0) / size - 0.5)
    np.clip(below, 0, ny, out=below)
    below = below.astype(np.int32)
    crossing = np.diff(below)
    last = np.cumsum(lengths)[lengths > 0] - 1
    crossing[last[last < len(crossing)]] = 0  # from one ring to the next: no segment
    k = np.flatnonzero(crossing)
    n = np.abs(crossing[k]).astype(np.int64)
    del crossing
    up = coords[k + 1, 1] > coords[k, 1]
    lower = np.where(up, k, k + 1)  # the same edge of two neighbours: the same arithmetic
    upper = np.where(up, k + 1, k)
    px, py = coords[lower, 0], coords[lower, 1]
    slope = (coords[upper, 0] - px) / (coords[upper, 1] - py)
    ring = np.searchsorted(np.cumsum(lengths), k, side="right")
    which = np.repeat(np.arange(len(k)), n)
    rows = np.repeat(below[lower], n) + _ramp(n)
    yc = grid.y0 + (rows + 0.5) * size
    x = px[which] + (yc - py[which]) * slope[which]
    polygon = np.repeat(owners[ring].astype(np.int64), n)
    del which, k, n, up, lower, upper, px, py, slope, yc
    # Sort by (polygon, row, x): each polygon crosses each row an even number of times,
    # and consecutive pairs bound its inside.
    group = polygon * ny + rows
    if len(group) and int(group.max()) * nx < 2**40:  # x keeps ≥ 12 bits per cell
        order = np.argsort(group + np.clip((x - grid.x0) / (nx * size), 0.0, 0.999))
    else:
        order = np.lexsort((x, group))
    x, polygon, rows = x[order], polygon[order], rows[order]
    col = np.ceil((x - grid.x0) / size - 0.5)
    np.clip(col, 0, nx, out=col)
    col = col.astype(np.int64)
    start, stop = rows[0::2] * nx + col[0::2], rows[0::2] * nx + col[1::2]
    weight = (1 << 32) + polygon[0::2] + 1  # count in the high half, index + 1 low
    opens, closes = col[0::2] < nx, col[1::2] < nx  # none past the row's last centre
    painted = np.zeros(ny * nx, dtype=np.int64)
    np.add.at(painted, start[opens], weight[opens])
    np.subtract.at(painted, stop[closes], weight[closes])
    np.cumsum(painted.reshape(ny, nx), axis=1, out=painted.reshape(ny, nx))
    halves = painted.view(np.int32).reshape(-1, 2)[:, :: 1 if _LITTLE_ENDIAN else -1]
    return halves[:, 1], halves[:, 0]  # the index half wraps only where count > 1


# --- refining the grid where points are ------------------------------------------------------


def _root_candidates(index: _LevelIndex, grid: _Grid, entries: np.ndarray) -> None:
    """Candidates of root entries: polygons with a boundary run in the cell, and the
    polygon painted at its centre (exact for the others: their boundary is not there)."""
    cells = grid.e_where[entries]
    which, runs = _runs_of(grid, cells)
    inside = grid.e_inside[entries]
    entry = [entries[which], entries[inside >= 0]]
    poly = [grid.run_owner[runs], inside[inside >= 0]]
    several = np.flatnonzero(inside == -2)
    if len(several):
        which, poly_p = _probe_cells(index, grid, cells[several])
        entry.append(entries[several][which])
        poly.append(poly_p)
    n_polys = len(index.geoms)
    key = np.sort(np.concatenate(entry).astype(np.int64) * n_polys + np.concatenate(poly))
    key = _distinct(key)
    owner_entry = key // n_polys
    order = np.sort(entries)
    lo = np.searchsorted(owner_entry, order, side="left")
    hi = np.searchsorted(owner_entry, order, side="right")
    base = len(grid.cands)
    grid.e_first[order] = base + lo
    grid.e_stop[order] = base + hi
    grid.cands = np.concatenate([grid.cands, (key % n_polys).astype(np.int32)])


def _probe_cells(
    index: _LevelIndex, grid: _Grid, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``cells``, polygon) for every polygon holding the cell's centre (exact
    test); every polygon whose box meets the cell where the centre would fall outside it
    (rounding)."""
    col, row = cells % grid.nx, cells // grid.nx
    cx, cy = grid.x0 + (col + 0.5) * grid.size, grid.y0 + (row + 0.5) * grid.size
    ok = (_index_1d(cx, grid.x0, grid.size, grid.nx) == col) & (
        _index_1d(cy, grid.y0, grid.size, grid.ny) == row
    )
    query_i, poly_i = index.tree.query(shapely.points(cx, cy))
    inside = shapely.intersects_xy(index.geoms[poly_i], cx[query_i], cy[query_i])
    keep = inside & ok[query_i]
    which, poly = [query_i[keep]], [poly_i[keep]]
    if not ok.all():
        bad = np.flatnonzero(~ok)
        x0, y0 = grid.x0 + col[bad] * grid.size, grid.y0 + row[bad] * grid.size
        margin = grid.size
        boxes = shapely.box(x0 - margin, y0 - margin, x0 + 2 * margin, y0 + 2 * margin)
        query_i, poly_i = index.tree.query(boxes)
        which.append(bad[query_i])
        poly.append(poly_i)
    return np.concatenate(which), np.concatenate(poly)


def _entry_boxes(
    grid: _Grid, entries: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin x, origin y, size, root cell and depth of each entry's cell."""
    where, block = grid.e_where[entries], grid.e_block[entries]
    x0, y0 = np.full(len(entries), grid.x0), np.full(len(entries), grid.y0)
    size = np.full(len(entries), grid.size)
    col, row, root = where % grid.nx, where // grid.nx, where.copy()
    depth = np.zeros(len(entries), dtype=np.int8)
    inner = np.flatnonzero(block >= 0)
    if len(inner):
        b = block[inner]
        x0[inner], y0[inner], size[inner] = grid.b_x0[b], grid.b_y0[b], grid.b_size[b]
        col[inner], row[inner] = where[inner] % _SUB, where[inner] // _SUB
        root[inner], depth[inner] = grid.b_root[b], grid.b_depth[b]
    return x0 + col * size, y0 + row * size, size, root, depth


def _subdivide(index: _LevelIndex, grid: _Grid, targets: np.ndarray, coords: np.ndarray) -> None:
    """Give each target entry a block of sub-cells, classified like the root grid's."""
    ox, oy, size, root, depth = _entry_boxes(grid, targets)
    sub = size / _SUB
    n_sub = _SUB * _SUB
    mark, mark_poly = _sub_boundary_cells(grid, coords, ox, oy, sub, root)
    mixed = np.zeros(len(targets) * n_sub, dtype=bool)
    mixed[mark] = True
    # A connected set of unmarked sub-cells holds no boundary: one exact test per set.
    labels, n_sets = ndimage.label(~mixed.reshape(-1, _SUB, _SUB), structure=_PLANES)
    labels = labels.ravel()
    first = np.zeros(n_sets + 1, dtype=np.int64)
    first[labels[::-1]] = np.arange(len(labels) - 1, -1, -1)  # first cell of each set
    probe = first[1:]
    t, cell = probe // n_sub, probe % n_sub
    cx = ox[t] + (cell % _SUB + 0.5) * sub[t]
    cy = oy[t] + (cell // _SUB + 0.5) * sub[t]
    # The probe must reach this very sub-cell through the grid (rounding never moves it
    # half a sub-cell, but a set whose probe strays stays mixed all the same).
    ok = _lookup(grid, cx, cy) == -(targets[t] + 2)
    ok &= _sub_index(cx, ox[t], sub[t]) == cell % _SUB
    ok &= _sub_index(cy, oy[t], sub[t]) == cell // _SUB
    start, stop = grid.e_first[targets[t]], grid.e_stop[targets[t]]
    pair_probe = np.repeat(np.arange(len(probe)), stop - start)
    pair_poly = grid.cands[_ramp_from(start, stop - start)]
    hit = shapely.intersects_xy(index.geoms[pair_poly], cx[pair_probe], cy[pair_probe])
    hits = np.bincount(pair_probe[hit], minlength=len(probe))
    region = np.full(len(probe), _NO_REGION, dtype=np.int64)
    region[pair_probe[hit]] = pair_poly[hit]
    set_value = np.where(ok & (hits <= 1), region, -2)  # -2: still mixed
    values = np.concatenate(([-2], set_value))[labels]
    new = np.flatnonzero(values == -2)
    first_c, stop_c = _sub_candidates(grid, index, targets, values, new, mark, mark_poly)
    base_entry, base_block = len(grid.e_where), len(grid.blocks)
    values[new] = -(base_entry + np.arange(len(new)) + 2)
    _add_entries(grid, new % n_sub, base_block + new // n_sub, first_c, stop_c, -1)
    grid.blocks = np.concatenate([grid.blocks, values.reshape(-1, n_sub).astype(np.int32)])
    grid.b_x0 = np.concatenate([grid.b_x0, ox])
    grid.b_y0 = np.concatenate([grid.b_y0, oy])
    grid.b_size = np.concatenate([grid.b_size, sub])
    grid.b_root = np.concatenate([grid.b_root, root.astype(np.int32)])
    grid.b_depth = np.concatenate([grid.b_depth, (depth + 1).astype(np.int8)])
    grid.e_child[targets] = base_block + np.arange(len(targets), dtype=np.int32)


def _sub_candidates(
    grid: _Grid,
    index: _LevelIndex,
    targets: np.ndarray,
    values: np.ndarray,
    new: np.ndarray,
    mark: np.ndarray,
    mark_poly: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate ranges of new mixed sub-cells (flat positions ``new`` in the blocks).

    Next to a settled sub-cell (no boundary, value v), a polygon whose boundary misses the
    mixed one holds both or neither, so it is v: the candidates are the polygons marked
    in the sub-cell, plus v. Without a settled neighbour: the parent's candidates.
    """
    n_sub = _SUB * _SUB
    owner, cell = new // n_sub, new % n_sub
    col, row = cell % _SUB, cell // _SUB
    settled = np.full(len(new), -3, dtype=np.int64)  # -3: no settled neighbour
    for dc, dr in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        c, r = col + dc, row + dr
        inside = (c >= 0) & (c < _SUB) & (r >= 0) & (r < _SUB)
        near = owner * n_sub + np.clip(r, 0, _SUB - 1) * _SUB + np.clip(c, 0, _SUB - 1)
        v = np.where(inside, values[near], -2)
        take = (settled == -3) & (v >= -1)
        settled[take] = v[take]
    first = grid.e_first[targets][owner].astype(np.int64)
    stop = grid.e_stop[targets][owner].astype(np.int64)
    found = settled != -3
    if not found.any():
        return first, stop
    need = np.zeros(len(values), dtype=bool)
    need[new[found]] = True
    sel = need[mark]
    extra = found & (settled >= 0)
    n_polys = len(index.geoms)
    key = np.concatenate(
        [mark[sel] * n_polys + mark_poly[sel], new[extra] * n_polys + settled[extra]]
    )
    key = np.sort(key)
    key = _distinct(key)
    flat = key // n_polys
    base = len(grid.cands)
    first[found] = base + np.searchsorted(flat, new[found], side="left")
    stop[found] = base + np.searchsorted(flat, new[found], side="right")
    grid.cands = np.concatenate([grid.cands, (key % n_polys).astype(np.int32)])
    return first, stop


def _sub_boundary_cells(
    grid: _Grid,
    coords: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    sub: np.ndarray,
    root: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-cells (flat over the targets' blocks) that a boundary may touch, with the
    polygon of that boundary, for target cells at (ox, oy) cut in sub-cells of ``sub``.

    The segments come from the runs of each target's root cell. In sub-cell units, each
    is clipped to the target widened by a sub-cell (Liang–Barsky) and cut in pieces of at
    most one unit, whose boxes (widened by the rounding bound) give the sub-cells.
    """
    tgt, run = _runs_of(grid, root)
    length = (grid.run_stop[run] - grid.run_first[run]).astype(np.int64)
    tgt = np.repeat(tgt, length)
    poly = np.repeat(grid.run_owner[run], length)
    k = _ramp_from(grid.run_first[run].astype(np.int64), length)
    s = sub[tgt]
    u0 = (coords[k, 0] - ox[tgt]) / s
    v0 = (coords[k, 1] - oy[tgt]) / s
    du = (coords[k + 1, 0] - ox[tgt]) / s - u0
    dv = (coords[k + 1, 1] - oy[tgt]) / s - v0
    t0, t1 = np.zeros(len(k)), np.ones(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        for p0, d in ((u0, du), (v0, dv)):
            ta, tb = (-1.0 - p0) / d, (_SUB + 1.0 - p0) / d
            moving = d != 0
            t0 = np.where(moving, np.maximum(t0, np.minimum(ta, tb)), t0)
            t1 = np.where(moving, np.minimum(t1, np.maximum(ta, tb)), t1)
            t1[~moving & ((p0 < -1.0) | (p0 > _SUB + 1.0))] = -1.0
    keep = np.flatnonzero(t0 <= t1)
    tgt, poly, u0, v0, du, dv = tgt[keep], poly[keep], u0[keep], v0[keep], du[keep], dv[keep]
    t0, t1 = t0[keep], t1[keep]
    pieces = np.ceil((t1 - t0) * np.maximum(np.abs(du), np.abs(dv)))
    pieces = np.maximum(pieces, 1).astype(np.int64)
    which = np.repeat(np.arange(len(tgt)), pieces)
    step = _ramp(pieces)
    width = ((t1 - t0) / pieces)[which]
    ta = t0[which] + step * width
    tb = np.where(step + 1 == pieces[which], t1[which], ta + width)
    eps = (grid.eps / sub)[tgt][which] + 1e-9  # the rounding of points and of units
    bounds = []
    for p0, d in ((u0, du), (v0, dv)):
        pa, pb = p0[which] + ta * d[which], p0[which] + tb * d[which]
        low = np.floor(np.minimum(pa, pb) - eps)
        high = np.floor(np.maximum(pa, pb) + eps)
        bounds += [low, high]
    x0, x1, y0, y1 = bounds
    near = (x1 >= -1) & (x0 <= _SUB) & (y1 >= -1) & (y0 <= _SUB)
    x0, x1, y0, y1 = (np.clip(b[near], 0, _SUB - 1).astype(np.int64) for b in bounds)
    block = tgt[which[near]] * (_SUB * _SUB)
    poly = poly[which[near]].astype(np.int64)
    wide, tall = x1 != x0, y1 != y0
    both = wide & tall
    cells = [block + y0 * _SUB + x0, (block + y0 * _SUB + x1)[wide]]
    cells += [(block + y1 * _SUB + x0)[tall], (block + y1 * _SUB + x1)[both]]
    return np.concatenate(cells), np.concatenate([poly, poly[wide], poly[tall], poly[both]])


# --- looking points up ---------------------------------------------------------------------


def _lookup(grid: _Grid, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Leaf value of each (finite) point: region, -1, or ≤ -2 an entry without a block.

    Points beyond the grid fall in its edge cells: those stretch to infinity, and no
    boundary lies beyond the grid, so the same reasoning holds there.
    """
    ix = _index_1d(px, grid.x0, grid.size, grid.nx)
    iy = _index_1d(py, grid.y0, grid.size, grid.ny)
    iy *= grid.nx
    iy += ix
    value = grid.cells[iy]
    _descend(grid, px, py, value, np.flatnonzero(value <= -2))
    return value


def _descend(
    grid: _Grid, px: np.ndarray, py: np.ndarray, value: np.ndarray, todo: np.ndarray
) -> None:
    """Follow the mixed cells of the points ``todo`` into their blocks, in place."""
    x, y, v = px[todo], py[todo], value[todo]
    while len(todo):
        child = grid.e_child[-(v + 2)]
        go = child >= 0
        if not go.all():
            todo, x, y, child = todo[go], x[go], y[go], child[go]
        if not len(todo):
            return
        gx = _sub_index(x, grid.b_x0[child], grid.b_size[child])
        gy = _sub_index(y, grid.b_y0[child], grid.b_size[child])
        gy *= _SUB
        gy += gx
        v = grid.blocks[child, gy]
        value[todo] = v
        deeper = v <= -2
        todo, x, y, v = todo[deeper], x[deeper], y[deeper], v[deeper]


def _grid_candidates(
    index: _LevelIndex,
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    coords: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Region and hit count of points in clean cells (-1 and 0 elsewhere), and the
    (point, polygon) pairs to test exactly.

    Mixed cells holding many of these points are subdivided first (kept for later calls).
    """
    grid = index.grid
    assert grid is not None
    usable = valid & np.isfinite(x) & np.isfinite(y)
    ids = None if usable.all() else np.flatnonzero(usable)
    px, py = (x, y) if ids is None else (x[ids], y[ids])
    with index.lock:
        value = _chunked(lambda cx, cy: _lookup(grid, cx, cy), px, py)
        pending = np.flatnonzero(value <= -2)
        while True:
            entry = -(value[pending] + 2)
            counts = np.bincount(entry, minlength=len(grid.e_where))
            held = np.flatnonzero(counts)
            missing = held[grid.e_first[held] < 0]
            if len(missing):
                _root_candidates(index, grid, missing)
            hot = _hot_entries(grid, held, counts[held])
            if not len(hot):
                break
            if coords is None:
                coords = shapely.get_coordinates(index.geoms)
            _subdivide(index, grid, hot, coords)
            chosen = np.zeros(len(counts), dtype=bool)
            chosen[hot] = True
            moved = pending[chosen[entry]]
            _in_parallel(
                [
                    lambda part=part: _descend(grid, px, py, value, part)
                    for part in np.array_split(moved, min(_WORKERS, 1 + len(moved) // _CHUNK_MIN))
                ]
            )
            pending = pending[value[pending] <= -2]
        start, stop = grid.e_first[entry], grid.e_stop[entry]
    if ids is None:
        region = np.maximum(value, _NO_REGION)
        hits = (value >= 0).view(np.int8).astype(np.int32)
    else:
        region = np.full(len(x), _NO_REGION, dtype=np.int32)
        region[ids] = np.maximum(value, _NO_REGION)
        hits = np.zeros(len(x), dtype=np.int32)
        hits[ids] = value >= 0
        pending = ids[pending]
    counts = (stop - start).astype(np.int64)
    point_i = np.repeat(pending, counts)
    poly_i = grid.cands[_ramp_from(start.astype(np.int64), counts)]
    order = np.argsort(poly_i)  # one polygon after another: GEOS's caches stay warm
    return region, hits, point_i[order], poly_i[order]


def _hot_entries(grid: _Grid, held: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Leaf entries worth a block: many exact tests saved, not too deep, room left."""
    _, _, size, _, depth = _entry_boxes(grid, held)
    pairs = counts * (grid.e_stop[held] - grid.e_first[held])  # exact tests it would save
    hot = (pairs >= SUBDIVIDE_MIN_PAIRS) & (depth < _MAX_DEPTH) & (size / _SUB > 1e3 * grid.eps)
    hot = held[hot]
    room = max(_MAX_BLOCKS - len(grid.blocks), 0)
    if len(hot) > room:  # the busiest first
        hot = hot[np.argsort(-counts[np.searchsorted(held, hot)], kind="stable")[:room]]
    return hot


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
    coords = index.fresh_coords
    index.fresh_coords = None  # kept no longer than this call
    if index.grid is None and valid.sum() >= GRID_MIN_POINTS and index.has_area:
        with index.lock:
            if index.grid is None:
                if coords is None:
                    coords = shapely.get_coordinates(index.geoms)
                index.grid = _build_grid(index, coords)
                if index.grid is None:  # e.g. non-finite coordinates: exact tests only
                    index.rings = None
    region, hits = _exact(index, x, y, valid, regions.rank, preferred, coords)
    status = np.full(len(x), _MATCH_VALUES.index(MatchStatus.OUTSIDE.value), dtype=np.int8)
    status[hits == 1] = _MATCH_VALUES.index(MatchStatus.INSIDE.value)
    status[hits > 1] = _MATCH_VALUES.index(MatchStatus.BORDER.value)
    return region, status


def _hit_counts(regions: _Regions, x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> np.ndarray:
    regions.index.fresh_coords = None
    return _exact(regions.index, x, y, valid, regions.rank, None)[1]


def _exact(
    index: _LevelIndex,
    x: np.ndarray,
    y: np.ndarray,
    valid: np.ndarray,
    rank: np.ndarray | None,
    preferred: tuple[np.ndarray, np.ndarray] | None,
    coords: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Chosen region and number of polygons each point intersects (exact answers)."""
    n = len(x)
    if len(index.geoms) == 0 or not valid.any():
        return np.full(n, _NO_REGION, dtype=np.int32), np.zeros(n, dtype=np.int32)
    if index.grid is not None:
        region, hits, point_i, poly_i = _grid_candidates(index, x, y, valid, coords)
    else:
        region = np.full(n, _NO_REGION, dtype=np.int32)
        hits = np.zeros(n, dtype=np.int32)
        ids = np.flatnonzero(valid)
        query_i, poly_i = index.tree.query(shapely.points(x[ids], y[ids]))
        point_i = ids[query_i]
    inside = _chunked(
        lambda pts, polys: shapely.intersects_xy(index.geoms[polys], x[pts], y[pts]),
        point_i,
        poly_i,
    )
    point_i, poly_i = point_i[inside], poly_i[inside]
    if len(point_i) == 0:
        return region, hits
    key = rank[poly_i] if rank is not None else poly_i.astype(np.int64)
    if preferred is not None:
        parent_index, chosen_above = preferred
        off_parent = parent_index[poly_i] != chosen_above[point_i]
        key = key + off_parent * (len(index.geoms) + 1)
    order = np.argsort(point_i * (2 * len(index.geoms) + 2) + key)  # keys are distinct
    point_i, poly_i = point_i[order], poly_i[order]
    first = np.flatnonzero(np.concatenate(([True], point_i[1:] != point_i[:-1])))
    region[point_i[first]] = poly_i[first]
    hits[point_i[first]] += np.diff(np.append(first, len(point_i))).astype(hits.dtype)
    return region, hits


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
    code_type = np.int16 if len(categories) < 2**15 else np.int32
    codes = np.append(inverse, -1).astype(code_type)[region]  # region -1: the last, NA
    return pd.Categorical.from_codes(
        codes, categories=pd.Index(categories, dtype="str"), validate=False
    )
