"""The dashboard's choices of one analysis: dates, categories, regions, level, periods.

What the view controls offer, memoised on the user's own Analysis (so per session,
never across users). Part of the dashboard's view-model (:mod:`crisismap.dashboard`
re-exports it); no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crisismap import aggregate, pipeline
from crisismap.pipeline import Analysis
from crisismap.schema import View

# ----------------------------------------------------------------------------- memo


def _memo(analysis: Analysis, key: Any, make: Callable[[], Any]) -> Any:
    return analysis.memo(key, make)


def _record_views(analysis: Analysis) -> aggregate.RecordViews:
    """Per-record arrays (days, periods, victims) every view of the analysis reuses."""
    return _memo(
        analysis, "record_views", lambda: aggregate.RecordViews(analysis.records, analysis.joined)
    )


def _summary_levels(analysis: Analysis) -> dict[int, Any]:
    return _memo(analysis, "summary_levels", lambda: pipeline.summary_levels(analysis))


def _main_countries(analysis: Analysis) -> set[str]:
    return _memo(analysis, "main_countries", lambda: pipeline.main_countries(analysis))


# ----------------------------------------------------------------------------- filters


def date_bounds(analysis: Analysis) -> tuple[dt.date, dt.date]:
    """First and last date in the accepted records."""

    def bounds() -> tuple[dt.date, dt.date]:
        start = pd.Timestamp(analysis.records["date"].min())
        end_col = "date_end" if "date_end" in analysis.records else "date"
        end = pd.Timestamp(analysis.records[end_col].max())
        return start.date(), end.date()

    return _memo(analysis, "date_bounds", bounds)


def categories_of(analysis: Analysis) -> list[str]:
    """Every category label present (multi-label records split)."""
    labels = _memo(analysis, "categories", lambda: aggregate.category_labels(analysis.records))
    return list(labels)


def region_choices(analysis: Analysis, level: int) -> list[tuple[str, str]]:
    """(code, "name (code)") of regions at ``level`` that hold at least one record."""
    pairs = _memo(analysis, ("regions", level), lambda: _regions_with_records(analysis, level))
    return list(pairs)


def _regions_with_records(analysis: Analysis, level: int) -> list[tuple[str, str]]:
    codes = analysis.joined[f"adm{level}_code"]
    names = analysis.joined[f"adm{level}_name"]
    if isinstance(codes.dtype, pd.CategoricalDtype) and isinstance(
        names.dtype, pd.CategoricalDtype
    ):  # the join's output: distinct (code, name) pairs from the integer codes
        c = codes.cat.codes.to_numpy().astype(np.int64)
        n = names.cat.codes.to_numpy().astype(np.int64)
        width = len(names.cat.categories) + 1
        pair = pd.unique(c[(c >= 0) & (n >= 0)] * width + n[(c >= 0) & (n >= 0)])
        codes = pd.Series(codes.cat.categories.take(pair // width), dtype=object)
        names = pd.Series(names.cat.categories.take(pair % width), dtype=object)
    pairs = pd.DataFrame({"code": codes, "name": names}).dropna().drop_duplicates("code")
    pairs = pairs.sort_values(["name", "code"], kind="stable")
    return [(str(c), f"{n} ({c})") for c, n in zip(pairs["code"], pairs["name"], strict=True)]


def default_level(analysis: Analysis) -> int:
    """The level to open at: the first that splits the countries the data is about.

    World boundaries open at admin-1 for a one-country file; a COD-AB set at admin-1.
    """
    main = _main_countries(analysis)
    for n in analysis.levels:
        frame = analysis.boundaries.levels[n]
        if main and "country" in frame:
            frame = frame[frame["country"].isin(main)]
        if len(frame) > 1:
            return n
    return analysis.levels[-1]


def period_labels(analysis: Analysis, view: View) -> list[str]:
    """The period labels (of ``view.period``) spanned by the filtered records, in order.

    Like the chart, they follow the date, category and approval filters, not the region filter.
    """
    views = _record_views(analysis)
    start, end = view.start, view.end
    categories = view.filters()["categories"]
    selection = views.select(
        None,
        level=None,
        start=start,
        end=end,
        categories=categories,
        approved_only=view.approved_only,
        verified_only=view.verified_only,
    )
    return views.period_labels(selection, period=view.period, start=start, end=end)
