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
import os
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from crisismap import access, aggregate, pipeline, prepared
from crisismap.access import Access, Mode, TeamsConfig
from crisismap.boundaries import BoundarySet, load_boundaries, read_boundary_bytes
from crisismap.errors import InputError, InvalidValueError
from crisismap.export import to_csv_bytes
from crisismap.pipeline import Analysis
from crisismap.problems import PROBLEM_FIELDS, Report
from crisismap.records import PRESETS, read_csv_bytes
from crisismap.schema import IMPRECISE_CODE, IMPRECISE_PERIOD, OUTSIDE_CODE, View
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
HEADER_SNIFF_BYTES = 64 * 1024


# ----------------------------------------------------------------------------- inputs


def load_bundled() -> BoundarySet:
    """The bundled world admin-0/admin-1 (public data; the app may share it)."""
    return load_boundaries("world")


def read_uploaded_boundaries(
    data: bytes, filename: str, keep_unnamed_overlaps: bool = False
) -> BoundarySet:
    """A user's boundary upload (COD-AB, geoBoundaries...), checked for safety.

    Prepared once and kept in ``<data dir>/cache`` (public geometry, keyed by the bytes),
    so the same file opens in milliseconds in every later session and server process.
    Unnamed polygons overlapping named regions are left out unless kept.
    """
    return read_boundary_bytes(
        data,
        filename,
        cache_dir=default_data_dir() / "cache",
        keep_unnamed_overlaps=keep_unnamed_overlaps,
    )


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
) -> Page:
    """Everything the dashboard shows for one view, from one analysis.

    ``period`` (a label of ``view.period``) narrows the map and top-regions table to
    that period; the chart and the export keep every period of the view. ``drill``
    (a region code) shows that region's sub-regions and its own time series.
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
    regions_frame = _regions_frame(analysis, level, figures, bool(filters["regions"]))
    points = _sample_points(analysis.records, selected.rows, max_points)
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
    series = views.time_series(series_rows, period=unit, start=start, end=end)
    series = series[series["period"] != IMPRECISE_PERIOD][["period", "category", "incidents"]]
    top = figures.join(regions_frame.set_index("code")[["name"]]).reset_index()
    top = top.sort_values(["incidents", "name"], ascending=[False, True]).head(TOP_REGIONS)
    top = top[top["incidents"] > 0][["name", "region_code", "incidents", "victims"]]
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
    )


def _regions_frame(
    analysis: Analysis, level: int, figures: pd.DataFrame, filtered: bool
) -> gpd.GeoDataFrame:
    """Display geometry with the view's figures (regions outside a region filter left out)."""
    shown = pipeline.display_regions(analysis, level)
    if filtered:
        shown = shown[shown["code"].isin(figures.index)]
    frame = shown.merge(figures, how="left", left_on="code", right_index=True)
    frame[["incidents", "victims"]] = frame[["incidents", "victims"]].fillna(0)
    return _main_area(analysis, frame)


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


# ----------------------------------------------------------------------------- sign-in


def teams_file() -> Path:
    """The teams file this server reads (``$CRISISMAP_TEAMS_FILE`` or the data directory)."""
    return access.teams_file(default_data_dir())


def _teams_configured() -> bool:
    """A teams file is named in the environment or lies in the data directory."""
    return bool(os.environ.get(access.TEAMS_FILE_ENV, "").strip()) or teams_file().exists()


def app_mode(address: str | None) -> Mode:
    """Local (the README's command) or team mode for a server bound to ``address``."""
    return access.mode_for(address, _teams_configured())


def load_teams() -> tuple[TeamsConfig | None, str | None]:
    """The teams file and None, or None and why it cannot be used (None, None: no file)."""
    if not _teams_configured():
        return None, None
    try:
        return TeamsConfig.load(teams_file()), None
    except InputError as exc:
        return None, str(exc)


def team_access(
    *,
    auth: Mapping[str, Any] | None,
    claims: Mapping[str, Any] | None,
    chosen: str | None,
    now: dt.datetime | None = None,
) -> Access:
    """What this team-mode session may do now (see :func:`crisismap.access.decide`)."""
    config, error = load_teams()
    return access.decide(
        config=config, config_error=error, auth=auth, claims=claims, chosen=chosen, now=now
    )


def enter_scope(state: MutableMapping[str, Any], who: Access, keep: Sequence[str] = ()) -> bool:
    """Forget this session's data when its user or team changed; True if it did.

    A member of two teams must not carry team A's opened datasets, analysis or uploads
    into team B's page, exports or audit log.
    """
    scope = (who.actor, who.team, who.signed_in_at)
    if state.get("_scope") == scope:
        return False
    for key in [k for k in state if k not in keep]:
        del state[key]
    state["_scope"] = scope
    return True
