"""crisismap dashboard — a thin Streamlit shell over the crisismap library.

Widgets in, one library call, widgets out. Uploaded data lives in this session's
``st.session_state`` only; the only process-wide cache holds the bundled (public)
boundaries. Every user string shown here goes through Streamlit's escaped text elements;
the map escapes its own (see crisismap.layers).

Who may see and do what is decided in the library (crisismap.access: local or team mode,
sign-in, team, role); every workspace action goes through a GuardedWorkspace that checks
the role again and writes the audit log (crisismap.guarded).
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from crisismap import access, dashboard, escape, fit
from crisismap.access import Action, Mode, Step
from crisismap.errors import CrisismapError, TimeLimitError
from crisismap.guarded import GuardedWorkspace
from crisismap.layers import build_map
from crisismap.schema import DateOrder, DateRange, Period, View

ROOT = Path(__file__).resolve().parent
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"
PERIOD_UNITS = [Period.ISO_WEEK, Period.ACLED_WEEK, Period.MONTH, Period.QUARTER, Period.YEAR]

st.set_page_config(page_title="crisismap", layout="wide")


@st.cache_resource(show_spinner="Loading bundled boundaries…")
def bundled_world():
    """Public bundled boundaries: safe to share across sessions."""
    return dashboard.load_bundled()


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _session_memo(name: str, key: str, compute):
    """Memoise ``compute()`` in this session only, keyed on a content hash."""
    slot = st.session_state.setdefault("_memo", {})
    if slot.get(name, (None,))[0] != key:
        slot[name] = (key, compute())
    return slot[name][1]


def _fetch_section() -> None:
    """Fetch current boundaries: offline by default, online only on the button."""
    with st.expander("Fetch current boundaries (goes online)"):
        source = st.selectbox(
            "From",
            ["geoboundaries", "cod-ab"],
            format_func={"geoboundaries": "geoBoundaries", "cod-ab": "OCHA COD-AB (HDX)"}.get,
        )
        st.caption(escape.markdown(dashboard.fetch_notice(source)))
        iso3 = st.text_input("Country (ISO3, e.g. UKR)", max_chars=3)
        level = st.number_input("Admin levels 0 to", 0, 5, 2)
        if st.button("Fetch (goes online)", disabled=not iso3.strip()):
            try:
                with st.spinner("Fetching…"):
                    name, lines = dashboard.fetch_current(iso3, source, int(level))
            except CrisismapError as exc:
                st.error(escape.markdown(exc))
            else:
                st.session_state["boundary_set"] = name
                st.success(escape.markdown(f"Fetched {name}: chosen as the boundary set below."))
                for line in lines:
                    st.caption(escape.markdown(line))


def _say(message: fit.Message | None) -> None:
    """A library message as a warning or a caption (escaped)."""
    if message is not None:
        (st.warning if message.kind == "warning" else st.caption)(escape.markdown(message.text))


def _auth_section() -> dict | None:
    """The ``[auth]`` table of .streamlit/secrets.toml, if there is one."""
    if not st.secrets.load_if_toml_exists():
        return None
    section = st.secrets.get("auth")
    return section.to_dict() if hasattr(section, "to_dict") else section


def _gate(who: access.Access, auth: dict | None) -> None:
    """Everything a session sees before it is inside one team: then stop."""
    if who.step is Step.READY:
        return
    st.title("crisismap")
    if who.detail:
        print(f"crisismap: {who.detail}", file=sys.stderr)
    if who.step is Step.REFUSE:
        st.error(who.message)
    elif who.step is Step.SIGN_IN:
        st.info(who.message)
        st.button("Sign in", type="primary", on_click=st.login, args=(access.auth_provider(auth),))
    else:
        st.info(escape.markdown(who.message))
        if who.step is Step.CHOOSE:
            team = st.radio("Team", list(who.teams), format_func=lambda t: who.team_names[t])
            if st.button("Open this team", type="primary"):
                st.session_state.team = team
                st.rerun()
        st.button("Sign out", on_click=st.logout)
    st.stop()


# ---------------------------------------------------------------- who is here
if dashboard.app_mode(st.get_option("server.address")) is Mode.LOCAL:
    problem = access.local_request_problem(dict(st.context.headers))
    if problem:
        st.error(problem)
        st.stop()
    who = access.local_access()
else:
    auth = _auth_section()
    who = dashboard.team_access(
        auth=auth, claims=st.user.to_dict(), chosen=st.session_state.get("team")
    )
    _gate(who, auth)
dashboard.enter_scope(st.session_state, who, keep=["team"])
try:
    ws = GuardedWorkspace(dashboard.open_workspace(who.team, trash_days=who.trash_days), who)
    ws.note_sign_in(st.session_state)
except CrisismapError as exc:
    st.error(escape.markdown(exc))
    st.stop()
scope = who.team or "local"  # widget keys: a new team starts with empty widgets


def _sign_out() -> None:
    ws.note_sign_out()
    st.logout()


# ---------------------------------------------------------------- sidebar: inputs
with st.sidebar:
    if who.team is not None:
        st.caption(
            f"Signed in as {escape.markdown(who.actor)} · "
            f"{escape.markdown(who.team_names[who.team])} ({who.role})"
        )
        c1, c2 = st.columns(2)
        c1.button("Sign out", on_click=_sign_out)
        if len(who.teams) > 1:
            c2.button("Switch team", on_click=lambda: st.session_state.pop("team", None))
    st.header("1 · Incidents")
    uploads = None
    if ws.may(Action.UPLOAD):
        uploads = st.file_uploader(
            "Incident CSV files",
            type=["csv", "tsv", "txt"],
            accept_multiple_files=True,
            key=f"incidents-{scope}",
        )
    try:
        saved = ws.list_datasets("incidents")
    except CrisismapError as exc:
        st.error(escape.markdown(exc))
        saved = []
    # a link's view (the query string), read once when the session opens
    link = st.session_state.setdefault(
        "_link", {k: st.query_params.get_all(k) for k in dashboard.QUERY_KEYS}
    )
    if not st.session_state.get("_link_datasets_done"):
        st.session_state["_link_datasets_done"] = True
        wanted = dashboard.datasets_from_query(link, [d.id for d in saved])
        if wanted:
            st.session_state[f"opened-{scope}"] = [d for d in saved if d.id in wanted]
    opened = st.multiselect(
        "Saved datasets (team workspace)",
        saved,
        format_func=dashboard.saved_label,
        key=f"opened-{scope}",
    )
    uploaded = [(u.name, u.getvalue()) for u in uploads or []]
    ws.note_uploads(
        [(u.file_id, data) for u, (_, data) in zip(uploads or [], uploaded, strict=True)],
        st.session_state,
    )
    # What the files are, without hashing their bytes on every rerun: an upload's id is
    # new for each upload, a saved dataset is named by its SHA-256.
    identities = [f"upload:{u.file_id}:{u.size}:{u.name}" for u in uploads or []]
    held = st.session_state.setdefault("_saved_bytes", {})  # read once per session
    for stale in set(held) - {d.id for d in opened}:
        del held[stale]
    try:
        for d in opened:
            if d.id not in held:
                held[d.id] = ws.get_bytes(d.id)
        files = uploaded + [(d.filename, held[d.id]) for d in opened]
        identities += [f"saved:{d.sha256}:{d.filename}" for d in opened]
    except CrisismapError as exc:
        st.error(escape.markdown(exc))
        files = uploaded
    if not files:
        files = [(DEMO.name, DEMO.read_bytes())]
        identities = [f"demo:{DEMO.name}"]
        st.caption("Showing the **synthetic demo file** (no real person in it).")

    with st.expander("Columns and dates", expanded=False):
        preset = st.selectbox("Preset", dashboard.PRESET_CHOICES, index=0)
        date_order = st.radio(
            "Ambiguous dates (03/04/2024)",
            [d.value for d in DateOrder],
            format_func=dashboard.DATE_ORDER_LABELS.get,
            horizontal=True,
        )
        headers = dashboard.headers_of(files)
        overrides = {}
        for field in dashboard.OVERRIDABLE_FIELDS:
            choice = st.selectbox(f"{field} column", ["(detected)"] + headers, key=f"map_{field}")
            if choice != "(detected)":
                overrides[field] = choice
        category_separator = st.selectbox(
            "Multi-label categories",
            list(dashboard.CATEGORY_SEPARATOR_LABELS),
            format_func=dashboard.CATEGORY_SEPARATOR_LABELS.get,
        )
        date_range_choice = st.radio(
            "Records dated over several days",
            [d.value for d in DateRange],
            format_func=fit.DATE_RANGE_LABELS.get,
            help="UCDP and others date some events over weeks or months. By default they count "
            "in a period only when the whole range lies in it, else as 'date not attributable'.",
        )

    st.header("2 · Boundaries")
    boundary_upload = None
    if ws.may(Action.UPLOAD):
        boundary_upload = st.file_uploader(
            "Your boundaries (COD-AB / geoBoundaries: GeoJSON, GeoPackage, zipped Shapefile, "
            "GeoParquet, TopoJSON)",
            type=["geojson", "json", "gpkg", "zip", "parquet", "topojson", "gz"],
            key=f"boundaries-{scope}",
        )
    if boundary_upload is not None:
        ws.note_uploads(
            [(boundary_upload.file_id, boundary_upload.getvalue())],
            st.session_state,
            kind="boundaries",
        )
    if ws.may(Action.UPLOAD):
        _fetch_section()
    fetched = dashboard.fetched_choices()
    boundary_set = st.selectbox(
        "Boundary set" + (" (an upload above takes precedence)" if boundary_upload else ""),
        ["world", *fetched],
        format_func=lambda name: fetched.get(name, "Bundled world (Natural Earth)"),
        key="boundary_set",
        help="Sets fetched into this workspace work offline.",
    )
    snap_m = st.number_input(
        "Snap points outside regions within (m)",
        0,
        50_000,
        value=None,
        step=500,
        placeholder="the boundaries' default",
        help="Empty: the boundaries' own default (2,000 m for the bundled world set, whose "
        "coastline is generalised; none for your own boundaries). 0 turns snapping off.",
    )
    keep_unnamed = boundary_upload is not None and st.checkbox(
        "Keep unnamed polygons that overlap named regions",
        value=False,
        help="The boundary checks leave such polygons out of the join by default.",
    )
    fix_swapped = st.checkbox("Swap coordinates detected as swapped", value=False)
    basemaps = ["None (offline)"] + dashboard.WEB_BASEMAPS
    linked_basemap = (link.get("basemap") or [None])[0]
    basemap = st.selectbox(
        "Basemap",
        basemaps,
        index=basemaps.index(linked_basemap) if linked_basemap in basemaps else 0,
        help="A web basemap sends the area you view to the tile provider.",
    )
    offline_basemap = st.checkbox(
        "Land, rivers and place names (offline)",
        value=(link.get("places") or ["on"])[0] != "off",
        help="Natural Earth and GeoNames, served by this app: nothing leaves the machine.",
    )

# ---------------------------------------------------------------- analysis (per session)
try:
    if boundary_upload is not None:
        bdata = boundary_upload.getvalue()
        boundaries = _session_memo(
            "boundaries",
            _digest(bdata, boundary_upload.name, str(keep_unnamed)),
            lambda: dashboard.read_uploaded_boundaries(
                bdata, boundary_upload.name, keep_unnamed_overlaps=keep_unnamed
            ),
        )
    elif boundary_set != "world":
        boundaries = _session_memo(
            "boundaries",
            _digest(boundary_set, fetched.get(boundary_set, "")),
            lambda: dashboard.load_fetched(boundary_set),
        )
    else:
        boundaries = bundled_world()
    options = dict(
        preset=None if preset == "auto" else preset,
        overrides=overrides,
        date_order=date_order,
        category_separator=category_separator,
        snap_distance_m=None if snap_m is None else float(snap_m),
        date_range=date_range_choice,
        fix_swapped=fix_swapped,
    )
    key = _digest(
        *identities,
        repr(sorted(options.items())),
        boundaries.name,
        boundaries.sha256 or "",
    )
    analysis = _session_memo(
        "analysis", key, lambda: dashboard.analyse_files(files, boundaries, **options)
    )
except CrisismapError as exc:
    st.error(escape.markdown(exc))
    st.stop()

# ---------------------------------------------------------------- workspace actions
sources = [f"upload:{name}" for name, _ in uploaded] + [d.id for d in opened]
with st.sidebar:
    try:
        if ws.may(Action.SAVE) and uploaded and st.button("Save uploads to the workspace"):
            for info in dashboard.save_files(ws, uploaded, analysis):
                verb = "was already saved as" if info.already_saved else "saved as"
                st.success(
                    f"{escape.markdown(info.filename)} {verb} “{escape.markdown(info.name)}”."
                )
        if saved and ws.may(Action.RENAME):
            with st.expander("Manage saved datasets"):
                target = st.selectbox("Dataset", saved, format_func=dashboard.saved_label)
                new_name = st.text_input("New name", value=target.name)
                if st.button("Rename") and new_name != target.name:
                    ws.rename(target.id, new_name)
                    st.rerun()
                if (
                    ws.may(Action.DELETE)
                    and st.checkbox("I want to delete this dataset")
                    and st.button("Delete (to the trash)")
                ):
                    ws.delete(target.id)
                    st.rerun()
        trashed = ws.trash() if ws.may(Action.RESTORE) else []
        if trashed:
            with st.expander(f"Trash ({len(trashed)})"):
                gone = st.selectbox("Deleted dataset", trashed, format_func=dashboard.trash_label)
                if st.button("Restore"):
                    ws.restore(gone.id)
                    st.rerun()
                if ws.may(Action.PURGE) and st.button("Purge now (overwrite the bytes)"):
                    result = ws.purge(gone.id)
                    if result.pending:
                        st.warning("Purge pending: another session is reading; it will retry.")
                    else:
                        st.rerun()
    except CrisismapError as exc:
        st.error(escape.markdown(exc))

# ---------------------------------------------------------------- validation report
report = analysis.report
st.title("crisismap")
cols = st.columns(5)
cols[0].metric("Records", f"{report.records:,}")
cols[1].metric("Accepted", f"{report.accepted:,}")
cols[2].metric("With warnings", f"{report.warned:,}")
cols[3].metric("Rejected", f"{report.rejected:,}")
cols[4].metric("Preset", report.preset or "—")
with st.expander(
    f"Validation report: {report.rejected:,} rejected, {report.warnings:,} warnings",
    expanded=report.rejected > 0 and report.accepted == 0,
):
    st.write("Column mapping used:")
    st.dataframe(dashboard.mapping_table(report), hide_index=True)
    for note in dashboard.category_notes(report) + dashboard.flag_notes(report):
        st.caption(escape.markdown(note))
    st.dataframe(dashboard.problem_counts(report), hide_index=True)
    st.dataframe(dashboard.problem_table(report), hide_index=True)
    if ws.may(Action.EXPORT_INTERNAL):
        item = ws.internal_export(dashboard.rejected_export(analysis), sources=sources)
        st.download_button(item.label, item.make, file_name=item.filename, mime=item.mime)
agreement = dashboard.agreement_table(analysis)
if len(agreement):  # the file states admin names: does it agree with the boundaries?
    with st.expander("Stated names against the boundaries"):
        st.dataframe(agreement, hide_index=True)
        if ws.may(Action.VIEW):  # signed in or local; record-level, never in public exports
            st.caption("Where they disagree: the name the file gives, the region each puts it in.")
            st.dataframe(dashboard.disagreement_table(analysis), hide_index=True)
for message in [*fit.boundary_messages(analysis), fit.outside_points(analysis).message()]:
    _say(message)
if len(analysis.conflicts):
    st.warning(
        f"{len(analysis.conflicts):,} records share an id with a record of another file but "
        "differ from it: the first file's version is counted."
    )
    st.dataframe(analysis.conflicts, hide_index=True)
if report.accepted == 0:
    st.error(
        f"0 of {report.records:,} records were accepted: nothing can be mapped. "
        "Open the validation report above to see why, fix the file or the column mapping, "
        "and upload it again."
    )
    st.stop()

# ---------------------------------------------------------------- view controls
levels = analysis.levels
bounds = dashboard.date_bounds(analysis)
linked = st.session_state.setdefault(  # the link's view, as far as this data offers it
    "_link_view", dashboard.view_from_query(link, analysis, PERIOD_UNITS)
)
if "drill" in linked and not st.session_state.get("_link_drill_done"):
    st.session_state["_link_drill_done"] = True
    st.session_state["drill"] = linked["drill"]
c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
level = c1.selectbox(
    "Admin level",
    levels,
    index=levels.index(linked.get("level", dashboard.default_level(analysis))),
    format_func=lambda n: f"admin-{n}",
)
unit = c2.selectbox(
    "Period",
    PERIOD_UNITS,
    index=PERIOD_UNITS.index(linked.get("unit", Period.MONTH)),
    format_func=lambda p: p.value,
)
date_range = c3.date_input(
    "Date range", value=linked.get("dates", bounds), min_value=bounds[0], max_value=bounds[1]
)
category_options = dashboard.categories_of(analysis)
categories = c4.multiselect(
    "Categories",
    category_options,
    default=[c for c in linked.get("categories", []) if c in category_options],
)
region_options = dashboard.region_choices(analysis, level)
region_filter = st.multiselect(
    "Regions",
    region_options,
    default=[r for r in linked.get("regions", []) if r in region_options],
    format_func=lambda c: c[1],
)
searchable = dashboard.region_search(analysis)
st.selectbox(
    "Find a region",
    [None, *searchable],
    format_func=lambda c: "type a name or code…" if c is None else searchable[c],
    key="find_region",
    on_change=lambda: st.session_state.update(drill=st.session_state.get("find_region")),
    help="Opens the region on the map (drills down into it).",
)
start, end = (
    (date_range + (date_range[0],))[:2]
    if isinstance(date_range, tuple)
    else (date_range, date_range)
)
flags = dashboard.flag_filters(analysis)  # only the approval flags the file has
approved_only = "approved" in flags and st.checkbox("Approved records only")
verified_only = "verified" in flags and st.checkbox("Verified records only")

drill = st.session_state.get("drill")
view = View.parse(
    level=level,
    period=unit,
    start=start,
    end=end,
    categories=categories,
    regions=[code for code, _ in region_filter],
    approved_only=approved_only,
    verified_only=verified_only,
)
_say(fit.unattributed(analysis, view).message(view.period.value))
periods = dashboard.period_labels(analysis, view)
pcol1, pcol2, pcol3, pcol4 = st.columns([1, 6, 1, 1])
if "period_idx" not in st.session_state:
    st.session_state.period_idx = 0
if pcol1.button("◀", help="previous period"):
    st.session_state.period_idx = max(0, st.session_state.period_idx - 1)
if pcol3.button("▶", help="next period"):
    st.session_state.period_idx = min(len(periods), st.session_state.period_idx + 1)
choices = ["All periods"] + periods
if linked.get("shown") in periods and not st.session_state.get("_link_shown_done"):
    st.session_state["_link_shown_done"] = True
    st.session_state.period_idx = choices.index(linked["shown"])
st.session_state.period_idx = min(st.session_state.period_idx, len(choices) - 1)
period = pcol2.select_slider("Show", choices, value=choices[st.session_state.period_idx])
st.session_state.period_idx = choices.index(period)
playing = pcol4.toggle("Play", help="step through the periods")

# ---------------------------------------------------------------- one library call
page = dashboard.build_view(
    analysis,
    view,
    period=None if period == "All periods" else period,
    drill=drill,
    by_category=st.session_state.get("chart_by_category", False),
)
st.query_params.from_dict(  # this view as a link (ids and choices only, never data)
    dashboard.view_query(
        view,
        datasets=[d.id for d in opened],
        drill=drill,
        shown=None if period == "All periods" else period,
        basemap=None if basemap.startswith("None") else basemap,
        places=offline_basemap,
    )
)

# ---------------------------------------------------------------- map, charts, tables
left, right = st.columns([2, 1])  # the map first: readable on a laptop screen
with left:
    if drill and dashboard.can_drill(analysis, page.level, drill):
        st.info(f"Drilled down into {escape.markdown(page.drill_name)}.")
    elif drill:
        st.info(
            f"{escape.markdown(page.drill_name)}: admin-{page.level} is the finest level of "
            "these boundaries, so the map shows this region alone (its records are below)."
        )
    if drill:
        if st.button("Back to all regions"):
            st.session_state.pop("drill", None)
            st.session_state.pop("find_region", None)
            st.rerun()
    st.caption(escape.markdown(page.caption))
    colour_by = "incidents"
    if page.victims.reported:
        colour_by = st.radio(
            "Colour regions by",
            ["incidents", "victims"],
            format_func={"incidents": "Incidents", "victims": page.victims.label}.get,
            horizontal=True,
        )
    shown_regions = page.regions
    if st.toggle("Outline regions where incidents rose or fell", key="mark_trends"):
        shown_regions = dashboard.with_trends(
            page.regions,
            dashboard.view_trends(
                analysis,
                page.view,
                baseline=int(st.session_state.get("trend_baseline", dashboard.TREND_BASELINE)),
            ),
        )
    fmap = build_map(
        shown_regions,
        page.points,
        total_points=page.total_points,
        title=page.map_title(colour_by),
        basemap=None if basemap.startswith("None") else basemap,
        victims=page.victims,
        value=colour_by,
        offline_basemap=offline_basemap,
    )
    clicked = st_folium(
        fmap,
        height=620,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        key="map",
    )
    code = dashboard.clicked_region(clicked)
    if code and code != drill:  # at the finest level: that region alone, with its records
        st.session_state.drill = code
        st.rerun()
    if page.drill_name:
        with st.expander(f"Records in {escape.markdown(page.drill_name)} ({page.total_points:,})"):
            if ws.may(Action.EXPORT_INTERNAL):
                listed = page.records()
                st.caption(
                    f"Newest first: {len(listed):,} of {page.total_points:,}. "
                    "Record-level data: for the team only."
                )
                st.dataframe(listed, hide_index=True)
            else:
                st.caption("Your role shows figures, not records.")
with right:
    st.subheader(escape.markdown(page.series_title))
    st.bar_chart(page.series, x="period", y="incidents", color="category", stack=True)
    st.toggle(
        "By category",
        key="chart_by_category",
        help="Split the bars by category: an incident with several categories counts in "
        "each, so the bars can add up to more than the incidents.",
    )
    with st.expander("Change: where incidents rose or fell"):
        baseline = st.number_input(
            "Compare with the previous periods",
            2,
            104,
            dashboard.TREND_BASELINE,
            key="trend_baseline",
        )
        change = dashboard.view_trends(analysis, page.view, baseline=int(baseline))
        st.caption(escape.markdown(change.sentence()))
        st.dataframe(change.table, hide_index=True)
    st.subheader("Top regions")
    st.dataframe(page.top_regions, hide_index=True)

# ---------------------------------------------------------------- exports
st.subheader("Export this view")
ecol1, ecol2 = st.columns([3, 1])
public = True
if ws.may(Action.EXPORT_INTERNAL):
    public = ecol1.toggle(
        "Public export: suppress figures under k incidents, drop free text, sources and ids",
        value=True,
    )
else:
    ecol1.caption("Public exports: figures under k incidents suppressed, no free text or ids.")
k = int(ecol2.number_input("k", min_value=2, max_value=50, value=5)) if public else 5
if not public:
    st.warning("Internal export: exact small counts and rejected records. SENSITIVE: team only.")
pcol1, pcol2 = st.columns([3, 2])
points = pcol1.selectbox(
    "Incident points in the report bundle",
    list(dashboard.POINT_CHOICES),
    format_func=dashboard.POINT_CHOICES.get,
    help="Public points appear only in published cells, with the period instead of the date.",
)
masking = dashboard.point_masking(points)
if masking is not None:
    # the same setting as "id column" under "Columns and dates" (one mapping, two places)
    st.session_state["points_id"] = st.session_state.get("map_id", "(detected)")
    pcol2.selectbox(
        "Id column for masked points",
        ["(detected)"] + headers,
        key="points_id",
        on_change=lambda: st.session_state.update(map_id=st.session_state["points_id"]),
        help="Each displaced point is keyed on its record's id: with the file's id column, "
        "every export puts it in the same place.",
    )
    id_warning = dashboard.generated_id_warning(analysis)
    if id_warning and masking.method == "displace":
        st.warning(escape.markdown(id_warning))
bom = pcol2.checkbox(
    "CSV for Excel",
    value=True,
    help="Start CSV files with a UTF-8 byte-order mark, so Excel shows accents right.",
)
ledger = dashboard.release_ledger(ws.workspace) if public else None
exports = ws.exports(
    dashboard.exports(
        analysis,
        page,
        public=public,
        k=k,
        masking=masking,
        secret=lambda: ws.workspace.export_secret(datetime.now(UTC)),
        ledger=ledger,
        files=files,
        bom=bom,
    ),
    public=public,
    k=k,
    view=page.view,
    sources=sources,
)
ready = dashboard.exports_ready(analysis, page, public=public, k=k, ledger=ledger)
if not ready and st.session_state.get("cancel-export"):
    st.info("Cancelled: nothing was prepared. The page is yours again.")
prepare = st.empty()
if not ready and prepare.button("Prepare the downloads of this view", type="primary"):
    cancel = st.empty()
    cancel.button("Cancel", key="cancel-export")  # pressing it reruns: the work stops
    with st.status(
        dashboard.protecting_sentence(page, public=public, k=k), expanded=True
    ) as status:
        clock = st.empty()
        try:  # the one library call; each tick of the clock lets Streamlit stop it
            dashboard.prepare_exports(
                analysis,
                page,
                public=public,
                k=k,
                ledger=ledger,
                on_wait=lambda s: clock.caption(
                    dashboard.waiting_sentence(s, dashboard.export_time_limit())
                ),
            )
            status.update(label="The downloads are ready.", state="complete")
            prepare.empty()
            ready = True
        except TimeLimitError as exc:
            status.update(label="Stopped: this view took too long.", state="error")
            st.error(escape.markdown(exc))
        except CrisismapError as exc:
            status.update(label="This view cannot be exported as it is.", state="error")
            st.error(escape.markdown(exc))
    cancel.empty()
if ready:
    ecols = st.columns(len(exports))
    for col, item in zip(ecols, exports, strict=True):
        col.download_button(item.label, item.make, file_name=item.filename, mime=item.mime)

# ---------------------------------------------------------------- team administration
if ws.may(Action.AUDIT) or ws.may(Action.MEMBERS):
    st.subheader("Team administration" if who.team else "Workspace administration")
    if ws.may(Action.AUDIT):
        with st.expander("Audit log"):
            st.dataframe(ws.audit_table(), hide_index=True)
            name, make = ws.audit_csv()
            st.download_button("Audit log (CSV)", make, file_name=name, mime="text/csv")
    if ws.may(Action.MEMBERS) and who.team is not None:
        with st.expander("Members"):
            st.dataframe(ws.members_table(dashboard.load_teams()[0]), hide_index=True)

if playing and periods:
    import time

    time.sleep(1.2)
    st.session_state.period_idx = st.session_state.period_idx % len(periods) + 1
    st.rerun()
