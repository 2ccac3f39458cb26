"""Prepared boundary sets kept on disk, so a folder read once opens in a few milliseconds.

Reading and assembling a COD-AB folder (six layers: detection, repairs, parents) takes
about a second; the result is written once as one GeoParquet file per level plus a JSON
manifest, in ``<cache_dir>/boundaries/<key>/``. The key is a SHA-256 over the *bytes* of
every file of the source (a folder's files, or a file and its Shapefile sidecars), their
names, the load options and this module's format number: a changed file, however its
size and time stamp look, is a miss. An entry is written in a private temporary folder
and renamed into place (owner-only, 0700/0600), so a reader never sees half of one.

An entry is trusted only after checking it: the manifest's format and key, every level
file's SHA-256, row count, CRS and columns. Anything else (a truncated file, a stray
edit, an old format) is a miss: the entry is removed and rebuilt from the source.

Boundaries are public geometry: nothing derived from incidents is ever written here.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd

from crisismap import i18n
from crisismap.boundaries.files import _DATA_EXTS, _SIDECAR_EXTS
from crisismap.boundaries.model import BoundarySet, LoadOptions
from crisismap.files import private_dir, write_private

# Bump when what a prepared set holds, or how levels are built, changes (2: geoBoundaries
# codes from shapeISO when complete, code_source on every region; 3: also the set's date,
# snap default and overlap / gap checks; 4: names by language, ``name:<lang>`` columns;
# 5: ``population`` and ``population_source`` where the files carry populations).
FORMAT = 5
KEEP = 16  # prepared sets kept; the least recently used beyond this are removed
_MANIFEST = "manifest.json"
_REQUIRED = ("code", "name", "parent_code", "country", "geometry")


def load_cached(key: str, cache_dir: Path, build: Callable[[], BoundarySet]) -> BoundarySet:
    """The set ``build`` makes, from the cache entry ``key`` when a valid one is there.

    ``key`` comes from :func:`source_key` or :func:`bytes_key`. A cache folder that
    cannot be created (a read-only data directory) only means no cache.
    """
    try:
        folder = private_dir(Path(cache_dir) / "boundaries")
    except OSError:
        return build()
    entry = folder / key
    if entry.is_dir():
        found = _read_entry(entry, key)
        if found is not None:
            os.utime(entry)  # recently used: kept by _prune
            return found
        shutil.rmtree(entry, ignore_errors=True)  # never trusted: rebuilt below
    bset = build()
    _write_entry(folder, key, bset)
    _prune(folder)
    return bset


def source_key(files: list[Path], name: str, opts: LoadOptions) -> str:
    """The entry key of a load from disk: each file's name and bytes, the options."""
    digest = _key_start("files", name, opts)
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + _file_sha256(path).encode() + b"\0")
    return digest.hexdigest()


def bytes_key(data: bytes, filename: str, opts: LoadOptions) -> str:
    """The entry key of an upload: its bytes, its (sanitised) name, the options."""
    digest = _key_start("upload", filename, opts)
    digest.update(hashlib.sha256(data).hexdigest().encode())
    return digest.hexdigest()


def _key_start(kind: str, name: str, opts: LoadOptions) -> Any:
    # The notes a set carries are sentences in the language it was read in: one entry each.
    lang = i18n.language()
    digest = hashlib.sha256(f"crisismap-boundaries/{FORMAT}\0{kind}\0{name}\0{lang}\0".encode())
    digest.update(json.dumps(asdict(opts), sort_keys=True).encode() + b"\0")
    return digest


def source_files(path: Path) -> list[Path]:
    """What a load of ``path`` may read: a folder's boundary files and Shapefile sidecars,
    or a file and the files beside it with the same stem (a Shapefile's .dbf, .prj...)."""
    if path.is_dir():
        wanted = _DATA_EXTS | _SIDECAR_EXTS | {".zip", ".gz"}
        return [
            p
            for p in path.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in wanted
        ]
    stem = path.name.split(".")[0]
    return [p for p in path.parent.iterdir() if p.is_file() and p.name.split(".")[0] == stem]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_entry(entry: Path, key: str) -> BoundarySet | None:
    """The prepared set in ``entry``, or None when anything about it does not check out."""
    try:
        manifest = json.loads((entry / _MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            return None
        levels = {}
        for level, item in manifest["levels"].items():
            data = (entry / item["file"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != item["sha256"]:
                return None
            frame = _frame(data)
            if not _plausible(frame, item["rows"]):
                return None
            levels[int(level)] = frame
        return BoundarySet(
            name=str(manifest["name"]),
            source=str(manifest["source"]),
            version=str(manifest["version"]),
            levels=levels,
            notes=[str(note) for note in manifest["notes"]],
            sha256=manifest["sha256"],
            date=str(manifest["date"]),
            snap_default_m=float(manifest["snap_default_m"]),
            checks=dict(manifest["checks"]),
        )
    except Exception:  # a damaged entry of any kind is a miss, never an error
        return None


def _frame(data: bytes) -> gpd.GeoDataFrame:
    """A level's GeoParquet bytes as a frame in EPSG:4326.

    Read through pyarrow with one CRS object for every level: geopandas parses each
    file's PROJJSON anew (~30 ms a level), more than the rest of the read.
    """
    import pyarrow.parquet as pq
    import shapely

    frame = pq.read_table(io.BytesIO(data)).to_pandas()
    frame["geometry"] = shapely.from_wkb(frame["geometry"].to_numpy())
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=_wgs84())


@functools.cache
def _wgs84() -> Any:
    from pyproj import CRS

    return CRS.from_epsg(4326)


def _plausible(frame: Any, rows: int) -> bool:
    return (
        isinstance(frame, gpd.GeoDataFrame)
        and len(frame) == rows
        and frame.crs is not None
        and frame.crs.to_epsg() == 4326
        and all(column in frame.columns for column in _REQUIRED)
    )


def _write_entry(folder: Path, key: str, bset: BoundarySet) -> None:
    """Write the entry in a private temporary folder, then rename it into place."""
    if not all(_plausible(frame, len(frame)) for frame in bset.levels.values()):
        return  # only sets in EPSG:4326 with the standard columns (all loads give those)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))  # 0700
    try:
        levels = {}
        for level, frame in sorted(bset.levels.items()):
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            data = buffer.getvalue()
            file = f"admin{level}.parquet"
            write_private(tmp / file, data)
            levels[str(level)] = {
                "file": file,
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(frame),
            }
        manifest = {
            "format": FORMAT,
            "key": key,
            "name": bset.name,
            "source": bset.source,
            "version": bset.version,
            "sha256": bset.sha256,
            "notes": list(bset.notes),
            "date": bset.date,
            "snap_default_m": bset.snap_default_m,
            "checks": bset.checks,
            "levels": levels,
        }
        write_private(tmp / _MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
        os.replace(tmp, folder / key)
    except OSError:
        pass  # another process wrote the same entry first, or the disk is full: still usable
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond :data:`KEEP`."""
    entries = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[KEEP:]:
        shutil.rmtree(stale, ignore_errors=True)
