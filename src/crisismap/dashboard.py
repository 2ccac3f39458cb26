"""View-model for the Streamlit app: everything the page shows, computed without Streamlit.

``app.py`` draws widgets, calls these functions and draws their results; keeping the
logic here means it is unit-tested like the rest of the library and the app stays a
thin shell. What a view derives from one analysis (per-record day numbers and periods,
the boundary levels that hold records, display geometry) is memoised on that Analysis
object, so it lives and dies with the user's session; the only process-wide cache holds
simplified boundary geometry, keyed by the geometry itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from crisismap import aggregate, display, pipeline, prepared
from crisismap.boundaries import BoundarySet, load_boundaries, read_boundary_bytes
from crisismap.choices import (  # noqa: F401  (re-exported for app.py)
    QUERY_KEYS,
    _main_countries,
    _memo,
    _record_views,
    _summary_levels,
    categories_of,
    datasets_from_query,
    date_bounds,
    default_level,
    period_labels,
    region_choices,
    region_search,
    view_from_query,
    view_query,
)
from crisismap.errors import InvalidValueError
from crisismap.export import to_csv_bytes
from crisismap.pipeline import Analysis
from crisismap.problems import PROBLEM_FIELDS, Report
from crisismap.records import PRESETS, read_csv_bytes
from crisismap.schema import (
    IMPRECISE_CODE,
    IMPRECISE_PERIOD,
    OUTSIDE_CODE,
    VictimsMeasure,
    View,
    victims_measure,
)
from crisismap.session import (  # noqa: F401  (re-exported for app.py)
    app_mode,
    enter_scope,
    load_teams,
    team_access,
    teams_file,
)
from crisismap.store import DatasetInfo, Workspace, default_data_dir

PRESET_CHOICES = ["auto", *PRESETS]
DATE_ORDER_LABELS = {
    "auto": "decide from the column",
    "dmy": "day first (31/12/2024)",
    "mdy": "month first (12/31/2024)",
}
OVERRIDABLE_FIELDS = ["date", "lat", "lon", "coords", "category", "victims", "id", "description"]
# How multi-label categories are split: None keeps the preset's choice.
CATEGORY_SEPARATOR_LABELS = {
    None: "the preset's choice",
    "auto": "decide from the labels (recurring labels win)",
    "none": "do not split",
    ";": "split on ;",
    "|": "split on |",
    ",": "split on ,",
}
WEB_BASEMAPS = ["OpenStreetMap", "CartoDB positron"]
MAX_MAP_POINTS = 3_000
TOP_REGIONS = 15
MAX_LISTED_RECORDS = 500  # records listed under the map (newest first)
CHART_CATEGORIES = 8  # categories named in the chart; the rest are summed as OTHER
OTHER = "other categories"
HEADER_SNIFF_BYTES = 64 * 1024


# ----------------------------------------------------------------------------- inputs


def load_bundled() -> BoundarySet:
    """The bundled world admin-0/admin-1 (public data; the app may share it)."""
    _display_geometry_on_disk()
    return load_boundaries("world")


def _display_geometry_on_disk() -> None:
    """Simplified map geometry kept in ``<data dir>/cache/display``: a new server process
    draws its first map of a boundary set without simplifying it again."""
    display.use_disk_cache(default_data_dir() / "cache" / "display")


def read_uploaded_boundaries(
    data: bytes, filename: str, keep_unnamed_overlaps: bool = False
) -> BoundarySet:
    """A user's boundary upload (COD-AB, geoBoundaries...), checked for safety.

    Prepared once and kept in ``<data dir>/cache`` (public geometry, keyed by the bytes),
    so the same file opens in milliseconds in every later session and server process.
    Unnamed polygons overlapping named regions are left out unless kept.
    """
    _display_geometry_on_disk()
    return read_boundary_bytes(
        data,
        filename,
        cache_dir=default_data_dir() / "cache",
        keep_unnamed_overlaps=keep_unnamed_overlaps,
    )


def fetched_choices() -> dict[str, str]:
    """Fetched sets in this workspace, name -> label (source, date, vintage); offline."""
    from crisismap.boundaries import list_fetched

    return {f.name: f.label for f in list_fetched(default_data_dir() / "cache")}


def load_fetched(name: str) -> BoundarySet:
    """A fetched set (``fetched:geoboundaries:UKR``) from the workspace: no network."""
    return load_boundaries(name, cache_dir=default_data_dir() / "cache")


def fetch_notice(source: str) -> str:
    """What a fetch from ``source`` sends where, for the caption before the button."""
    from crisismap.boundaries.fetch import notice

    return "Offline by default. " + notice(source)


def fetch_current(iso3: str, source: str, level: int) -> tuple[str, list[str]]:
    """Go online (the user asked): fetch levels 0..``level``; the set's name, lines to show."""
    from crisismap.boundaries import fetch_boundaries

    done = fetch_boundaries(iso3, default_data_dir() / "cache", source=source, level=level)
    return done.fetched.name, done.summary()


def analyse_files(
    files: Sequence[tuple[str, bytes]], boundaries: BoundarySet, **options: Any
) -> Analysis:
    """Validate and join the uploaded files (see :func:`crisismap.pipeline.analyse_files`)."""
    return pipeline.analyse_files(files, boundaries, **options)


def headers_of(files: Sequence[tuple[str, bytes]]) -> list[str]:
    """Column names of the files (read from their first bytes only), for mapping widgets."""
    names: list[str] = []
    for name, data in files:
        head = data[:HEADER_SNIFF_BYTES]
        if len(data) > HEADER_SNIFF_BYTES and b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
        try:
            raw = read_csv_bytes(head, filename=name)
        except Exception:
            continue
        names.extend(h for h in raw.header if h not in names)
    return names


def open_workspace(team: str | None = None, *, trash_days: float | None = None) -> Workspace:
    """A team's workspace (``None``: the local one) in the data directory.

    ``trash_days`` comes from the teams file (the store remembers it for the CLI);
    opening also purges the trash that is due, so the app opens it on every rerun
    (about a millisecond: the object holds only a path).
    """
    return Workspace.open(team=team, trash_days=trash_days)


def saved_label(info: DatasetInfo) -> str:
    """How a saved dataset is listed: name, date saved, record counts."""
    counts = info.report or {}
    figures = (
        f"{counts.get('accepted', '?'):,} of {counts.get('records', '?'):,} accepted"
        if isinstance(counts.get("records"), int)
        else f"{info.size:,} bytes"
    )
    return f"{info.name} · saved {info.created[:10]} · {figures}"


def trash_label(info: DatasetInfo) -> str:
    """How a deleted dataset is listed in the trash: name and when it was deleted."""
    deleted = (info.deleted_at or "")[:16].replace("T", " ")
    return f"{info.name} · deleted {deleted or 'earlier'}"


def save_files(
    workspace: Workspace,
    files: Sequence[tuple[str, bytes]],
    analysis: Analysis,
) -> list[DatasetInfo]:
    """Save uploaded incident files with the options and report they were read with.

    ``workspace`` may be a :class:`~crisismap.guarded.GuardedWorkspace`: then the save is
    checked against the member's role and logged under their name.
    """
    return [
        workspace.save_dataset(
            name,
            data,
            kind="incidents",
            filename=name,
            options=dict(analysis.parameters),
            report_summary=analysis.report.summary() if len(files) == 1 else {},
        )
        for name, data in files
    ]


# ----------------------------------------------------------------------------- report


def mapping_table(report: Report) -> pd.DataFrame:
    """Field → column rows (per file when several files were combined)."""
    rows = []
    for key, value in report.mapping.items():
        if isinstance(value, dict):
            rows += [{"file": key, "field": f, "column": c} for f, c in value.items()]
        else:
            rows.append({"file": "", "field": key, "column": value})
    if report.category_separator:  # how the category column was split, and why (in the notes)
        rows.append(
            {"file": "", "field": "category separator", "column": report.category_separator}
        )
    return pd.DataFrame(rows, columns=["file", "field", "column"])


def category_notes(report: Report) -> list[str]:
    """Why the category column was split as it was (one sentence per file)."""
    return [n for n in report.notes if "Category labels" in n or "Kobo choice names" in n]


def flag_notes(report: Report) -> list[str]:
    """How many records are not approved / not verified (when the file says)."""
    return [n for n in report.notes if "records are not approved" in n or "not verified" in n]


def flag_filters(analysis: Analysis) -> list[str]:
    """The approval flags the records carry (``approved``, ``verified``): the filters offered."""
    return [f for f in ("approved", "verified") if f in analysis.records.columns]


def problem_counts(report: Report) -> pd.DataFrame:
    """Problems grouped by kind, most frequent first."""
    rows = [
        {"problem": code, "severity": sev, "records": n} for (code, sev), n in report.counts.items()
    ]
    frame = pd.DataFrame(rows, columns=["problem", "severity", "records"])
    return frame.sort_values(["severity", "records"], ascending=[True, False]).reset_index(
        drop=True
    )


def problem_table(report: Report) -> pd.DataFrame:
    """Every listed problem with its line and column (capped by the report's limit)."""
    return pd.DataFrame([p.to_dict() for p in report.problems], columns=PROBLEM_FIELDS)


def rejected_csv(analysis: Analysis) -> bytes:
    """The rejected records with their reasons, safe to open in a spreadsheet."""
    return to_csv_bytes(analysis.rejected)


def rejected_export(analysis: Analysis) -> ExportItem:
    """The validation report's download: rejected records with reasons (internal)."""
    return ExportItem(
        "Rejected records with reasons (CSV)",
        "SENSITIVE_rejected_records.csv",
        "text/csv",
        lambda: rejected_csv(analysis),
    )


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

    def records(self, limit: int = MAX_LISTED_RECORDS) -> pd.DataFrame:
        """The records behind the map (the drilled region, the period shown), newest
        first, at most ``limit``; for members who may see record-level data."""
        if self.make_records is None:
            return pd.DataFrame()
        return self.make_records(limit)

    @property
    def level(self) -> int:
        return self.view.level

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
    figures = views.region_totals(levels, level, selected)
    before = _previous_period(analysis, view, period)
    if before is not None:  # the tooltip's change against the period before
        label, p_start, p_end = before
        earlier = views.select(
            levels, level=level, **{**map_filters, "start": p_start, "end": p_end}
        )
        previous = views.region_totals(levels, level, earlier)["incidents"]
        figures = figures.assign(
            change=figures["incidents"] - previous.reindex(figures.index).fillna(0).astype(int)
        )
        figures.attrs["change_against"] = label
    regions_frame = _regions_frame(analysis, level, figures, bool(filters["regions"]))
    points = _sample_points(analysis.records, selected.rows, max_points)
    rows = selected.rows
    drill_name = _region_name(analysis, drill, drill_level) if drill else None
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
    series = (
        _top_categories(series)
        if by_category
        else series.assign(category="all incidents (each once)")
    )[["period", "category", "incidents"]]
    top = figures.join(regions_frame.set_index("code")[["name"]]).reset_index()
    top = top.sort_values(["incidents", "name"], ascending=[False, True]).head(TOP_REGIONS)
    top = top[top["incidents"] > 0][["name", "region_code", "incidents", "victims"]]
    measure = pipeline.victims_measure(analysis)
    if not measure.reported:  # "not reported", not 0
        top = top.assign(victims=measure.show(None))
    top = top.rename(columns={"victims": measure.label.lower()})
    total = len(selected.rows)
    when = f"in {period}" if period else "over all periods"
    scope = f"{when} in {drill_name}" if drill_name else when
    return Page(
        view=view,
        title=f"Incidents per admin-{level} region {when}",
        caption=(
            f"{total:,} incidents {scope}; map points show {len(points):,} of "
            f"{total:,}. Region figures, chart and tables count all of them."
        ),
        regions=regions_frame,
        points=points,
        total_points=total,
        series=series.reset_index(drop=True),
        series_title=f"Incidents per {unit.value}" + (f" in {drill_name}" if drill_name else ""),
        top_regions=top.reset_index(drop=True),
        drill_name=drill_name,
        make_summary=partial(pipeline.summarize, analysis, view),
        victims=measure,
        make_records=partial(_records_table, analysis, rows, measure),
    )


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
    frame = _main_area(analysis, frame)
    if "change" in frame:
        frame.attrs["change_against"] = figures.attrs.get("change_against")
    return frame


def _main_area(analysis: Analysis, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Regions of the countries the data is about, plus any other region with incidents.

    A single stray point in a neighbouring country should not paint that whole
    country's regions as zeros on the map (the figures still count it).
    """
    if "country" not in regions or regions["country"].nunique() <= 1:
        return regions
    main = _main_countries(analysis)
    keep = regions["country"].isin(main) | (regions["incidents"] > 0)
    return regions[keep] if keep.any() else regions


def _day(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def _records_table(
    analysis: Analysis, rows: np.ndarray, measure: VictimsMeasure, limit: int
) -> pd.DataFrame:
    """The selected records, newest first, with the columns an officer reads."""
    records = analysis.records
    order = rows[np.argsort(-records["date"].to_numpy()[rows].astype("int64"), kind="stable")]
    cols = ["id", "date", "category", "victims", "description", "lat", "lon"]
    out = records.iloc[order[:limit]].reindex(columns=cols)
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
    out = records[[c for c in cols if c in records]].iloc[rows].reindex(columns=cols)
    out["date"] = pd.to_datetime(out["date"]).dt.date.astype(str)
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
    names = frame.loc[frame["code"] == code, "name"]
    return str(names.iloc[0]) if len(names) else code


def can_drill(analysis: Analysis, level: int, code: str) -> bool:
    """A region can be drilled into when a finer level exists."""
    found = _level_of(analysis, code)
    return found is not None and found + 1 in analysis.boundaries.levels


def clicked_region(result: dict[str, Any] | None) -> str | None:
    """The region code of the polygon last clicked in the map, if any."""
    feature = (result or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    code = props.get("code")
    return str(code) if code and code not in (OUTSIDE_CODE, IMPRECISE_CODE) else None


# ----------------------------------------------------------------------------- exports


@dataclass(frozen=True)
class ExportItem:
    """One download: built only when asked (``make``), so reruns stay fast."""

    label: str
    filename: str
    mime: str
    make: Callable[[], bytes]


_MIMES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def export_time_limit() -> float | None:
    """Seconds a view's export may take on this server (``$CRISISMAP_EXPORT_TIME_LIMIT``,
    default 120; 0: no limit)."""
    return prepared.export_time_limit()


def exports_ready(
    analysis: Analysis, page: Page, *, public: bool = True, k: int = 5, ledger: Any = None
) -> bool:
    """The view's figures are prepared: its downloads are quick."""
    view = _public_view(analysis, page.view, public)
    figures = prepared.cached_figures(analysis, view, public=public, k=k, ledger=ledger)
    return figures is not None


def protecting_sentence(page: Page, *, public: bool = True, k: int = 5) -> str:
    """What the status says while the view's figures are prepared."""
    return prepared.protecting_sentence(page.view, public=public, k=k, incidents=page.total_points)


def _public_view(analysis: Analysis, view: View, public: bool) -> View:
    """A public export covers whole periods: the date range widens to them (the default
    range, every record, is the whole span) — crisismap.releases.public_view."""
    from crisismap import releases

    return releases.public_view(analysis, view) if public else view


def view_trends(analysis: Analysis, view: View, *, baseline: int) -> Any:
    """The view's rising / falling regions (exact figures, like the map), remembered on
    the user's own analysis per view and baseline."""
    from crisismap import trends

    settings = trends.TrendSettings(baseline=int(baseline))
    return analysis.memo(
        ("trends", view, settings),
        lambda: trends.view_trends(analysis, view, public=False, settings=settings),
    )


def release_ledger(workspace: Any) -> Any:
    """The workspace's release ledger: public exports of the same data stay consistent
    with each other, whoever makes them and in whatever session."""
    from crisismap import releases

    return releases.Ledger.beside(workspace)


def waiting_sentence(elapsed: float, limit: float | None) -> str:
    """How long it has worked, and when it will stop."""
    stop = f" (it stops at {limit:g} s)" if limit else ""
    return f"Working for {elapsed:.0f} s{stop}. Cancel stops it and keeps the page usable."


def prepare_exports(
    analysis: Analysis,
    page: Page,
    *,
    public: bool = True,
    k: int = 5,
    on_wait: Callable[[float], None] | None = None,
    ledger: Any = None,
) -> None:
    """Compute (once) the figures every download of the view is written from.

    Stops after :func:`export_time_limit` seconds with a
    :class:`~crisismap.errors.TimeLimitError` that says what to do, or as soon as
    ``on_wait`` raises (Streamlit does when the user presses Cancel or the server stops).
    """
    prepared.view_figures(
        analysis,
        _public_view(analysis, page.view, public),
        public=public,
        k=k,
        time_limit=export_time_limit(),
        on_wait=on_wait,
        ledger=ledger,
    )


# Incident points the report bundle may carry (see crisismap.report.view_points).
POINT_CHOICES = {
    "none": "No incident points",
    "displace": "Points displaced 0.5-5 km (kept in their region)",
    "round": "Points rounded to 2 decimals (about 1 km)",
}


def point_masking(choice: str) -> Any:
    """The :class:`crisismap.publish.Masking` of a :data:`POINT_CHOICES` key (None: no points)."""
    from crisismap import publish

    if choice == "displace":
        return publish.Masking(radius_m=5_000, min_radius_m=500)
    if choice == "round":
        return publish.Masking(method="round", decimals=2)
    return None


def generated_id_warning(analysis: Analysis) -> str | None:
    """The warning for records keyed on generated ids (None when every record has its id)."""
    from crisismap import report

    ids = analysis.records["id"].astype("str") if "id" in analysis.records else None
    generated = 0 if ids is None else int(ids.str.startswith("gen-").sum())
    return report.id_warning(generated, len(analysis.records)) if generated else None


def exports(
    analysis: Analysis,
    page: Page,
    *,
    public: bool = True,
    k: int = 5,
    masking: Any = None,
    secret: Callable[[], bytes | None] | None = None,
    ledger: Any = None,
) -> list[ExportItem]:
    """Downloads for the current view, built only when clicked.

    Public (the default): figures from the dataset's protected publication grid (k of 2
    or more), allow-listed columns (crisismap.publish), and the report bundle, whose
    manifest names the uploads only by a fingerprint keyed with the workspace secret.
    Internal: the full summary, the rejected records and a bundle, every file name
    starting ``SENSITIVE_``. ``masking`` adds masked points to the bundle; ``secret``
    gives the workspace's secret when the bundle is built (not before: only on a click).
    Every file is written from the view's one set of figures, computed once
    (crisismap.prepared).
    """
    from crisismap import publish, report

    refusal = publish.public_k_refusal(k, option="k") if public else None
    if refusal:
        raise InvalidValueError(refusal)

    view = _public_view(analysis, page.view, public)

    def made() -> dict[str, Any]:
        return dict(
            public=public, k=k, title=page.title, time_limit=export_time_limit(), ledger=ledger
        )

    def figure_file(name: str) -> bytes:
        return prepared.figure_files(analysis, view, only=name, **made())[name]

    stem = f"crisismap_admin{view.level}_{view.period.value}"
    items = [
        ExportItem("Summary (CSV)", f"{stem}.csv", _MIMES["csv"], lambda: figure_file("cells.csv")),
        ExportItem(
            "Summary (XLSX)", f"{stem}.xlsx", _MIMES["xlsx"], lambda: figure_file("figures.xlsx")
        ),
        ExportItem(
            "Regions (GeoJSON)",
            f"{stem}.geojson",
            _MIMES["geojson"],
            lambda: figure_file("regions.geojson"),
        ),
        ExportItem(
            "Report bundle (ZIP)",
            report.bundle_filename(level=view.level, period=view.period, public=public),
            "application/zip",
            lambda: prepared.bundle(
                analysis,
                view,
                masking=masking,
                secret=secret() if secret is not None else None,
                **made(),
            ),
        ),
    ]
    if not public:
        items.append(
            ExportItem(
                "Rejected records (CSV)",
                "rejected_records.csv",
                "text/csv",
                lambda: rejected_csv(analysis),
            )
        )
    return [
        ExportItem(
            item.label,
            publish.export_filename(item.filename, public)
            if not item.filename.startswith(publish.SENSITIVE_PREFIX)
            else item.filename,
            item.mime,
            item.make,
        )
        for item in items
    ]
