"""The report bundle: one ZIP for one view, ready to put in front of a donor or a UN mechanism.

Inside: a PDF brief (map, regional table, time series, data-quality notes, methodology,
attributions), the same figures as CSV, XLSX and GeoJSON, a README and a manifest with the
SHA-256 of every input and output, the software versions and every parameter.

* **One set of figures.** :func:`~crisismap.report.figures.view_figures` computes the view
  once (through :func:`crisismap.pipeline.summarize`) and protects it once
  (:func:`crisismap.publish.suppress`); every file is written from that object, so the
  PDF, the tables and the GeoJSON cannot disagree. Region, period and category totals are
  sums of the cells (an incident with two categories counts in each), so a reader can
  check every sum.
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
import zipfile
from collections.abc import Callable
from typing import Any

import pandas as pd

from crisismap import __version__, i18n, parallel, pipeline, publish, releases
from crisismap.errors import InvalidValueError
from crisismap.export import (
    cells_geojson_bytes,
    features_geojson_bytes,
    hxl_tags,
    to_csv_bytes,
    to_xlsx_bytes,
    with_hxl_row,
)
from crisismap.pipeline import Analysis
from crisismap.report.figures import MARK, Figures, view_figures, view_points
from crisismap.report.manifest import bundle_manifest, readme
from crisismap.report.pdf import render_pdf
from crisismap.report.points import points_notes, points_summary
from crisismap.schema import Period, View, with_region_names

FIXED_TIME = dt.datetime(2000, 1, 1)  # the XLSX creation date: no clock in a bundle
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def build_bundle(
    analysis: Analysis,
    view: View,
    *,
    title: str | None = None,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    masking: publish.Masking | None = None,
    secret: bytes | None = None,
    figures: Figures | Callable[[], Figures] | None = None,
    ledger: releases.Ledger | None = None,
) -> bytes:
    """The report bundle (ZIP bytes) for one view; see :func:`bundle_files` for its files."""
    return zip_bytes(
        bundle_files(
            analysis,
            view,
            title=title,
            public=public,
            k=k,
            masking=masking,
            secret=secret,
            figures=figures,
            ledger=ledger,
        )
    )


def bundle_files(
    analysis: Analysis,
    view: View,
    *,
    title: str | None = None,
    public: bool = True,
    k: int = publish.DEFAULT_K,
    masking: publish.Masking | None = None,
    secret: bytes | None = None,
    figures: Figures | Callable[[], Figures] | None = None,
    ledger: releases.Ledger | None = None,
) -> dict[str, bytes]:
    """Every file of the bundle, in ZIP order (names prefixed SENSITIVE_ when internal).

    ``masking`` adds ``points.csv`` (masked points, public ones only in published cells:
    see :func:`~crisismap.report.figures.view_points`); without it no point leaves.
    ``secret`` is the workspace secret that keys displacement and the public manifest's
    fingerprints of the input files (never written anywhere; the manifest names it by
    fingerprint). Public bundles need ``k >= 2`` and never name an input file or give its
    plain SHA-256. Rejected records (raw values) are never in a bundle: they are their
    own, explicitly asked-for export. ``ledger`` keeps public releases of the same data
    consistent across processes.
    ``figures``: the view's figures when already computed with the same ``public`` and
    ``k`` (the dashboard computes a view once for all its downloads), or a function
    computing them (the CLI's, under its time limit).
    """
    refusal = publish.public_k_refusal(k, option="k") if public else None
    if refusal:
        raise InvalidValueError(refusal)
    # ReportLab and xlsxwriter are pure Python: the PDF is drawn in a child process (where
    # the caller allows it) that imports its libraries while the figures are protected
    language = i18n.language()  # the child draws in the caller's language, whatever its thread
    pdf = parallel.in_child(
        lambda job: render_pdf(
            analysis, job[0], title=job[1], masking=masking, point_notes=job[2], language=language
        ),
        warm=_import_drawing,
    )
    # the workbook too (the longest of the files): its child is ready when the figures are
    workbook = parallel.in_child(
        lambda job: _workbook(job[0], job[1], title=job[2]), warm=_import_xlsxwriter
    )
    try:
        if figures is None:
            figures = view_figures(analysis, view, public=public, k=k, ledger=ledger)
        elif callable(figures):
            figures = figures()
        if figures.public != public:
            raise ValueError("The figures given are not of the bundle's kind (public or internal).")
        title = title or default_title(figures)
        points = summary = None
        notes: list[str] = []
        if masking is not None:
            points = view_points(
                analysis, view, masking=masking, secret=secret, public=public, figures=figures
            )
            summary = points_summary(points, figures, masking, secret)
            notes = points_notes(summary, masking)
        pdf.send((figures, title, notes))
        tables = _country_tables(analysis, figures)
        workbook.send((figures, tables, title))
        files: dict[str, bytes] = {}
        files["README.txt"] = b""  # placeholder keeps the order; written last
        files["brief.pdf"] = b""
        files |= _beside_workbook(analysis, figures, tables, workbook)
        files["brief.pdf"] = pdf.result()
    finally:
        try:
            pdf.close()
        finally:
            workbook.close()
    if points is not None:
        files["points.csv"] = to_csv_bytes(points)
    files["README.txt"] = readme(figures, title, files, masking, notes).encode("utf-8")
    files["manifest.json"] = bundle_manifest(
        analysis, figures, files, title=title, masking=masking, secret=secret, points=summary
    )
    return {publish.export_filename(name, public): data for name, data in files.items()}


def _import_drawing() -> None:
    """What drawing the PDF imports and reads first, whatever the figures (a forked
    child's head start while the parent protects them): the fonts, the basemap's files,
    matplotlib's text machinery (a third of the map's time in a fresh process)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import reportlab.platypus  # noqa: F401
    import scipy.special  # noqa: F401  (the brief's change sentence tests its counts)

    from crisismap.report import typeset

    typeset.register_fonts()  # parsing the TrueType files
    if i18n.is_rtl():  # the Arabic shaper's and bidi tables
        typeset.shape("\u0627")
    from crisismap import basemap

    basemap.load_places()  # both kept for the process
    basemap.physical_in((0.0, 0.0, 1.0, 1.0))
    with matplotlib.pyplot.rc_context(typeset.matplotlib_fonts()):
        fig, ax = matplotlib.pyplot.subplots(figsize=(1, 1))
        ax.text(0, 0, "Aa 0", fontweight="bold")
        ax.text(0, 1, "Aa 0")
        fig.savefig(io.BytesIO(), format="rgba", dpi=10)
        matplotlib.pyplot.close(fig)


def _import_xlsxwriter() -> None:
    import xlsxwriter  # noqa: F401


def bundle_filename(*, level: int, period: Period | str, public: bool) -> str:
    """``crisismap_report_admin1_month.zip`` (``SENSITIVE_`` first when internal)."""
    name = f"crisismap_report_admin{level}_{Period.parse(period).value}.zip"
    return publish.export_filename(name, public)


def default_title(figures: Figures) -> str:
    """The title when none is given: the level and the dates covered."""
    from crisismap.i18n import _
    from crisismap.report.figures import printed_day

    return _("Incidents by admin-{level} region, {first} to {last}").format(
        level=figures.level, first=printed_day(figures.first), last=printed_day(figures.last)
    )


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A ZIP of ``files`` in the given order, with fixed timestamps and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=4)  # 6: twice as long for 2 % smaller
    return buffer.getvalue()


# ----------------------------------------------------------------------------- tables


def figure_files(
    analysis: Analysis,
    figures: Figures,
    *,
    title: str,
    only: str | None = None,
    hxl: bool = False,
) -> dict[str, bytes]:
    """The figures as CSV, XLSX and GeoJSON (the same numbers as the PDF); no record.

    ``only`` names the one file wanted (``cells.csv``, ``figures.xlsx``,
    ``regions.geojson``, ``cells.geojson``…): a workbook of every table is slow to write
    for a large grid. ``hxl`` adds HXL hashtag rows under the CSV and sheet headers.
    """
    tables = _country_tables(analysis, figures)
    if only is not None and only.endswith(".csv"):
        name = only.removesuffix(".csv")
        data = to_csv_bytes(tables[name], localized=True)
        return {only: with_hxl_row(data, _hxl(figures, tables[name])) if hxl else data}
    if only == "regions.geojson":
        return {only: regions_geojson(analysis, figures)}
    if only == "cells.geojson":
        return {only: cells_geojson(analysis, figures)}
    if only == "figures.xlsx":
        return {only: _workbook(figures, tables, title=title, hxl=hxl)}
    # xlsxwriter is pure Python: where the caller allows it, the workbook is written in a
    # child process while this one writes the CSVs and the GeoJSON
    workbook = parallel.in_child(lambda _: _workbook(figures, tables, title=title, hxl=hxl))
    try:
        workbook.send(None)
        return _beside_workbook(analysis, figures, tables, workbook)
    finally:
        workbook.close()


def _beside_workbook(
    analysis: Analysis, figures: Figures, tables: dict[str, pd.DataFrame], workbook: Any
) -> dict[str, bytes]:
    """The CSVs and the GeoJSON, written while ``workbook`` (its figures already sent)
    writes figures.xlsx; in the bundle's order."""
    files = {f"{name}.csv": to_csv_bytes(frame, localized=True) for name, frame in tables.items()}
    geojson = regions_geojson(analysis, figures)
    files["figures.xlsx"] = workbook.result()
    files["regions.geojson"] = geojson
    return files


def _country_tables(analysis: Analysis, figures: Figures) -> dict[str, pd.DataFrame]:
    """The published tables, each region row with its country."""
    countries = pipeline.region_countries(
        pipeline.summary_levels(analysis)[figures.level], figures.level
    )
    return {k: pipeline.with_countries(t, countries) for k, t in _tables(figures).items()}


def _workbook(
    figures: Figures, tables: dict[str, pd.DataFrame], *, title: str, hxl: bool = False
) -> bytes:
    """figures.xlsx: an About sheet, then one sheet per table."""
    # The workbook lists the cells that hold incidents or are hidden: a zero-filled grid
    # (every region x period x category) is mostly zeros and slow to write as a workbook.
    cells = tables["cells"]
    listed = cells[cells["incidents"].isna() | (cells["incidents"].fillna(0) != 0)]
    if "suppressed" in cells:
        listed = cells[cells["suppressed"].astype(bool) | (cells["incidents"].fillna(0) != 0)]
    note = (
        f"The Cells sheet lists the {len(listed):,} cells that hold incidents or are hidden; "
        f"the other {len(cells) - len(listed):,} are zeros (cells.csv lists every cell)."
    )
    sheets = {"About": _about_sheet(figures, title, note)}
    sheet_names = {
        "regions": "Regions",
        "series": "Time series",
        "periods": "Periods",
        "totals": "Totals",
        "cells": "Cells",
        "data_quality": "Data quality",
        "problems": "Problems",
    }
    sheets |= {sheet_names[name]: frame for name, frame in {**tables, "cells": listed}.items()}
    tags = {t: tg for t, frame in sheets.items() if any(tg := _hxl(figures, frame))}
    return to_xlsx_bytes(sheets, created=FIXED_TIME, hxl=tags if hxl else None)


def _hxl(figures: Figures, frame: pd.DataFrame) -> list[str]:
    return hxl_tags(list(frame.columns), level=figures.level, period=figures.period.value)


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


def _about_sheet(figures: Figures, title: str, note: str = "") -> pd.DataFrame:
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
    if note:
        lines.append(note)
    lines.append(f"Made with crisismap {__version__}.")
    return pd.DataFrame({"About this file": lines})


def regions_geojson(analysis: Analysis, figures: Figures) -> bytes:
    """Every region of the level with its figures; suppressed figures are null."""
    import geopandas as gpd

    shapes = with_region_names(pipeline.summary_levels(analysis)[figures.level])
    columns = ["code", "name", *[c for c in ("country",) if c in shapes], "geometry"]
    table = figures.regions.set_index("region_code")[["incidents", "victims", "suppressed"]]
    frame = shapes[columns].merge(table, how="left", left_on="code", right_index=True)
    frame["incidents"] = frame["incidents"].astype("Int64")
    return features_geojson_bytes(gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326"))


def cells_geojson(analysis: Analysis, figures: Figures) -> bytes:
    """One feature per region × period × category cell, exactly as ``figures`` publishes
    it (suppressed figures null, as in cells.csv); see
    :func:`crisismap.export.cells_geojson_bytes`."""
    shapes = pipeline.summary_levels(analysis)[figures.level]
    label = publish.sensitivity_label(figures.public, k=figures.suppression.get("k", 0))
    return cells_geojson_bytes(shapes, figures.cells, level=figures.level, members=label)
