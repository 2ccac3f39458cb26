"""What the map and the PDF draw, without drawing it: classes, display geometry, topology.

One classifier serves the web map (``layers``) and the PDF (``report``), so both show
the same classes for the same figures. Display geometry is simplified for the eye,
never for the join, and cached per geometry digest (boundaries only: no records or
names are ever cached here). No folium and no matplotlib in this module.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "QUANTUM",
    "RAMP",
    "ZERO_COLOUR",
    "Classes",
    "classify",
    "natural_breaks",
    "simplify_for_display",
    "topology",
    "use_disk_cache",
]

# A colour-blind-safe sequential ramp (ColorBrewer YlOrRd), zero drawn apart in grey.
RAMP = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026", "#800026", "#4d0013"]
ZERO_COLOUR = "#f0f0f0"
QUANTUM = 1e-4  # degrees (~11 m): the grid of the regions' display coordinates
DISPLAY_CACHE_SIZE = 8


# ----------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class Classes:
    """Class breaks of the choropleth: upper bounds, one colour per class."""

    bounds: tuple[float, ...]
    colours: tuple[str, ...]
    method: str

    def colour(self, value: float) -> str:
        if not value or value <= 0 or not np.isfinite(value):
            return ZERO_COLOUR
        for bound, colour in zip(self.bounds, self.colours, strict=True):
            if value <= bound:
                return colour
        return self.colours[-1]

    def index(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """Class of each value: -1 for zero, missing or negative, else 0..len(bounds)-1."""
        v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        if not self.bounds:
            return np.full(len(v), -1, dtype=np.int64)
        found = np.minimum(np.searchsorted(self.bounds, v, side="left"), len(self.bounds) - 1)
        return np.where(v > 0, found, -1)


def classify(values: Sequence[float], k: int = 5) -> Classes:
    """Classes for incident counts: zero apart, Fisher-Jenks natural breaks on the rest.

    Counts are skewed (a few regions hold most incidents); natural breaks keep the
    extremes visible without empty classes. Few distinct values get one class each.
    """
    v = np.asarray(values, dtype=float)
    positive = v[np.isfinite(v) & (v > 0)]
    if positive.size == 0:
        return Classes((), (), "none")
    distinct = np.unique(positive)
    if distinct.size <= k:
        bounds = tuple(float(b) for b in distinct)
        method = "unique values"
    else:
        bounds = tuple(natural_breaks(positive, k))
        method = "natural breaks (Fisher-Jenks)"
    colours = tuple(
        RAMP[round(i * (len(RAMP) - 1) / max(len(bounds) - 1, 1))] for i in range(len(bounds))
    )
    return Classes(bounds, colours, method)


def natural_breaks(values: Sequence[float] | np.ndarray, k: int = 5) -> list[float]:
    """Fisher-Jenks natural breaks: upper bounds of ``k`` classes of least squared deviation.

    Exact optimum (the classes minimise the summed squared deviation from their means),
    in O(k n log n): the best start of the last class never moves left as the data
    grows, so each class is solved by divide and conquer over sorted cumulative sums.
    mapclassify's pure-Python version is O(k n^2) and took 20-40 s for 3,000 regions.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or k < 1:
        return []
    k = min(k, n)
    s1 = np.concatenate(([0.0], np.cumsum(x)))
    s2 = np.concatenate(([0.0], np.cumsum(x * x)))

    def deviation(i: np.ndarray, j: int | np.ndarray) -> np.ndarray:  # of x[i:j]
        total = s1[j] - s1[i]
        return (s2[j] - s2[i]) - total * total / np.maximum(j - i, 1)

    cost = deviation(np.zeros(n + 1, np.int64), np.arange(n + 1))
    starts = []
    for c in range(1, k):
        best = np.full(n + 1, np.inf)
        start = np.zeros(n + 1, np.int64)
        todo = [(c + 1, n, c, n - 1)]  # classes ending at j in [jl, jr] start in [il, ir]
        while todo:
            jl, jr, il, ir = todo.pop()
            if jl > jr:
                continue
            j = (jl + jr) // 2
            i = np.arange(il, min(ir, j - 1) + 1)
            total = cost[i] + deviation(i, j)
            b = int(np.argmin(total))
            best[j], start[j] = total[b], i[b]
            todo += [(jl, j - 1, il, int(i[b])), (j + 1, jr, int(i[b]), ir)]
        cost = best
        starts.append(start)
    bounds, j = [float(x[-1])], n
    for start in reversed(starts):
        j = int(start[j])
        bounds.append(float(x[j - 1]))
    return sorted(bounds)


# ----------------------------------------------------------------------------- display geometry


_display_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_display_lock = threading.Lock()
_disk: Path | None = None  # where simplified geometry is kept between processes


def use_disk_cache(folder: str | os.PathLike | None) -> None:
    """Keep simplified display geometry in ``folder`` too (None: memory only).

    Set by the command line and the dashboard to ``<data dir>/cache/display``: a new
    server process then draws its first map of a boundary set without simplifying it
    again (seconds for world admin-1). Boundary geometry only, keyed by its digest; an
    entry that cannot be read back whole is recomputed, never trusted.
    """
    global _disk
    _disk = None if folder is None else Path(folder)


def _read_disk(key: str, count: int) -> np.ndarray | None:
    if _disk is None:
        return None
    path = _disk / f"{key}.parquet"
    try:
        import pyarrow.parquet as pq

        column = pq.read_table(path).column("wkb")
        if len(column) != count:
            return None
        return shapely.from_wkb(column.to_numpy(zero_copy_only=False))
    except FileNotFoundError:
        return None
    except Exception:  # damaged or foreign: simplify again and overwrite
        return None


def _write_disk(key: str, geoms: np.ndarray) -> None:
    if _disk is None:
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        _disk.mkdir(parents=True, exist_ok=True)
        table = pa.table({"wkb": pa.array(shapely.to_wkb(geoms).tolist(), pa.binary())})
        with tempfile.NamedTemporaryFile(dir=_disk, suffix=".tmp", delete=False) as tmp:
            pq.write_table(table, tmp.name)
        os.replace(tmp.name, _disk / f"{key}.parquet")
    except OSError:  # a read-only data dir: keep working from memory
        return


def simplify_for_display(frame: gpd.GeoDataFrame, max_vertices: int = 60_000) -> gpd.GeoDataFrame:
    """Simplify so the layer stays light (~``max_vertices``), borders kept consistent.

    The simplified geometry is cached on a digest of the geometry alone (boundaries,
    never incident data or names), so the bundled boundaries are simplified once per
    process whoever looks at them.
    """
    geoms = frame.geometry.to_numpy()
    key = (
        f"{max_vertices}:"
        + hashlib.blake2b(b"".join(shapely.to_wkb(geoms)), digest_size=20).hexdigest()
    )
    with _display_lock:
        simplified = _display_cache.get(key)
        if simplified is not None:
            _display_cache.move_to_end(key)
    if simplified is None:
        simplified = _read_disk(key, len(geoms))
        if simplified is None:
            simplified = _simplified(geoms, frame.total_bounds, max_vertices)
            _write_disk(key, simplified)
        with _display_lock:
            _display_cache[key] = simplified
            while len(_display_cache) > DISPLAY_CACHE_SIZE:
                _display_cache.popitem(last=False)
    out = frame.set_geometry(simplified.copy(), crs=frame.crs)
    return out[~shapely.is_empty(simplified)]


def _simplified(geoms: np.ndarray, bounds: np.ndarray, max_vertices: int) -> np.ndarray:
    if int(shapely.get_num_coordinates(geoms).sum()) > max_vertices:
        minx, miny, maxx, maxy = bounds
        tolerance = max(maxx - minx, maxy - miny) / 1500
        try:
            geoms = shapely.coverage_simplify(geoms, tolerance)
        except shapely.errors.GEOSException:
            geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    return shapely.set_precision(geoms, 1e-4)


# ----------------------------------------------------------------------------- topology


def topology(geometries: Sequence[Any] | np.ndarray, quantum: float = QUANTUM) -> dict[str, Any]:
    """TopoJSON of polygons: coordinates on a ``quantum`` grid, each shared border once.

    A border two regions share becomes one arc both reference (one of them reversed),
    so the borders drawn from it meet exactly, and the page carries it once. Arcs are
    delta-encoded integers (TopoJSON's quantized form). Geometry ``i`` of
    ``objects.regions`` is ``geometries[i]``, null when nothing of it is left on the grid.
    """
    geoms = np.asarray(geometries, dtype=object)
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, point_ring = shapely.get_coordinates(rings, return_index=True)
    origin = np.floor(coords.min(axis=0) / quantum) if len(coords) else np.zeros(2)
    grid = np.rint(coords / quantum - origin).astype(np.int64)
    keep = _distinct_ring_points(grid, point_ring)
    ring_arcs, arcs = _arcs(grid[keep], point_ring[keep], len(rings))
    objects = _topo_geometries(len(geoms), part_geom, ring_part, ring_arcs)
    return {
        "type": "Topology",
        "transform": {"scale": [quantum, quantum], "translate": (origin * quantum).tolist()},
        "arcs": arcs,
        "objects": {"regions": {"type": "GeometryCollection", "geometries": objects}},
    }


def _ring_bounds(point_ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal ring numbers (points are grouped by ring)."""
    if not len(point_ring):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, point_ring[1:] != point_ring[:-1]])
    return starts, np.diff(np.r_[starts, len(point_ring)])


def _cyclic_next(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each point, the position of the next point of its ring (the last wraps around)."""
    first = np.repeat(starts, lengths)
    size = np.repeat(lengths, lengths)
    return first + (np.arange(len(first)) - first + 1) % size


def _distinct_ring_points(grid: np.ndarray, point_ring: np.ndarray) -> np.ndarray:
    """Points to keep: not the closing point, not a repeat of the next point once gridded."""
    starts, lengths = _ring_bounds(point_ring)
    keep = np.ones(len(grid), dtype=bool)
    keep[starts + lengths - 1] = False  # the closing point repeats the first
    grid, point_ring = grid[keep], point_ring[keep]
    starts, lengths = _ring_bounds(point_ring)
    nxt = _cyclic_next(starts, lengths)
    distinct = (grid != grid[nxt]).any(axis=1)
    out = np.zeros(len(keep), dtype=bool)
    out[np.flatnonzero(keep)[distinct]] = True
    return out


def _arcs(
    grid: np.ndarray, point_ring: np.ndarray, n_rings: int
) -> tuple[list[list[int] | None], list[list[list[int]]]]:
    """Cut every ring at its junctions into arcs; keep each arc once (reversed or not).

    A junction is a point whose neighbours differ between the rings that pass through
    it (where a shared border starts or ends). A ring without one starts at its
    smallest point, so that two rings tracing the same loop cut it alike.
    """
    starts, lengths = _ring_bounds(point_ring)
    valid = lengths >= 3  # fewer distinct points on the grid: nothing left to draw
    take = np.repeat(valid, lengths)
    grid, point_ring = grid[take], point_ring[take]
    starts, lengths = _ring_bounds(point_ring)
    ring_ids = point_ring[starts] if len(starts) else np.zeros(0, np.int64)
    width = int(grid[:, 1].max()) + 2 if len(grid) else 1
    key = grid[:, 0] * width + grid[:, 1]
    nxt = _cyclic_next(starts, lengths)
    prv = np.empty_like(nxt)
    prv[nxt] = np.arange(len(nxt))
    lo, hi = np.minimum(key[prv], key[nxt]), np.maximum(key[prv], key[nxt])
    order = np.lexsort((hi, lo, key))
    k, a, b = key[order], lo[order], hi[order]
    other_pair = (k[1:] == k[:-1]) & ((a[1:] != a[:-1]) | (b[1:] != b[:-1]))
    junction = np.isin(key, k[1:][other_pair])
    # rotate each ring to start at its first junction (or its smallest point)
    ring_of_point = np.repeat(np.arange(len(starts)), lengths)
    offset = np.zeros(len(starts), np.int64)
    has = np.bincount(ring_of_point[junction], minlength=len(starts)) > 0
    first_junction = np.full(len(starts), np.iinfo(np.int64).max)
    np.minimum.at(first_junction, ring_of_point[junction], np.flatnonzero(junction))
    offset[has] = first_junction[has] - starts[has]
    for r in np.flatnonzero(~has):
        offset[r] = int(np.argmin(key[starts[r] : starts[r] + lengths[r]]))
    base = np.repeat(starts, lengths)
    within = np.arange(len(key)) - base
    size = np.repeat(lengths, lengths)
    rotated = base + (within + np.repeat(offset, lengths)) % size
    # each ring followed by its first point again, so every arc is one contiguous slice
    closed = np.insert(rotated, starts + lengths, rotated[starts])
    closed_starts = starts + np.arange(len(starts))
    cut = np.insert(junction[rotated], starts + lengths, True)
    cut[closed_starts] = True
    ext_key, ext_grid = key[closed], grid[closed]
    delta = np.diff(ext_grid, axis=0).tolist()
    ends = closed_starts + lengths  # position of each ring's closing point
    index: dict[bytes, int] = {}
    arcs: list[list[list[int]]] = []
    ring_arcs: list[list[int] | None] = [None] * n_rings
    cut_at = np.flatnonzero(cut)
    for ring, s, e in zip(ring_ids.tolist(), closed_starts.tolist(), ends.tolist(), strict=True):
        lo_i = np.searchsorted(cut_at, s)
        hi_i = np.searchsorted(cut_at, e)
        points = cut_at[lo_i : hi_i + 1].tolist()
        refs = []
        for p, q in zip(points[:-1], points[1:], strict=True):
            piece = ext_key[p : q + 1]
            forward = piece.tobytes()
            if forward in index:
                refs.append(index[forward])
                continue
            backward = piece[::-1].tobytes()
            if backward in index:
                refs.append(~index[backward])
                continue
            index[forward] = len(arcs)
            refs.append(len(arcs))
            arcs.append([ext_grid[p].tolist(), *delta[p:q]])
        ring_arcs[ring] = refs
    return ring_arcs, arcs


def _topo_geometries(
    n_geoms: int,
    part_geom: np.ndarray,
    ring_part: np.ndarray,
    ring_arcs: list[list[int] | None],
) -> list[dict[str, Any]]:
    """TopoJSON Polygon / MultiPolygon objects from each ring's arcs (first ring: exterior)."""
    rings_of_part: dict[int, list[int]] = {}
    for ring, part in enumerate(ring_part.tolist()):
        rings_of_part.setdefault(part, []).append(ring)
    polygons: list[list[list[list[int]]]] = [[] for _ in range(n_geoms)]
    for part, geom in enumerate(part_geom.tolist()):
        rings = rings_of_part.get(part, [])
        if rings and ring_arcs[rings[0]] is not None:
            polygons[geom].append([ring_arcs[r] for r in rings if ring_arcs[r] is not None])
    out: list[dict[str, Any]] = []
    for polys in polygons:
        if not polys:
            out.append({"type": None})
        elif len(polys) == 1:
            out.append({"type": "Polygon", "arcs": polys[0]})
        else:
            out.append({"type": "MultiPolygon", "arcs": polys})
    return out
