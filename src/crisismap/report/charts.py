"""The PDF's images: the map and the time-series chart drawn by matplotlib, and the map as
PNG for the dashboard's download.

No browser and no network: the regions are drawn from the display geometry with the
published figures (suppressed regions hatched), classed by the web map's classifier.
PNGs carry no metadata, so the same figures give the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from crisismap import basemap, bilingual, pipeline
from crisismap.display import classify
from crisismap.escape import matplotlib_text
from crisismap.i18n import _, format_number
from crisismap.pipeline import Analysis
from crisismap.report.figures import MARK, Figures, display_name
from crisismap.report.typeset import matplotlib_fonts
from crisismap.schema import IMPRECISE_PERIOD

MAP_DPI = 200
SEA, LAND, WATER, BORDER = "#dce9f3", "#f4f2ec", "#6a9fcb", "#8c7f73"
PLACE_LABELS = 10  # the largest places in view, named on the PDF map


def _mpl_text(value: Any) -> str:
    """A code or label as matplotlib text (see :func:`crisismap.escape.matplotlib_text`).
    In logical order: matplotlib (3.11, libraqm) shapes Arabic and orders it itself."""
    return matplotlib_text(display_name(value))


def _picture(fig: Any) -> Any:
    """The figure drawn at :data:`MAP_DPI` as a PIL image (RGB), and closed.

    The PDF embeds these pixels: encoding a PNG for ReportLab to decode again cost the
    brief 0.1 s per report."""
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=MAP_DPI)
    width = int(fig.get_figwidth() * MAP_DPI)
    plt.close(fig)
    pixels = buffer.getvalue()
    height = len(pixels) // (4 * width)
    if width * height * 4 != len(pixels):
        raise ValueError(f"matplotlib drew {len(pixels)} bytes, not {width} pixels wide")
    return Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1).convert("RGB")


def _png(picture: Any) -> tuple[bytes, tuple[int, int]]:
    """A picture as PNG bytes (no metadata: the same figures give the same bytes)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue(), picture.size


def _map_regions(analysis: Analysis, figures: Figures) -> Any:
    """Display geometry with the published figures, limited to the countries of the data."""
    shapes = pipeline.display_regions(analysis, figures.level)
    table = figures.regions.set_index("region_code")[["incidents", "suppressed"]]
    frame = shapes.merge(table, how="left", left_on="code", right_index=True)
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    active = frame["suppressed"] | (frame["incidents"].fillna(0) > 0)
    if "country" in frame and frame["country"].nunique() > 1:
        main = pipeline.main_countries(analysis)
        keep = frame["country"].isin(main) | active
        frame = frame[keep] if keep.any() else frame
    if figures.view.get("regions"):
        frame = frame[frame["code"].isin(figures.regions["region_code"])]
    return frame


def _classes(values: np.ndarray, n: int = 5) -> list[float]:
    """Upper bounds of the published non-zero figures' classes: the web map's classifier."""
    return list(classify(values, n).bounds)


def _extent(frame: Any) -> np.ndarray:
    """The map's extent (minx, miny, maxx, maxy): the regions drawn with a 4 % margin."""
    if not len(frame):
        return np.array([-180.0, -60.0, 180.0, 80.0])
    minx, miny, maxx, maxy = frame.total_bounds
    pad = max(maxx - minx, maxy - miny, 0.1) * 0.04
    return np.array([minx - pad, miny - pad, maxx + pad, maxy + pad])


def _basemap_under(ax: Any, extent: np.ndarray) -> Any:
    """Sea, land and lakes under the regions; returns the rivers and borders for over them."""
    from matplotlib.patches import Rectangle

    minx, miny, maxx, maxy = extent
    ax.add_patch(Rectangle((minx, miny), maxx - minx, maxy - miny, facecolor=SEA, edgecolor="none"))
    physical = basemap.physical_in(extent)
    land = physical[physical["kind"] == "land"]
    if len(land):
        land.plot(ax=ax, color=LAND, edgecolor="none", linewidth=0)
    return physical


def _basemap_over(ax: Any, physical: Any) -> None:
    """Lakes, rivers and country borders over the regions, thin and not filled."""
    lakes = physical[physical["kind"] == "lakes"]
    if len(lakes):
        lakes.plot(ax=ax, color="#b7d2ea", edgecolor=WATER, linewidth=0.3)
    rivers = physical[physical["kind"] == "rivers"]
    if len(rivers):
        rivers.plot(ax=ax, color=WATER, linewidth=0.6)
    countries = physical[physical["kind"] == "countries"]
    if len(countries):
        countries.boundary.plot(ax=ax, color=BORDER, linewidth=0.5, linestyle=(0, (3, 2)))


def map_places(extent: np.ndarray, limit: int = PLACE_LABELS) -> Any:
    """The largest places inside ``extent``, none too close to a larger one to be read."""
    chosen = basemap.select_places(basemap.load_places(), extent, pad=0, limit=limit * 20)
    spacing = max(extent[2] - extent[0], extent[3] - extent[1]) * 0.06
    kept: list[int] = []
    lon, lat = chosen["lon"].to_numpy(float), chosen["lat"].to_numpy(float)
    for i in range(len(chosen)):
        if len(kept) == limit:
            break
        if all(abs(lon[i] - lon[j]) > spacing or abs(lat[i] - lat[j]) > spacing for j in kept):
            kept.append(i)
    return chosen.iloc[kept]


def _label_places(ax: Any, extent: np.ndarray) -> None:
    """The largest places in view: a dot and the name (GeoNames text, escaped)."""
    import matplotlib.patheffects as effects

    halo = [effects.withStroke(linewidth=2.2, foreground="white")]
    east = extent[0] + 0.75 * (extent[2] - extent[0])  # names east of it read westwards
    for place in map_places(extent).itertuples(index=False):
        ax.plot(place.lon, place.lat, "o", markersize=2.6, color="#222222", zorder=5)
        name = matplotlib_text(str(place.name))
        ax.text(
            place.lon,
            place.lat,
            f"{name} " if place.lon > east else f" {name}",
            fontsize=6.5,
            fontweight="bold" if place.capital else "normal",
            color="#222222",
            ha="right" if place.lon > east else "left",
            va="center",
            zorder=6,
            path_effects=halo,
            clip_on=True,
        )


def map_png(analysis: Analysis, figures: Figures) -> tuple[bytes, tuple[int, int]]:
    """The map as PNG bytes and its size in pixels."""
    return _png(map_picture(analysis, figures))


def map_picture(analysis: Analysis, figures: Figures) -> Any:
    """The map of the published figures as a PIL image (see :func:`_picture`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(matplotlib_fonts()):
        return _map_picture(analysis, figures)


def _map_picture(analysis: Analysis, figures: Figures) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    frame = _map_regions(analysis, figures)
    published = frame[~frame["suppressed"]]
    values = published["incidents"].fillna(0).to_numpy(float)
    bounds = _classes(values)
    cmap = plt.get_cmap("YlOrRd")
    shades = [cmap(0.25 + 0.7 * i / max(1, len(bounds) - 1)) for i in range(len(bounds))]
    fig, ax = plt.subplots(figsize=(8, 5.6))
    # geopandas' plot asks the canvas to redraw after every layer, and Agg draws at once:
    # a dozen full renders (ticks and all) before the one savefig needs
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    ax.set_axis_off()
    extent = _extent(frame)
    physical = _basemap_under(ax, extent)
    zero = published[published["incidents"].fillna(0) == 0]
    if len(zero):
        zero.plot(ax=ax, color="#f7f7f7", edgecolor="#9e9e9e", linewidth=0.4)
    handles, low = [], float(values[values > 0].min()) if (values > 0).any() else 0.0
    for i, upper in enumerate(bounds):
        lower_edge = bounds[i - 1] if i else -np.inf
        part = published[(published["incidents"] > lower_edge) & (published["incidents"] <= upper)]
        part = part[part["incidents"] > 0]
        if len(part):
            part.plot(ax=ax, color=shades[i], edgecolor="#6e6e6e", linewidth=0.4)
        start = low if i == 0 else bounds[i - 1] + 1
        label = (
            format_number(round(start))
            if start == upper
            else f"{format_number(round(start))} - {format_number(round(upper))}"
        )
        handles.append(Patch(facecolor=shades[i], edgecolor="#6e6e6e", label=label))
    hidden = frame[frame["suppressed"]]
    if len(hidden):
        hidden.plot(ax=ax, color="#d9d9d9", edgecolor="#6e6e6e", hatch="////", linewidth=0.4)
    _basemap_over(ax, physical)
    _label_places(ax, extent)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    if len(zero):
        handles.insert(0, Patch(facecolor="#f7f7f7", edgecolor="#9e9e9e", label="0"))
    if len(hidden):
        handles.append(
            Patch(
                facecolor="#d9d9d9",
                edgecolor="#6e6e6e",
                hatch="////",
                label=_mpl_text(_("suppressed ({mark})").format(mark=MARK)),
            )
        )
    ax.set_axis_off()
    ax.legend(
        handles=handles,
        title=_mpl_text(_("Incidents")),
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=9,
        title_fontsize=10,
    )
    ax.text(
        0.0,
        -0.01,
        _mpl_text(
            _("Boundaries: {boundaries} · Basemap: {basemap}").format(
                boundaries=analysis.boundaries.name, basemap=basemap.ATTRIBUTION
            )
        ),
        transform=ax.transAxes,
        fontsize=7,
        color="#555555",
        ha="left",
        va="top",
    )
    fig.tight_layout()
    return _picture(fig)


def chart_picture(figures: Figures) -> Any:
    """The time series of the published figures as a PIL image (see :func:`_picture`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(matplotlib_fonts()):
        return _chart_picture(figures)


def _chart_picture(figures: Figures) -> Any:
    import matplotlib.pyplot as plt

    series = figures.series[figures.series["period"] != IMPRECISE_PERIOD]
    series = bilingual.displayed(series)  # bilingual labels as the user chose to see them
    periods = list(dict.fromkeys(series["period"]))
    x = np.arange(len(periods))
    fig, ax = plt.subplots(figsize=(8, 3.4))
    colours = plt.get_cmap("tab10")
    marked = False
    for i, (category, part) in enumerate(series.groupby("category", sort=True)):
        part = part.set_index("period").reindex(periods)
        y = part["incidents"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hide = part["suppressed"].fillna(False).to_numpy(bool)
        ax.plot(
            x,
            np.where(hide, np.nan, y),
            marker="o",
            markersize=2.5,
            linewidth=1.4,
            color=colours(i % 10),
            label=_mpl_text(category),
        )
        if hide.any():
            ax.plot(
                x[hide],
                np.zeros(hide.sum()),
                linestyle="none",
                marker="x",
                markersize=4,
                color=colours(i % 10),
            )
            marked = True
    step = max(1, len(periods) // 12)
    ax.set_xticks(
        x[::step], [_mpl_text(p) for p in periods[::step]], rotation=45, ha="right", fontsize=8
    )
    ax.set_ylabel(_mpl_text(_("Incidents")))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    title = _mpl_text(_("{mark} on the axis: suppressed").format(mark=MARK)) if marked else None
    if series.empty:
        ax.text(
            0.5, 0.5, _mpl_text(_("No incidents in this view")), transform=ax.transAxes, ha="center"
        )
    else:
        ax.legend(
            fontsize=8,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            title=title,
            title_fontsize=7,
        )
    fig.tight_layout()
    return _picture(fig)
