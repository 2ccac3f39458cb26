"""The report bundle: a reproducible ZIP with a PDF brief, the same figures as
CSV/XLSX/GeoJSON, and a manifest with the SHA-256 of every input and output."""

from crisismap.report.bundle import (
    Figures,
    attributions,
    build_bundle,
    bundle_filename,
    bundle_files,
    bundle_manifest,
    default_title,
    figure_files,
    regions_geojson,
    render_pdf,
    view_figures,
    view_points,
    zip_bytes,
)

__all__ = [
    "Figures",
    "attributions",
    "build_bundle",
    "bundle_filename",
    "bundle_files",
    "bundle_manifest",
    "default_title",
    "figure_files",
    "regions_geojson",
    "render_pdf",
    "view_figures",
    "view_points",
    "zip_bytes",
]
