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

Speed: each level is indexed once and cached on the geometry's content
(:mod:`crisismap.join.index`). Small inputs use an STRtree bounding-box query and exact
``intersects_xy`` on prepared polygons; large inputs first look points up in a grid over
the level (:mod:`crisismap.join.grid`) and test exactly only those near a boundary, so
results are identical to the exact method. Large array steps run on a second thread
(numpy and GEOS release the GIL).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from crisismap import parallel
from crisismap.join.grid import _ensure_grid, _grid_candidates
from crisismap.join.index import _NO_REGION, _LevelIndex
from crisismap.join.inputs import (
    _MATCH_VALUES,
    _coordinates,
    _level_frames,
    _max_levels,
    _Regions,
)
from crisismap.join.snap import _snap
from crisismap.schema import MatchStatus

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
    coords = _ensure_grid(index, valid, coords)
    region, hits = _exact(index, x, y, valid, regions.rank, preferred, coords)
    status = np.full(len(x), _MATCH_VALUES.index(MatchStatus.OUTSIDE.value), dtype=np.int8)
    status[hits == 1] = _MATCH_VALUES.index(MatchStatus.INSIDE.value)
    status[hits > 1] = _MATCH_VALUES.index(MatchStatus.BORDER.value)
    return region, status


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
    inside = parallel.chunked(
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
