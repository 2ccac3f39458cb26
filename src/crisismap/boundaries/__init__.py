"""Admin boundaries: the bundled world set and the files NGOs bring, read safely.

Sources: ``"world"`` (Natural Earth admin-0 and admin-1 bundled in data/boundaries, see its
ATTRIBUTION.md), ``"world:UKR,SDN"`` (a subset by ISO 3166-1 alpha-3), or a file or a
directory of files as published by OCHA (COD-AB), geoBoundaries, Natural Earth or GADM:
GeoJSON, TopoJSON (also gzipped), GeoPackage (one layer per level is fine), zipped
Shapefile, GeoParquet.

Every level comes out as a GeoDataFrame with ``schema.BOUNDARY_COLUMNS`` (plus the file's
own attributes as text) in EPSG:4326, with valid polygons and unique text codes. What was
detected, repaired, reprojected or derived is said in ``BoundarySet.notes``.

Safety: a boundary file must never make the server read other files. Content is sniffed
before GDAL sees it (an OGR VRT is refused even when named .geojson), GDAL is opened with
a forced driver, GDAL's VRT drivers are skipped (``GDAL_SKIP``, set by ``import crisismap``
before pyogrio loads GDAL), and zips are checked (member count, expanded size, compression
ratio, member names) before anything is extracted into a private temporary directory.

The modules, in the order a load runs through them: ``load`` (the two entry points),
``world`` (the bundled set), ``files`` (onto disk, safely), ``formats`` (reading layers),
``detect`` (which fields are which), ``levels`` and ``geometry`` (building a level),
``assemble`` (levels into a set); ``model`` holds the BoundarySet and the options,
``countries`` the country-code tables; ``fetch`` (online, through ``download``) and
``fetched`` (offline) the sets fetched from geoBoundaries or COD-AB (``fetched:UKR``);
``cache`` keeps prepared sets on disk when the caller passes ``cache_dir`` (the CLI and
the dashboard pass ``<data dir>/cache``), so a folder or upload read once opens in
milliseconds later, in any process.
"""

from crisismap.boundaries.countries import NE_ADM0_TO_ISO3, NE_DISPUTED
from crisismap.boundaries.fetched import FetchSource, list_fetched
from crisismap.boundaries.formats import gdal_vrt_disabled
from crisismap.boundaries.geometry import repair_polygons
from crisismap.boundaries.levels import CODE_LABELS, code_kinds
from crisismap.boundaries.load import load_boundaries, read_boundary_bytes
from crisismap.boundaries.model import (
    DEFAULT_MAX_BYTES,
    MAX_EXPANDED_BYTES,
    BoundarySet,
    country_codes,
    subset,
)
from crisismap.boundaries.world import WORLD_DIR

__all__ = [
    "CODE_LABELS",
    "DEFAULT_MAX_BYTES",
    "MAX_EXPANDED_BYTES",
    "NE_ADM0_TO_ISO3",
    "NE_DISPUTED",
    "WORLD_DIR",
    "BoundarySet",
    "FetchSource",
    "code_kinds",
    "country_codes",
    "fetch_boundaries",
    "gdal_vrt_disabled",
    "list_fetched",
    "load_boundaries",
    "read_boundary_bytes",
    "repair_polygons",
    "subset",
]


def __getattr__(name: str) -> object:
    """``fetch_boundaries`` on first use: the online path (urllib, ssl) costs every
    offline command its import time otherwise."""
    if name == "fetch_boundaries":
        from crisismap.boundaries.fetch import fetch_boundaries

        return fetch_boundaries
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
