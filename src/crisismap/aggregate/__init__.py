"""Joined records → figures by region × period × category: periods, cells, partial
counts (the distributed engine) and the dashboard's record views.

Read in this order: ``levels`` (the level check), ``codes`` (text columns as integer
codes), ``periods`` (dates and periods), ``select`` (the filters every view shares),
``axes`` (regions, periods, categories), ``cells`` (the counting rules, :func:`summarize`
and the output table), then ``partial`` (the distributed engine's counts) and ``views``
(the dashboard's).
"""

from crisismap.aggregate.axes import IMPRECISE_NAME, OUTSIDE_NAME
from crisismap.aggregate.cells import region_totals, summarize, time_series
from crisismap.aggregate.codes import NO_CATEGORY, category_labels
from crisismap.aggregate.levels import level_frame
from crisismap.aggregate.pairs import record_cells
from crisismap.aggregate.partial import (
    PARTIAL_COLUMNS,
    PARTIAL_NO_PERIOD,
    partial_counts,
    summarize_partials,
)
from crisismap.aggregate.periods import period_bounds
from crisismap.aggregate.rates import per_100k
from crisismap.aggregate.select import Selection, select_rows, take_rows
from crisismap.aggregate.views import RecordViews

__all__ = [
    "IMPRECISE_NAME",
    "NO_CATEGORY",
    "OUTSIDE_NAME",
    "PARTIAL_COLUMNS",
    "PARTIAL_NO_PERIOD",
    "RecordViews",
    "Selection",
    "category_labels",
    "level_frame",
    "partial_counts",
    "per_100k",
    "period_bounds",
    "record_cells",
    "region_totals",
    "select_rows",
    "take_rows",
    "summarize",
    "summarize_partials",
    "time_series",
]
