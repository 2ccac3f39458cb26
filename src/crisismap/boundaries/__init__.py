"""Administrative boundaries: the bundled world set, user files (COD-AB, geoBoundaries,
GADM, Natural Earth) unpacked safely, levels detected and assembled into a BoundarySet."""

from crisismap.boundaries.load import (
    DEFAULT_MAX_BYTES,
    NE_ADM0_TO_ISO3,
    NE_DISPUTED,
    WORLD_DIR,
    BoundarySet,
    country_codes,
    gdal_vrt_disabled,
    load_boundaries,
    read_boundary_bytes,
    repair_polygons,
    subset,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NE_ADM0_TO_ISO3",
    "NE_DISPUTED",
    "WORLD_DIR",
    "BoundarySet",
    "country_codes",
    "gdal_vrt_disabled",
    "load_boundaries",
    "read_boundary_bytes",
    "repair_polygons",
    "subset",
]
