"""crisismap: validate incident records, join them to admin boundaries, aggregate, export."""

from __future__ import annotations

import os as _os


def _skip_gdal_vrt() -> None:
    """Keep GDAL's VRT drivers off before anything loads GDAL (pyogrio reads it at load).

    An OGR VRT file, whatever it is named, makes GDAL open any path on the server;
    boundary uploads are also sniffed and opened with a forced driver. This is the one
    place it is done: every ``crisismap.*`` import runs it first, so it precedes the
    boundaries package's own pyogrio imports; ``boundaries.gdal_vrt_disabled()`` checks it.
    """
    skip = _os.environ.get("GDAL_SKIP", "").replace(",", " ").split()
    _os.environ["GDAL_SKIP"] = " ".join(skip + [d for d in ("VRT", "OGR_VRT") if d not in skip])


_skip_gdal_vrt()

__version__ = "0.1.0"

# The public API, imported on first use so that ``import crisismap`` (and the CLI's
# start) does not load geopandas, pyarrow and folium before they are needed.
_PUBLIC = {
    # the one recipe: CSV bytes + boundaries -> Analysis -> one view's SummaryResult
    "analyse": "crisismap.pipeline",
    "analyse_files": "crisismap.pipeline",
    "summarize": "crisismap.pipeline",
    "summary_result": "crisismap.pipeline",
    "Analysis": "crisismap.pipeline",
    "SummaryResult": "crisismap.pipeline",
    # what a view is
    "View": "crisismap.schema",
    "Period": "crisismap.schema",
    "DateOrder": "crisismap.schema",
    # inputs
    "validate_bytes": "crisismap.records",
    "load_boundaries": "crisismap.boundaries",
    "read_boundary_bytes": "crisismap.boundaries",
    "BoundarySet": "crisismap.boundaries",
    # outputs
    "build_bundle": "crisismap.report",
    "build_map": "crisismap.layers",
    "Workspace": "crisismap.store",
    # problems and errors
    "Problem": "crisismap.problems",
    "Report": "crisismap.problems",
    "CrisismapError": "crisismap.errors",
    "InputError": "crisismap.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'crisismap' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
