"""The bundle's manifest and README: what is inside and how to check it.

The manifest lists the SHA-256 of every input and output, the software versions that
decide the bytes of the outputs and every parameter; the README says the same in words.
Public manifests carry only whole-file counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from crisismap import __version__, i18n, pipeline, publish
from crisismap.export import manifest_bytes
from crisismap.i18n import N_, _
from crisismap.pipeline import Analysis
from crisismap.report.figures import MARK, Figures, period_name, printed_day

FILE_NOTES = {
    "README.txt": N_("what is in this bundle and how to check it"),
    "brief.pdf": N_("the brief: map, regional table, time series, notes, methodology"),
    "regions.csv": N_("incidents and victims per region (the map and the PDF table)"),
    "series.csv": N_("incidents and victims per period and category (the chart)"),
    "periods.csv": N_("incidents and victims per period, all categories"),
    "totals.csv": N_("incidents and victims per category, and the grand total"),
    "cells.csv": N_("incidents and victims per region, period and category"),
    "data_quality.csv": N_("records read, accepted, rejected; precision caveats"),
    "problems.csv": N_("problems found in the input, by kind, with their record counts"),
    "figures.xlsx": N_("all of the tables above, one sheet each, with an About sheet"),
    "regions.geojson": N_("the regions with their figures, for GIS"),
    "points.csv": N_("one row per incident with masked coordinates (public: published cells only)"),
    "manifest.json": N_("SHA-256 of every output, the inputs, versions, every parameter"),
}


def bundle_manifest(
    analysis: Analysis,
    figures: Figures,
    files: dict[str, bytes],
    *,
    title: str,
    masking: publish.Masking | None = None,
    secret: bytes | None = None,
    points: Mapping[str, Any] | None = None,
) -> bytes:
    """The manifest: inputs and outputs with SHA-256, versions, every parameter.

    ``points`` (from :func:`crisismap.report.points.points_summary`) says how many masked
    points were left out and why, and names the displacement secret by fingerprint.

    Public manifests carry only whole-file counts (records read, rejected...): the
    per-level totals of :func:`crisismap.pipeline.manifest` are not suppressed. They
    never name an incident file nor give its SHA-256 (a file name can hold a witness's
    or a village's name; a plain hash confirms a guessed file): each file is named by
    its position and, given the workspace ``secret``, a keyed fingerprint
    (:func:`crisismap.publish.public_inputs`). Internal manifests keep both.
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
    if points is not None:
        parameters["publication"]["points"] = dict(points)
    outputs = {name: data for name, data in files.items() if name != "manifest.json"}
    text = manifest_bytes(
        inputs=(
            publish.public_inputs(analysis.inputs, secret)
            if figures.public
            else list(analysis.inputs)
        )
        + ([{"name": f"boundaries:{bset.name}", "sha256": bset.sha256}] if bset.sha256 else []),
        outputs={publish.export_filename(n, figures.public): d for n, d in outputs.items()},
        counts=counts,
        boundaries={
            "name": bset.name,
            "source": bset.source,
            "version": bset.version,
            "codes": pipeline.boundary_codes(bset),
            "date": bset.date,
        },
        parameters=parameters,
    )
    manifest = json.loads(text)
    manifest = {
        "sensitivity": "public" if figures.public else "sensitive",
        "language": i18n.language(),
        **manifest,
        "environment": _environment(),
        "reproduce": _(
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


def readme(
    figures: Figures,
    title: str,
    files: dict[str, bytes],
    masking: publish.Masking | None,
    point_notes: Sequence[str] = (),
) -> str:
    """The README.txt: the notice, the view, every file with one line on it."""
    label = publish.sensitivity_label(figures.public, k=figures.suppression.get("k", 0))
    lines = [title, "=" * min(len(title), 78), "", label["notice"], ""]
    lines += [
        _("Admin level {level}, period: {period}, {first} to {last}.").format(
            level=figures.level,
            period=period_name(figures.period),
            first=printed_day(figures.first),
            last=printed_day(figures.last),
        ),
        "",
        _("Files:"),
    ]
    for name in [*files, "manifest.json"]:
        shown = publish.export_filename(name, figures.public)
        note = FILE_NOTES.get(name)
        lines.append(f"  {shown:<34} {_(note) if note else ''}")
    lines += [
        "",
        _("Every figure in brief.pdf is in the CSV files, figures.xlsx and regions.geojson."),
        _("Totals are sums of the cells: an incident with several categories counts in each."),
    ]
    if figures.public:
        lines.append(
            _(
                "Suppressed figures are blank in the tables (suppressed = True) and '{mark}' in "
                "the PDF."
            ).format(mark=MARK)
        )
    if masking is not None:
        lines += [
            "",
            f"points.csv: {masking.settings()['description']}.",
            *(
                []
                if figures.public
                else [_("Caution: one row per incident shows counts that public tables suppress.")]
            ),
            *point_notes,
        ]
    lines += [
        "",
        _("Check the files: sha256sum each file and compare with manifest.json (outputs)."),
        _("Made with crisismap {version}.").format(version=__version__),
        "",
    ]
    return "\n".join(lines)
