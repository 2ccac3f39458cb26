"""The dashboard's page for one view: map regions and points, chart, top regions, the
records behind a drilled region, the change against the period before.

Part of the dashboard's view-model (:mod:`crisismap.dashboard` re-exports it): what
``app.py`` draws, computed without Streamlit and memoised on the user's own Analysis.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from crisismap import aggregate, bilingual, escape, pipeline
from crisismap.choices import (
    ALL_PERIODS,
    _main_countries,
    _record_views,
    _summary_levels,
    default_level,
    period_labels,
)
from crisismap.i18n import N_, _, format_number, language, ngettext
from crisismap.pipeline import Analysis
from crisismap.schema import (
    IMPRECISE_CODE,
    IMPRECISE_PERIOD,
    OUTSIDE_CODE,
    VictimsMeasure,
    View,
    region_names,
    victims_measure,
)

MAX_MAP_POINTS = 3_000
RATE = "rate"  # the regions' column of incidents per 100,000 people (layers.build_map's value)
TOP_REGIONS = 15
MAX_LISTED_RECORDS = 500  # records listed under the map (newest first)
CHART_CATEGORIES = 8  # categories named in the chart; the rest are summed as OTHER
OTHER = N_("other categories")  # kept in English in the frames; the page translates it
ALL_INCIDENTS = N_("all incidents (each once)")
SERIES_TITLES = {
    "day": N_("Incidents per day"),
    "week": N_("Incidents per week"),
    "acled-week": N_("Incidents per ACLED week"),
    "month": N_("Incidents per month"),
    "quarter": N_("Incidents per quarter"),
    "year": N_("Incidents per year"),
}


# ----------------------------------------------------------------------------- the view


@dataclass
class Page:
    """What the page shows for one view and the period and drill-down chosen on it."""

    view: View  # the view the figures and exports are of (the drill-down applied)
    title: str
    caption: str
    regions: gpd.GeoDataFrame  # display geometry + incidents/victims per region
    points: pd.DataFrame  # capped sample of the selected records
    total_points: int  # all selected records (what the figures count)
    series: pd.DataFrame  # period × category incidents for the chart
    series_title: str
    top_regions: pd.DataFrame
    drill_name: str | None = None
    make_summary: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)
    victims: VictimsMeasure = field(default_factory=lambda: victims_measure("victims"))
    make_records: Callable[[int], pd.DataFrame] | None = field(default=None, repr=False)
    period: str | None = None  # the period shown (None: all periods)

    def records(self, limit: int = MAX_LISTED_RECORDS) -> pd.DataFrame:
        """The records behind the map (the drilled region, the period shown), newest
        first, at most ``limit``; for members who may see record-level data."""
        if self.make_records is None:
            return pd.DataFrame()
        return self.make_records(limit)

    @property
    def level(self) -> int:
        return self.view.level

    def map_title(self, value: str = "incidents") -> str:
        """The legend's title for regions coloured by ``value`` (incidents, victims under
        the source's own measure: "Fatalities per admin-1 region …", or ``rate``:
        incidents per 100,000 people, saying where the populations come from)."""
        if value == "incidents":
            return self.title
        if value == RATE:
            return _("Incidents per 100,000 people (population: {source})").format(
                source=self.population_source
            )
        return _title(self.level, self.period, _(self.victims.label))

    @property
    def has_population(self) -> bool:
        """True when some region in view has a population figure (the rate can be shown)."""
        return RATE in self.regions and bool(self.regions["population"].notna().any())

    @property
    def population_source(self) -> str:
        """Where the populations in view come from: the boundary column and file."""
        if "population_source" not in self.regions:
            return ""
        sources = self.regions["population_source"].dropna().astype(str).unique().tolist()
        return "; ".join(sorted(sources)[:3]) + ("; …" if len(sources) > 3 else "")

    def colour_options(self) -> dict[str, str]:
        """What the map may colour regions by, with its label: incidents always; the
        victims measure when the file reports one; incidents per 100,000 people when the
        regions in view have populations (never offered on invented ones)."""
        options = {"incidents": _("Incidents")}
        if self.victims.reported:
            options["victims"] = _(self.victims.label)
        if self.has_population:
            options[RATE] = _("Incidents per 100,000 people")
        return options

    @property
    def export_title(self) -> str:
        """The title of the view's exports, which cover every period of the view (the map's
        title names the period shown)."""
        return _title(self.level, None)

    def drill_sentence(self, drillable: bool) -> str:
        """What the map shows of the region drilled into (markdown-escaped; "" without one):
        its sub-regions when ``drillable``, else that region alone at the finest level."""
        if not self.drill_name:
            return ""
        region = escape.markdown(self.drill_name)
        if drillable:
            return _("Drilled down into {region}.").format(region=region)
        return _(
            "{region}: admin-{level} is the finest level of these boundaries, so the map "
            "shows this region alone (its records are below)."
        ).format(region=region, level=self.level)

    def records_sentences(self, listed: int) -> tuple[str, str]:
        """The heading of the drilled region's records and the caption of its list."""
        total = format_number(self.total_points)
        return (
            _("Records in {region} ({n})").format(
                region=escape.markdown(self.drill_name or ""), n=total
            ),
            _("Newest first: {shown} of {n}. Record-level data: for the team only.").format(
                shown=format_number(listed), n=total
            ),
        )

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Region × period × category figures of the view (the export).

        Built on first use: the page does not show it, and at a million records it
        costs more than everything the page does show.
        """
        if self.make_summary is None:
            raise ValueError("This page was built without a summary.")
        return self.make_summary()


def build_view(
    analysis: Analysis,
    view: View,
    *,
    period: str | None = None,
    drill: str | None = None,
    max_points: int = MAX_MAP_POINTS,
    by_category: bool = False,
) -> Page:
    """Everything the dashboard shows for one view, from one analysis.

    ``period`` (a label of ``view.period``) narrows the map and top-regions table to
    that period; the chart and the export keep every period of the view. ``drill``
    (a region code) shows that region's sub-regions and its own time series. The chart
    counts each incident once; ``by_category`` splits it by category instead (an incident
    with several counts in each; beyond :data:`CHART_CATEGORIES` the rest are "other").
    """
    unit, start, end = view.period, view.start, view.end
    drill_level = _level_of(analysis, drill) if drill else None
    if drill_level is not None and drill_level + 1 in analysis.boundaries.levels:
        view = view.with_(level=drill_level + 1)
    level = view.level
    aggregate.level_frame(analysis.boundaries, level)
    if drill:
        view = view.with_(regions=[*(view.regions or ()), drill])
    filters = view.filters()
    map_filters = dict(filters)
    if period:
        p_start, p_end = aggregate.period_bounds(period, unit)
        map_filters["start"] = max(_day(start), p_start) if start else p_start
        map_filters["end"] = min(_day(end), p_end) if end else p_end
    views, levels = _record_views(analysis), _summary_levels(analysis)
    selected = views.select(levels, level=level, **map_filters)
    figures = _recent(
        analysis,
        ("region_totals", level, *_key(map_filters)),
        lambda: views.region_totals(levels, level, selected),
    )
    before = _previous_period(analysis, view, period)
    if before is not None:  # the tooltip's change against the period before
        label, p_start, p_end = before
        earlier_filters = {**map_filters, "start": p_start, "end": p_end}

        def earlier() -> pd.DataFrame:
            chosen = views.select(levels, level=level, **earlier_filters)
            return views.region_totals(levels, level, chosen)

        # a step forward finds the period before among the figures just shown
        previous = _recent(analysis, ("region_totals", level, *_key(earlier_filters)), earlier)[
            "incidents"
        ]
        figures = figures.assign(
            change=figures["incidents"] - previous.reindex(figures.index).fillna(0).astype(int)
        )
        figures.attrs["change_against"] = label
    regions_frame = _regions_frame(analysis, level, figures, bool(filters["regions"]))
    points = _sample_points(analysis.records, selected.rows, max_points)
    rows = selected.rows
    drill_name = _region_name(analysis, drill, drill_level) if drill else None

    def chart() -> pd.DataFrame:
        series_rows = views.select(
            None,
            level=drill_level,
            start=start,
            end=end,
            categories=filters["categories"],
            regions=[drill] if drill else None,
            approved_only=view.approved_only,
            verified_only=view.verified_only,
        )
        series = views.time_series(
            series_rows, period=unit, start=start, end=end, by_category=by_category
        )
        series = series[series["period"] != IMPRECISE_PERIOD]
        return (_top_categories(series) if by_category else series.assign(category=ALL_INCIDENTS))[
            ["period", "category", "incidents"]
        ]

    # the chart keeps every period of the view: a period step reuses it
    series = _recent(analysis, ("chart", view, drill, by_category, language()), chart)
    top = figures.join(regions_frame.set_index("code")[["name"]]).reset_index()
    top = top.sort_values(["incidents", "name"], ascending=[False, True]).head(TOP_REGIONS)
    top = top[top["incidents"] > 0][["name", "region_code", "incidents", "victims"]]
    measure = pipeline.victims_measure(analysis)
    if not measure.reported:  # "not reported", not 0
        top = top.assign(victims=measure.show(None))
    top = top.rename(columns={"victims": measure.label.lower()})
    total = len(selected.rows)
    series_title = _(SERIES_TITLES.get(unit.value, SERIES_TITLES["month"]))
    return Page(
        view=view,
        title=_title(level, period),
        caption=_caption(total, len(points), period, drill_name),
        regions=regions_frame,
        points=points,
        total_points=total,
        series=series.reset_index(drop=True),
        series_title=_("{title} in {region}").format(title=series_title, region=drill_name)
        if drill_name
        else series_title,
        top_regions=top.reset_index(drop=True),
        drill_name=drill_name,
        make_summary=partial(pipeline.summarize, analysis, view),
        victims=measure,
        make_records=partial(_records_table, analysis, rows, measure),
        period=period,
    )


RECENT = 32  # figures kept per analysis for the views just shown (a step back, a toggle)


def _recent(analysis: Analysis, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """``make()`` kept among the analysis's :data:`RECENT` latest (per session, never
    across users): a period step, back and forth, recounts nothing it just counted.

    Callers treat the value as read-only.
    """
    kept: OrderedDict[tuple[Any, ...], Any] = analysis.memo("recent", OrderedDict)
    if key in kept:
        kept.move_to_end(key)
        return kept[key]
    value = kept[key] = make()
    while len(kept) > RECENT:
        kept.popitem(last=False)
    return value


def _key(filters: dict[str, Any]) -> tuple[Any, ...]:
    """A selection's filters as a hashable key."""
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in sorted(filters.items())
    )


def _title(level: int, period: str | None, measure: str | None = None) -> str:
    """The map's title: what is counted per region, in which period."""
    if measure is None:
        if period:
            return _("Incidents per admin-{level} region in {period}").format(
                level=level, period=period
            )
        return _("Incidents per admin-{level} region over all periods").format(level=level)
    if period:
        return _("{measure} per admin-{level} region in {period}").format(
            measure=measure, level=level, period=period
        )
    return _("{measure} per admin-{level} region over all periods").format(
        measure=measure, level=level
    )


def _caption(total: int, shown: int, period: str | None, region: str | None) -> str:
    """What the map and the figures below it count."""
    if period and region:
        scope = _("in {period} in {region}").format(period=period, region=region)
    elif period:
        scope = _("in {period}").format(period=period)
    elif region:
        scope = _("over all periods in {region}").format(region=region)
    else:
        scope = _("over all periods")
    return ngettext(
        "{total} incident {scope}; map points show {shown} of {total}. Region figures, "
        "chart and tables count all of them.",
        "{total} incidents {scope}; map points show {shown} of {total}. Region figures, "
        "chart and tables count all of them.",
        total,
    ).format(total=format_number(total), scope=scope, shown=format_number(shown))


def _top_categories(series: pd.DataFrame, keep: int | None = None) -> pd.DataFrame:
    """The chart's categories: the largest ``keep`` by incidents, the rest summed as
    "other" (a legend of dozens of long labels is cut off and unreadable)."""
    keep = CHART_CATEGORIES if keep is None else keep
    totals = series.groupby("category", observed=True)["incidents"].sum()
    if len(totals) <= keep + 1:
        return series
    top = set(totals.sort_values(ascending=False, kind="stable").index[:keep])
    named = series["category"].astype(object).where(series["category"].isin(top), OTHER)
    out = (
        series.assign(category=named)
        .groupby(["period", "category"], observed=True, sort=False)["incidents"]
        .sum()
        .reset_index()
    )
    return out


def _previous_period(
    analysis: Analysis, view: View, period: str | None
) -> tuple[str, dt.date, dt.date] | None:
    """The period before ``period`` in the view (label, first and last day), if any."""
    if not period:
        return None
    labels = period_labels(analysis, view)
    if period not in labels or labels.index(period) == 0:
        return None
    label = labels[labels.index(period) - 1]
    start, end = aggregate.period_bounds(label, view.period)
    return label, start, end


def _regions_frame(
    analysis: Analysis, level: int, figures: pd.DataFrame, filtered: bool
) -> gpd.GeoDataFrame:
    """Display geometry with the view's figures (regions outside a region filter left out)."""
    shown = pipeline.display_regions(analysis, level)
    if filtered:
        shown = shown[shown["code"].isin(figures.index)]
    frame = shown.merge(figures, how="left", left_on="code", right_index=True)
    frame[["incidents", "victims"]] = frame[["incidents", "victims"]].fillna(0)
    if "change" in frame:
        frame["change"] = frame["change"].fillna(0)
    if "population" in frame:  # incidents per 100,000 people; NaN: no population figure
        frame[RATE] = aggregate.per_100k(frame["incidents"], frame["population"])
    frame = _main_area(analysis, frame, level)
    if "change" in frame:
        frame.attrs["change_against"] = figures.attrs.get("change_against")
    return frame


def _main_area(analysis: Analysis, regions: gpd.GeoDataFrame, level: int) -> gpd.GeoDataFrame:
    """Regions of the countries the data is about, plus any other region with incidents
    in the data (whatever the period or filter shown).

    A single stray point in a neighbouring country should not paint that whole
    country's regions as zeros on the map (the figures still count it). The regions
    drawn do not change with the period or a filter: the map keeps its frame, and the
    app restyles the shapes drawn instead of sending new ones.
    """
    if "country" not in regions or regions["country"].nunique() <= 1:
        return regions
    main = _main_countries(analysis)
    keep = regions["country"].isin(main) | regions["code"].isin(
        _regions_with_incidents(analysis, level)
    )
    return regions[keep] if keep.any() else regions


def _regions_with_incidents(analysis: Analysis, level: int) -> frozenset[str]:
    """Codes of the regions at ``level`` holding at least one record of the analysis."""

    def find() -> frozenset[str]:
        views, levels = _record_views(analysis), _summary_levels(analysis)
        totals = views.region_totals(levels, level, views.select(levels, level=level))
        return frozenset(totals.index[totals["incidents"] > 0].astype(str))

    return analysis.memo(("regions_with_incidents", level), find)


def _day(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def _records_table(
    analysis: Analysis, rows: np.ndarray, measure: VictimsMeasure, limit: int
) -> pd.DataFrame:
    """The selected records, newest first, with the columns an officer reads."""
    records = analysis.records
    order = rows[np.argsort(-records["date"].to_numpy()[rows].astype("int64"), kind="stable")]
    cols = ["id", "date", "category", "victims", "description", "lat", "lon"]
    out = aggregate.take_rows(records[[c for c in cols if c in records]], order[:limit])
    out = out.reindex(columns=cols)
    out["date"] = pd.to_datetime(out["date"]).dt.date.astype(str)
    if not measure.reported:
        out = out.drop(columns="victims")
    return out.rename(columns={"victims": measure.label.lower()}).reset_index(drop=True)


def _sample_points(records: pd.DataFrame, rows: np.ndarray, cap: int) -> pd.DataFrame:
    """At most ``cap`` of the selected records, a deterministic spread sample (not the newest N).

    The same records as ``records.iloc[rows].sample(n=cap, random_state=0)``, in file order,
    without copying the million selected rows first.
    """
    if len(rows) > cap:
        rows = np.sort(rows[np.random.RandomState(0).choice(len(rows), size=cap, replace=False)])
    cols = ["id", "lat", "lon", "date", "category", "victims", "description"]
    out = aggregate.take_rows(records[[c for c in cols if c in records]], rows)
    out = out.reindex(columns=cols)
    out["date"] = np.datetime_as_string(pd.to_datetime(out["date"]).to_numpy("datetime64[D]"))
    return out


def _level_of(analysis: Analysis, code: str | None) -> int | None:
    for n in analysis.levels:
        if (analysis.boundaries.levels[n]["code"] == code).any():
            return n
    return None


def _region_name(analysis: Analysis, code: str | None, level: int | None) -> str | None:
    if code is None or level is None:
        return None
    frame = analysis.boundaries.levels[level]
    names = region_names(frame[frame["code"] == code])
    return str(names.iloc[0]) if len(names) else code


def can_drill(analysis: Analysis, level: int, code: str) -> bool:
    """A region can be drilled into when a finer level exists."""
    found = _level_of(analysis, code)
    return found is not None and found + 1 in analysis.boundaries.levels


def shown_level(analysis: Analysis, drill: str | None) -> int | None:
    """The admin level the map shows when drilled into ``drill``: the next finer level,
    or the region's own when it is at the finest (None without a drill or an unknown code)."""
    found = _level_of(analysis, drill) if drill else None
    if found is None:
        return None
    return found + 1 if found + 1 in analysis.boundaries.levels else found


LEVEL_KEY = "level_box"  # the admin-level box's session key
_LEVEL_BEFORE_DRILL = "_level_before_drill"


PERIOD_KEY = "period_idx"  # the period slider's stop, in the session


def step_period(
    state: MutableMapping[str, Any], periods: list[str], step: int = 0, linked: str | None = None
) -> list[str]:
    """The period slider's stops (:data:`ALL_PERIODS` first), its stop in the session
    (``state[PERIOD_KEY]``) moved ``step`` stops and kept in range; a link's period
    (``linked``) is shown once, on opening it."""
    choices = [ALL_PERIODS, *periods]
    at = max(0, min(len(periods), state.get(PERIOD_KEY, 0) + step))
    if linked in periods and not state.get("_link_shown_done"):
        state["_link_shown_done"] = True
        at = choices.index(linked)
    state[PERIOD_KEY] = at
    return choices


def follow_drill(
    state: MutableMapping[str, Any], analysis: Analysis, chosen: int | None = None
) -> None:
    """Set the admin-level box (``state[LEVEL_KEY]``, before it is drawn) to the level on screen.

    Drilled down (``state["drill"]``), the box shows the drilled level; back at all regions
    it returns to the level chosen before the drill-down. The box starts at ``chosen`` (a
    link's level) or the analysis's default level, and so does a level these boundaries lack.
    """
    start = chosen if chosen in analysis.levels else default_level(analysis)
    if state.get(LEVEL_KEY) not in analysis.levels:
        state[LEVEL_KEY] = start
    shown = shown_level(analysis, state.get("drill"))
    if shown is not None and shown != state[LEVEL_KEY]:
        state.setdefault(_LEVEL_BEFORE_DRILL, state[LEVEL_KEY])
        state[LEVEL_KEY] = shown
    elif shown is None and _LEVEL_BEFORE_DRILL in state:
        before = state.pop(_LEVEL_BEFORE_DRILL)
        state[LEVEL_KEY] = before if before in analysis.levels else start


def leave_drill(state: MutableMapping[str, Any], *also: str, keep_level: bool = False) -> None:
    """End the drill-down (and drop the ``also`` keys): the admin-level box returns to the
    level chosen before it, or keeps the level just chosen in it (``keep_level``)."""
    for key in ("drill", *also):
        state.pop(key, None)
    if keep_level:
        state.pop(_LEVEL_BEFORE_DRILL, None)


def clicked_region(result: dict[str, Any] | None) -> str | None:
    """The region code of the polygon last clicked in the map, if any."""
    feature = (result or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    code = props.get("code")
    return str(code) if code and code not in (OUTSIDE_CODE, IMPRECISE_CODE) else None


# ----------------------------------------------------------------------------- on screen

# Column names of the tables the page shows, in the user's language on screen only (the
# frames, the exports and the tests keep the names as they are).
COLUMN_LABELS = {
    name: label
    for name, label in [
        ("file", N_("file")),
        ("field", N_("field")),
        ("column", N_("column")),
        ("problem", N_("problem")),
        ("severity", N_("severity")),
        ("records", N_("records")),
        ("line", N_("line")),
        ("code", N_("code")),
        ("message", N_("message")),
        ("value", N_("value")),
        ("record_id", N_("record_id")),
        ("level", N_("level")),
        ("compared", N_("compared")),
        ("agree", N_("agree")),
        ("disagree", N_("disagree")),
        ("agreement", N_("agreement")),
        ("stated name", N_("stated name")),
        ("region the file names", N_("region the file names")),
        ("region of the boundaries", N_("region of the boundaries")),
        ("name", N_("name")),
        ("region_code", N_("region_code")),
        ("region_name", N_("region_name")),
        ("incidents", N_("incidents")),
        ("victims", N_("victims")),
        ("fatalities", N_("fatalities")),
        ("deaths", N_("deaths")),
        ("casualties", N_("casualties")),
        ("people affected", N_("people affected")),
        ("id", N_("id")),
        ("date", N_("date")),
        ("category", N_("category")),
        ("description", N_("description")),
        ("lat", N_("lat")),
        ("lon", N_("lon")),
        ("period", N_("period")),
        ("baseline_periods", N_("baseline_periods")),
        ("baseline_mean", N_("baseline_mean")),
        ("usual_high", N_("usual_high")),
        ("change", N_("change")),
        ("p_rise", N_("p_rise")),
        ("p_fall", N_("p_fall")),
        ("status", N_("status")),
        ("time", N_("time")),
        ("actor", N_("actor")),
        ("action", N_("action")),
        ("target", N_("target")),
        ("details", N_("details")),
        ("member", N_("member")),
        ("role", N_("role")),
    ]
}
# The victims measures' names (crisismap.schema), as the page shows them.
MEASURE_NAMES = (
    N_("Fatalities"),
    N_("Deaths"),
    N_("Victims"),
    N_("Casualties"),
    N_("People affected"),
    N_("not reported"),
)


def on_screen(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names in the user's language (for display only)."""
    return frame.rename(columns=lambda c: _(COLUMN_LABELS[c]) if c in COLUMN_LABELS else c)


def chart_frame(series: pd.DataFrame) -> pd.DataFrame:
    """The chart's period × category × incidents, its names in the user's language."""
    words = {OTHER: _(OTHER), ALL_INCIDENTS: _(ALL_INCIDENTS)}
    series = bilingual.displayed(series, ignore=words)  # bilingual labels: the user's side
    category = series["category"].astype(object).map(lambda c: words.get(c, c))
    return on_screen(series.assign(category=category))
