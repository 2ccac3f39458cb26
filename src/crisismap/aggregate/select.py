"""The selection shared by every view: date window, category, region and approval filters.

The figures, the map's points and the dashboard's charts count the same records because
they all select them here (:func:`select_rows` is the public face).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from crisismap.aggregate.codes import NO_CATEGORY, factor_codes, label_sets
from crisismap.aggregate.levels import frames_by_level
from crisismap.aggregate.periods import NO_PERIOD, day_number, day_ranges
from crisismap.errors import InvalidValueError
from crisismap.i18n import _, ngettext


@dataclass
class Selection:
    """The records one view counts, and the filters that chose them."""

    rows: np.ndarray  # positions of the selected records
    categories: list[str] | None  # the category filter, if any
    regions: list[str] | None  # the region filter, if any
    notes: dict[str, Any]


def select_rows(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    *,
    level: int | None,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    approved_only: bool = False,
    verified_only: bool = False,
) -> np.ndarray:
    """Positions of the records a view counts (the same filters as :func:`summarize`).

    The map's points and the figures come from one selection, so they always agree.
    """
    return selection(
        records,
        joined,
        levels,
        level,
        start,
        end,
        categories,
        regions,
        approved_only=approved_only,
        verified_only=verified_only,
    ).rows


def selection(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    level: int | None,
    start: Any,
    end: Any,
    categories: Sequence[str] | None,
    regions: Sequence[str] | None,
    *,
    approved_only: bool = False,
    verified_only: bool = False,
) -> Selection:
    """The records a view counts: date window, category, region and approval filters."""
    check_joined(records, joined)
    return filter_records(
        records,
        joined,
        levels,
        level,
        lambda: day_ranges(records),
        start,
        end,
        categories,
        regions,
        approved_only=approved_only,
        verified_only=verified_only,
    )


def check_joined(records: pd.DataFrame, joined: pd.DataFrame) -> None:
    """Refuse a joined frame that is not row for row the records'."""
    if len(joined) != len(records):
        raise ValueError(
            f"joined has {len(joined):,} rows but records has {len(records):,}: pass the "
            "frame join_points returned for these same records."
        )


def filter_records(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    level: int | None,
    days: Callable[[], tuple[np.ndarray, np.ndarray]],
    start: Any,
    end: Any,
    categories: Sequence[str] | None,
    regions: Sequence[str] | None,
    *,
    approved_only: bool = False,
    verified_only: bool = False,
) -> Selection:
    """The filters in order; ``days()`` gives the records' day ranges, read only for a window.

    ``approved_only`` / ``verified_only`` keep the records whose flag is true (an unreadable
    flag is not true); a file without the flag column has nothing to filter on, and the
    shells refuse the option for it.
    """
    keep = np.ones(len(records), dtype=bool)
    notes: dict[str, Any] = {}
    for wanted_flag, column in ((approved_only, "approved"), (verified_only, "verified")):
        if wanted_flag and column in records.columns:
            keep &= records[column].fillna(False).to_numpy(dtype=bool)
    if start is not None or end is not None:
        keep &= _window(*days(), start, end, notes)
    wanted = places = None
    if categories is not None:
        wanted = sorted({str(c) for c in categories})
        keep &= _has_category(records, wanted)
    if regions is not None:
        places = [str(r) for r in regions]
        keep &= _in_regions(joined, levels, level, places)
    return Selection(np.flatnonzero(keep), wanted, places, notes)


def _window(
    first: np.ndarray, last: np.ndarray, start: Any, end: Any, notes: dict[str, Any]
) -> np.ndarray:
    """Day ranges [first, last] wholly within [start, end]; counts the partly-inside ones."""
    dated = first != NO_PERIOD
    inside, overlaps = dated.copy(), dated.copy()
    if start is not None:
        day = day_number(start)
        inside &= first >= day
        overlaps &= last >= day
    if end is not None:
        day = day_number(end)
        inside &= last <= day
        overlaps &= first <= day
    notes["partly_in_range"] = int((overlaps & ~inside).sum())
    return inside


def _has_category(records: pd.DataFrame, wanted: list[str]) -> np.ndarray:
    """Records with at least one of the ``wanted`` labels (``NO_CATEGORY``: with none)."""
    combo, labels = label_sets(records)
    hit = np.array([any(label in wanted for label in ls) for ls in labels], dtype=bool)
    if NO_CATEGORY in wanted:
        hit |= np.array([not ls for ls in labels], dtype=bool)
    return hit[combo] if len(combo) else np.zeros(0, bool)


def _in_regions(
    joined: pd.DataFrame, levels: Any, level: int | None, wanted: list[str]
) -> np.ndarray:
    """Records whose region at ``level`` or at any coarser level is in ``wanted``."""
    known: set[str] = set()
    keep = np.zeros(len(joined), dtype=bool)
    for column in _code_columns(joined, level):
        codes, categories = factor_codes(joined[column])
        keep |= np.append(categories.isin(wanted), False)[codes]
        known.update(categories)
    if levels is not None:
        for number, frame in frames_by_level(levels).items():
            if level is None or number <= level:
                known.update(frame["code"].astype("str").dropna())
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise InvalidValueError(
            _(
                "Unknown region code(s) {listed}: expected codes of the boundary "
                "set at level {level} or a coarser level (e.g. {examples})."
            ).format(listed=_listed(unknown), level=level, examples=_listed(sorted(known), 3))
        )
    return keep


def _listed(values: list[str], limit: int = 5) -> str:
    """Quoted values for a message, at most ``limit`` of them."""
    shown = ", ".join(f"'{v}'" for v in values[:limit])
    if len(values) <= limit:
        return shown
    more = len(values) - limit
    return ngettext("{shown} and {n:,} more", "{shown} and {n:,} more", more).format(
        shown=shown, n=more
    )


def _code_columns(joined: pd.DataFrame, level: int | None) -> list[str]:
    """The joined ``admN_code`` columns at ``level`` or coarser (every one when None)."""
    found = []
    for column in joined.columns:
        if column.startswith("adm") and column.endswith("_code"):
            number = column[3:-5]
            if number.isdigit() and (level is None or int(number) <= level):
                found.append(column)
    return found


def series_level(joined: pd.DataFrame, region: str | None, level: int | None) -> int | None:
    """``level``, or else the first joined level (column order) where some record has ``region``."""
    if region is None or level is not None:
        return level
    for column in _code_columns(joined, None):
        codes, categories = factor_codes(joined[column])
        position = categories.get_indexer([region])[0]
        if position >= 0 and (codes == position).any():
            return int(column[3:-5])
    return None


def take_rows(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[rows]`` that reads only the chunks the rows fall in.

    pyarrow's take on a column of many chunks first joins all of them: taking the
    dashboard's 3,000 map points from a million records' descriptions (31 chunks) cost
    50 ms that way, and 0.6 ms chunk by chunk. Other columns go through ``iloc``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    chunked = {
        name: array
        for name in frame.columns
        if isinstance(array := getattr(frame[name].array, "_pa_array", None), pa.ChunkedArray)
        and array.num_chunks > 1
    }
    out = frame[[c for c in frame.columns if c not in chunked]].iloc[rows]
    if chunked:
        order = np.argsort(rows, kind="stable")
        ascending, back = rows[order], pa.array(np.argsort(order, kind="stable"))
    for name, array in chunked.items():
        starts = np.cumsum([0] + [len(chunk) for chunk in array.chunks])
        which = np.searchsorted(starts, ascending, side="right") - 1
        pieces = [
            array.chunk(k).take(pa.array(ascending[which == k] - starts[k]))
            for k in np.unique(which)
        ]
        taken = pa.concat_arrays(pieces).take(back) if pieces else pa.array([], array.type)
        out[name] = pd.Series(type(frame[name].array)(taken), index=out.index)
    return out[list(frame.columns)]
