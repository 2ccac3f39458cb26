"""The three axes of the figures: regions, periods and categories, each record placed on them.

Each axis lists its values in output order and gives every selected record (or record ×
label pair) its slot; the counting multiplies the slots into one cell id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crisismap.aggregate.codes import NO_CATEGORY, equal_mask, factor_codes, label_sets
from crisismap.aggregate.levels import frames_by_level, level_frame
from crisismap.aggregate.periods import (
    day_number,
    ordinals,
    period_days,
    period_labels,
    record_periods,
)
from crisismap.aggregate.select import Selection
from crisismap.i18n import N_
from crisismap.schema import IMPRECISE_CODE, OUTSIDE_CODE, MatchStatus, Period, region_names

# Names of the two buckets in region tables; marked for the catalogue, translated where shown
# (tables keep the English names so that cached and exported figures stay comparable).
OUTSIDE_NAME = N_("Outside all regions")
IMPRECISE_NAME = N_("Not attributable at this level")


# --- regions --------------------------------------------------------------------------------


@dataclass
class RegionAxis:
    """The regions of the output, in order, and each record's slot among them."""

    slot: np.ndarray  # per record: index into codes
    codes: list[str]
    names: list[str]
    parents: list[str | None]
    n_regions: int  # real regions come first; then outside, then not attributable
    joined_only: int = 0  # regions named by joined codes only (not in the boundary frame)


def region_axis(levels: Any, joined: pd.DataFrame, level: int, sel: Selection) -> RegionAxis:
    """Regions of the level sorted by code (plus any joined code the frame lacks)."""
    table = _level_regions(levels, level, sel)
    column = f"adm{level}_code"
    if column not in joined.columns:
        raise ValueError(f"joined has no {column!r} column: join the records at level {level}.")
    codes, categories = factor_codes(joined[column])
    selected = codes[sel.rows]
    used = np.flatnonzero(np.bincount(selected[selected >= 0], minlength=len(categories)))
    extra = categories[used].difference(pd.Index(table["code"]))
    if len(extra):
        table = pd.concat(
            [table, pd.DataFrame({"code": extra, "name": _joined_names(joined, level, extra)})]
        )
    table = table.sort_values("code", kind="stable").reset_index(drop=True)
    n = len(table)
    # code -1 (NA) picks the appended -1
    slot = np.append(pd.Index(table["code"]).get_indexer(categories), -1)[codes]
    imprecise = equal_mask(joined.get(f"adm{level}_match"), MatchStatus.IMPRECISE.value)
    slot = np.where(slot >= 0, slot, np.where(imprecise, n + 1, n))
    return RegionAxis(
        slot.astype(np.int64),
        list(table["code"]) + [OUTSIDE_CODE, IMPRECISE_CODE],
        [c if pd.isna(x) else x for c, x in zip(table["code"], table["name"], strict=True)]
        + [OUTSIDE_NAME, IMPRECISE_NAME],
        [None if pd.isna(x) else str(x) for x in table["parent"]] + [None, None],
        n,
        len(extra),
    )


def _level_regions(levels: Any, level: int, sel: Selection) -> pd.DataFrame:
    """``code``, ``name``, ``parent`` of the level's regions (those the region filter keeps)."""
    frame = level_frame(levels, level)
    table = pd.DataFrame(
        {
            "code": frame["code"].astype("str").to_numpy(),
            "name": region_names(frame).astype("str").to_numpy(),
            "parent": (
                frame["parent_code"].astype("str").to_numpy()
                if "parent_code" in frame
                else np.full(len(frame), None, dtype=object)
            ),
        }
    )
    table = table.dropna(subset=["code"]).drop_duplicates("code")
    if sel.regions is not None:
        table = table[_within(table, levels, level, sel.regions)]
    return table


def _within(table: pd.DataFrame, levels: Any, level: int, wanted: list[str]) -> np.ndarray:
    """Regions that are, or lie within, one of ``wanted`` (following parent codes up)."""
    keep = table["code"].isin(wanted).to_numpy(dtype=bool, copy=True)
    parent = table["parent"]
    for number, frame in sorted(frames_by_level(levels).items(), reverse=True):
        if number >= level:
            continue
        keep |= parent.isin(wanted).to_numpy(dtype=bool, na_value=False)
        if "parent_code" not in frame:
            break
        up = dict(zip(frame["code"].astype("str"), frame["parent_code"], strict=True))
        parent = parent.map(up)
    return keep


def _joined_names(joined: pd.DataFrame, level: int, codes: pd.Index) -> list[str]:
    """Names for codes the boundary frame lacks, from the joined name column."""
    column = f"adm{level}_name"
    if column not in joined:
        return list(codes)
    pairs = pd.DataFrame(
        {"c": joined[f"adm{level}_code"].astype("str"), "n": joined[column].astype("str")}
    )
    lookup = pairs.dropna().drop_duplicates("c").set_index("c")["n"].to_dict()
    return [lookup.get(c, c) for c in codes]


def one_region(n_records: int) -> RegionAxis:
    """A single region holding every record: the axis of the time series."""
    return RegionAxis(np.zeros(n_records, np.int64), ["*"], ["*"], [None], 1)


# --- periods --------------------------------------------------------------------------------


@dataclass
class PeriodAxis:
    """Consecutive periods of the output (then the imprecise one), each record's slot."""

    slot: np.ndarray  # per record: 0..n-1, or n for the imprecise period
    labels: list[str]
    starts: np.ndarray  # datetime64[D]
    ends: np.ndarray


def period_axis(
    records: pd.DataFrame, rows: np.ndarray, period: Period, start: Any, end: Any
) -> PeriodAxis:
    """Periods from the first to the last selected (or the window), records mapped to them."""
    first, precise = record_periods(records, period)
    return period_axis_of(first, precise, first[rows][precise[rows]], period, start, end)


def period_axis_of(
    first: np.ndarray,
    precise: np.ndarray,
    chosen: np.ndarray,
    period: Period,
    start: Any,
    end: Any,
) -> PeriodAxis:
    """The axis spanning ``chosen`` ordinals (and the window); ``first`` mapped onto it."""
    bounds = [chosen.min(), chosen.max()] if len(chosen) else []
    if start is not None:
        bounds.append(ordinals(np.array([day_number(start)]), period)[0])
    if end is not None:
        bounds.append(ordinals(np.array([day_number(end)]), period)[0])
    lo, hi = (min(bounds), max(bounds)) if bounds else (0, -1)
    n = int(hi - lo + 1)
    slot = np.where(precise, first - lo, n)
    spanned = np.arange(lo, hi + 1)
    starts, ends = period_days(spanned, period)
    return PeriodAxis(slot, period_labels(spanned, starts, period), starts, ends)


# --- categories -----------------------------------------------------------------------------


@dataclass
class CategoryAxis:
    """The category labels of the output, and the (record, label) pairs counted."""

    labels: list[str]  # [""] when not by category
    rows: np.ndarray  # expanded: record position for each (record, label) pair
    slot: np.ndarray  # expanded: label index for each pair


def category_axis(records: pd.DataFrame, sel: Selection, by_category: bool) -> CategoryAxis:
    """Record × label pairs among the selected records (one pair per record if not by category)."""
    rows = sel.rows
    if not by_category:
        return CategoryAxis([""], rows, np.zeros(len(rows), np.int64))
    combo, sets = label_sets(records)
    sets = [ls or [NO_CATEGORY] for ls in sets]
    if sel.categories is not None:
        sets = [[x for x in ls if x in sel.categories] for ls in sets]
        labels = list(sel.categories)
    else:
        used = np.flatnonzero(np.bincount(combo[rows], minlength=len(sets)))
        labels = sorted({x for i in used for x in sets[i]})
    position = {label: i for i, label in enumerate(labels)}
    lengths = np.array([len(ls) for ls in sets], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    # labels of combinations no selected record uses have no position: never looked up
    flat = np.array([position.get(x, -1) for ls in sets for x in ls], dtype=np.int64)
    rec_combo = combo[rows]
    counts = lengths[rec_combo] if len(rows) else np.zeros(0, np.int64)
    expanded_rows = np.repeat(rows, counts)
    starts = np.repeat(offsets[rec_combo] - (np.cumsum(counts) - counts), counts)
    slot = flat[starts + np.arange(len(expanded_rows))] if len(expanded_rows) else expanded_rows
    return CategoryAxis(labels, expanded_rows, slot)
