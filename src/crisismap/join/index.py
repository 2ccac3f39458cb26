"""One spatial index per boundary level, reused while the level's geometry is unchanged.

The index holds an STRtree over the prepared polygons, the polygons' ring structure and,
once a large input asks for it, the grid (:mod:`crisismap.join.grid`). Indexes are kept in
a small process-wide cache keyed on a digest of the geometry's content, so every call
with the same boundaries (another upload, another thread) reuses them. The cache holds
boundary geometry only, never records.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from crisismap import parallel
from crisismap.join._arrays import _ramp_from

_CACHE_SIZE = 8
_NO_REGION = -1  # the region index of a point in no region


def clear_index_cache() -> None:
    """Forget every cached spatial index (benchmarks use it to time a cold start)."""
    with _cache_lock:
        _cache.clear()
        _seen.clear()


@dataclass
class _LevelIndex:
    """STRtree over prepared polygons, plus a grid (built for large inputs)."""

    geoms: np.ndarray
    tree: shapely.STRtree
    rings: _Rings | None = None  # None: not only polygons, so no grid
    grid: Any = None  # a crisismap.join.grid._Grid, built for large inputs
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


_cache: OrderedDict[str, _LevelIndex] = OrderedDict()
_cache_lock = threading.Lock()
_build_lock = threading.Lock()  # held while an index is built (see _index_for)


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
    # One build at a time: preparing sets state on the shared geometry objects, and two
    # threads preparing the same polygons while a third queries them can abort GEOS (seen
    # with two dask worker threads joining their first partitions at once).
    with _build_lock:
        with _cache_lock:
            found = _cache.get(key)
        if found is not None:
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
    (rings, first_half), second_half = parallel.run_all(
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
