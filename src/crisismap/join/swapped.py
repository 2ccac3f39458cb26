"""Swapped latitude/longitude: points written lon/lat instead of lat/lon.

A point is suspect when it falls outside the countries a file is about and inside one of
them once its two coordinates are swapped. Suspects are reported as warnings on the
report; they are swapped (and the records joined again) only when the user asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crisismap.join.inputs import _coordinates, _level_frames, _max_levels, _Regions
from crisismap.join.locate import _exact, join_points
from crisismap.problems import COORDS_SWAPPED, COORDS_SWAPPED_FIXED, Report
from crisismap.schema import MatchStatus


def check_swapped(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Mapping[int, Any],
    report: Report,
    *,
    main_share: float,
    fix: bool = False,
    snap_distance_m: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Warn about records whose lat/lon look swapped; swap and rejoin them when ``fix``.

    Parameters
    ----------
    records, joined
        Validated records and their join (:func:`join_points`) against ``levels``.
    levels
        ``{level: GeoDataFrame}`` as given to :func:`join_points`; when the coarsest
        level has a ``country`` column, only countries holding at least ``main_share``
        of the records (as given) anchor the check.
    report
        Gets one ``coords-swapped`` (or ``coords-swapped-fixed``) warning per suspect;
        its ``warned`` count includes records that had no warning before.
    fix
        Swap the suspects' coordinates and join the records again
        (with ``snap_distance_m``, as the first join).

    Returns
    -------
    ``(records, joined)``: the same objects when nothing looks swapped; otherwise the
    records with one more warning each (and swapped coordinates when ``fix``) and
    their join.
    """
    swapped = _find_swapped(records, joined, levels, main_share)
    if not swapped.any():
        return records, joined
    records = _flag_swapped(records, swapped, report, fix=fix)
    if fix:
        joined = join_points(records, levels, snap_distance_m=snap_distance_m)
    return records, joined


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


def _hit_counts(regions: _Regions, x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> np.ndarray:
    regions.index.fresh_coords = None
    return _exact(regions.index, x, y, valid, regions.rank, None)[1]


def _find_swapped(
    records: pd.DataFrame, joined: pd.DataFrame, levels: Mapping[int, Any], main_share: float
) -> pd.Series:
    """Records whose lat/lon look swapped (see :func:`find_swapped`).

    Only records outside the countries the file is about can be swapped ones, and the
    join already says which those are: only they are tested again, swapped.
    """
    flagged = pd.Series(False, index=records.index, name="swapped")
    if records.empty:
        return flagged
    top = min(levels)
    reference = _swap_reference(joined, levels, main_share)
    code = joined[f"adm{top}_code"]
    match = joined[f"adm{top}_match"].astype(str)
    # snapped and imprecise points were outside (or never located) as given
    candidate = ~code.isin(set(reference["code"])).to_numpy(dtype=bool) | match.isin(
        [MatchStatus.OUTSIDE.value, MatchStatus.SNAPPED.value, MatchStatus.IMPRECISE.value]
    ).to_numpy(dtype=bool)
    if candidate.any():
        tested = find_swapped(records[candidate], {top: reference})
        flagged[candidate] = tested.to_numpy(dtype=bool)
    return flagged


def _flag_swapped(
    records: pd.DataFrame, swapped: pd.Series, report: Report, *, fix: bool
) -> pd.DataFrame:
    """Warn about each swapped-looking record; swap it only when asked."""
    records = records.copy()
    newly_warned = swapped & (records["warnings"] == 0)
    report.warned += int(newly_warned.sum())
    records.loc[swapped, "warnings"] += 1
    kind = COORDS_SWAPPED_FIXED if fix else COORDS_SWAPPED
    for row in records.loc[swapped, ["id", "line", "lat", "lon"]].itertuples(index=False):
        report.add(
            kind.problem(
                line=int(row.line),
                column="latitude/longitude",
                value=f"{row.lat}, {row.lon}",
                record_id=str(row.id),
                lat=row.lat,
                lon=row.lon,
            )
        )
    if fix:
        lat = records.loc[swapped, "lat"].copy()
        records.loc[swapped, "lat"] = records.loc[swapped, "lon"]
        records.loc[swapped, "lon"] = lat
    return records


def _swap_reference(joined: pd.DataFrame, levels: Mapping[int, Any], main_share: float) -> Any:
    """The top level, cut to the countries that hold the data (>= ``main_share`` of records
    each).

    Against a world boundary set a swapped point rarely falls outside every region
    (13°N 30°E swapped lands in Libya); it falls outside the countries the file is
    about, and inside one of them once swapped. Shares count points as given (a
    snapped point was outside).
    """
    top = min(levels)
    frame = levels[top]
    if "country" not in frame or frame["country"].nunique() <= 1:
        return frame
    as_given = joined[f"adm{top}_match"].astype(str) != MatchStatus.SNAPPED.value
    codes = joined[f"adm{top}_code"].where(as_given.to_numpy(dtype=bool))
    share = codes.value_counts(normalize=True)
    main = frame.loc[frame["code"].isin(share[share >= main_share].index), "country"]
    if main.empty:
        return frame
    return frame[frame["country"].isin(set(main))]
