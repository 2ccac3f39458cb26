"""The dashboard's views of one set of records, from per-record arrays derived once.

A dashboard recomputes what it shows on every widget change; :class:`RecordViews` keeps
what every view needs (day numbers, victims, record periods per unit) and answers with
the same selection, axes and table as :func:`select_rows`, :func:`region_totals` and
:func:`time_series`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crisismap.aggregate.axes import RegionAxis, category_axis, period_axis_of, region_axis
from crisismap.aggregate.cells import Counts, record_victims, series_table
from crisismap.aggregate.levels import level_frame
from crisismap.aggregate.periods import day_ranges, record_periods
from crisismap.aggregate.select import Selection, check_joined, filter_records
from crisismap.schema import Period


class RecordViews:
    """Views of one set of joined records (a dashboard's), from per-record arrays derived once.

    A dashboard recomputes what it shows on every widget change; turning a million dates
    into days and periods and re-reading victims took most of that time. This keeps the
    derived arrays (day numbers, victims, record periods per unit) and answers the
    dashboard's questions with the same rules and results as :func:`select_rows`,
    :func:`region_totals` and :func:`time_series`. Keep one per set of records (the app
    keeps it on the user's own analysis, never in a cache shared between users).
    """

    def __init__(self, records: pd.DataFrame, joined: pd.DataFrame) -> None:
        check_joined(records, joined)
        self.records = records
        self.joined = joined
        self._first_day, self._last_day = day_ranges(records)
        victims = record_victims(records)
        self._victims = np.nan_to_num(victims)  # NaN counted as 0, as everywhere
        self._victims_known = ~np.isnan(victims)
        self._periods: dict[Period, tuple[np.ndarray, np.ndarray]] = {}
        self._axes: dict[tuple[Any, ...], tuple[Any, RegionAxis]] = {}

    def select(
        self,
        levels: Any,
        *,
        level: int | None,
        start: Any = None,
        end: Any = None,
        categories: Sequence[str] | None = None,
        regions: Sequence[str] | None = None,
        approved_only: bool = False,
        verified_only: bool = False,
    ) -> Selection:
        """The records a view counts (``.rows``): the filters of :func:`summarize`."""
        days = (self._first_day, self._last_day)
        return filter_records(
            self.records,
            self.joined,
            levels,
            level,
            lambda: days,
            start,
            end,
            categories,
            regions,
            approved_only=approved_only,
            verified_only=verified_only,
        )

    def region_totals(self, levels: Any, level: int, selection: Selection) -> pd.DataFrame:
        """``incidents``, ``victims``, ``victims_known`` per region of the level, indexed by
        ``region_code``: :func:`region_totals` without dates and the no-region buckets."""
        level_frame(levels, level)  # fail early on an unknown level
        axis = self._region_axis(levels, level, selection)
        slot = axis.slot[selection.rows]
        size, n = len(axis.codes), axis.n_regions
        victims = np.bincount(slot, weights=self._victims[selection.rows], minlength=size)
        known = np.bincount(slot, weights=self._victims_known[selection.rows], minlength=size)
        table = pd.DataFrame(
            {
                "incidents": np.bincount(slot, minlength=size)[:n],
                "victims": victims[:n],
                "victims_known": known[:n].astype(np.int64),
            },
            index=pd.Index(pd.array(axis.codes[:n], dtype="str"), name="region_code"),
        )
        table.attrs.update(selection.notes)
        return table

    def _region_axis(self, levels: Any, level: int, selection: Selection) -> RegionAxis:
        """:func:`region_axis`, kept per level and region filter: the same for every
        period and category shown (a period step spent most of its counting placing a
        million records on it).

        Kept only when every joined code of the records the region filter keeps is a
        region of the boundary frame: otherwise which codes are added depends on the
        selection.
        """
        key = (level, None if selection.regions is None else tuple(selection.regions))
        kept = self._axes.get(key)
        if kept is not None and kept[0] is levels:
            return kept[1]
        within = self.select(levels, level=level, regions=selection.regions)
        axis = region_axis(levels, self.joined, level, within)
        if axis.joined_only:
            return region_axis(levels, self.joined, level, selection)
        if len(self._axes) >= 8:  # one slot per record each: a few region filters at a time
            self._axes.clear()
        self._axes[key] = (levels, axis)
        return axis

    def time_series(
        self,
        selection: Selection,
        *,
        period: Period | str,
        by_category: bool = True,
        start: Any = None,
        end: Any = None,
    ) -> pd.DataFrame:
        """:func:`time_series` of the selected records (``start``/``end`` widen the axis)."""
        period = Period.parse(period)
        first, precise = self._record_periods(period)
        rows = selection.rows
        periods = period_axis_of(first, precise, first[rows][precise[rows]], period, start, end)
        cats = category_axis(self.records, selection, by_category)
        key = periods.slot[cats.rows] * len(cats.labels) + cats.slot
        counts = Counts(key, self._victims[cats.rows], self._victims_known[cats.rows])
        return series_table(counts, periods, cats, by_category, selection.notes)

    def period_labels(
        self, selection: Selection, *, period: Period | str, start: Any = None, end: Any = None
    ) -> list[str]:
        """Labels of the periods :func:`time_series` would list for the selection, in order."""
        period = Period.parse(period)
        first, precise = self._record_periods(period)
        chosen = first[selection.rows][precise[selection.rows]]
        empty = np.zeros(0, np.int64)
        return period_axis_of(empty, empty.astype(bool), chosen, period, start, end).labels

    def _record_periods(self, period: Period) -> tuple[np.ndarray, np.ndarray]:
        """:func:`record_periods`, remembered per period unit."""
        if period not in self._periods:
            self._periods[period] = record_periods(self.records, period)
        return self._periods[period]
