"""The report bundle: one ZIP for one view, ready to put in front of a donor or a UN mechanism.

Inside: a PDF brief (map, regional table, time series, data-quality notes, methodology,
attributions), the same figures as CSV, XLSX and GeoJSON, a README and a manifest with the
SHA-256 of every input and output, the software versions and every parameter.

* **One set of figures.** :func:`view_figures` computes the view once (through
  :func:`crisismap.pipeline.summarize`) and protects it once (:func:`crisismap.publish.suppress`);
  every file is written from that object, so the PDF, the tables and the GeoJSON cannot
  disagree. Region, period and category totals are sums of the cells (an incident with two
  categories counts in each), so a reader can check every sum.
* **Public by default.** Small counts are suppressed with their complements, only
  allow-listed columns leave, points leave only masked. Internal bundles are labelled
  sensitive in the file names, the README, the first sheet and every PDF page.
* **Reproducible.** The same inputs and parameters give byte-identical files: fixed ZIP
  timestamps and order, ReportLab's invariant mode, PNGs without metadata, a fixed XLSX
  creation date, no clock anywhere (same software versions assumed; the manifest lists them).

Nothing here reads the network or a browser: the map is drawn by matplotlib.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from crisismap import __version__, aggregate, pipeline, publish
from crisismap.display import classify
from crisismap.export import (
    features_geojson_bytes,
    manifest_bytes,
    to_csv_bytes,
    to_xlsx_bytes,
)
from crisismap.pipeline import Analysis
from crisismap.schema import (
    CATEGORY_SEPARATOR,
    IMPRECISE_CODE,
    IMPRECISE_PERIOD,
    OUTSIDE_CODE,
    Period,
    View,
)

FIXED_TIME = dt.datetime(2000, 1, 1)  # the XLSX creation date: no clock in a bundle
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MARK = "x"  # a suppressed figure in the PDF (as statistical offices print it)
MAX_TABLE_REGIONS = 400  # PDF table rows; the CSV always has every region
SERIES_COLUMNS = 6  # category columns per printed time-series table
MAX_ZERO_NAMES = 60  # regions without incidents named in the PDF (all are in regions.csv)
MAP_DPI = 200
SPECIAL_NAMES = {
    OUTSIDE_CODE: "Outside all regions",
    IMPRECISE_CODE: "Not attributable at this level",
    IMPRECISE_PERIOD: "Date not precise enough",
    aggregate.NO_CATEGORY: "(no category)",
}
FILE_NOTES = {
    "README.txt": "what is in this bundle and how to check it",
    "brief.pdf": "the brief: map, regional table, time series, notes, methodology",
    "regions.csv": "incidents and victims per region (the map and the PDF table)",
    "series.csv": "incidents and victims per period and category (the chart)",
    "periods.csv": "incidents and victims per period, all categories",
    "totals.csv": "incidents and victims per category, and the grand total",
    "cells.csv": "incidents and victims per region, period and category",
    "data_quality.csv": "records read, accepted, rejected; precision caveats",
    "problems.csv": "problems found in the input, by kind, with their record counts",
    "figures.xlsx": "all of the tables above, one sheet each, with an About sheet",
    "regions.geojson": "the regions with their figures, for GIS",
    "points.csv": "one row per incident with masked coordinates",
    "manifest.json": "SHA-256 of every input and output, versions, every parameter",
}


# ----------------------------------------------------------------------------- figures


@dataclass
class Figures:
    """Every figure one bundle publishes, already protected when ``public``."""

    public: bool
    level: int
    period: Period
    view: dict[str, Any]  # the filters, JSON-ready
    cells: pd.DataFrame  # region × period × category
    regions: pd.DataFrame  # per region (every region of the level, zeros included)
    series: pd.DataFrame  # per period × category
    periods: pd.DataFrame  # per period
    totals: pd.DataFrame  # per category, then the grand total ("all categories")
    quality: pd.DataFrame  # item, value: records read/rejected, precision caveats
    problems: pd.DataFrame  # problem, severity, records
    suppression: dict[str, Any]
    first: str  # first day covered
    last: str  # last day covered

    @property
    def grand_total(self) -> pd.Series:
        return self.totals.iloc[-1]


def view_figures(
    analysis: Analysis,
    *,
    level: int,
    period: Period | str = Period.MONTH,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    public: bool = True,
    k: int = publish.DEFAULT_K,
) -> Figures:
    """The protected figures of one view (the same filters as the dashboard's view).

    Public: cells and every published total with ``0 < incidents < k`` are suppressed,
    with complementary suppression (see :func:`crisismap.publish.suppress`), and only
    allow-listed columns are kept. Internal: the same tables, nothing suppressed.
    """
    unit = Period.parse(period)
    filters = {
        "start": start,
        "end": end,
        "categories": list(categories) if categories else None,
        "regions": list(regions) if regions else None,
    }
    summary = pipeline.summarize(analysis, View.parse(level, unit, **filters))
    protected = publish.suppress(summary, k=k if public else 1)
    cells = protected.cells
    if public:
        cells = publish.allow_columns(cells, publish.PUBLIC_SUMMARY_COLUMNS)
    totals = pd.concat(
        [
            protected.margin("category"),
            protected.margin().assign(category="all categories"),
        ],
        ignore_index=True,
    )
    periods_ = protected.margin("period")
    real = periods_[periods_["period"] != IMPRECISE_PERIOD]
    first = _day(start) if start is not None else _day(real["period_start"].min())
    last = _day(end) if end is not None else _day(real["period_end"].max())
    first, last = first or last or "(no dates)", last or first or "(no dates)"
    return Figures(
        public=public,
        level=level,
        period=unit,
        view={k_: _jsonable(v) for k_, v in filters.items()},
        cells=cells.reset_index(drop=True),
        regions=protected.margin("region_code"),
        series=protected.margin("period", "category"),
        periods=periods_,
        totals=totals,
        quality=_quality(analysis, protected, summary),
        problems=_problems(analysis),
        suppression=protected.settings,
        first=first,
        last=last,
    )


def _day(value: Any) -> str:
    stamp = pd.Timestamp(value)
    return "" if pd.isna(stamp) else stamp.date().isoformat()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        return _day(value)
    return value


def _quality(
    analysis: Analysis, protected: publish.Protected, summary: pd.DataFrame
) -> pd.DataFrame:
    """Data-quality facts; counts tied to the view come from the protected totals."""
    report = analysis.report
    rows: list[tuple[str, Any]] = [
        ("Records read", report.records),
        ("Records accepted", report.accepted),
        ("Accepted with warnings", report.warned),
        ("Records rejected", report.rejected),
    ]
    by_region = protected.margin("region_code").set_index("region_code")
    for code, label in [
        (OUTSIDE_CODE, "Incidents outside every region (in this view)"),
        (IMPRECISE_CODE, "Incidents located too coarsely for this level (in this view)"),
    ]:
        if code in by_region.index:
            rows.append((label, _published(by_region.loc[code])))
    by_period = protected.margin("period").set_index("period")
    if IMPRECISE_PERIOD in by_period.index:
        rows.append(
            (
                "Incidents dated too coarsely for the period unit (in this view)",
                _published(by_period.loc[IMPRECISE_PERIOD]),
            )
        )
    straddling = int(summary.attrs.get("partly_in_range", 0) or 0)
    if straddling:
        rows.append(("Records left out: their dates straddle the start or end", straddling))
    records = analysis.records
    if "victims" in records and len(records):
        rows.append(
            ("Accepted records that state no victim figure", int(records["victims"].isna().sum()))
        )
    if "date_precision" in records and len(records):
        for precision, n in records["date_precision"].value_counts().sort_index().items():
            if str(precision) != "day":
                rows.append((f"Accepted records dated to the {precision} only", int(n)))
    frame = pd.DataFrame(rows, columns=["item", "value"])
    frame["value"] = frame["value"].astype("Int64")
    frame[publish.SUPPRESSED] = frame["value"].isna()
    return frame


def _published(row: pd.Series) -> Any:
    return None if row["suppressed"] else int(row["incidents"])


def _problems(analysis: Analysis) -> pd.DataFrame:
    rows = [
        {"problem": code, "severity": sev, "records": n}
        for (code, sev), n in analysis.report.counts.items()
    ]
    frame = pd.DataFrame(rows, columns=["problem", "severity", "records"])
    return frame.sort_values(["severity", "records", "problem"], ascending=[True, False, True])


# ----------------------------------------------------------------------------- points


def view_points(
    analysis: Analysis,
    *,
    level: int,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    masking: publish.Masking | None,
    secret: bytes | None,
    public: bool = True,
) -> pd.DataFrame:
    """The view's records as points: masked and allow-listed when ``public``.

    Points are never a public export without masking. Note: one row per incident
    shows counts that small-cell suppression hides in the tables.
    """
    if public and masking is None:
        raise ValueError("A public point export needs location masking (round or displace).")
    levels = pipeline.summary_levels(analysis)
    rows = aggregate.select_rows(
        analysis.records,
        analysis.joined,
        levels,
        level=level,
        start=start,
        end=end,
        categories=categories,
        regions=regions,
    )
    frame = pd.concat([analysis.records, analysis.joined], axis=1).iloc[rows]
    if masking is not None:
        frame = publish.mask_points(
            frame,
            masking,
            secret=secret,
            regions=levels[level],
            region_column=f"adm{level}_code",
        )
    if public:
        frame = publish.allow_columns(frame, publish.PUBLIC_POINT_COLUMNS)
        frame = frame.drop(columns=[c for c in frame if c.endswith("_match")], errors="ignore")
    return frame.reset_index(drop=True)


# ----------------------------------------------------------------------------- the bundle


def build_bundle(
    analysis: Analysis,
    *,
    level: int,
    period: Period | str = Period.MONTH,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    title: str | None = None,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    masking: publish.Masking | None = None,
    secret: bytes | None = None,
) -> bytes:
    """The report bundle (ZIP bytes) for one view; see :func:`bundle_files` for its files."""
    return zip_bytes(
        bundle_files(
            analysis,
            level=level,
            period=period,
            start=start,
            end=end,
            categories=categories,
            regions=regions,
            title=title,
            public=public,
            k=k,
            masking=masking,
            secret=secret,
        )
    )


def bundle_files(
    analysis: Analysis,
    *,
    level: int,
    period: Period | str = Period.MONTH,
    start: Any = None,
    end: Any = None,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    title: str | None = None,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    masking: publish.Masking | None = None,
    secret: bytes | None = None,
) -> dict[str, bytes]:
    """Every file of the bundle, in ZIP order (names prefixed SENSITIVE_ when internal).

    ``masking`` adds ``points.csv`` (masked points); without it no point leaves.
    ``secret`` is the workspace secret that keys displacement (never written anywhere).
    """
    view = {"start": start, "end": end, "categories": categories, "regions": regions}
    figures = view_figures(analysis, level=level, period=period, public=public, k=k, **view)
    title = title or default_title(figures)
    files: dict[str, bytes] = {}
    files["README.txt"] = b""  # placeholder keeps the order; written last
    files["brief.pdf"] = render_pdf(analysis, figures, title=title, masking=masking)
    files.update(figure_files(analysis, figures, title=title))
    if masking is not None:
        points = view_points(
            analysis, level=level, masking=masking, secret=secret, public=public, **view
        )
        files["points.csv"] = to_csv_bytes(points)
    files["README.txt"] = _readme(figures, title, files, masking).encode("utf-8")
    files["manifest.json"] = bundle_manifest(analysis, figures, files, title=title, masking=masking)
    return {publish.export_filename(name, public): data for name, data in files.items()}


def bundle_filename(*, level: int, period: Period | str, public: bool) -> str:
    """``crisismap_report_admin1_month.zip`` (``SENSITIVE_`` first when internal)."""
    name = f"crisismap_report_admin{level}_{Period.parse(period).value}.zip"
    return publish.export_filename(name, public)


def default_title(figures: Figures) -> str:
    return f"Incidents by admin-{figures.level} region, {figures.first} to {figures.last}"


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A ZIP of ``files`` in the given order, with fixed timestamps and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- tables


def figure_files(analysis: Analysis, figures: Figures, *, title: str) -> dict[str, bytes]:
    """The figures as CSV, XLSX and GeoJSON (the same numbers as the PDF)."""
    tables = _tables(figures)
    files = {f"{name}.csv": to_csv_bytes(frame) for name, frame in tables.items()}
    sheets = {"About": _about_sheet(figures, title)}
    sheet_names = {
        "regions": "Regions",
        "series": "Time series",
        "periods": "Periods",
        "totals": "Totals",
        "cells": "Cells",
        "data_quality": "Data quality",
        "problems": "Problems",
    }
    sheets |= {sheet_names[name]: frame for name, frame in tables.items()}
    if not figures.public:
        sheets["Rejected records"] = analysis.rejected
    files["figures.xlsx"] = to_xlsx_bytes(sheets, created=FIXED_TIME)
    files["regions.geojson"] = regions_geojson(analysis, figures)
    return files


def _tables(figures: Figures) -> dict[str, pd.DataFrame]:
    figure_columns = ["incidents", "victims", publish.SUPPRESSED]
    return {
        "regions": figures.regions[["region_code", "region_name", "parent_code", *figure_columns]],
        "series": figures.series[
            ["period", "period_start", "period_end", "category", *figure_columns]
        ],
        "periods": figures.periods[["period", "period_start", "period_end", *figure_columns]],
        "totals": figures.totals[["category", *figure_columns]],
        "cells": figures.cells,
        "data_quality": figures.quality,
        "problems": figures.problems,
    }


def _about_sheet(figures: Figures, title: str) -> pd.DataFrame:
    label = publish.sensitivity_label(figures.public, k=figures.suppression.get("k", 0))
    lines = [
        title,
        label["notice"],
        f"Admin level {figures.level}; period unit {figures.period.value}; "
        f"{figures.first} to {figures.last}.",
        "Totals are sums of the cells: an incident with several categories counts in each.",
    ]
    if figures.public:
        lines.append(f"Suppressed figures are blank, with suppressed = True ({MARK} in the PDF).")
    lines.append(f"Made with crisismap {__version__}.")
    return pd.DataFrame({"About this file": lines})


def regions_geojson(analysis: Analysis, figures: Figures) -> bytes:
    """Every region of the level with its figures; suppressed figures are null."""
    import geopandas as gpd

    shapes = pipeline.summary_levels(analysis)[figures.level]
    columns = ["code", "name", *[c for c in ("country",) if c in shapes], "geometry"]
    table = figures.regions.set_index("region_code")[["incidents", "victims", "suppressed"]]
    frame = shapes[columns].merge(table, how="left", left_on="code", right_index=True)
    frame["incidents"] = frame["incidents"].astype("Int64")
    return features_geojson_bytes(gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326"))


# ----------------------------------------------------------------------------- manifest


def bundle_manifest(
    analysis: Analysis,
    figures: Figures,
    files: dict[str, bytes],
    *,
    title: str,
    masking: publish.Masking | None = None,
) -> bytes:
    """The manifest: inputs and outputs with SHA-256, versions, every parameter.

    Public manifests carry only whole-file counts (records read, rejected...): the
    per-level totals of :func:`crisismap.pipeline.manifest` are not suppressed.
    """
    bset = analysis.boundaries
    report = analysis.report
    counts: dict[str, Any] = {
        "records": report.records,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "warned": report.warned,
    }
    if not figures.public:
        counts["level_totals"] = pipeline.totals(analysis, figures.level)
    columns = list(publish.PUBLIC_SUMMARY_COLUMNS) if figures.public else None
    parameters = {
        **analysis.parameters,
        "level": figures.level,
        "period": figures.period.value,
        **figures.view,
        "title": title,
        "publication": publish.public_settings(
            public=figures.public,
            k=figures.suppression.get("k", 0),
            masking=masking,
            suppression=figures.suppression,
            columns=columns,
        ),
    }
    outputs = {name: data for name, data in files.items() if name != "manifest.json"}
    text = manifest_bytes(
        inputs=list(analysis.inputs)
        + ([{"name": f"boundaries:{bset.name}", "sha256": bset.sha256}] if bset.sha256 else []),
        outputs={publish.export_filename(n, figures.public): d for n, d in outputs.items()},
        counts=counts,
        boundaries={"name": bset.name, "source": bset.source, "version": bset.version},
        parameters=parameters,
    )
    manifest = json.loads(text)
    manifest = {
        "sensitivity": "public" if figures.public else "sensitive",
        **manifest,
        "environment": _environment(),
        "reproduce": (
            "Run crisismap with the same input files, boundaries and parameters (and, for "
            "displaced points, the same workspace secret); every output's SHA-256 must match."
        ),
    }
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _environment() -> dict[str, str]:
    """Versions that decide the bytes of the outputs."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "pandas",
        "numpy",
        "geopandas",
        "shapely",
        "pyproj",
        "scipy",
        "matplotlib",
        "mapclassify",
        "reportlab",
        "xlsxwriter",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _readme(
    figures: Figures, title: str, files: dict[str, bytes], masking: publish.Masking | None
) -> str:
    label = publish.sensitivity_label(figures.public, k=figures.suppression.get("k", 0))
    lines = [title, "=" * min(len(title), 78), "", label["notice"], ""]
    lines += [
        f"Admin level {figures.level}, periods of one {figures.period.value}, "
        f"{figures.first} to {figures.last}.",
        "",
        "Files:",
    ]
    for name in [*files, "manifest.json"]:
        shown = publish.export_filename(name, figures.public)
        lines.append(f"  {shown:<34} {FILE_NOTES.get(name, '')}")
    lines += [
        "",
        "Every figure in brief.pdf is in the CSV files, figures.xlsx and regions.geojson.",
        "Totals are sums of the cells: an incident with several categories counts in each.",
    ]
    if figures.public:
        lines.append(
            f"Suppressed figures are blank in the tables (suppressed = True) and '{MARK}' in "
            "the PDF."
        )
    if masking is not None:
        lines += [
            "",
            f"points.csv: {masking.settings()['description']}.",
            "Caution: one row per incident shows counts that the tables suppress.",
        ]
    lines += [
        "",
        "Check the files: sha256sum each file and compare with manifest.json (outputs).",
        f"Made with crisismap {__version__}.",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the PDF


def render_pdf(
    analysis: Analysis,
    figures: Figures,
    *,
    title: str,
    masking: publish.Masking | None = None,
) -> bytes:
    """The PDF brief (A4), byte-reproducible (ReportLab invariant mode)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    styles = _styles()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_CM * 1.8,
        rightMargin=_CM * 1.8,
        topMargin=_CM * 2.0,
        bottomMargin=_CM * 2.0,
        title=title,
        author="crisismap",
        subject="Incident summary" + ("" if figures.public else " (SENSITIVE)"),
        creator=f"crisismap {__version__}",
        invariant=1,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    story = _story(analysis, figures, title=title, masking=masking, styles=styles, width=doc.width)
    doc.build(story, canvasmaker=_numbered_canvas(_footer(figures)))
    return buffer.getvalue()


_CM = 28.3465  # points per centimetre
_FONT = "CrisismapSans"
_FONT_BOLD = "CrisismapSans-Bold"
_RED = "#b2182b"


def _fonts() -> None:
    """DejaVu Sans (shipped with matplotlib): Latin, Cyrillic, Greek and more, embedded."""
    from pathlib import Path

    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(_FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    addMapping(_FONT, 0, 0, _FONT)
    addMapping(_FONT, 1, 0, _FONT_BOLD)
    addMapping(_FONT, 0, 1, _FONT)
    addMapping(_FONT, 1, 1, _FONT_BOLD)


def _styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    _fonts()
    base = ParagraphStyle("body", fontName=_FONT, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, spaceAfter=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "title": ParagraphStyle("title", parent=base, fontName=_FONT_BOLD, fontSize=17, leading=21),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=10.5, leading=14, textColor=colors.HexColor("#444444")
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=_FONT_BOLD,
            fontSize=12.5,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "banner": ParagraphStyle(
            "banner",
            parent=base,
            fontName=_FONT_BOLD,
            fontSize=9.5,
            leading=12.5,
            textColor=colors.white,
        ),
    }


def _footer(figures: Figures) -> tuple[str, str]:
    label = "PUBLIC" if figures.public else "SENSITIVE - internal use only, do not publish"
    return label, f"crisismap {__version__}"


def _numbered_canvas(footer: tuple[str, str]) -> Any:
    """A canvas class that writes "Page n of N" and the sensitivity label on every page."""
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    label, software = footer

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(len(self._pages))
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, _ = self._pagesize
            self.setFont(_FONT, 7.5)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(_CM * 1.8, _CM * 1.1, software)
            self.drawRightString(
                width - _CM * 1.8, _CM * 1.1, f"Page {self._pageNumber} of {total}"
            )
            self.setFillColor(colors.HexColor(_RED if label != "PUBLIC" else "#555555"))
            self.setFont(_FONT_BOLD, 7.5)
            self.drawCentredString(width / 2, _CM * 1.1, label)

    return NumberedCanvas


def _story(
    analysis: Analysis,
    figures: Figures,
    *,
    title: str,
    masking: publish.Masking | None,
    styles: dict[str, Any],
    width: float,
) -> list[Any]:
    from reportlab.platypus import CondPageBreak, Image, Paragraph, Spacer

    bset = analysis.boundaries
    story: list[Any] = [
        Paragraph(escape(title), styles["title"]),
        Spacer(1, 4),
        Paragraph(
            escape(
                f"{figures.first} to {figures.last} · admin level {figures.level} · "
                f"periods of one {figures.period.value} · boundaries: {bset.name}"
            ),
            styles["subtitle"],
        ),
        Spacer(1, 8),
        _banner(figures, styles, width),
        Spacer(1, 8),
        _key_figures(analysis, figures, styles, width),
        Spacer(1, 6),
    ]
    several = _several_categories(analysis)
    if several:
        story.insert(
            -1,
            Paragraph(
                escape(
                    f"{several:,} of the {len(analysis.records):,} accepted records carry "
                    "several categories; they count once in each, so the figures here count "
                    "incidents per category and add up across categories."
                ),
                styles["small"],
            ),
        )
    map_png, map_size = _map_png(analysis, figures)
    map_width = width
    story.append(Image(io.BytesIO(map_png), map_width, map_width * map_size[1] / map_size[0]))
    story.append(
        Paragraph(
            escape(
                f"Incidents per admin-{figures.level} region, {figures.first} to "
                f"{figures.last}. Classes: natural breaks of the published figures."
                + (f" Hatched: suppressed ({MARK})." if figures.public else "")
            ),
            styles["small"],
        )
    )
    story += [
        Paragraph("Regional summary", styles["h2"]),
        *_region_table(analysis, figures, styles, width),
    ]
    story += [CondPageBreak(9 * _CM), Paragraph("Incidents over time", styles["h2"])]
    chart_png, chart_size = _chart_png(figures)
    story.append(Image(io.BytesIO(chart_png), width, width * chart_size[1] / chart_size[0]))
    story.append(Spacer(1, 4))
    story += _series_table(figures, styles, width)
    story += _quality_section(figures, styles, width)
    story += _methodology(analysis, figures, masking, styles)
    story += _attributions(analysis, styles)
    return story


def _several_categories(analysis: Analysis) -> int:
    """Accepted records with more than one category label."""
    if "category" not in analysis.records:
        return 0
    labels = analysis.records["category"].fillna("").astype("str")
    return int(labels.str.contains(CATEGORY_SEPARATOR.strip(), regex=False).sum())


def _banner(figures: Figures, styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    if figures.public:
        k = figures.suppression.get("k", 0)
        text = (
            f"PUBLIC. Figures below {k} incidents are suppressed ({MARK}), together with "
            "the figures that would reveal them. No free text, names, sources or exact "
            "locations are included."
        )
        color = "#2b5d8a"
    else:
        text = (
            "SENSITIVE - internal use only. Not protected: small counts are shown and may "
            "identify victims or witnesses. Do not publish or forward."
        )
        color = _RED
    table = Table([[Paragraph(escape(text), styles["banner"])]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(color)),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _key_figures(analysis: Analysis, figures: Figures, styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    grand = figures.grand_total
    regions = figures.regions[~figures.regions["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])]
    with_incidents = int((regions["suppressed"] | (regions["incidents"].fillna(0) > 0)).sum())
    n_regions = len(regions) or len(pipeline.summary_levels(analysis)[figures.level])
    real_periods = figures.periods[figures.periods["period"] != IMPRECISE_PERIOD]
    cells = [
        ("Incidents", fmt_count(grand["incidents"], bool(grand["suppressed"]))),
        ("Victims", fmt_count(grand["victims"], bool(grand["suppressed"]))),
        (
            f"Admin-{figures.level} regions with incidents",
            f"{with_incidents:,} of {n_regions:,}",
        ),
        (f"Periods ({figures.period.value})", f"{len(real_periods):,}"),
    ]
    big = styles["title"].clone("big", fontSize=15, leading=18)
    row1 = [Paragraph(escape(v), big) for _, v in cells]
    row2 = [Paragraph(escape(label), styles["small"]) for label, _ in cells]
    table = Table([row1, row2], colWidths=[width / 4] * 4)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f2f2f2")),
                ("LINEAFTER", (0, 0), (-2, -1), 0.5, colors.white),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
            ]
        )
    )
    return table


def _grid_style(header_rows: int = 1, numeric_from: int = 2, total_row: bool = False) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    total = (
        [
            ("FONT", (0, -1), (-1, -1), _FONT_BOLD, 8.5),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ]
        if total_row
        else []
    )
    return TableStyle(
        total
        + [
            ("FONT", (0, 0), (-1, -1), _FONT, 8.5),
            ("FONT", (0, 0), (-1, header_rows - 1), _FONT_BOLD, 8.5),
            ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, colors.black),
            (
                "ROWBACKGROUNDS",
                (0, header_rows),
                (-1, -1),
                [colors.white, colors.HexColor("#f4f4f4")],
            ),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
    )


def _region_table(
    analysis: Analysis, figures: Figures, styles: dict[str, Any], width: float
) -> list[Any]:
    """Regions with incidents (largest first), then suppressed ones, then the special rows."""
    from reportlab.platypus import LongTable, Paragraph

    table = figures.regions.copy()
    special = table["region_code"].isin([OUTSIDE_CODE, IMPRECISE_CODE])
    shown = table[~special & ~table["suppressed"] & (table["incidents"].fillna(0) > 0)]
    shown = shown.assign(_n=shown["incidents"].astype(int)).sort_values(
        ["_n", "region_name", "region_code"], ascending=[False, True, True]
    )
    hidden = table[~special & table["suppressed"]].sort_values(["region_name", "region_code"])
    zero = table[~special & ~table["suppressed"] & (table["incidents"].fillna(0) == 0)]
    ordered = pd.concat([shown, hidden, table[special]])
    truncated = len(ordered) > MAX_TABLE_REGIONS
    ordered = ordered.head(MAX_TABLE_REGIONS)
    rows = [["Region", "Code", "Incidents", "Victims"]]
    for row in ordered.itertuples(index=False):
        hide = bool(row.suppressed)
        rows.append(
            [
                Paragraph(markup(row.region_name), styles["cell"]),
                Paragraph(
                    "" if row.region_code in SPECIAL_NAMES else markup(row.region_code),
                    styles["cell"],
                ),
                fmt_count(row.incidents, hide),
                fmt_count(row.victims, hide),
            ]
        )
    grand = figures.grand_total
    hide = bool(grand["suppressed"])
    rows.append(
        [
            "All incidents",
            "",
            fmt_count(grand["incidents"], hide),
            fmt_count(grand["victims"], hide),
        ]
    )
    flow = LongTable(
        rows, colWidths=[width * 0.46, width * 0.22, width * 0.16, width * 0.16], repeatRows=1
    )
    flow.setStyle(_grid_style(total_row=True))
    notes = []
    if len(zero):
        notes.append(Paragraph(escape(_zero_note(analysis, figures, zero)), styles["small"]))
    if truncated:
        notes.append(
            Paragraph(
                escape(
                    f"Only the first {MAX_TABLE_REGIONS} rows are printed; regions.csv has all."
                ),
                styles["small"],
            )
        )
    if figures.public and (table["suppressed"]).any():
        notes.append(Paragraph(escape(_mark_note(figures)), styles["small"]))
    return [flow, *notes]


def _zero_note(analysis: Analysis, figures: Figures, zero: pd.DataFrame) -> str:
    """Regions with no incident, named for the countries the data is about."""
    shapes = pipeline.summary_levels(analysis)[figures.level]
    main = pipeline.main_countries(analysis)
    if "country" in shapes and main:
        country = dict(zip(shapes["code"], shapes["country"], strict=True))
        inside = zero["region_code"].map(country).isin(main)
    else:
        inside = pd.Series(True, index=zero.index)
    named = zero[inside]
    text = f"No incidents recorded in {len(zero):,} region(s)"
    if len(named) and len(named) <= MAX_ZERO_NAMES:
        names = ", ".join(sorted(display_name(n) for n in named["region_name"]))
        others = len(zero) - len(named)
        text += f", among them {names}" if others else f": {names}"
        if others:
            text += f"; and {others:,} in neighbouring countries"
    return text + " (all listed in regions.csv)."


def _mark_note(figures: Figures) -> str:
    k = figures.suppression.get("k", 0)
    return (
        f"{MARK}: suppressed because fewer than {k} incidents, or because it would reveal such "
        "a figure from the totals."
    )


def _series_table(figures: Figures, styles: dict[str, Any], width: float) -> list[Any]:
    """Period × category figures, as in the chart (and series.csv / periods.csv); many
    categories are split over several tables of at most ``SERIES_COLUMNS`` columns."""
    from reportlab.platypus import LongTable, Paragraph, Spacer

    series = figures.series
    cats = list(dict.fromkeys(series["category"]))
    lookup = series.set_index(["period", "category"])
    head = styles["cell"].clone("head", fontName=_FONT_BOLD, fontSize=7, leading=8.5)
    out: list[Any] = [
        Paragraph(
            escape(f"Incidents per {figures.period.value} and category (victims in series.csv)."),
            styles["small"],
        )
    ]
    chunks = [cats[i : i + SERIES_COLUMNS] for i in range(0, len(cats), SERIES_COLUMNS)] or [[]]
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        names = [*chunk, "All categories"] if last else chunk
        right = head.clone("head-right", alignment=2)  # over right-aligned numbers
        rows = [[Paragraph("Period", head), *[Paragraph(markup(c), right) for c in names]]]
        for row in figures.periods.itertuples(index=False):
            line = [Paragraph(escape(display_name(row.period)), styles["cell"])]
            for cat in chunk:
                cell = lookup.loc[(row.period, cat)]
                line.append(fmt_count(cell["incidents"], bool(cell["suppressed"])))
            if last:
                line.append(fmt_count(row.incidents, bool(row.suppressed)))
            rows.append(line)
        first = width * 0.16
        other = (width - first) / max(1, len(names))
        flow = LongTable(rows, colWidths=[first] + [other] * len(names), repeatRows=1)
        flow.setStyle(_grid_style(numeric_from=1))
        out += [flow, Spacer(1, 6)]
    return out


def _quality_section(figures: Figures, styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.platypus import LongTable, Paragraph, Spacer

    out: list[Any] = [Paragraph("Data quality", styles["h2"])]
    rows = [["", "Records"]]
    for item, value, hidden in figures.quality.itertuples(index=False):
        shown = fmt_count(value, bool(hidden))
        rows.append([Paragraph(escape(item), styles["cell"]), shown])
    table = LongTable(rows, colWidths=[width * 0.8, width * 0.2], repeatRows=1)
    table.setStyle(_grid_style(numeric_from=1))
    out += [table, Spacer(1, 6)]
    problems = figures.problems
    if len(problems):
        out.append(
            Paragraph(
                escape(
                    "Problems found in the input, by kind (a rejected record has at least one "
                    "error; a warning keeps the record, flagged):"
                ),
                styles["body"],
            )
        )
        rows = [["Problem", "Severity", "Records"]]
        rows += [
            [Paragraph(markup(p.problem), styles["cell"]), p.severity, f"{int(p.records):,}"]
            for p in problems.itertuples(index=False)
        ]
        table = LongTable(rows, colWidths=[width * 0.6, width * 0.2, width * 0.2], repeatRows=1)
        table.setStyle(_grid_style(numeric_from=2))
        out.append(table)
    else:
        out.append(Paragraph("No problems were found in the input.", styles["body"]))
    return out


def _methodology(
    analysis: Analysis, figures: Figures, masking: publish.Masking | None, styles: dict[str, Any]
) -> list[Any]:
    from reportlab.platypus import Paragraph

    bset = analysis.boundaries
    view = figures.view
    filters = []
    if view.get("categories"):
        filters.append("categories: " + ", ".join(display_name(c) for c in view["categories"]))
    if view.get("regions"):
        filters.append("regions: " + ", ".join(str(r) for r in view["regions"]))
    paragraphs = [
        f"Incident records ({', '.join(i['name'] for i in analysis.inputs)}; preset "
        f"{analysis.report.preset}) were validated record by record: each is accepted, accepted "
        "with warnings or rejected with a reason; none is silently dropped or changed.",
        f"Boundaries: {bset.name} ({bset.source}; version {bset.version}). Each incident is "
        f"attributed to the admin-{figures.level} region containing its coordinates; a point "
        "on a shared border counts once. Incidents whose location is known only at a coarser "
        "level, or whose date is coarser than the period unit, are counted apart, never "
        "spread or guessed.",
        f"Figures cover {figures.first} to {figures.last} by {figures.period.value}"
        + (f"; filtered by {'; '.join(filters)}" if filters else "")
        + ". Victims are the stated figures summed (a record with no figure adds nothing). "
        "Totals are sums of the cells: an incident with several categories counts once in "
        "each.",
    ]
    s = figures.suppression
    if figures.public:
        paragraphs.append(
            f"Small-count protection: every published figure with fewer than {s['k']} "
            "incidents is suppressed (zeros are published), and further figures are "
            "suppressed until none of the suppressed ones can be worked out from the "
            "published cells and totals (by subtraction, any combination of the totals, or "
            "the fact that counts are whole and not negative). Victim figures are suppressed "
            f"with their cells. {s.get('suppressed_figures', 0):,} of {s.get('figures', 0):,} "
            "figures are suppressed. Published totals: per region, per period and category, "
            "per period, per category, and overall."
        )
    else:
        paragraphs.append("No small-count protection was applied: this brief is for internal use.")
    if masking is not None:
        paragraphs.append(
            f"Point locations (points.csv): {masking.settings()['description']}. One row per "
            "incident: the point file shows counts that the tables suppress."
        )
    paragraphs.append(
        "Reproducibility: manifest.json lists the SHA-256 of every input and output file, the "
        "software versions and every parameter; the same inputs and parameters give "
        "byte-identical files."
    )
    out: list[Any] = [Paragraph("Methodology", styles["h2"])]
    out += [Paragraph(escape(text), styles["body"]) for text in paragraphs]
    return out


def attributions(analysis: Analysis) -> list[str]:
    """Credit lines for the boundary and incident sources used."""
    bset = analysis.boundaries
    text = f"{bset.name} {bset.source}".lower()
    lines = [f"Boundaries: {bset.source} (version {bset.version})."]
    if "natural earth" in text or bset.name.startswith("world"):
        lines.append(
            "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com "
            "(public domain)."
        )
    if "geoboundaries" in text:
        lines.append(
            "geoBoundaries: Runfola, D. et al. (2020) geoBoundaries: A global database of "
            "political administrative boundaries. PLoS ONE 15(4): e0231866; "
            "www.geoboundaries.org (licence as stated by the source)."
        )
    if "cod-ab" in text or "ocha" in text:
        lines.append(
            "OCHA Common Operational Datasets, administrative boundaries (COD-AB), via the "
            "Humanitarian Data Exchange (data.humdata.org), CC BY-IGO."
        )
    preset = str(analysis.report.preset or "").lower()
    if "ucdp" in preset:
        lines.append(
            "Incident data: UCDP Georeferenced Event Dataset (Sundberg & Melander 2013; "
            "Davies, Pettersson & Öberg), Uppsala Conflict Data Program, CC BY 4.0."
        )
    if "acled" in preset:
        lines.append("Incident data: Armed Conflict Location & Event Data (ACLED), acleddata.com.")
    lines.append(f"Produced with crisismap {__version__} (Apache-2.0), matplotlib and ReportLab.")
    return lines


def _attributions(analysis: Analysis, styles: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    out: list[Any] = [Paragraph("Sources and attributions", styles["h2"])]
    out += [Paragraph(escape(line), styles["body"]) for line in attributions(analysis)]
    return out


# ----------------------------------------------------------------------------- images


def _mpl_text(value: Any) -> str:
    """A label matplotlib shows as written (no mathtext, no hidden "_" labels)."""
    text = display_name(value).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _png(fig: Any) -> tuple[bytes, tuple[int, int]]:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=MAP_DPI, metadata={"Software": None})
    size = fig.canvas.get_width_height()
    plt.close(fig)
    return buffer.getvalue(), size


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


def _map_png(analysis: Analysis, figures: Figures) -> tuple[bytes, tuple[int, int]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    frame = _map_regions(analysis, figures)
    published = frame[~frame["suppressed"]]
    values = published["incidents"].fillna(0).to_numpy(float)
    bounds = _classes(values)
    cmap = plt.get_cmap("YlOrRd")
    shades = [cmap(0.25 + 0.7 * i / max(1, len(bounds) - 1)) for i in range(len(bounds))]
    fig, ax = plt.subplots(figsize=(8, 5.6))
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
        label = f"{start:,.0f}" if start == upper else f"{start:,.0f} - {upper:,.0f}"
        handles.append(Patch(facecolor=shades[i], edgecolor="#6e6e6e", label=label))
    hidden = frame[frame["suppressed"]]
    if len(hidden):
        hidden.plot(ax=ax, color="#d9d9d9", edgecolor="#6e6e6e", hatch="////", linewidth=0.4)
    if len(zero):
        handles.insert(0, Patch(facecolor="#f7f7f7", edgecolor="#9e9e9e", label="0"))
    if len(hidden):
        handles.append(
            Patch(
                facecolor="#d9d9d9", edgecolor="#6e6e6e", hatch="////", label=f"suppressed ({MARK})"
            )
        )
    ax.set_axis_off()
    ax.legend(
        handles=handles,
        title="Incidents",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=9,
        title_fontsize=10,
    )
    ax.text(
        1.0,
        0.0,
        _mpl_text(f"Boundaries: {analysis.boundaries.name}"),
        transform=ax.transAxes,
        fontsize=7,
        color="#555555",
        ha="left",
        va="bottom",
    )
    fig.tight_layout()
    return _png(fig)


def _chart_png(figures: Figures) -> tuple[bytes, tuple[int, int]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = figures.series[figures.series["period"] != IMPRECISE_PERIOD]
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
    ax.set_ylabel("Incidents")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    title = "x on the axis: suppressed" if marked else None
    if series.empty:
        ax.text(0.5, 0.5, "No incidents in this view", transform=ax.transAxes, ha="center")
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
    return _png(fig)


def display_name(value: Any) -> str:
    """Human label for codes used in the tables (outside, not attributable...)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return SPECIAL_NAMES.get(str(value), str(value))


def fmt_count(value: Any, suppressed: bool) -> str:
    """A figure as printed in the PDF: ``x`` when suppressed, thousands separated."""
    if suppressed:
        return MARK
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


def markup(text: Any) -> str:
    """Text made safe for a ReportLab paragraph (which parses markup such as <img>)."""
    return escape(display_name(text))


__all__ = [
    "Figures",
    "build_bundle",
    "bundle_filename",
    "bundle_files",
    "bundle_manifest",
    "figure_files",
    "regions_geojson",
    "render_pdf",
    "view_figures",
    "view_points",
    "zip_bytes",
]
