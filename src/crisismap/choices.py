"""The dashboard's choices of one analysis: dates, categories, regions, level, periods,
and the view as a link (the page's query string).

What the view controls offer, memoised on the user's own Analysis (so per session,
never across users). Part of the dashboard's view-model (:mod:`crisismap.dashboard`
re-exports it); no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crisismap import aggregate, bilingual, i18n, pipeline
from crisismap.i18n import N_, _
from crisismap.pipeline import Analysis
from crisismap.schema import IMPRECISE_PERIOD, Period, View, name_column, region_names

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


def category_shown(options: Sequence[str]) -> Callable[[str], str]:
    """How the category menu shows each label: bilingual labels by the side this context
    shows (the filter's values stay the whole labels)."""
    shown = dict(zip(options, bilingual.shown(list(options)), strict=True))
    return lambda label: shown.get(label, label)


def region_choices(analysis: Analysis, level: int) -> list[tuple[str, str]]:
    """(code, "name (code)") of regions at ``level`` that hold at least one record, named in
    the user's language where the boundary set has it."""
    lang = i18n.language()
    pairs = _memo(
        analysis, ("regions", level, lang), lambda: _regions_with_records(analysis, level, lang)
    )
    return list(pairs)


def region_search(analysis: Analysis) -> dict[str, str]:
    """Every region holding records, at every level: code -> "name (code) · admin-N"
    (what the region search offers; Streamlit's select box filters it as one types)."""
    found: dict[str, str] = {}
    for level in analysis.levels:
        for code, label in region_choices(analysis, level):
            found.setdefault(code, f"{label} · admin-{level}")
    return found


def _regions_with_records(analysis: Analysis, level: int, lang: str) -> list[tuple[str, str]]:
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
    shapes = analysis.boundaries.levels.get(level)
    if shapes is not None and name_column(lang) in shapes:  # names in the user's language
        named = shapes[["code", "name", name_column(lang)]].drop_duplicates("code")
        local = dict(zip(named["code"].astype(str), region_names(named, lang), strict=True))
        pairs["name"] = [
            local.get(str(c), n) for c, n in zip(pairs["code"], pairs["name"], strict=True)
        ]
    pairs = pairs.sort_values(["name", "code"], kind="stable")
    return [(str(c), f"{n} ({c})") for c, n in zip(pairs["code"], pairs["name"], strict=True)]


MAX_OPENING_REGIONS = 250  # regions with records a first view may show at once


def default_level(analysis: Analysis) -> int:
    """The level to open at: the one that splits the data best.

    The finest level at which the data falls in at least two regions and at most
    :data:`MAX_OPENING_REGIONS` (a one-country file on world boundaries opens at admin-1,
    a five-country file at admin-1 too, a worldwide file at admin-0); COD-AB sets open at
    admin-1 unless the data sits in one admin-1 region. Levels finer than admin-1 are
    opened only when admin-1 holds everything in one region.
    """
    counts = {n: len(region_choices(analysis, n)) for n in analysis.levels}
    usable = [n for n in analysis.levels if 2 <= counts[n] <= MAX_OPENING_REGIONS]
    coarse = [n for n in usable if n <= 1]
    if coarse:
        return max(coarse)
    if usable:
        return min(usable)
    split = [n for n in analysis.levels if counts[n] >= 2]
    return min(split) if split else analysis.levels[-1]


def period_labels(analysis: Analysis, view: View) -> list[str]:
    """The period labels (of ``view.period``) spanned by the filtered records, in order.

    Like the chart, they follow the date, category and approval filters, not the region filter.
    Remembered per view: the period slider and the map's "change" both ask on every step.
    """
    views = _record_views(analysis)
    start, end = view.start, view.end

    def labels() -> list[str]:
        selection = views.select(
            None,
            level=None,
            start=start,
            end=end,
            categories=view.filters()["categories"],
            approved_only=view.approved_only,
            verified_only=view.verified_only,
        )
        return views.period_labels(selection, period=view.period, start=start, end=end)

    key = (view.period, start, end, view.categories, view.approved_only, view.verified_only)
    return list(_memo(analysis, ("period_labels", *key), labels))


# ----------------------------------------------------------------------------- views in links

# The page's query string: which saved datasets and what view, never data. A link opens
# the same view for a signed-in member of the same team; for anyone else the dataset ids
# name nothing in their workspace, and every value is checked against what the opening
# session itself offers (unknown values are ignored).
QUERY_KEYS = (
    "ds",
    "level",
    "unit",
    "from",
    "to",
    "cat",
    "region",
    "drill",
    "show",
    "basemap",
    "places",  # "off": the offline basemap (land, rivers, place names) hidden
)


def view_query(
    view: View,
    *,
    datasets: Sequence[str] = (),
    drill: str | None = None,
    shown: str | None = None,
    basemap: str | None = None,
    places: bool = True,
) -> dict[str, str | list[str]]:
    """The query string of a view (what :func:`view_from_query` reads back)."""
    query: dict[str, str | list[str]] = {"level": str(view.level), "unit": view.period.value}
    if datasets:
        query["ds"] = list(datasets)
    if view.start is not None:
        query["from"] = view.start.isoformat()
    if view.end is not None:
        query["to"] = view.end.isoformat()
    if view.categories:
        query["cat"] = list(view.categories)
    regions = [r for r in (view.regions or ()) if r != drill]
    if regions:
        query["region"] = regions
    if drill:
        query["drill"] = drill
    if shown:
        query["show"] = shown
    if basemap:
        query["basemap"] = basemap
    if not places:
        query["places"] = "off"
    return query


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]


def datasets_from_query(params: Mapping[str, Any], known: Sequence[str]) -> list[str]:
    """The saved datasets a link names that this session may open (in ``known``)."""
    allowed = set(known)
    return [d for d in dict.fromkeys(_values(params, "ds")) if d in allowed]


def view_from_query(
    params: Mapping[str, Any], analysis: Analysis, units: Sequence[Any]
) -> dict[str, Any]:
    """What a link asks for, kept only where this analysis offers it: ``level``, ``unit``,
    ``dates`` (start, end within the data), ``categories``, ``regions``, ``drill``,
    ``shown`` (a period label, checked later), ``basemap`` (checked by the caller)."""
    out: dict[str, Any] = {}
    one = {k: (_values(params, k) or [None])[0] for k in QUERY_KEYS}
    if one["level"] is not None and one["level"].isdigit():
        level = int(one["level"])
        if level in analysis.levels:
            out["level"] = level
    by_value = {getattr(u, "value", str(u)): u for u in units}
    if one["unit"] in by_value:
        out["unit"] = by_value[one["unit"]]
    low, high = date_bounds(analysis)
    try:
        start = dt.date.fromisoformat(one["from"]) if one["from"] else low
        end = dt.date.fromisoformat(one["to"]) if one["to"] else high
    except ValueError:  # not a date: the whole span, as without a window
        start = end = None
    if start and end and low <= start <= end <= high and (one["from"] or one["to"]):
        out["dates"] = (start, end)
    offered = set(categories_of(analysis))
    cats = [c for c in _values(params, "cat") if c in offered]
    if cats:
        out["categories"] = cats
    level = out.get("level", default_level(analysis))
    regions = dict(region_choices(analysis, level))
    picked = [(c, regions[c]) for c in _values(params, "region") if c in regions]
    if picked:
        out["regions"] = picked
    drill = one["drill"]
    if drill and any(drill in dict(region_choices(analysis, n)) for n in analysis.levels):
        out["drill"] = drill
    if one["show"]:
        out["shown"] = one["show"]
    if one["basemap"]:
        out["basemap"] = one["basemap"]
    return out


# ----------------------------------------------------------------------------- names

PERIOD_NAMES = {  # in English the periods' own names, as links and the CLI spell them
    Period.DAY: N_("day"),
    Period.ISO_WEEK: N_("week"),
    # Translators: ACLED's week, Saturday to Friday
    Period.ACLED_WEEK: N_("acled-week"),
    Period.MONTH: N_("month"),
    Period.QUARTER: N_("quarter"),
    Period.YEAR: N_("year"),
}


def level_name(level: int) -> str:
    return _("admin-{level}").format(level=level)


def period_name(period: Period) -> str:
    return _(PERIOD_NAMES.get(period, period.value))


ALL_PERIODS = "All periods"  # the period slider's first stop (a key; shown translated)


def period_label(label: str, unit: Period) -> str:
    """A period as the slider shows it: a month in the user's words (``mars 2024``)."""
    if label == ALL_PERIODS:
        return _("All periods")
    if label == IMPRECISE_PERIOD:
        return _("date not attributable")
    if unit is Period.MONTH and i18n.language() != i18n.DEFAULT:
        try:
            return i18n.format_month(aggregate.period_bounds(label, unit)[0])
        except (ValueError, TypeError):
            return label
    return label
