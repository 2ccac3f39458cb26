"""Reading the layers of one boundary file: GeoParquet with pyarrow, the other formats
with GDAL under a forced driver, each only after checking it will not expand past its
limits when read.

Formats that expand when read are checked before they are: GeoParquet (dictionary and
run-length encoding repeat a value for free) and TopoJSON (any number of polygons may
reuse one arc). Indonesia's ~83k villages (admin 4) fit in MAX_FEATURES three times.
GDAL's VRT drivers are skipped by ``crisismap/__init__.py`` before GDAL loads;
``gdal_vrt_disabled`` checks that it took effect.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.errors

from crisismap.boundaries.files import read_head, sniff
from crisismap.boundaries.geometry import feature_list
from crisismap.boundaries.model import MAX_EXPANDED_BYTES
from crisismap.errors import BoundaryError, UnsafeInputError
from crisismap.i18n import _, ngettext

MAX_FEATURES = 250_000  # per layer
MAX_VERTICES = 10_000_000  # vertices the polygons of a TopoJSON reference, reuse counted
MAX_TOPOJSON_BYTES = 100 * 1024**2  # parsed once in Python to count them
_FORMAT_RANK = {".parquet": 0, ".geoparquet": 0, ".gpkg": 1, ".geojson": 2, ".json": 2}


@dataclass
class Layer:
    """One polygon layer as read, with where it came from."""

    frame: gpd.GeoDataFrame
    origin: str  # "caf_admin2.geojson" or "file.gpkg, layer adm2"
    rank: int  # format preference when two files give the same level


def gdal_vrt_disabled() -> bool:
    """True when GDAL's OGR VRT driver is not registered (GDAL_SKIP took effect)."""
    import pyogrio

    return "OGR_VRT" not in pyogrio.list_drivers()


def read_layers(path: Path, notes: list[str]) -> list[Layer]:
    """The polygon layers of one data file, read with the reader its content calls for."""
    kind = sniff(read_head(path), path.name)
    rank = _FORMAT_RANK.get(path.suffix.lower(), 3)
    if kind == "parquet":
        _check_parquet_expansion(path)
        try:
            frame = gpd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise BoundaryError(
                _(
                    "{name} is Parquet but not GeoParquet ({exc}): expected a file "
                    "written by geopandas/GDAL with 'geo' metadata."
                ).format(name=path.name, exc=exc)
            ) from exc
        except shapely.errors.GEOSException as exc:
            raise BoundaryError(
                _(
                    "{name} has a geometry that cannot be read ({detail}). A polygon's "
                    "rings must close (end on their first point) and have at least "
                    "four points; fix the file in a GIS such as QGIS and export it "
                    "again."
                ).format(name=path.name, detail=str(exc).split(": ")[-1])
            ) from exc
        return [Layer(frame, path.name, rank)]
    if kind in ("zip", "gzip"):
        raise UnsafeInputError(
            _("{name} was refused: archives inside archives are not read.").format(name=path.name)
        )
    if kind == "topojson":
        _check_topojson_expansion(path)
    driver = {"geojson": "GeoJSON", "topojson": "TopoJSON", "gpkg": "GPKG", "shp": None}[kind]
    return _read_ogr(path, driver, rank, notes)


def _expands(name: str, what: str, limit: str) -> UnsafeInputError:
    return UnsafeInputError(
        _(
            "{name} was refused: read, it would expand to {what}; the limit is "
            "{limit}. Real admin boundaries stay far below it; split the file "
            "by level or simplify it."
        ).format(name=name, what=what, limit=limit)
    )


def _check_parquet_expansion(path: Path) -> None:
    """Rows, and bytes once decoded (dictionary and run-length encoding undone), bounded."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise BoundaryError(
            _("{name} is not a readable Parquet file ({exc}).").format(name=path.name, exc=exc)
        ) from exc
    meta = parquet.metadata
    if meta.num_rows > MAX_FEATURES:
        raise _expands(path.name, _features(meta.num_rows), f"{MAX_FEATURES:,}")
    total, variable = 0, set()
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            width = {"BOOLEAN": 1, "INT32": 4, "FLOAT": 4, "INT64": 8, "DOUBLE": 8}.get(
                column.physical_type
            )
            if width is None:  # BYTE_ARRAY / FIXED_LEN: measured below, decoded lengths
                variable.add(column.path_in_schema.split(".")[0])
            else:
                total += column.num_values * width
    if variable:  # read with dictionaries kept, so the check itself stays small
        table = pq.read_table(path, columns=sorted(variable), read_dictionary=sorted(variable))
        for chunked in table.columns:
            for chunk in chunked.chunks:
                total += _decoded_bytes(chunk, pc)
    if total > MAX_EXPANDED_BYTES:
        raise _expands(
            path.name, f"{total / 1024**2:,.0f} MB", f"{MAX_EXPANDED_BYTES // 1024**2} MB"
        )


def _decoded_bytes(chunk: Any, pc: Any) -> int:
    import pyarrow as pa

    if isinstance(chunk, pa.DictionaryArray):
        lengths = pc.binary_length(chunk.dictionary).fill_null(0)
        return int(pc.sum(lengths.take(chunk.indices)).as_py() or 0)  # null index: null
    if (
        pa.types.is_binary(chunk.type)
        or pa.types.is_string(chunk.type)
        or pa.types.is_large_binary(chunk.type)
        or pa.types.is_large_string(chunk.type)
    ):
        return int(pc.sum(pc.binary_length(chunk).fill_null(0)).as_py() or 0)
    return int(chunk.nbytes)


def _check_topojson_expansion(path: Path) -> None:
    """The vertices a TopoJSON's polygons reference (one arc may be reused by any number)."""
    size = path.stat().st_size
    if size > MAX_TOPOJSON_BYTES:
        raise UnsafeInputError(
            _(
                "{name} was refused: a TopoJSON file of {size_mb:.0f} MB (the limit "
                "is {limit_mb} MB). Export the boundaries as GeoPackage instead."
            ).format(name=path.name, size_mb=size / 1024**2, limit_mb=MAX_TOPOJSON_BYTES // 1024**2)
        )
    try:
        topology = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise BoundaryError(
            _("{name} is not readable JSON ({exc}).").format(name=path.name, exc=str(exc)[:200])
        ) from exc
    arcs = topology.get("arcs") if isinstance(topology, dict) else None
    objects = topology.get("objects") if isinstance(topology, dict) else None
    if not isinstance(arcs, list) or not isinstance(objects, dict):
        return  # not a topology GDAL can expand; it will say what is wrong
    lengths = [len(a) if isinstance(a, list) else 0 for a in arcs]
    total, stack = 0, [objects]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "arcs" in node:
                total += _referenced(node["arcs"], lengths)
            stack.extend(v for k, v in node.items() if k != "arcs" and isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
        if total > MAX_VERTICES:
            what = _("at least {n:,} vertices (its polygons reuse arcs)").format(n=total)
            raise _expands(path.name, what, f"{MAX_VERTICES:,}")


def _referenced(refs: Any, lengths: list[int]) -> int:
    """Vertices of the arcs an ``arcs`` member references (nested lists of arc indexes)."""
    total, stack = 0, [refs]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, int):
            index = ~node if node < 0 else node  # a negative index is a reversed arc
            total += lengths[index] if index < len(lengths) else 0
    return total


def _features(n: int) -> str:
    return ngettext("{n:,} feature", "{n:,} features", n).format(n=n)


def _malformed(target: str, layer: str, origin: str, exc: Exception) -> BoundaryError:
    """A geometry GEOS cannot build (a ring that does not close, too few points)."""
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame = pyogrio.read_dataframe(target, layer=layer, on_invalid="ignore", columns=[])
    bad = np.flatnonzero(frame.geometry.isna().to_numpy())
    detail = str(exc).split(": ")[-1]
    fix = _(
        "A polygon's rings must close (end on their first point) and have at least four "
        "points; fix the file in a GIS such as QGIS and export it again."
    )
    if not len(bad):
        said = _("{origin} has a geometry that cannot be read: {detail}.").format(
            origin=origin, detail=detail
        )
    else:
        said = ngettext(
            "{origin} has {n} geometry that cannot be read (feature {features}): {detail}.",
            "{origin} has {n} geometries that cannot be read (feature {features}): {detail}.",
            len(bad),
        ).format(origin=origin, n=len(bad), features=feature_list(bad), detail=detail)
    return BoundaryError(f"{said} {fix}")


def _read_ogr(path: Path, driver: str | None, rank: int, notes: list[str]) -> list[Layer]:
    """Read every polygon layer with GDAL, the driver forced (Shapefile: sniffed instead)."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    target = f"{driver}:{path}" if driver else str(path)
    try:
        listed = pyogrio.list_layers(target)
    except (DataSourceError, DataLayerError) as exc:
        raise BoundaryError(
            _(
                "{name} could not be read as {driver} ({exc}). Check that it opens "
                "in a GIS such as QGIS, and export it again."
            ).format(name=path.name, driver=driver or "Shapefile", exc=exc)
        ) from exc
    layers = []
    for layer_name, geom_type in listed:
        origin = path.name if len(listed) == 1 else f"{path.name}, layer {layer_name}"
        if (
            geom_type is not None
            and "polygon" not in str(geom_type).lower()
            and str(geom_type).lower() not in ("unknown", "geometry", "geometrycollection")
        ):
            notes.append(
                _("Skipped {origin}: its geometries are {geom_type}, not polygons.").format(
                    origin=origin, geom_type=geom_type
                )
            )
            continue
        info = pyogrio.read_info(target, layer=layer_name)
        if driver and info["driver"] != driver:
            raise UnsafeInputError(
                _("{name} was refused: GDAL opened it as {driver}.").format(
                    name=path.name, driver=info["driver"]
                )
            )
        if info.get("features", 0) > MAX_FEATURES:
            raise _expands(origin, _features(info["features"]), f"{MAX_FEATURES:,}")
        try:
            with warnings.catch_warnings():  # GDAL's and GEOS's: the errors below say it
                warnings.simplefilter("ignore", RuntimeWarning)
                frame = pyogrio.read_dataframe(target, layer=layer_name, datetime_as_string=True)
        except (DataSourceError, DataLayerError) as exc:
            raise BoundaryError(
                _(
                    "{origin} could not be read ({exc}). Check that it opens in a GIS "
                    "such as QGIS, and export it again."
                ).format(origin=origin, exc=exc)
            ) from exc
        except shapely.errors.GEOSException as exc:
            raise _malformed(target, layer_name, origin, exc) from exc
        if "geometry" not in frame or frame.geometry.isna().all():
            notes.append(_("Skipped {origin}: it has no geometries.").format(origin=origin))
            continue
        layers.append(Layer(frame, origin, rank))
    return layers
