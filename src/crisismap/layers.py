"""Folium layers for the dashboard map — the only module that imports folium.

Builders return a ``folium.Map`` and never save or render it (the app hands it to
``st_folium``). Three rules hold for everything built here:

* **Offline**: no tile layer unless the caller asks for a web basemap, and every
  script and stylesheet points at the copies the app serves itself
  (``static/vendor``, see ``scripts/vendor_static.py``), never at a CDN.
* **Escaped**: folium does not escape popups or tooltips, so every user string is
  passed through :func:`text` before it reaches the page: HTML-escaped, and its braces
  written as character references. branca renders each element's script once more as
  a Jinja template, so a ``{{ ... }}`` left in a popup or a region name would run as
  Python on the server (``{{ cycler.__init__.__globals__.os... }}``).
* **Light**: the choropleth carries simplified display geometry and aggregated
  figures; points are capped by the caller and the map says "N of M shown".
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement, Template
from folium import plugins

DEFAULT_ASSET_BASE = "/app/static/vendor"
# A colour-blind-safe sequential ramp (ColorBrewer YlOrRd), zero drawn apart in grey.
RAMP = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026", "#800026", "#4d0013"]
ZERO_COLOUR = "#f0f0f0"
WEB_BASEMAPS = {
    "OpenStreetMap": "OpenStreetMap",
    "CartoDB positron": "CartoDB positron",
}


@dataclass(frozen=True)
class Classes:
    """Class breaks of the choropleth: upper bounds, one colour per class."""

    bounds: tuple[float, ...]
    colours: tuple[str, ...]
    method: str

    def colour(self, value: float) -> str:
        if not value or value <= 0 or not np.isfinite(value):
            return ZERO_COLOUR
        for bound, colour in zip(self.bounds, self.colours, strict=True):
            if value <= bound:
                return colour
        return self.colours[-1]


def classify(values: Sequence[float], k: int = 5) -> Classes:
    """Classes for incident counts: zero apart, Fisher-Jenks natural breaks on the rest.

    Counts are skewed (a few regions hold most incidents); natural breaks keep the
    extremes visible without empty classes. Few distinct values get one class each.
    """
    positive = np.asarray([v for v in values if v and v > 0 and np.isfinite(v)], dtype=float)
    if positive.size == 0:
        return Classes((), (), "none")
    distinct = np.unique(positive)
    if distinct.size <= k:
        bounds = tuple(float(v) for v in distinct)
        method = "unique values"
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Numba not installed")
            bins = mapclassify.FisherJenks(positive, k=k).bins
        bounds = tuple(float(b) for b in bins)
        method = "natural breaks (Fisher-Jenks)"
    colours = tuple(
        RAMP[round(i * (len(RAMP) - 1) / max(len(bounds) - 1, 1))] for i in range(len(bounds))
    )
    return Classes(bounds, colours, method)


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
        folium.TileLayer(WEB_BASEMAPS[basemap], name=f"{basemap} (web)").add_to(fmap)
    return fmap


def _cluster_assets(layer: MacroElement, asset_base: str) -> None:
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


def text(value: object, limit: int | None = None) -> str:
    """User text made safe for the map's HTML *and* for branca's template re-rendering.

    Missing values (None, NaN, NA) become ""; ``limit`` cuts the text before escaping.
    """
    missing = value is None or (pd.api.types.is_scalar(value) and pd.isna(value))
    raw = "" if missing else str(value)
    escaped = html.escape(raw[:limit] if limit is not None else raw)
    return escaped.replace("{", "&#123;").replace("}", "&#125;")


def _escape_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for name in columns:
        out[name] = [text(v) for v in out[name].tolist()]
    return out


def choropleth_layer(
    regions: gpd.GeoDataFrame, *, value: str = "incidents", name: str = "Incidents per region"
) -> tuple[folium.GeoJson, Classes]:
    """Regions coloured by ``value`` with an escaped tooltip (name, incidents, victims)."""
    classes = classify(regions[value].tolist())
    shown = _escape_frame(regions, ["name", "code"])
    shown["incidents"] = shown["incidents"].fillna(0).astype(int)
    shown["victims"] = shown["victims"].fillna(0).round().astype(int)
    shown["_fill"] = [classes.colour(v) for v in regions[value].fillna(0)]
    keep = ["code", "name", "incidents", "victims", "_fill", "geometry"]
    layer = folium.GeoJson(
        shown[keep],
        name=name,
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"],
            "color": "#555555",
            "weight": 0.6,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "code", "incidents", "victims"],
            aliases=["Region", "Code", "Incidents", "Victims"],
            sticky=False,
        ),
        zoom_on_click=False,
    )
    return layer, classes


def points_layer(
    points: pd.DataFrame, asset_base: str = DEFAULT_ASSET_BASE
) -> plugins.FastMarkerCluster:
    """Clustered incident points with escaped popups (date, category, victims, description)."""
    popups = []
    for row in points.itertuples(index=False):
        parts = [
            f"<b>{text(row.date)}</b>",
            text(row.category),
            f"Victims: {text(row.victims)}" if pd.notna(row.victims) else "",
            text(row.description, limit=400),
            f"<small>id {text(row.id)}</small>",
        ]
        popups.append("<br>".join(p for p in parts if p))
    data = [
        [round(float(lat), 5), round(float(lon), 5), popup]
        for lat, lon, popup in zip(points["lat"], points["lon"], popups, strict=True)
    ]
    callback = """function (row) {
        var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
            {radius: 5, color: '#08306b', weight: 1, fillColor: '#2171b5', fillOpacity: 0.8});
        marker.bindPopup(row[2], {maxWidth: 320});
        return marker;
    };"""
    layer = plugins.FastMarkerCluster(data, callback=callback, name="Incident points")
    _cluster_assets(layer, asset_base)
    return layer


def heat_layer(points: pd.DataFrame, asset_base: str = DEFAULT_ASSET_BASE) -> plugins.HeatMap:
    """A heatmap of point density (hidden by default)."""
    data = np.round(points[["lat", "lon"]].to_numpy(dtype=float), 4).tolist()
    layer = plugins.HeatMap(data, name="Heatmap", show=False, radius=12, blur=15)
    layer.default_js = [
        ("leaflet-heat.js", _asset(asset_base, "leaflet.heat@0.2.0/dist/leaflet-heat.js"))
    ]
    return layer


_LEGEND = Template(
    """
{% macro html(this, kwargs) %}
<div class="crisismap-legend" style="position:absolute; bottom:28px; right:8px; z-index:9999;
     background:rgba(255,255,255,0.9); padding:4px 6px; border:1px solid #999; border-radius:4px;
     font:11px/1.3 sans-serif; max-width:210px;">
  {{ this.body }}
</div>
{% endmacro %}
"""
)


class _Legend(MacroElement):
    """A plain-HTML legend (branca colormaps fetch d3 from a CDN); text is escaped."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "CrisismapLegend"
        self._template = _LEGEND
        self.body = body


def legend_html(classes: Classes, *, title: str, shown: int, total: int) -> str:
    """Legend body: title, class swatches, and the "N of M incidents shown" line."""
    rows = [f"<b>{text(title)}</b>"]
    rows.append(
        f'<div><span style="background:{ZERO_COLOUR};display:inline-block;width:14px;'
        f'height:10px;border:1px solid #999"></span> 0</div>'
    )
    lower = 0.0
    for bound, colour in zip(classes.bounds, classes.colours, strict=True):
        label = f"{lower + 1:,.0f}" if bound == lower + 1 else f"{lower + 1:,.0f} – {bound:,.0f}"
        if bound < lower + 1:
            label = f"{bound:,.0f}"
        rows.append(
            f'<div><span style="background:{colour};display:inline-block;width:14px;'
            f'height:10px;border:1px solid #999"></span> {text(label)}</div>'
        )
        lower = bound
    if classes.method != "none":
        rows.append(f"<small>{text(classes.method)}</small>")
    rows.append(
        f'<div class="crisismap-shown"><small>{shown:,} of {total:,} incidents shown as points; '
        "region figures count all of them</small></div>"
    )
    return "".join(rows)


def _view_bounds(regions: gpd.GeoDataFrame, points: pd.DataFrame) -> np.ndarray:
    """Where to look (minx, miny, maxx, maxy): where most points are, else the regions.

    The 1st-99th percentiles keep one stray or swapped point from zooming the map out
    to a whole continent.
    """
    if len(points) >= 2:
        lon = np.nanpercentile(points["lon"].to_numpy(float), [1, 99])
        lat = np.nanpercentile(points["lat"].to_numpy(float), [1, 99])
        pad = max(lon[1] - lon[0], lat[1] - lat[0], 0.05) * 0.05
        return np.array([lon[0] - pad, lat[0] - pad, lon[1] + pad, lat[1] + pad])
    with_data = regions[regions["incidents"] > 0] if "incidents" in regions else regions
    frame = with_data if len(with_data) else regions
    if len(frame):
        return frame.total_bounds
    return np.array([-180.0, -60.0, 180.0, 75.0])


def build_map(
    regions: gpd.GeoDataFrame,
    points: pd.DataFrame,
    *,
    total_points: int,
    title: str = "Incidents per region",
    basemap: str | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    heatmap: bool = True,
) -> folium.Map:
    """The dashboard map: choropleth + clustered points + heatmap + legend + layer switch.

    ``regions`` (EPSG:4326, display-simplified) carries ``code``, ``name``, ``incidents``,
    ``victims``; ``points`` (already capped) carries ``id``, ``lat``, ``lon``, ``date``,
    ``category``, ``victims``, ``description``; ``total_points`` is the uncapped count.
    """
    if regions.crs is not None and regions.crs.to_epsg() != 4326:
        raise ValueError(f"regions must be EPSG:4326 for the map, got {regions.crs}")
    bounds = _view_bounds(regions, points)
    centre = [float((bounds[1] + bounds[3]) / 2), float((bounds[0] + bounds[2]) / 2)]
    fmap = _offline_map(centre, 5, asset_base, basemap)
    layer, classes = choropleth_layer(regions, name="Incidents per region")
    layer.add_to(fmap)
    if len(points):
        points_layer(points, asset_base).add_to(fmap)
        if heatmap:
            heat_layer(points, asset_base).add_to(fmap)
    fmap.fit_bounds([[float(bounds[1]), float(bounds[0])], [float(bounds[3]), float(bounds[2])]])
    _Legend(legend_html(classes, title=title, shown=len(points), total=total_points)).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
