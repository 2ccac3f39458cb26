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
