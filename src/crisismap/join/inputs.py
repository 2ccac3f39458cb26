"""The join's inputs as arrays: boundary levels checked and sorted coarsest first, record
coordinates and precision, and each level's regions (codes, names, parents, the rank of
the tie rule, and the cached spatial index)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crisismap.errors import BoundaryError
from crisismap.i18n import _
from crisismap.join.index import _index_for, _LevelIndex
from crisismap.schema import MatchStatus

# Match statuses in categorical-code order: status arrays hold positions in this list.
_MATCH_VALUES = [m.value for m in MatchStatus]


def _level_frames(levels: Any) -> dict[int, Any]:
    """Levels as ``{level: frame}`` sorted coarsest first; refuse unusable frames."""
    mapping = getattr(levels, "levels", levels)
    if not isinstance(mapping, Mapping) or not mapping:
        raise BoundaryError(
            _(
                "Expected boundary levels as a non-empty {{level: GeoDataFrame}} "
                "mapping (or a BoundarySet), got {name}. Load a boundary set first."
            ).format(name=type(levels).__name__)
        )
    frames = {}
    for level in sorted(mapping):
        frame = mapping[level]
        missing = {"code", "geometry"} - set(frame.columns)
        if missing:
            raise BoundaryError(
                _(
                    "Admin level {level} lacks column(s) {missing}; expected code, "
                    "name, parent_code, geometry. Load boundaries through "
                    "crisismap.boundaries."
                ).format(level=level, missing=sorted(missing))
            )
        crs = getattr(frame, "crs", None)
        if crs is not None and crs.to_epsg() != 4326:
            raise BoundaryError(
                _(
                    "Admin level {level} is in {to_string}, expected EPSG:4326 (WGS84 "
                    "lon/lat) like the records. Reproject it with frame.to_crs(4326)."
                ).format(level=level, to_string=crs.to_string())
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
