"""Region × period × category counts and victim sums, zero-filled, totals that reconcile.

Rules:

* **Every record is counted once per row kind.** Records with no region at the level go
  to ``OUTSIDE_CODE`` (outside every polygon) or ``IMPRECISE_CODE`` (located only at a
  coarser level); records whose date cannot be placed in one period (precision coarser
  than the period, or a date range crossing periods) go to ``IMPRECISE_PERIOD``. Nothing
  is spread over periods or guessed. With ``by_category=False`` the incidents of all rows
  sum to the number of selected records.
* **Multi-label records** count once in each of their categories' rows (so category rows
  can sum to more than the records); records without a category use ``NO_CATEGORY``.
  Victims follow the record into each of its category rows.
* **Zero-filled grid**: every region of the level × every period from the first to the
  last (widened to ``start``/``end`` when given) × every category present (or asked for).
  Outside / not-attributable regions and the imprecise period appear only when some
  record falls there. If that grid would exceed ``MAX_GRID_ROWS`` rows, only non-zero
  rows are returned and ``frame.attrs["zero_filled"]`` is False.
* **Filters** apply before counting: ``start``/``end`` keep records whose whole date
  range lies within them (``attrs["partly_in_range"]`` counts those straddling an end);
  ``categories`` keeps records with at least one of the labels (only those labels get
  rows); ``regions`` keeps records in those regions, given as codes at this level or any
  coarser one.
* ``incidents_change``/``victims_change`` compare with the previous period of the same
  region and category (NA for the first period and for the imprecise period).

The filters are applied in :mod:`crisismap.aggregate.select`, the rows and columns of
the grid come from :mod:`crisismap.aggregate.axes`; this module counts and builds the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap import parallel
from crisismap.aggregate.axes import (
    CategoryAxis,
    PeriodAxis,
    RegionAxis,
    category_axis,
    one_region,
    period_axis,
    region_axis,
)
from crisismap.aggregate.levels import level_frame
from crisismap.aggregate.periods import NO_PERIOD, day_ranges, to_dates
from crisismap.aggregate.select import Selection, selection, series_level
from crisismap.schema import IMPRECISE_PERIOD, Period, View

MAX_GRID_ROWS = 2_000_000
# Inputs with at least this many records build the summary's axes on two threads.
PARALLEL_MIN_RECORDS = 50_000
_DENSE_CELLS = 32_000_000  # cell spaces up to this size are counted in one array
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # the default "str" dtype of pandas 3


def summarize(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    levels: Any,
    view: View,
    *,
    by_category: bool = True,
) -> pd.DataFrame:
    """Region × period (× category) figures at ``level`` (see the module rules).

    Returns
    -------
    DataFrame with ``region_code``, ``region_name``, ``parent_code``, ``period`` (label),
    ``period_start``, ``period_end`` (inclusive days), ``category`` (when
    ``by_category``), ``incidents``, ``victims`` (NaN counted as 0), ``victims_known``,
    ``incidents_change``, ``victims_change``.
    """
    level, period, start, end = view.level, view.period, view.start, view.end
    level_frame(levels, level)  # fail early on an unknown level
    sel = selection(records, joined, levels, level, **view.filters())
    axis, periods, cats = parallel.run_all(
        [
            lambda: region_axis(levels, joined, level, sel),
            lambda: period_axis(records, sel.rows, period, start, end),
            lambda: category_axis(records, sel, by_category),
        ],
        size=len(records),
        min_size=PARALLEL_MIN_RECORDS,
    )
    counts = _count(records, axis.slot, periods, cats)
    table = cell_table(counts, axis, periods, cats, by_category)
    table.attrs.update(sel.notes)
    return table


def time_series(
    records: pd.DataFrame,
    joined: pd.DataFrame,
    *,
    period: Period | str,
    region: str | None = None,
    level: int | None = None,
    by_category: bool = True,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Figures per period (× category) for one region or for all records, for charts.

    ``region`` is a code at ``level``, or at any level of ``joined`` when ``level`` is None.
    Same columns as :func:`summarize` without the region columns.
    """
    period = Period.parse(period)
    level = series_level(joined, region, level)
    regions = None if region is None else [region]
    sel = selection(records, joined, None, level, start, end, categories, regions)
    periods = period_axis(records, sel.rows, period, start, end)
    cats = category_axis(records, sel, by_category)
    counts = _count(records, one_region(len(records)).slot, periods, cats)
    return series_table(counts, periods, cats, by_category, sel.notes)


def region_totals(
    records: pd.DataFrame, joined: pd.DataFrame, levels: Any, view: View
) -> pd.DataFrame:
    """Per region over all time: ``incidents``, ``victims``, ``victims_known``,
    ``first_date``, ``last_date`` (every region of the level, zeros included)."""
    level = view.level
    level_frame(levels, level)  # fail early on an unknown level
    sel = selection(records, joined, levels, level, **view.filters())
    axis = region_axis(levels, joined, level, sel)
    table = _region_table(records, axis, sel)
    table.attrs.update(sel.notes)
    return table


def _region_table(records: pd.DataFrame, axis: RegionAxis, sel: Selection) -> pd.DataFrame:
    """One row per region of the axis; the no-region rows only when some record is there."""
    rows = sel.rows
    slot = axis.slot[rows]
    n = len(axis.codes)
    victims = record_victims(records)[rows]
    first_date, last_date = _date_spans(records, rows, slot, n)
    table = pd.DataFrame(
        {
            "region_code": pd.array(axis.codes, dtype="str"),
            "region_name": pd.array(axis.names, dtype="str"),
            "parent_code": pd.array(axis.parents, dtype="str"),
            "incidents": np.bincount(slot, minlength=n),
            "victims": np.bincount(slot, weights=np.nan_to_num(victims), minlength=n),
            "victims_known": np.bincount(slot, weights=~np.isnan(victims), minlength=n).astype(
                np.int64
            ),
            "first_date": first_date,
            "last_date": last_date,
        }
    )
    special = np.arange(n) >= axis.n_regions
    return table[~special | (table["incidents"].to_numpy() > 0)].reset_index(drop=True)


def _date_spans(
    records: pd.DataFrame, rows: np.ndarray, slot: np.ndarray, n: int
) -> tuple[pd.Series, pd.Series]:
    """Per slot: the first and last day of its selected records (NaT when none is dated)."""
    dates, last = (days[rows] for days in day_ranges(records))
    first_day = np.full(n, np.iinfo(np.int64).max)
    last_day = np.full(n, np.iinfo(np.int64).min)
    dated = dates != NO_PERIOD
    np.minimum.at(first_day, slot[dated], dates[dated])
    np.maximum.at(last_day, slot[dated], last[dated])
    found = first_day <= last_day
    return (
        to_dates(np.where(found, first_day, NO_PERIOD)),
        to_dates(np.where(found, last_day, NO_PERIOD)),
    )


def record_victims(records: pd.DataFrame) -> np.ndarray:
    """Victims per record as floats (NaN when not stated or no victims column)."""
    if "victims" not in records:
        return np.full(len(records), np.nan)
    return pd.to_numeric(records["victims"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# --- counting -------------------------------------------------------------------------------


@dataclass
class Counts:
    """What is counted: one flat cell id and victim figures per (record, label) pair."""

    key: np.ndarray  # per (record, label) pair: flat cell id (region, period, category)
    victims: np.ndarray  # the pair's victims, NaN as 0
    known: np.ndarray  # whether the pair's record states victims
    incidents: np.ndarray | None = None  # pairs each key stands for (None: one each)


def _count(
    records: pd.DataFrame,
    region_slot: np.ndarray,
    periods: PeriodAxis,
    cats: CategoryAxis,
) -> Counts:
    """Flat cell id for each selected (record, label) pair, with its victim figures."""
    n_p, n_c = len(periods.labels) + 1, len(cats.labels)
    key = (region_slot[cats.rows] * n_p + periods.slot[cats.rows]) * n_c + cats.slot
    victims = record_victims(records)[cats.rows]
    return Counts(key, np.nan_to_num(victims), ~np.isnan(victims))


# --- the output table -----------------------------------------------------------------------


_Cells = tuple[list[np.ndarray], list[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def cell_table(
    counts: Counts,
    axis: RegionAxis,
    periods: PeriodAxis,
    cats: CategoryAxis,
    by_category: bool,
) -> pd.DataFrame:
    """Output rows: the zero-filled grid when small enough, else only the non-zero cells."""
    shape = (len(axis.codes), len(periods.labels) + 1, len(cats.labels))
    keep_r, keep_p = _shown(counts, axis, shape)
    zero_filled = int(keep_r.sum()) * int(keep_p.sum()) * shape[2] <= MAX_GRID_ROWS
    if zero_filled:
        values, previous, cells = _grid_cells(counts, keep_r, keep_p, shape)
    elif shape[0] * shape[1] * shape[2] <= _DENSE_CELLS:
        values, previous, cells = _dense_cells(counts, shape)
    else:
        values, previous, cells = _sparse_cells(counts, shape)
    real_period = cells[1] < shape[1] - 1
    change = [
        np.where(real_period, v - prev, np.nan)
        for v, prev in zip(values[:2], previous, strict=True)
    ]
    return _frame(values, change, cells, axis, periods, cats, by_category, zero_filled)


def series_table(
    counts: Counts,
    periods: PeriodAxis,
    cats: CategoryAxis,
    by_category: bool,
    notes: dict[str, Any],
) -> pd.DataFrame:
    """:func:`cell_table` of one region holding every record, without the region columns."""
    table = cell_table(counts, one_region(0), periods, cats, by_category)
    table = table.drop(columns=["region_code", "region_name", "parent_code"])
    table.attrs.update(notes)
    return table.reset_index(drop=True)


def _shown(
    counts: Counts, axis: RegionAxis, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Regions and periods the grid shows: every real one, the no-region and imprecise
    buckets only when some pair falls there."""
    n_r, n_p, n_c = shape
    r_used = np.zeros(n_r, bool)
    p_used = np.zeros(n_p, bool)
    if len(counts.key):
        r_used = np.bincount(counts.key // (n_p * n_c), minlength=n_r) > 0
        p_used = np.bincount(counts.key // n_c % n_p, minlength=n_p) > 0
    keep_r = np.concatenate((np.ones(axis.n_regions, bool), r_used[axis.n_regions :]))
    keep_p = np.concatenate((np.ones(n_p - 1, bool), p_used[-1:]))
    return keep_r, keep_p


def _grid_cells(
    counts: Counts, keep_r: np.ndarray, keep_p: np.ndarray, shape: tuple[int, int, int]
) -> _Cells:
    """Every shown region × shown period × category, zeros included."""
    n_r, n_p, n_c = shape
    r, p, c = (
        a.ravel()
        for a in np.meshgrid(
            np.flatnonzero(keep_r), np.flatnonzero(keep_p), np.arange(n_c), indexing="ij"
        )
    )
    cell = (r * n_p + p) * n_c + c
    size = n_r * n_p * n_c
    figures = [
        np.bincount(counts.key, weights=counts.incidents, minlength=size),
        np.bincount(counts.key, weights=counts.victims, minlength=size),
        np.bincount(counts.key, weights=counts.known, minlength=size),
    ]
    values = [f[cell] for f in figures]
    previous = [np.where(p >= 1, f[np.maximum(cell - n_c, 0)], np.nan) for f in figures[:2]]
    return values, previous, (r, p, c)


def _dense_cells(counts: Counts, shape: tuple[int, int, int]) -> _Cells:
    """The non-zero cells, counted in one array over the whole cell space (no sorting)."""
    n_r, n_p, n_c = shape
    size = n_r * n_p * n_c
    pairs = np.bincount(counts.key, minlength=size)
    figures = [
        pairs  # one incident per pair unless told otherwise
        if counts.incidents is None
        else np.bincount(counts.key, weights=counts.incidents, minlength=size),
        np.bincount(counts.key, weights=counts.victims, minlength=size),
        np.bincount(counts.key, weights=counts.known, minlength=size),
    ]
    cell = np.flatnonzero(pairs)
    values = [f[cell] for f in figures]
    r, p, c = cell // (n_p * n_c), cell // n_c % n_p, cell % n_c
    before = np.maximum(cell - n_c, 0)
    # an absent cell's figures are 0 already
    previous = [np.where(p >= 1, f[before], np.nan) for f in figures[:2]]
    return values, previous, (r, p, c)


def _sparse_cells(counts: Counts, shape: tuple[int, int, int]) -> _Cells:
    """The non-zero cells, found by sorting the pairs' cell ids (a cell space too large)."""
    _, n_p, n_c = shape
    cell, inverse = np.unique(counts.key, return_inverse=True)
    values = [
        np.bincount(inverse, weights=counts.incidents, minlength=len(cell)),
        np.bincount(inverse, weights=counts.victims, minlength=len(cell)),
        np.bincount(inverse, weights=counts.known, minlength=len(cell)),
    ]
    r, p, c = cell // (n_p * n_c), cell // n_c % n_p, cell % n_c
    found = np.searchsorted(cell, cell - n_c)
    hit = (found < len(cell)) & (cell[np.minimum(found, len(cell) - 1)] == cell - n_c)
    previous = [
        np.where(p >= 1, np.where(hit, v[np.minimum(found, len(cell) - 1)], 0), np.nan)
        for v in values[:2]
    ]
    return values, previous, (r, p, c)


def _frame(
    values: list[np.ndarray],
    change: list[np.ndarray],
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    axis: RegionAxis,
    periods: PeriodAxis,
    cats: CategoryAxis,
    by_category: bool,
    zero_filled: bool,
) -> pd.DataFrame:
    """The cells' figures as the output frame, labels taken from the axes."""
    r, p, c = cells
    labels = np.array(periods.labels + [IMPRECISE_PERIOD], dtype=object)
    nat = np.array(["NaT"], dtype="datetime64[D]")
    starts = np.concatenate((periods.starts, nat)).astype("datetime64[s]")
    ends = np.concatenate((periods.ends, nat)).astype("datetime64[s]")
    columns: dict[str, Any] = {
        "region_code": _take(axis.codes, r),
        "region_name": _take(axis.names, r),
        "parent_code": _take(axis.parents, r),
        "period": _take(list(labels), p),
        "period_start": pd.to_datetime(starts[p]),
        "period_end": pd.to_datetime(ends[p]),
    }
    if by_category:
        columns["category"] = _take(cats.labels, c)
    columns["incidents"] = values[0].astype(np.int64)
    columns["victims"] = values[1].astype(float)
    columns["victims_known"] = values[2].astype(np.int64)
    columns["incidents_change"] = pd.array(change[0], dtype="Float64").astype("Int64")
    columns["victims_change"] = change[1]
    table = pd.DataFrame(columns)
    table.attrs["zero_filled"] = zero_filled
    return table


def _take(values: list[Any], index: np.ndarray) -> pd.Series:
    """``values[index]`` as a text column (None → NA), taken in Arrow: fast on 1M rows."""
    dictionary = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    taken = pc.take(dictionary, pa.array(np.asarray(index, dtype=np.int64)))
    return pd.Series(pd.array(taken, dtype=TEXT))
