"""The report bundle: a reproducible ZIP with a PDF brief, the same figures as
CSV/XLSX/GeoJSON, and a manifest with the SHA-256 of every input and output."""

from crisismap.report.bundle import (
    build_bundle,
    bundle_filename,
    bundle_files,
    default_title,
    figure_files,
    regions_geojson,
    zip_bytes,
)
from crisismap.report.figures import Figures, view_figures, view_points
from crisismap.report.manifest import bundle_manifest
from crisismap.report.methodology import attributions
from crisismap.report.pdf import render_pdf
from crisismap.report.points import id_warning, points_notes, points_summary

__all__ = [
    "Figures",
    "attributions",
    "build_bundle",
    "bundle_filename",
    "bundle_files",
    "bundle_manifest",
    "default_title",
    "figure_files",
    "id_warning",
    "points_notes",
    "points_summary",
    "regions_geojson",
    "render_pdf",
    "view_figures",
    "view_points",
    "zip_bytes",
]
