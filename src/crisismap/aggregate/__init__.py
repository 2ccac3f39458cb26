"""Joined records → figures by region × period × category: periods, cells, partial
counts (the distributed engine) and the dashboard's record views."""

from crisismap.aggregate.cells import (
    IMPRECISE_NAME,
    NO_CATEGORY,
    OUTSIDE_NAME,
    PARTIAL_COLUMNS,
    PARTIAL_NO_PERIOD,
    RecordViews,
    category_labels,
    partial_counts,
    period_bounds,
    region_totals,
    select_rows,
    summarize,
    summarize_partials,
    time_series,
)

__all__ = [
    "IMPRECISE_NAME",
    "NO_CATEGORY",
    "OUTSIDE_NAME",
    "PARTIAL_COLUMNS",
    "PARTIAL_NO_PERIOD",
    "RecordViews",
    "category_labels",
    "partial_counts",
    "period_bounds",
    "region_totals",
    "select_rows",
    "summarize",
    "summarize_partials",
    "time_series",
]
