"""View-model for the Streamlit app: everything the page shows, computed without Streamlit.

``app.py`` draws widgets, calls these functions and draws their results; keeping the
logic here means it is unit-tested like the rest of the library and the app stays a
thin shell. What a view derives from one analysis (per-record day numbers and periods,
the boundary levels that hold records, display geometry) is memoised on that Analysis
object, so it lives and dies with the user's session; the only process-wide cache holds
simplified boundary geometry, keyed by the geometry itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import geopandas as gpd
import pandas as pd

from crisismap import display, i18n, join, pipeline, prepared
from crisismap.boundaries import BoundarySet, load_boundaries, read_boundary_bytes
from crisismap.choices import (  # noqa: F401  (re-exported for app.py)
    ALL_PERIODS,
    PERIOD_NAMES,
    QUERY_KEYS,
    _main_countries,
    _memo,
    _record_views,
    _summary_levels,
    categories_of,
    category_shown,
    datasets_from_query,
    date_bounds,
    default_level,
    level_name,
    period_label,
    period_labels,
    period_name,
    region_choices,
    region_search,
    view_from_query,
    view_query,
)
from crisismap.errors import InvalidValueError
from crisismap.export import to_csv_bytes
from crisismap.i18n import N_, _, format_number, ngettext
from crisismap.page import (  # noqa: F401  (re-exported for app.py)
    CHART_CATEGORIES,
    COLUMN_LABELS,
    LEVEL_KEY,
    MAX_LISTED_RECORDS,
    MAX_MAP_POINTS,
    OTHER,
    TOP_REGIONS,
    Page,
    _sample_points,
    _top_categories,
    build_view,
    can_drill,
    chart_frame,
    clicked_region,
    follow_drill,
    leave_drill,
    on_screen,
    step_period,
)
from crisismap.pipeline import Analysis
from crisismap.problems import PROBLEM_FIELDS, Report
from crisismap.records import PRESETS, read_csv_bytes
from crisismap.records.notes import category_notes, flag_notes  # noqa: F401  (for app.py)
from crisismap.schema import View
from crisismap.session import (  # noqa: F401  (re-exported for app.py)
    LANGUAGE_KEY,
    SHOWN_LANGUAGE_KEY,
    app_mode,
    browser_language,
    carry_over,
    enter_scope,
    keyed,
    language_name,
    language_options,
    load_teams,
    page_language_script,
    remember_language,
    remembered_language,
    settle_language,
    switch_language,
    team_access,
    teams_file,
    use_language,
)
from crisismap.store import DatasetInfo, Workspace, default_data_dir

PRESET_CHOICES = ["auto", *PRESETS]
DATE_ORDER_LABELS = {
    "auto": N_("decide from the column"),
    "dmy": N_("day first (31/12/2024)"),
    "mdy": N_("month first (12/31/2024)"),
}
OVERRIDABLE_FIELDS = ["date", "lat", "lon", "coords", "category", "victims", "id", "description"]
# How multi-label categories are split: None keeps the preset's choice.
CATEGORY_SEPARATOR_LABELS = {
    None: N_("the preset's choice"),
    "auto": N_("decide from the labels (recurring labels win)"),
    "none": N_("do not split"),
    ";": N_("split on ;"),
    "|": N_("split on |"),
    ",": N_("split on ,"),
}
WEB_BASEMAPS = ["OpenStreetMap", "CartoDB positron"]
NO_BASEMAP = N_("None (offline)")
DETECTED = "(detected)"  # the column menus' first choice: the preset's detection
FIELD_COLUMN_LABELS = {
    "date": N_("date column"),
    "lat": N_("lat column"),
    "lon": N_("lon column"),
    "coords": N_("coords column"),
    "category": N_("category column"),
    "victims": N_("victims column"),
    "id": N_("id column"),
    "description": N_("description column"),
}
HELP = {  # the longer help texts of the page's widgets
    "date_range": N_(
        "UCDP and others date some events over weeks or months. By default they count in a "
        "period only when the whole range lies in it, else as 'date not attributable'."
    ),
    "snap": N_(
        "Empty: the boundaries' own default (2,000 m for the bundled world set, whose "
        "coastline is generalised; none for your own boundaries). 0 turns snapping off."
    ),
    "by_category": N_(
        "Split the bars by category: an incident with several categories counts in each, "
        "so the bars can add up to more than the incidents."
    ),
    "points_id": N_(
        "Each displaced point is keyed on its record's id: with the file's id column, every "
        "export puts it in the same place."
    ),
}
TREND_BASELINE = 8  # previous periods the Change panel compares with, until the user says
HEADER_SNIFF_BYTES = 64 * 1024


# ----------------------------------------------------------------------------- inputs


def load_bundled() -> BoundarySet:
    """The bundled world admin-0/admin-1 (public data; the app may share it)."""
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

    return _("Offline by default.") + " " + notice(source)


def fetch_current(iso3: str, source: str, level: int) -> tuple[str, list[str]]:
    """Go online (the user asked): fetch levels 0..``level``; the set's name, lines to show."""
    from crisismap.boundaries import fetch_boundaries

    done = fetch_boundaries(iso3, default_data_dir() / "cache", source=source, level=level)
    return done.fetched.name, done.summary()


def analyse_files(
    files: Sequence[tuple[str, bytes]], boundaries: BoundarySet, **options: Any
) -> Analysis:
    """Validate and join the uploaded files (see :func:`crisismap.pipeline.analyse_files`);
    the map's simplified geometry of whatever boundaries they use is kept on disk."""
    _display_geometry_on_disk()
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
        _("{accepted} of {records} accepted").format(
            accepted=format_number(counts.get("accepted", 0)),
            records=format_number(counts["records"]),
        )
        if isinstance(counts.get("records"), int)
        else ngettext("{n} byte", "{n} bytes", info.size).format(n=format_number(info.size))
    )
    return _("{name} · saved {date} · {figures}").format(
        name=info.name, date=info.created[:10], figures=figures
    )


def trash_label(info: DatasetInfo) -> str:
    """How a deleted dataset is listed in the trash: name and when it was deleted."""
    deleted = (info.deleted_at or "")[:16].replace("T", " ")
    return _("{name} · deleted {when}").format(name=info.name, when=deleted or _("earlier"))


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


def agreement_table(analysis: Analysis) -> pd.DataFrame:
    """Stated admin names against the joined regions, one row per level (counts only)."""
    summary = analysis.agreement
    if summary is None or summary.empty:
        return pd.DataFrame(columns=["level", "compared", "agree", "disagree", "agreement"])
    return pd.DataFrame(
        {
            "level": [f"admin-{n}" for n in summary["level"]],
            "compared": summary["compared"].astype("int64"),
            "agree": summary["agree"].astype("int64"),
            "disagree": summary["disagree"].astype("int64"),
            "agreement": [f"{r:.1%}" if r == r else "—" for r in summary["agreement_rate"]],
        }
    )


def disagreement_table(analysis: Analysis) -> pd.DataFrame:
    """What the file and the boundaries each say where they disagree, with counts: for
    internal views only (record-level details, never in a public export)."""
    pairs = join.disagreement_pairs(analysis.disagreements)
    return pairs.assign(level=[f"admin-{n}" for n in pairs["level"]]).rename(
        columns={
            "stated": "stated name",
            "stated_region": "region the file names",
            "boundary_region": "region of the boundaries",
        }
    )


def rejected_csv(analysis: Analysis) -> bytes:
    """The rejected records with their reasons, safe to open in a spreadsheet."""
    return to_csv_bytes(analysis.rejected)


def rejected_export(analysis: Analysis) -> ExportItem:
    """The validation report's download: rejected records with reasons (internal)."""
    return ExportItem(
        N_("Rejected records with reasons (CSV)"),
        "SENSITIVE_rejected_records.csv",
        "text/csv",
        partial(_with_bom, partial(rejected_csv, analysis)),
    )


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
    # the count is the view's only when no single period is shown (exports cover them all)
    incidents = page.total_points if page.period is None else None
    return prepared.protecting_sentence(page.view, public=public, k=k, incidents=incidents)


def _public_view(analysis: Analysis, view: View, public: bool) -> View:
    """A public export covers whole periods: the date range widens to them (the default
    range, every record, is the whole span) — crisismap.releases.public_view."""
    from crisismap import releases

    return releases.public_view(analysis, view) if public else view


def view_trends(analysis: Analysis, view: View, *, baseline: int = TREND_BASELINE) -> Any:
    """The view's rising / falling regions (exact figures, like the map), remembered on
    the user's own analysis per view and baseline."""
    from crisismap import trends

    settings = trends.TrendSettings(baseline=int(baseline))
    return analysis.memo(
        ("trends", view, settings, i18n.language()),
        lambda: trends.view_trends(analysis, view, public=False, settings=settings),
    )


def with_trends(regions: gpd.GeoDataFrame, change: Any) -> gpd.GeoDataFrame:
    """The map's regions with each one's trend status (the map outlines rising and
    falling regions)."""
    status = change.table.set_index("region_code")["status"]
    out = regions.copy()
    out["trend"] = out["code"].map(status).fillna("")
    out.attrs.update(regions.attrs)
    return out


def release_ledger(workspace: Any) -> Any:
    """The workspace's release ledger: public exports of the same data stay consistent
    with each other, whoever makes them and in whatever session."""
    from crisismap import releases

    return releases.Ledger.beside(workspace)


def waiting_sentence(elapsed: float, limit: float | None) -> str:
    """How long it has worked, and when it will stop."""
    if limit:
        return _(
            "Working for {elapsed} s (it stops at {limit} s). Cancel stops it and keeps the "
            "page usable."
        ).format(elapsed=format_number(round(elapsed)), limit=format_number(limit))
    return _("Working for {elapsed} s. Cancel stops it and keeps the page usable.").format(
        elapsed=format_number(round(elapsed))
    )


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
    "none": N_("No incident points"),
    "displace": N_("Points displaced 0.5-5 km (kept in their region)"),
    "round": N_("Points rounded to 2 decimals (about 1 km)"),
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
    files: Sequence[tuple[str, bytes]] = (),
    bom: bool = True,
) -> list[ExportItem]:
    """Downloads for the current view, built only when clicked.

    Public (the default): figures from the dataset's protected publication grid (k of 2
    or more), allow-listed columns (crisismap.publish), and the report bundle, whose
    manifest names the uploads only by a fingerprint keyed with the workspace secret.
    Internal: the full summary, the rejected records and a bundle, every file name
    starting ``SENSITIVE_``. ``masking`` adds masked points to the bundle; ``secret``
    gives the workspace's secret when the bundle is built (not before: only on a click).
    Every file is written from the view's one set of figures, computed once
    (crisismap.prepared). Internal only: the view's records with their original columns
    and regions (``files``: the uploads' bytes; crisismap.record_table). ``bom`` starts
    every CSV with a UTF-8 byte-order mark, so Excel reads accents right.
    """
    from crisismap import publish, report

    refusal = publish.public_k_refusal(k, option="k") if public else None
    if refusal:
        raise InvalidValueError(refusal)

    view = _public_view(analysis, page.view, public)

    def made() -> dict[str, Any]:
        return dict(
            public=public,
            k=k,
            title=page.export_title,
            time_limit=export_time_limit(),
            ledger=ledger,
        )

    def figure_file(name: str) -> bytes:
        return prepared.figure_files(analysis, view, only=name, **made())[name]

    stem = f"crisismap_admin{view.level}_{view.period.value}"
    items = [
        ExportItem(
            N_("Summary (CSV)"), f"{stem}.csv", _MIMES["csv"], lambda: figure_file("cells.csv")
        ),
        ExportItem(
            N_("Summary (XLSX)"),
            f"{stem}.xlsx",
            _MIMES["xlsx"],
            lambda: figure_file("figures.xlsx"),
        ),
        ExportItem(
            N_("Regions (GeoJSON)"),
            f"{stem}.geojson",
            _MIMES["geojson"],
            lambda: figure_file("regions.geojson"),
        ),
        ExportItem(
            N_("Map (PNG)"),
            f"{stem}_map.png",
            "image/png",
            lambda: prepared.map_png(
                analysis, view, public=public, k=k, time_limit=export_time_limit(), ledger=ledger
            ),
        ),
        ExportItem(
            N_("Report bundle (ZIP)"),
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
                N_("Rejected records (CSV)"),
                "rejected_records.csv",
                "text/csv",
                lambda: rejected_csv(analysis),
            )
        )
        items += _record_items(analysis, page.view, files) if files else []
    if bom:
        items = [
            replace(i, make=partial(_with_bom, i.make)) if i.mime == "text/csv" else i
            for i in items
        ]
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


def _record_items(analysis: Analysis, view: View, files: Any) -> list[ExportItem]:
    """The view's records with their original columns and regions (internal only)."""
    from crisismap import record_table as rt

    def make(fmt: str) -> bytes:
        rows = rt.view_rows(analysis, view)
        return rt.records_bytes(rt.record_table(analysis, files, rows=rows, rejected=False), fmt)

    gpkg = "application/geopackage+sqlite3"
    return [
        ExportItem(N_("Records (CSV)"), "records.csv", "text/csv", partial(make, "csv")),
        ExportItem(N_("Records (GeoPackage)"), "records.gpkg", gpkg, partial(make, "gpkg")),
    ]


def _with_bom(make: Callable[[], bytes]) -> bytes:
    from crisismap.export import with_bom

    return with_bom(make())


# ----------------------------------------------------------------------------- the page's words

ROLE_NAMES = {"viewer": N_("viewer"), "analyst": N_("analyst"), "admin": N_("admin")}
RTL_STYLE = """<style>
html[dir="rtl"] body, html[dir="rtl"] [data-testid="stSidebar"],
html[dir="rtl"] [data-testid="stMain"] { direction: rtl; text-align: right; }
html[dir="rtl"] [data-testid="stMarkdownContainer"], html[dir="rtl"] label,
html[dir="rtl"] [data-testid="stCaptionContainer"], html[dir="rtl"] h1, html[dir="rtl"] h2,
html[dir="rtl"] h3, html[dir="rtl"] summary { text-align: right; }
html[dir="rtl"] [data-testid="stVegaLiteChart"], html[dir="rtl"] [data-testid="stDataFrame"],
html[dir="rtl"] iframe { direction: ltr; }
</style>"""


def role_name(role: Any) -> str:
    return _(ROLE_NAMES.get(str(role), str(role)))


def preset_name(preset: str) -> str:
    """A column preset as the menu lists it (``auto``: detected; the others are names)."""
    return _("detect automatically") if preset == "auto" else preset


def column_choice_name(choice: str) -> str:
    return _("(detected)") if choice == DETECTED else choice


def validation_title(report: Report) -> str:
    rejected = ngettext("{n} rejected", "{n} rejected", report.rejected).format(
        n=format_number(report.rejected)
    )
    warnings = ngettext("{n} warning", "{n} warnings", report.warnings).format(
        n=format_number(report.warnings)
    )
    return _("Validation report: {rejected}, {warnings}").format(
        rejected=rejected, warnings=warnings
    )


def conflicts_sentence(n: int) -> str:
    return ngettext(
        "{n} record shares an id with a record of another file but differs from it: the "
        "first file's version is counted.",
        "{n} records share an id with a record of another file but differ from it: the "
        "first file's version is counted.",
        n,
    ).format(n=format_number(n))


def nothing_accepted_sentence(records: int) -> str:
    return ngettext(
        # English says "0 of 1 records were" (the verb follows the 0); other languages
        # decline the noun after {n}.
        "0 of {n} records were accepted: nothing can be mapped. Open the validation report "
        "above to see why, fix the file or the column mapping, and upload it again.",
        "0 of {n} records were accepted: nothing can be mapped. Open the validation report "
        "above to see why, fix the file or the column mapping, and upload it again.",
        records,
    ).format(n=format_number(records))


def signed_in_caption(who: Any) -> str:
    from crisismap.escape import markdown

    return _("Signed in as {actor} · {team} ({role})").format(
        actor=markdown(who.actor),
        team=markdown(who.team_names[who.team]),
        role=role_name(who.role),
    )


def saved_sentence(info: DatasetInfo) -> str:
    from crisismap.escape import markdown

    said = (
        _("{file} was already saved as “{name}”.")
        if info.already_saved
        else _("{file} saved as “{name}”.")
    )
    return said.format(file=markdown(info.filename), name=markdown(info.name))
