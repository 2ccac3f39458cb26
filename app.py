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
import time
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from crisismap import access, dashboard, escape, fit, i18n
from crisismap.access import Action, Mode, Step
from crisismap.errors import CrisismapError, TimeLimitError
from crisismap.guarded import GuardedWorkspace
from crisismap.i18n import _, format_number
from crisismap.layers import build_live_map
from crisismap.schema import DateOrder, DateRange, Period, View

ROOT = Path(__file__).resolve().parent
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"
PERIOD_UNITS = [Period.ISO_WEEK, Period.ACLED_WEEK, Period.MONTH, Period.QUARTER, Period.YEAR]

st.set_page_config(page_title="crisismap", layout="wide")
# The language before anything is drawn: this session's, else the browser's (below: remembered)
BROWSER_LANGUAGE = dashboard.browser_language(
    st.context.locale, st.context.headers.get("Accept-Language")
)
dashboard.use_language(st.session_state.get(dashboard.LANGUAGE_KEY) or BROWSER_LANGUAGE)


def _k(name: str) -> str:
    """A widget key in this language: menus whose options are shown translated are new
    widgets in a new language (Streamlit would show and send back the old words)."""
    return dashboard.keyed(name, i18n.language())


def _page_language() -> None:
    """The page's lang and direction (Arabic right to left) and Streamlit's own words."""
    style = dashboard.RTL_STYLE if i18n.is_rtl() else ""
    st.html(dashboard.page_language_script(i18n.language()) + style, unsafe_allow_javascript=True)


@st.cache_resource(show_spinner=False)
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
    with st.expander(_("Fetch current boundaries (goes online)")):
        source = st.selectbox(
            _("From"),
            ["geoboundaries", "cod-ab"],
            format_func={"geoboundaries": "geoBoundaries", "cod-ab": "OCHA COD-AB (HDX)"}.get,
        )
        st.caption(escape.markdown(dashboard.fetch_notice(source)))
        iso3 = st.text_input(_("Country (ISO3, e.g. UKR)"), max_chars=3)
        level = st.number_input(_("Admin levels 0 to"), 0, 5, 2)
        if st.button(_("Fetch (goes online)"), disabled=not iso3.strip()):
            try:
                with st.spinner(_("Fetching…")):
                    name, lines = dashboard.fetch_current(iso3, source, int(level))
            except CrisismapError as exc:
                st.error(escape.markdown(exc))
            else:
                st.session_state[_k("boundary_set")] = name
                st.success(
                    escape.markdown(
                        _("Fetched {name}: chosen as the boundary set below.").format(name=name)
                    )
                )
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
    _page_language()
    st.title("crisismap")
    if who.detail:
        print(f"crisismap: {who.detail}", file=sys.stderr)
    if who.step is Step.REFUSE:
        st.error(who.message)
    elif who.step is Step.SIGN_IN:
        st.info(who.message)
        st.button(
            _("Sign in"), type="primary", on_click=st.login, args=(access.auth_provider(auth),)
        )
    else:
        st.info(escape.markdown(who.message))
        if who.step is Step.CHOOSE:
            team = st.radio(_("Team"), list(who.teams), format_func=lambda t: who.team_names[t])
            if st.button(_("Open this team"), type="primary"):
                st.session_state.team = team
                st.rerun()
        st.button(_("Sign out"), on_click=st.logout)
    st.stop()


# ---------------------------------------------------------------- who is here
if dashboard.app_mode(st.get_option("server.address")) is Mode.LOCAL:
    problem = access.local_request_problem(dict(st.context.headers))
    if problem:
        _page_language()
        st.error(problem)
        st.stop()
    who = access.local_access()
else:
    auth = _auth_section()
    who = dashboard.team_access(
        auth=auth, claims=st.user.to_dict(), chosen=st.session_state.get("team")
    )
    _gate(who, auth)
dashboard.enter_scope(st.session_state, who, keep=["team", dashboard.LANGUAGE_KEY])
try:
    ws = GuardedWorkspace(dashboard.open_workspace(who.team, trash_days=who.trash_days), who)
    ws.note_sign_in(st.session_state)
except CrisismapError as exc:
    _page_language()
    st.error(escape.markdown(exc))
    st.stop()
scope = who.team or "local"  # widget keys: a new team starts with empty widgets
dashboard.settle_language(st.session_state, ws.workspace, who.actor, BROWSER_LANGUAGE)
_page_language()


st.session_state[dashboard.SHOWN_LANGUAGE_KEY] = i18n.language()


def _sign_out() -> None:
    ws.note_sign_out()
    st.logout()


# ---------------------------------------------------------------- sidebar: inputs
with st.sidebar:
    st.selectbox(
        _("Language"),
        dashboard.language_options(i18n.language()),
        format_func=dashboard.language_name,
        key=dashboard.LANGUAGE_KEY,
        on_change=dashboard.switch_language,
        args=(st.session_state, ws.workspace, who.actor),
    )
    if who.team is not None:
        st.caption(dashboard.signed_in_caption(who))
        c1, c2 = st.columns(2)
        c1.button(_("Sign out"), on_click=_sign_out)
        if len(who.teams) > 1:
            c2.button(_("Switch team"), on_click=lambda: st.session_state.pop("team", None))
    st.header(_("1 · Incidents"))
    uploads = None
    if ws.may(Action.UPLOAD):
        uploads = st.file_uploader(
            _("Incident CSV files"),
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
            st.session_state[_k(f"opened-{scope}")] = [d for d in saved if d.id in wanted]
    opened = st.multiselect(
        _("Saved datasets (team workspace)"),
        saved,
        format_func=dashboard.saved_label,
        key=_k(f"opened-{scope}"),
        placeholder=_("Choose options"),
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
        st.caption(_("Showing the **synthetic demo file** (no real person in it)."))

    with st.expander(_("Columns and dates"), expanded=False):
        preset = st.selectbox(
            _("Preset"), dashboard.PRESET_CHOICES, index=0, format_func=dashboard.preset_name
        )
        date_order = st.radio(
            _("Ambiguous dates (03/04/2024)"),
            [d.value for d in DateOrder],
            format_func=lambda d: _(dashboard.DATE_ORDER_LABELS[d]),
            horizontal=True,
        )
        headers = dashboard.headers_of(files)
        overrides = {}
        for field in dashboard.OVERRIDABLE_FIELDS:
            choice = st.selectbox(
                _(dashboard.FIELD_COLUMN_LABELS[field]),
                [dashboard.DETECTED] + headers,
                key=_k(f"map_{field}"),
                format_func=dashboard.column_choice_name,
            )
            if choice != dashboard.DETECTED:
                overrides[field] = choice
        category_separator = st.selectbox(
            _("Multi-label categories"),
            list(dashboard.CATEGORY_SEPARATOR_LABELS),
            format_func=lambda c: _(dashboard.CATEGORY_SEPARATOR_LABELS[c]),
        )
        date_range_choice = st.radio(
            _("Records dated over several days"),
            [d.value for d in DateRange],
            format_func=lambda d: _(fit.DATE_RANGE_LABELS[d]),
            help=_(dashboard.HELP["date_range"]),
        )

    st.header(_("2 · Boundaries"))
    boundary_upload = None
    if ws.may(Action.UPLOAD):
        boundary_upload = st.file_uploader(
            _(
                "Your boundaries (COD-AB / geoBoundaries: GeoJSON, GeoPackage, zipped "
                "Shapefile, GeoParquet, TopoJSON)"
            ),
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
        _("Boundary set (an upload above takes precedence)")
        if boundary_upload
        else _("Boundary set"),
        ["world", *fetched],
        format_func=lambda name: fetched.get(name, _("Bundled world (Natural Earth)")),
        key=_k("boundary_set"),
        help=_("Sets fetched into this workspace work offline."),
    )
    snap_m = st.number_input(
        _("Snap points outside regions within (m)"),
        0,
        50_000,
        value=None,
        step=500,
        placeholder=_("the boundaries' default"),
        help=_(dashboard.HELP["snap"]),
    )
    keep_unnamed = boundary_upload is not None and st.checkbox(
        _("Keep unnamed polygons that overlap named regions"),
        value=False,
        help=_("The boundary checks leave such polygons out of the join by default."),
    )
    fix_swapped = st.checkbox(_("Swap coordinates detected as swapped"), value=False)
    basemaps = [dashboard.NO_BASEMAP] + dashboard.WEB_BASEMAPS
    linked_basemap = (link.get("basemap") or [None])[0]
    basemap = st.selectbox(
        _("Basemap"),
        basemaps,
        index=basemaps.index(linked_basemap) if linked_basemap in basemaps else 0,
        format_func=lambda b: _(b) if b == dashboard.NO_BASEMAP else b,
        help=_("A web basemap sends the area you view to the tile provider."),
    )
    offline_basemap = st.checkbox(
        _("Land, rivers and place names (offline)"),
        value=(link.get("places") or ["on"])[0] != "off",
        help=_("Natural Earth and GeoNames, served by this app: nothing leaves the machine."),
    )

# ---------------------------------------------------------------- analysis (per session)
try:
    if boundary_upload is not None:
        bdata = boundary_upload.getvalue()
        boundaries = _session_memo(
            "boundaries",
            _digest(bdata, boundary_upload.name, str(keep_unnamed), i18n.language()),
            lambda: dashboard.read_uploaded_boundaries(
                bdata, boundary_upload.name, keep_unnamed_overlaps=keep_unnamed
            ),
        )
    elif boundary_set != "world":
        boundaries = _session_memo(
            "boundaries",
            _digest(boundary_set, fetched.get(boundary_set, ""), i18n.language()),
            lambda: dashboard.load_fetched(boundary_set),
        )
    else:
        with st.spinner(_("Loading bundled boundaries…")):
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
    key = _digest(  # the language too: the report's problem messages are written in it
        i18n.language(),
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
        if ws.may(Action.SAVE) and uploaded and st.button(_("Save uploads to the workspace")):
            for info in dashboard.save_files(ws, uploaded, analysis):
                st.success(dashboard.saved_sentence(info))
        if saved and ws.may(Action.RENAME):
            with st.expander(_("Manage saved datasets")):
                target = st.selectbox(_("Dataset"), saved, format_func=dashboard.saved_label)
                new_name = st.text_input(_("New name"), value=target.name)
                if st.button(_("Rename")) and new_name != target.name:
                    ws.rename(target.id, new_name)
                    st.rerun()
                if (
                    ws.may(Action.DELETE)
                    and st.checkbox(_("I want to delete this dataset"))
                    and st.button(_("Delete (to the trash)"))
                ):
                    ws.delete(target.id)
                    st.rerun()
        trashed = ws.trash() if ws.may(Action.RESTORE) else []
        if trashed:
            with st.expander(_("Trash ({n})").format(n=format_number(len(trashed)))):
                gone = st.selectbox(
                    _("Deleted dataset"), trashed, format_func=dashboard.trash_label
                )
                if st.button(_("Restore")):
                    ws.restore(gone.id)
                    st.rerun()
                if ws.may(Action.PURGE) and st.button(_("Purge now (overwrite the bytes)")):
                    result = ws.purge(gone.id)
                    if result.pending:
                        st.warning(_("Purge pending: another session is reading; it will retry."))
                    else:
                        st.rerun()
    except CrisismapError as exc:
        st.error(escape.markdown(exc))

# ---------------------------------------------------------------- validation report
report = analysis.report
st.title("crisismap")
cols = st.columns(5)
cols[0].metric(_("Records"), format_number(report.records))
cols[1].metric(_("Accepted"), format_number(report.accepted))
cols[2].metric(_("With warnings"), format_number(report.warned))
cols[3].metric(_("Rejected"), format_number(report.rejected))
cols[4].metric(_("Preset"), dashboard.preset_name(report.preset) if report.preset else "—")
with st.expander(
    dashboard.validation_title(report),
    expanded=report.rejected > 0 and report.accepted == 0,
):
    st.write(_("Column mapping used:"))
    st.dataframe(dashboard.on_screen(dashboard.mapping_table(report)), hide_index=True)
    for note in dashboard.category_notes(report) + dashboard.flag_notes(report):
        st.caption(escape.markdown(note))
    st.dataframe(dashboard.on_screen(dashboard.problem_counts(report)), hide_index=True)
    st.dataframe(dashboard.on_screen(dashboard.problem_table(report)), hide_index=True)
    if ws.may(Action.EXPORT_INTERNAL):
        item = ws.internal_export(dashboard.rejected_export(analysis), sources=sources)
        st.download_button(_(item.label), item.make, file_name=item.filename, mime=item.mime)
agreement = dashboard.agreement_table(analysis)
if len(agreement):  # the file states admin names: does it agree with the boundaries?
    with st.expander(_("Stated names against the boundaries")):
        st.dataframe(dashboard.on_screen(agreement), hide_index=True)
        if ws.may(Action.VIEW):  # signed in or local; record-level, never in public exports
            st.caption(
                _("Where they disagree: the name the file gives, the region each puts it in.")
            )
            st.dataframe(
                dashboard.on_screen(dashboard.disagreement_table(analysis)), hide_index=True
            )
for message in [*fit.boundary_messages(analysis), fit.outside_points(analysis).message()]:
    _say(message)
if len(analysis.conflicts):
    st.warning(dashboard.conflicts_sentence(len(analysis.conflicts)))
    st.dataframe(dashboard.on_screen(analysis.conflicts), hide_index=True)
if report.accepted == 0:
    st.error(dashboard.nothing_accepted_sentence(report.records))
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
dashboard.follow_drill(st.session_state, analysis, linked.get("level"))  # box = level shown
c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
level = c1.selectbox(
    _("Admin level"),
    levels,
    key=dashboard.LEVEL_KEY,
    format_func=dashboard.level_name,
    on_change=lambda: dashboard.leave_drill(st.session_state, _k("find_region"), keep_level=True),
)
unit = c2.selectbox(
    _("Period"),
    PERIOD_UNITS,
    index=PERIOD_UNITS.index(linked.get("unit", Period.MONTH)),
    format_func=dashboard.period_name,
)
date_range = c3.date_input(
    _("Date range"),
    value=linked.get("dates", bounds),
    min_value=bounds[0],
    max_value=bounds[1],
    format="DD/MM/YYYY" if i18n.language() not in ("en", i18n.PSEUDO) else "YYYY/MM/DD",
)
category_options = dashboard.categories_of(analysis)
categories = c4.multiselect(
    _("Categories"),
    category_options,
    default=[c for c in linked.get("categories", []) if c in category_options],
    placeholder=_("Choose options"),
    format_func=dashboard.category_shown(category_options),  # bilingual labels: one side
)
region_options = dashboard.region_choices(analysis, level)
region_filter = st.multiselect(
    _("Regions"),
    region_options,
    default=[r for r in linked.get("regions", []) if r in region_options],
    format_func=lambda c: c[1],
    placeholder=_("Choose options"),
)
searchable = dashboard.region_search(analysis)
st.selectbox(
    _("Find a region"),
    [None, *searchable],
    format_func=lambda c: _("type a name or code…") if c is None else searchable[c],
    key=_k("find_region"),
    on_change=lambda: st.session_state.update(drill=st.session_state.get(_k("find_region"))),
    help=_("Opens the region on the map (drills down into it)."),
)
start, end = (
    (date_range + (date_range[0],))[:2]
    if isinstance(date_range, tuple)
    else (date_range, date_range)
)
flags = dashboard.flag_filters(analysis)  # only the approval flags the file has
approved_only = "approved" in flags and st.checkbox(_("Approved records only"))
verified_only = "verified" in flags and st.checkbox(_("Verified records only"))

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
_say(fit.unattributed(analysis, view).message(view.period))


# ---------------------------------------------------------------- period, map, charts, tables
@st.fragment  # a period step reruns this part alone: the rest of the page stays as it is
def _shown_period() -> dashboard.Page:
    if who.team is not None and not st.user.is_logged_in:
        st.rerun(scope="app")  # signed out meanwhile: the whole page asks again
    dashboard.use_language(st.session_state[dashboard.SHOWN_LANGUAGE_KEY])  # a new thread
    periods = dashboard.period_labels(analysis, view)
    pcol1, pcol2, pcol3, pcol4 = st.columns([1, 6, 1, 1])
    back, forward = ("▶", "◀") if i18n.is_rtl() else ("◀", "▶")  # pointing the reading way
    went_back = pcol1.button(back, help=_("previous period"))
    step = int(pcol3.button(forward, help=_("next period"))) - int(went_back)
    choices = dashboard.step_period(st.session_state, periods, step, linked.get("shown"))
    period = pcol2.select_slider(
        _("Show"),
        choices,
        value=choices[st.session_state.period_idx],
        format_func=lambda p: dashboard.period_label(p, unit),
    )
    st.session_state.period_idx = choices.index(period)
    shown = None if period == dashboard.ALL_PERIODS else period
    playing = pcol4.toggle(_("Play"), help=_("step through the periods"))

    # ---------------------------------------------------------------- one library call
    page = dashboard.build_view(
        analysis,
        view,
        period=shown,
        drill=drill,
        by_category=st.session_state.get("chart_by_category", False),
    )
    st.query_params.from_dict(  # this view as a link (ids and choices only, never data)
        dashboard.view_query(
            view,
            datasets=[d.id for d in opened],
            drill=drill,
            shown=shown,
            basemap=None if basemap == dashboard.NO_BASEMAP else basemap,
            places=offline_basemap,
        )
    )

    # ---------------------------------------------------------------- map, charts, tables
    left, right = st.columns([2, 1])  # the map first: readable on a laptop screen
    with left:
        if drill:
            st.info(page.drill_sentence(dashboard.can_drill(analysis, page.level, drill)))
        if drill and st.button(_("Back to all regions")):
            dashboard.leave_drill(st.session_state, _k("find_region"))
            st.rerun()
        st.caption(escape.markdown(page.caption))
        colour_by, colour_options = "incidents", page.colour_options()  # rate: population
        if len(colour_options) > 1:
            colour_by = st.radio(
                _("Colour regions by"),
                list(colour_options),
                format_func=colour_options.get,
                horizontal=True,
            )
        shown_regions = page.regions
        if st.toggle(_("Outline regions where incidents rose or fell"), key="mark_trends"):
            shown_regions = dashboard.with_trends(
                page.regions,
                dashboard.view_trends(
                    analysis,
                    page.view,
                    baseline=int(st.session_state.get("trend_baseline", dashboard.TREND_BASELINE)),
                ),
            )
        live = build_live_map(  # a period step sends the view alone: the map stays drawn
            shown_regions,
            page.points,
            total_points=page.total_points,
            title=page.map_title(colour_by),
            basemap=None if basemap == dashboard.NO_BASEMAP else basemap,
            victims=page.victims,
            value=colour_by,
            offline_basemap=offline_basemap,
            always_points=True,
        )
        clicked = st_folium(
            live.base,
            feature_group_to_add=[live.view],
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
            listed = page.records() if ws.may(Action.EXPORT_INTERNAL) else None
            heading, caption = page.records_sentences(0 if listed is None else len(listed))
            with st.expander(heading):
                if listed is not None:
                    st.caption(caption)
                    st.dataframe(dashboard.on_screen(listed), hide_index=True)
                else:
                    st.caption(_("Your role shows figures, not records."))
    with right:
        st.subheader(escape.markdown(page.series_title))
        chart = dashboard.chart_frame(page.series)
        st.bar_chart(
            chart, x=chart.columns[0], y=chart.columns[2], color=chart.columns[1], stack=True
        )
        st.toggle(
            _("By category"),
            key="chart_by_category",
            help=_(dashboard.HELP["by_category"]),
        )
        with st.expander(_("Change: where incidents rose or fell")):
            baseline = st.number_input(
                _("Compare with the previous periods"),
                2,
                104,
                dashboard.TREND_BASELINE,
                key="trend_baseline",
            )
            change = dashboard.view_trends(analysis, page.view, baseline=int(baseline))
            st.caption(escape.markdown(change.sentence()))
            st.dataframe(dashboard.on_screen(change.table), hide_index=True)
        st.subheader(_("Top regions"))
        st.dataframe(dashboard.on_screen(page.top_regions), hide_index=True)
    if playing and periods:
        time.sleep(1.2)
        st.session_state.period_idx = st.session_state.period_idx % len(periods) + 1
        try:
            st.rerun(scope="fragment")
        except st.errors.StreamlitAPIException:  # in a full run: the whole page steps on
            st.rerun()
    return page


page = _shown_period()

# ---------------------------------------------------------------- exports
st.subheader(_("Export this view"))
ecol1, ecol2 = st.columns([3, 1])
public = True
if ws.may(Action.EXPORT_INTERNAL):
    public = ecol1.toggle(
        _("Public export: suppress figures under k incidents, drop free text, sources and ids"),
        value=True,
    )
else:
    ecol1.caption(_("Public exports: figures under k incidents suppressed, no free text or ids."))
k = int(ecol2.number_input(_("k"), min_value=2, max_value=50, value=5)) if public else 5
if not public:
    st.warning(_("Internal export: exact small counts and rejected records. SENSITIVE: team only."))
pcol1, pcol2 = st.columns([3, 2])
points = pcol1.selectbox(
    _("Incident points in the report bundle"),
    list(dashboard.POINT_CHOICES),
    format_func=lambda p: _(dashboard.POINT_CHOICES[p]),
    help=_("Public points appear only in published cells, with the period instead of the date."),
)
masking = dashboard.point_masking(points)
if masking is not None:
    # the same setting as "id column" under "Columns and dates" (one mapping, two places)
    st.session_state[_k("points_id")] = st.session_state.get(_k("map_id"), dashboard.DETECTED)
    pcol2.selectbox(
        _("Id column for masked points"),
        [dashboard.DETECTED] + headers,
        key=_k("points_id"),
        format_func=dashboard.column_choice_name,
        on_change=lambda: st.session_state.update(
            {_k("map_id"): st.session_state[_k("points_id")]}
        ),
        help=_(dashboard.HELP["points_id"]),
    )
    id_warning = dashboard.generated_id_warning(analysis)
    if id_warning and masking.method == "displace":
        st.warning(escape.markdown(id_warning))
bom = pcol2.checkbox(
    _("CSV for Excel"),
    value=True,
    help=_("Start CSV files with a UTF-8 byte-order mark, so Excel shows accents right."),
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
    st.info(_("Cancelled: nothing was prepared. The page is yours again."))
prepare = st.empty()
if not ready and prepare.button(_("Prepare the downloads of this view"), type="primary"):
    cancel = st.empty()
    cancel.button(_("Cancel"), key="cancel-export")  # pressing it reruns: the work stops
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
            status.update(label=_("The downloads are ready."), state="complete")
            prepare.empty()
            ready = True
        except TimeLimitError as exc:
            status.update(label=_("Stopped: this view took too long."), state="error")
            st.error(escape.markdown(exc))
        except CrisismapError as exc:
            status.update(label=_("This view cannot be exported as it is."), state="error")
            st.error(escape.markdown(exc))
    cancel.empty()
if ready:
    ecols = st.columns(len(exports))
    for col, item in zip(ecols, exports, strict=True):
        col.download_button(_(item.label), item.make, file_name=item.filename, mime=item.mime)

# ---------------------------------------------------------------- team administration
if ws.may(Action.AUDIT) or ws.may(Action.MEMBERS):
    st.subheader(_("Team administration") if who.team else _("Workspace administration"))
    if ws.may(Action.AUDIT):
        with st.expander(_("Audit log")):
            st.dataframe(dashboard.on_screen(ws.audit_table()), hide_index=True)
            name, make = ws.audit_csv()
            st.download_button(_("Audit log (CSV)"), make, file_name=name, mime="text/csv")
    if ws.may(Action.MEMBERS) and who.team is not None:
        with st.expander(_("Members")):
            members = ws.members_table(dashboard.load_teams()[0])
            st.dataframe(dashboard.on_screen(members), hide_index=True)
