"""Swapped latitude/longitude: points written lon/lat instead of lat/lon.

A wrong flag invites the user to corrupt a correct record, so the evidence must hold on a
worldwide file, where a correct point in a country holding 1 % of the records is normal:

- a record that states where it is (its country, or an admin name or code, in the
  ``stated_adm{N}_*`` columns) is suspect only when the swapped point lands where it says
  and the point as given does not; a record whose stated place matches the region it falls
  in is never flagged;
- a record that states nothing is suspect only when the point as given is outside every
  region (in the sea or off the map) and the swapped point lands in one of the countries
  the file is about — falling in a less frequent country is not evidence.

Suspects are reported as warnings; they are swapped (and the records joined again) only
when the user asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crisismap.join.inputs import _coordinates, _level_frames, _max_levels, _Regions
from crisismap.join.locate import _exact, join_points
from crisismap.join.names import country_code, names_match
from crisismap.problems import COORDS_SWAPPED, COORDS_SWAPPED_FIXED, Report
from crisismap.schema import MatchStatus, stated_code_column, stated_name_column


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
    swapped, said = _find_swapped(records, joined, levels, main_share)
    if not swapped.any():
        return records, joined
    records = _flag_swapped(records, swapped, said, report, fix=fix)
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
) -> tuple[pd.Series, pd.Series]:
    """Records whose lat/lon look swapped (see the module docstring), and for each the
    stated place that says so (None when the evidence is the sea)."""
    flagged = pd.Series(False, index=records.index, name="swapped")
    said = pd.Series(None, index=records.index, dtype=object)
    if records.empty:
        return flagged, said
    x, y = _coordinates(records)
    swappable = ~(np.isnan(x) | np.isnan(y)) & (np.abs(x) <= 90) & (np.abs(y) <= 180)
    stated_levels = [n for n in sorted(levels) if _stated(records, n) is not None]
    states = np.zeros(len(records), dtype=bool)
    for level in stated_levels:
        states |= _stated(records, level).notna().to_numpy(dtype=bool)
    if stated_levels:
        _by_stated_place(records, joined, levels, stated_levels, swappable & states, flagged, said)
    _by_the_sea(records, joined, levels, main_share, swappable & ~states, flagged)
    return flagged, said


def _by_stated_place(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Mapping[int, Any],
    stated_levels: list[int],
    candidate: np.ndarray,
    flagged: pd.Series,
    said: pd.Series,
) -> None:
    """Flag where the swapped point is where the record says and the given one is not."""
    for level in stated_levels:  # as given, somewhere the record says: never flagged
        candidate = candidate & ~_agrees(records, joined, level)
    if not candidate.any():
        return
    subset = records[candidate]
    swapped = subset.assign(lat=subset["lon"].to_numpy(), lon=subset["lat"].to_numpy())
    rejoined = join_points(swapped, {n: levels[n] for n in stated_levels})
    rejoined.index = subset.index
    hit = np.zeros(len(subset), dtype=bool)
    for level in stated_levels:
        hit |= _agrees(subset, rejoined, level)
    rows = subset.index[hit]
    flagged[rows] = True
    said[rows] = [_stated_text(subset.loc[r], stated_levels) for r in rows]


def _by_the_sea(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Mapping[int, Any],
    main_share: float,
    candidate: np.ndarray,
    flagged: pd.Series,
) -> None:
    """Flag where the given point is outside every region and the swapped one is in a main
    country (snapped points were outside as given; imprecise ones are never tested)."""
    top = min(levels)
    outside = joined[f"adm{top}_match"].isin(
        [MatchStatus.OUTSIDE.value, MatchStatus.SNAPPED.value]
    )  # on a categorical: compares its few categories, not every row's text
    rows = np.flatnonzero(candidate & outside.to_numpy(dtype=bool))
    if not len(rows):
        return
    x, y = _coordinates(records)
    max_level = _max_levels(records)
    lon, lat = y[rows], x[rows]  # the swapped point
    keep = ~(max_level[rows] < top)  # located at no admin level: being outside is what it says
    reference = _swap_reference(joined, levels, main_share)
    # most swapped points land nowhere near the countries of the file: a box test
    # first, so the check costs little however many points lie outside
    minx, miny, maxx, maxy = reference.total_bounds
    keep &= (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
    if not keep.any():
        return
    rows, lon, lat = rows[keep], lon[keep], lat[keep]
    regions = _Regions.from_frame(top, _level_frames({top: reference})[top])
    hits = _hit_counts(regions, lon, lat, np.ones(len(rows), dtype=bool))
    flagged.iloc[rows[hits > 0]] = True


def _stated(records: pd.DataFrame, level: int) -> pd.Series | None:
    """The stated code (else name) per record at ``level``; None when the file states none."""
    found = [
        records[c].astype("str").str.strip().replace("", pd.NA)
        for c in (stated_code_column(level), stated_name_column(level))
        if c in records.columns
    ]
    if not found:
        return None
    return found[0].fillna(found[1]) if len(found) == 2 else found[0]


def _agrees(records: pd.DataFrame, joined: pd.DataFrame, level: int) -> np.ndarray:
    """Per record: the stated code or name at ``level`` names the joined region there.

    Each distinct (stated, region) pair is decided once: files repeat them a lot.
    """
    agree = np.zeros(len(records), dtype=bool)
    if f"adm{level}_code" not in joined.columns:
        return agree
    for column, region in (
        (stated_code_column(level), "code"),
        (stated_name_column(level), "name"),
    ):
        if column not in records.columns:
            continue
        said, said_text = pd.factorize(records[column].astype("str").str.strip())
        found, found_text = pd.factorize(joined[f"adm{level}_{region}"].astype("str"))
        rows = np.flatnonzero((said >= 0) & (found >= 0))
        if not len(rows):
            continue
        width = len(found_text)
        keys, pair_of_row = np.unique(said[rows] * width + found[rows], return_inverse=True)
        verdicts = np.array(
            [
                _same_place(said_text[k // width], found_text[k % width], by_code=region == "code")
                for k in keys
            ],
            dtype=bool,
        )
        agree[rows] |= verdicts[pair_of_row]
    return agree


def _same_place(said: str, found: str, *, by_code: bool) -> bool:
    said, found = str(said).strip(), str(found).strip()
    if not said:
        return False
    if by_code:
        if said.casefold() == found.casefold():
            return True
        said_country, found_country = country_code(said.upper()), country_code(found.upper())
        return bool(said_country) and said_country == found_country
    return names_match(said, found)


def _stated_text(record: pd.Series, stated_levels: list[int]) -> str:
    parts = []
    for level in stated_levels:
        for column in (stated_name_column(level), stated_code_column(level)):
            value = record.get(column)
            if isinstance(value, str) and value.strip():
                parts.append(value.strip())
                break
    return ", ".join(parts)


def _flag_swapped(
    records: pd.DataFrame, swapped: pd.Series, said: pd.Series, report: Report, *, fix: bool
) -> pd.DataFrame:
    """Warn about each swapped-looking record (saying why); swap it only when asked."""
    records = records.copy()
    newly_warned = swapped & (records["warnings"] == 0)
    report.warned += int(newly_warned.sum())
    records.loc[swapped, "warnings"] += 1
    kind = COORDS_SWAPPED_FIXED if fix else COORDS_SWAPPED
    rows = records.loc[swapped, ["id", "line", "lat", "lon"]].assign(said=said[swapped])
    for row in rows.itertuples(index=False):
        report.add(
            kind.problem(
                line=int(row.line),
                column="latitude/longitude",
                value=f"{row.lat}, {row.lon}",
                record_id=str(row.id),
                variant="stated" if row.said else None,
                lat=row.lat,
                lon=row.lon,
                stated=row.said,
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
