"""Folium layers for the dashboard map — the only module that imports folium.

Builders return a ``folium.Map`` and never save or render it (the app hands it to
``st_folium``). Three rules hold for everything built here:

* **Offline**: no tile layer unless the caller asks for a web basemap, and every
  script and stylesheet points at the copies the app serves itself
  (``static/vendor``, see ``scripts/vendor_static.py``), never at a CDN.
* **Escaped** (:mod:`crisismap.escape`): folium does not escape popups or tooltips, so
  every user string is passed through ``html_text`` before it reaches the page:
  HTML-escaped, and its braces written as character references. branca renders each
  element's script once more as a Jinja template, so a ``{{ ... }}`` left in a popup or a
  region name would run as Python on the server (``{{ cycler.__init__.__globals__.os... }}``).
  Data reaches the page only through ``js_data``: one JSON text in a script string literal
  with ``< > & ' { }`` written as ``\\uXXXX`` escapes, so it can neither close the script
  nor open a template expression.
* **Light**: whatever the number of incidents, the page carries aggregated figures
  per region, the regions as TopoJSON (each shared border once, coordinates on a
  ~11 m grid, cached per geometry) and at most the caller's cap of points as compact
  rows whose popups the browser assembles; the map says "N of M shown".
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from importlib import resources
from typing import Any, NamedTuple

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement, Template
from folium.elements import JSCSSMixin
from folium.map import Layer

from crisismap import basemap as basemap_data
from crisismap.display import ZERO_COLOUR, Classes, classify, topology
from crisismap.escape import html_text, html_texts, js_data, js_string
from crisismap.i18n import N_, _, direction, format_number, ngettext
from crisismap.schema import VictimsMeasure

RATE = "rate"  # incidents per 100,000 people (crisismap.page computes the column)
NO_POPULATION = N_("no population figure")
NO_POPULATION_COLOUR = "#bdbdbd"  # hatch-free grey, darker than the zero colour

DEFAULT_ASSET_BASE = "/app/static/vendor"
WEB_BASEMAPS = {
    "OpenStreetMap": "OpenStreetMap",
    "CartoDB positron": "CartoDB positron",
}
DESCRIPTION_LIMIT = 400  # characters of a description shown in a popup
# From this zoom (a town's scale) the points are shown one by one: clustering builds a
# grid per zoom level, and the levels above it took three quarters of the 50-90 ms that
# clustering 3,000 points cost chromium on every period step.
UNCLUSTERED_ZOOM = 12
DESCRIPTION_BUDGET = 300_000  # characters of descriptions in one map (many points: cut more)
TOPOLOGY_CACHE_SIZE = 8


def _asset(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}"


def _offline_map(
    location: list[float], zoom: int, asset_base: str, basemap: str | None
) -> folium.Map:
    fmap = folium.Map(
        location=location,
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    # Without a tile layer Leaflet has no maxZoom, and marker clustering refuses to start.
    fmap.options.update(max_zoom=18, min_zoom=1)
    fmap.default_js = [("leaflet", _asset(asset_base, "leaflet@1.9.3/dist/leaflet.js"))]
    fmap.default_css = [("leaflet_css", _asset(asset_base, "leaflet@1.9.3/dist/leaflet.css"))]
    image_path = json.dumps(_asset(asset_base, "leaflet@1.9.3/dist/images/"))
    fmap.get_root().script.add_child(Element(f"L.Icon.Default.imagePath = {image_path};"))
    if basemap:
        if basemap not in WEB_BASEMAPS:
            raise ValueError(
                f"Unknown basemap {basemap!r}: expected one of {', '.join(WEB_BASEMAPS)} or None."
            )
        name = _("{basemap} (web)").format(basemap=basemap)
        folium.TileLayer(WEB_BASEMAPS[basemap], name=name).add_to(fmap)
    return fmap


class _Raw(Element):
    """Text added to the page as it is (branca would read an Element's text as a template)."""

    def __init__(self, content: str) -> None:
        super().__init__()
        self.content = content

    def render(self, **kwargs: Any) -> str:
        return self.content


_NO_MACROS = Template("")
_SCRIPTS = resources.files("crisismap") / "mapjs"


def _script(name: str) -> Template:
    """The script macro kept in ``mapjs/<name>.js.jinja`` (the browser's half of a layer)."""
    text = (_SCRIPTS / f"{name}.js.jinja").read_text(encoding="utf-8")
    return Template("{% macro script(this, kwargs) %}\n" + text + "\n{% endmacro %}\n")


class _DataLayer(JSCSSMixin, Layer):
    """A layer whose script carries data: put in the page once, never re-read by Jinja.

    branca reads every element's rendered script again as a Jinja template; over a
    megabyte of data that pass cost more than building the map, and data should meet no
    template at all (it is escaped for one anyway, see :func:`js_data`).
    """

    def render(self, **kwargs: Any) -> None:
        script = self._template.module.script(self, kwargs)
        self.get_root().script.add_child(_Raw(script), name=self.get_name())
        template, self._template = self._template, _NO_MACROS
        try:  # links, the addTo line and children, as for any layer; not the script again
            super().render(**kwargs)
        finally:
            self._template = template


# ----------------------------------------------------------------------------- regions


# Process-wide caches of public data only (boundaries' shapes, bundled places), never a
# record: every user's views over the same regions share them.
_topologies: OrderedDict[Any, str] = OrderedDict()
_basemap_data: OrderedDict[Any, str] = OrderedDict()  # a map's places: every period step's
_caches_lock = threading.Lock()


def _kept(cache: OrderedDict[Any, str], key: Any, make: Callable[[], str], size: int) -> str:
    """``make()``, kept in ``cache`` among its ``size`` latest (public data only)."""
    with _caches_lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = make()
    with _caches_lock:
        cache[key] = value
        while len(cache) > size:
            cache.popitem(last=False)
    return value


def _topology_literal(geometries: np.ndarray) -> str:
    """:func:`topology` as a script string literal, cached on the geometry itself.

    The key is a digest of the display geometry (the boundaries, never incident data),
    so every view over the same regions reuses it.
    """
    digest = hashlib.blake2b(b"".join(shapely.to_wkb(geometries)), digest_size=20).hexdigest()
    return _kept(_topologies, digest, lambda: js_string(topology(geometries)), TOPOLOGY_CACHE_SIZE)


_REGIONS = _script("regions")


class _Regions(_DataLayer):
    """The choropleth: regions from a cached TopoJSON, figures per view."""

    _template = _REGIONS

    def __init__(self, topology_literal: str, shown: str, bounds: np.ndarray, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "Regions"
        self.topology = topology_literal
        self.shown = shown
        self._bounds = bounds

    def _get_self_bounds(self) -> list[list[float | None]]:
        if self._bounds is None:
            return [[None, None], [None, None]]
        minx, miny, maxx, maxy = (float(b) for b in self._bounds)
        return [[miny, minx], [maxy, maxx]]


def choropleth_layer(
    regions: gpd.GeoDataFrame,
    *,
    value: str = "incidents",
    name: str = N_("Incidents per region"),
    asset_base: str = DEFAULT_ASSET_BASE,
    victims: VictimsMeasure | None = None,
) -> tuple[_Regions, Classes]:
    """Regions coloured by ``value`` with an escaped tooltip (name, code, incidents, victims).

    ``regions`` carries display geometry (see ``display.simplify_for_display``),
    ``code``, ``name``, ``incidents`` and ``victims``.
    """
    values = regions[value].to_numpy(dtype=float, na_value=np.nan)
    classes = classify(values)
    fill = classes.index(values)
    if value == RATE:  # no population figure: a colour of its own, never the zero colour
        fill = np.where(np.isnan(values), len(classes.colours), fill)
    geoms = regions.geometry.to_numpy()
    shown = {
        "code": [None if pd.isna(c) else str(c) for c in regions["code"].tolist()],
        "label": [
            list(pair)
            for pair in zip(
                html_texts(regions["name"].tolist()),
                html_texts(regions["code"].tolist()),
                strict=True,
            )
        ],
        "incidents": _whole(regions["incidents"]),
        "victims": _whole(regions["victims"])
        if victims is None or victims.reported
        else [_("not reported")] * len(regions),
        "vlabel": html_texts([_(victims.label) if victims else _("Victims")])[0],
        "change": _whole(regions["change"]) if "change" in regions else None,
        "rate": html_texts([_rate_text(r) for r in regions[RATE].tolist()])
        if RATE in regions
        else None,
        "change_label": html_texts(
            [
                _("Change vs {period}").format(period=regions.attrs["change_against"])
                if regions.attrs.get("change_against")
                else _("Change vs the period before")
            ]
        )[0],
        "words": {
            key: html_text(_(word))
            for key, word in (
                ("region", N_("Region")),
                ("code", N_("Code")),
                ("incidents", N_("Incidents")),
                ("trend", N_("Trend")),
                ("rate", N_("Per 100,000 people")),
            )
        },
        "dir": direction(),
        "fill": fill.tolist(),
        "palette": [ZERO_COLOUR, *classes.colours, NO_POPULATION_COLOUR],
        # rising / falling regions (crisismap.trends) outlined: no second copy of the shapes
        "trend": [_trend_outline(str(t)) for t in regions["trend"].tolist()]
        if "trend" in regions
        else None,
    }
    bounds = shapely.total_bounds(geoms) if len(geoms) else None
    layer = _Regions(_topology_literal(geoms), js_data(shown), bounds, _(name))
    layer.default_js = [
        (
            "topojson-client",
            _asset(asset_base, "topojson-client@3.1.0/dist/topojson-client.min.js"),
        )
    ]
    return layer, classes


def _rate_text(rate: float) -> str:
    """A rate as the tooltip shows it (one decimal), or "no population figure"."""
    if rate is None or not np.isfinite(rate):
        return _(NO_POPULATION)
    return format_number(round(float(rate), 1))


def _whole(column: pd.Series) -> list[int]:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.rint(np.nan_to_num(values)).astype(np.int64).tolist()


# ----------------------------------------------------------------------------- points

_POINTS = _script("points")


class _Points(_DataLayer):
    """Clustered incident points: compact rows (in the view); the browser builds each popup
    on opening."""

    _template = _POINTS

    def __init__(self, data: str, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "Points"
        self.data = data
        self.options = f"{{disableClusteringAtZoom: {int(UNCLUSTERED_ZOOM)}}}"


def point_rows(points: pd.DataFrame) -> dict[str, Any]:
    """The points as compact rows: ``[lat, lon, date, category index, victims,
    description, id]`` with every text HTML-escaped, plus the list of categories.

    Descriptions are cut to :data:`DESCRIPTION_LIMIT` characters, or fewer when the
    points together would carry more than :data:`DESCRIPTION_BUDGET` (a cut ends in …).
    """
    limit = max(80, min(DESCRIPTION_LIMIT, DESCRIPTION_BUDGET // max(len(points), 1)))
    codes, labels = pd.factorize(points["category"].fillna(""))  # escaped once per label
    victims = pd.to_numeric(points["victims"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    columns = zip(
        np.round(points["lat"].to_numpy(dtype=float), 5).tolist(),
        np.round(points["lon"].to_numpy(dtype=float), 5).tolist(),
        html_texts(points["date"]),
        codes.tolist(),
        [None if np.isnan(v) else (int(v) if v.is_integer() else round(v, 2)) for v in victims],
        html_texts(points["description"], limit),
        html_texts(points["id"]),
        strict=True,
    )
    return {
        "categories": html_texts([str(label) for label in labels]),
        "rows": [list(r) for r in columns],
    }


def points_layer(
    points: pd.DataFrame,
    asset_base: str = DEFAULT_ASSET_BASE,
    victims: VictimsMeasure | None = None,
) -> _Points:
    """Clustered incident points with escaped popups (date, category, victims, description)."""
    rows = point_rows(points) if len(points) else {"categories": [], "rows": []}
    rows["vlabel"] = html_text(_(victims.label) if victims else _("Victims"))
    rows["idlabel"] = html_text(_("id"))
    rows["dir"] = direction()
    layer = _Points(js_data(rows), name=_("Incident points"))
    layer.default_js = [
        (
            "markerclusterjs",
            _asset(asset_base, "leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js"),
        )
    ]
    layer.default_css = [
        (
            "markerclustercss",
            _asset(asset_base, "leaflet.markercluster@1.5.3/dist/MarkerCluster.css"),
        ),
        (
            "markerclusterdefaultcss",
            _asset(asset_base, "leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css"),
        ),
    ]
    return layer


_HEAT = _script("heat")


class _Heat(_DataLayer):
    """A heatmap of the view's points (the page carries them once, in the view)."""

    _template = _HEAT

    def __init__(self, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "Heat"


def heat_layer(asset_base: str = DEFAULT_ASSET_BASE) -> _Heat:
    """A heatmap of the view's points (hidden by default)."""
    layer = _Heat(name=_("Heatmap"))
    layer.default_js = [
        ("leaflet-heat.js", _asset(asset_base, "leaflet.heat@0.2.0/dist/leaflet-heat.js"))
    ]
    return layer


# ----------------------------------------------------------------------------- basemap

_BASEMAP = _script("basemap")

_BASEMAP_CSS = """<style>
.crisismap-place { white-space: nowrap; font: 11px/1.2 sans-serif; color: #333; }
.crisismap-place .dot { display: inline-block; width: 5px; height: 5px; border-radius: 50%;
  background: #333; margin-right: 3px; vertical-align: middle; }
.crisismap-place .name { vertical-align: middle; text-shadow: 0 0 2px #fff, 0 0 2px #fff,
  0 0 3px #fff; }
.crisismap-place.capital { font-weight: bold; font-size: 12px; }
.crisismap-place.capital .dot { width: 7px; height: 7px; background: #000;
  border: 1px solid #fff; }
</style>"""


class _Basemap(_DataLayer):
    """The offline basemap: physical layers fetched from the app, place names by zoom."""

    _template = _BASEMAP

    def __init__(self, places: str, label_limit: int) -> None:
        super().__init__(name=_("Basemap (offline)"), overlay=True, control=True, show=True)
        self._name = "Basemap"
        self.places = places
        self.label_limit = int(label_limit)

    def render(self, **kwargs: Any) -> None:
        self.get_root().header.add_child(_Raw(_BASEMAP_CSS), name="crisismap_basemap_css")
        super().render(**kwargs)


def place_rows(places: pd.DataFrame) -> list[list[Any]]:
    """Places as compact rows ``[lat, lon, escaped name, min zoom, capital]``, largest first."""
    return [
        list(row)
        for row in zip(
            np.round(places["lat"].to_numpy(float), 4).tolist(),
            np.round(places["lon"].to_numpy(float), 4).tolist(),
            html_texts(places["name"].tolist()),
            places["min_zoom"].astype(int).tolist(),
            places["capital"].astype(int).tolist(),
            strict=True,
        )
    ]


_place_rows: list[Any] = []  # [(places, their rows)]: the bundled places, escaped once


def _all_place_rows(places: pd.DataFrame) -> list[list[Any]]:
    """:func:`place_rows` of every bundled place, made once per process (public data)."""
    with _caches_lock:
        if not _place_rows or _place_rows[0][0] is not places:
            _place_rows[:] = [(places, place_rows(places))]
        return _place_rows[0][1]


def basemap_layer(
    bounds: Any,
    *,
    physical: bool = True,
    asset_base: str = DEFAULT_ASSET_BASE,
    physical_url: str = basemap_data.PHYSICAL_URL,
    label_limit: int = 120,
) -> _Basemap:
    """The offline basemap for a view of ``bounds`` (minx, miny, maxx, maxy).

    Land, lakes, rivers and borders are fetched by the browser from ``physical_url`` (the
    app serves them; ``physical=False`` leaves them out, e.g. under a web basemap); the
    places near ``bounds`` travel in the page, at most ``label_limit`` labels at a time.
    """
    attribution = html_text(_(basemap_data.ATTRIBUTION))
    url = physical_url if physical else None

    def make() -> str:
        places = basemap_data.load_places()
        rows = _all_place_rows(places)
        positions = basemap_data.place_positions(places, bounds)
        return js_data(
            {"attribution": attribution, "physical": url, "rows": [rows[k] for k in positions]}
        )

    key = (tuple(float(b) for b in bounds), url, attribution)  # kept per map's extent
    layer = _Basemap(_kept(_basemap_data, key, make, TOPOLOGY_CACHE_SIZE), label_limit)
    layer.default_js = [
        (
            "topojson-client",
            _asset(asset_base, "topojson-client@3.1.0/dist/topojson-client.min.js"),
        )
    ]
    return layer


# ----------------------------------------------------------------------------- legend

_LEGEND = Template(
    """
{% macro html(this, kwargs) %}
<details open class="crisismap-legend" dir="{{ this.dir }}" style="position:absolute;
     bottom:28px; right:8px;
     z-index:9999; background:rgba(255,255,255,0.9); padding:4px 6px; border:1px solid #999;
     border-radius:4px; font:11px/1.3 sans-serif; max-width:210px;">
  <summary style="cursor:pointer; font-size:10px; color:#555;">{{ this.summary }}</summary>
  <div class="crisismap-legend-body">{{ this.body }}</div>
</details>
{% endmacro %}
"""
)


# Outline colour and tooltip word per trend status (ColorBrewer RdBu ends)
TREND_OUTLINES = {"rising": ("#b2182b", N_("rising")), "falling": ("#2166ac", N_("falling"))}
CLASS_METHODS = (N_("unique values"), N_("natural breaks (Fisher-Jenks)"))  # display.classify


def _trend_outline(status: str) -> list[str] | None:
    """The outline colour and the tooltip's word (in the user's language) of a trend."""
    found = TREND_OUTLINES.get(status)
    return None if found is None else [found[0], html_text(_(found[1]))]


class _Legend(MacroElement):
    """A plain-HTML legend (branca colormaps fetch d3 from a CDN); text is escaped."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "CrisismapLegend"
        self._template = _LEGEND
        self.body = body
        self.dir = direction()
        self.summary = html_text(_("legend"))


def legend_html(
    classes: Classes, *, title: str, shown: int, total: int, no_population: bool = False
) -> str:
    """Legend body: title, class swatches, and the "N of M incidents shown" line.

    ``no_population``: the classes are rates (bounds with one decimal), and a swatch
    says which regions have no population figure.
    """
    rows = [f"<b>{html_text(title)}</b>"]
    rows.append(
        f'<div><span style="background:{ZERO_COLOUR};display:inline-block;width:14px;'
        f'height:10px;border:1px solid #999"></span> 0</div>'
    )
    lower = 0.0
    for bound, colour in zip(classes.bounds, classes.colours, strict=True):
        low, high = format_number(round(lower + 1)), format_number(round(bound))
        label = low if bound == lower + 1 else f"{low} – {high}"
        if bound < lower + 1:
            label = high
        if no_population:  # rates: "0.4 – 2.5", the upper bound included
            label = f"{format_number(round(lower, 1))} – {format_number(round(bound, 1))}"
        rows.append(
            f'<div><span style="background:{colour};display:inline-block;width:14px;'
            f'height:10px;border:1px solid #999"></span> {html_text(label)}</div>'
        )
        lower = bound
    if no_population:
        rows.append(
            f'<div><span style="background:{NO_POPULATION_COLOUR};display:inline-block;'
            f'width:14px;height:10px;border:1px solid #999"></span> '
            f"{html_text(_(NO_POPULATION))}</div>"
        )
    if classes.method != "none":
        rows.append(f"<small>{html_text(_(classes.method))}</small>")
    said = ngettext(
        "{shown} of {total} incident shown as points; region figures count all of them",
        "{shown} of {total} incidents shown as points; region figures count all of them",
        total,
    ).format(shown=format_number(shown), total=format_number(total))
    rows.append(f'<div class="crisismap-shown"><small>{html_text(said)}</small></div>')
    return "".join(rows)


# ----------------------------------------------------------------------------- the map


def _view_bounds(regions: gpd.GeoDataFrame, points: pd.DataFrame) -> np.ndarray:
    """Where to look (minx, miny, maxx, maxy): the regions shown (the countries the data
    is about, or the drilled region's sub-regions), so the first view shows the whole
    country and a filter keeps the frame; without regions, where most points are.

    Points decide only without regions: their 1st-99th percentiles keep one stray or
    swapped point from zooming the map out to a whole continent.
    """
    if len(regions):
        return regions.total_bounds
    if len(points) >= 2:
        lon = np.nanpercentile(points["lon"].to_numpy(float), [1, 99])
        lat = np.nanpercentile(points["lat"].to_numpy(float), [1, 99])
        pad = max(lon[1] - lon[0], lat[1] - lat[0], 0.05) * 0.05
        return np.array([lon[0] - pad, lat[0] - pad, lon[1] + pad, lat[1] + pad])
    return np.array([-180.0, -60.0, 180.0, 75.0])


class _View(_DataLayer):
    """One view's figures, points and legend, put into the map's layers in place.

    streamlit-folium re-sends it alone when only the view changes (a period step): its
    ``feature_group_to_add`` runs this script in the map already drawn, so the shapes,
    the basemap and the reader's zoom stay. It is a feature group only by name (that
    argument's contract); it draws nothing itself.
    """

    _template = _script("view")

    def __init__(self, data: str) -> None:
        super().__init__(name="view", overlay=True, control=False, show=False)
        self._name = "FeatureGroup"  # streamlit-folium adds it as feature_group_<n>
        self.data = data


class LiveMap(NamedTuple):
    """The map as two parts: ``base`` changes with the shapes, the level, the language and
    the layers on offer; ``view`` with the figures shown (see :func:`build_live_map`)."""

    base: folium.Map
    view: _View


def _wgs84(crs: Any) -> bool:
    """Whether ``crs`` is EPSG:4326 (or unset), asked of pyproj once per definition: a new
    thread's first pyproj call sets up its own PROJ context, and Streamlit runs every
    rerun in a new thread (28 ms of each period step)."""
    if crs is None:
        return True
    found = _wgs84_definitions.get(crs.srs)
    if found is None:
        if len(_wgs84_definitions) > 64:
            _wgs84_definitions.clear()
        found = crs.srs.upper() == "EPSG:4326" or crs.to_epsg() == 4326
        _wgs84_definitions[crs.srs] = found
    return found


_wgs84_definitions: dict[str, bool] = {}  # CRS definitions (no data): is it EPSG:4326?


def build_map(
    regions: gpd.GeoDataFrame,
    points: pd.DataFrame,
    **options: Any,
) -> folium.Map:
    """The dashboard map as one page: :func:`build_live_map`'s base with its view in it."""
    live = build_live_map(regions, points, **options)
    live.view.add_to(live.base)
    return live.base


def build_live_map(
    regions: gpd.GeoDataFrame,
    points: pd.DataFrame,
    *,
    total_points: int,
    title: str = N_("Incidents per region"),
    basemap: str | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    heatmap: bool = True,
    victims: VictimsMeasure | None = None,
    value: str = "incidents",
    offline_basemap: bool = True,
    always_points: bool = False,
) -> LiveMap:
    """The dashboard map: choropleth + clustered points + heatmap + legend + layer switch,
    as a base and a view (:class:`LiveMap`).

    The base's script carries no figure of the view (its legend starts with this view's,
    for the first paint): two periods of the same regions give the same script, so the app
    keeps the map drawn and sends the view alone. The points layers are
    in the base whenever ``always_points`` or there are points (a period without any
    keeps the same base).

    ``offline_basemap`` adds land, water, rivers, borders and place names served by the app
    (:func:`basemap_layer`); under a web ``basemap`` only the place names.

    ``regions`` (EPSG:4326, display-simplified) carries ``code``, ``name``, ``incidents``,
    ``victims``; ``points`` (already capped) carries ``id``, ``lat``, ``lon``, ``date``,
    ``category``, ``victims``, ``description``; ``total_points`` is the uncapped count.
    ``victims`` names what the victims figures count (tooltips say "Fatalities", or
    "not reported" when the file has no such column). ``value``: what colours the
    regions, ``incidents``, ``victims`` or ``rate`` (incidents per 100,000 people: a
    ``rate`` column, NaN where there is no population figure, drawn apart from zero).
    """
    if value not in ("incidents", "victims", RATE) or value not in regions:
        raise ValueError(
            f"regions are coloured by incidents or victims (or rate, with populations), "
            f"not {value!r}"
        )
    if not _wgs84(regions.crs):
        raise ValueError(f"regions must be EPSG:4326 for the map, got {regions.crs}")
    bounds = _view_bounds(regions, points)
    centre = [float((bounds[1] + bounds[3]) / 2), float((bounds[0] + bounds[2]) / 2)]
    fmap = _offline_map(centre, 5, asset_base, basemap)
    if offline_basemap:
        extent = regions.total_bounds if len(regions) else bounds
        basemap_layer(extent, physical=basemap is None, asset_base=asset_base).add_to(fmap)
    if value == "incidents":
        name = _("Incidents per region")
    elif value == RATE:
        name = _("Incidents per 100,000 people")
    else:
        name = _("{measure} per region").format(
            measure=_(victims.label) if victims else _("Victims")
        )
    layer, classes = choropleth_layer(
        regions, value=value, name=name, asset_base=asset_base, victims=victims
    )
    layer.add_to(fmap)
    dots = points_layer(points, asset_base, victims)
    if len(points) or always_points:
        dots.add_to(fmap)
        if heatmap:
            heat_layer(asset_base).add_to(fmap)
    fmap.fit_bounds(  # the legend folds away where it covers regions (a fixed padding for
        # it zoomed a half-width map out to a third of its size)
        [[float(bounds[1]), float(bounds[0])], [float(bounds[3]), float(bounds[2])]],
        padding_top_left=(10, 10),
        padding_bottom_right=(10, 10),
    )
    legend = legend_html(
        classes,
        title=_(title),
        shown=len(points),
        total=total_points,
        no_population=value == RATE,
    )
    _Legend(legend).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    view = _View(f"{{regions: {layer.shown}, points: {dots.data}, legend: {js_data(legend)}}}")
    return LiveMap(fmap, view)
