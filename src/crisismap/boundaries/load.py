"""The two ways in: ``load_boundaries`` (the bundled world set, a file or a folder) and
``read_boundary_bytes`` (an upload), each a short recipe over the package's steps."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from crisismap.boundaries import cache, fetched
from crisismap.boundaries.assemble import assemble
from crisismap.boundaries.checks import without_unnamed_covers
from crisismap.boundaries.files import (
    check_size,
    data_files,
    materialise,
    safe_basename,
    sha256_file,
    strip_suffixes,
)
from crisismap.boundaries.model import (
    DEFAULT_MAX_BYTES,
    MAX_EXPANDED_BYTES,
    BoundarySet,
    LoadOptions,
)
from crisismap.boundaries.vintage import UNKNOWN_DATE, file_date
from crisismap.boundaries.world import load_world
from crisismap.errors import BoundaryError
from crisismap.i18n import _


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
    cache_dir: str | os.PathLike | None = None,
    keep_unnamed_overlaps: bool = False,
    population_field: str | None = None,
) -> BoundarySet:
    """Load ``"world"``, ``"world:UKR,SDN"``, a boundary file or a directory of files.

    Parameters
    ----------
    source
        ``"world"`` / ``"world:<ISO3>[,<ISO3>...]"`` for the bundled set,
        ``"fetched:<ISO3>"`` / ``"fetched:<source>:<ISO3>"`` for a set fetched earlier
        (:mod:`crisismap.boundaries.fetched`, kept under ``cache_dir``), else a path: a
        file (.geojson, .json, .topojson, .gpkg, .parquet, .zip, .gz) or a directory with
        one file per level (e.g. a COD-AB folder of ``caf_admin0..4.parquet``).
    level, code_field, name_field, parent_field, country
        Overrides for files whose fields cannot be detected. ``level`` needs a source with
        a single polygon layer; ``country`` (ISO 3166-1 alpha-3) fills a missing country.
    max_bytes, max_expanded_bytes
        Refuse inputs larger than this, and archives expanding to more than this.
    cache_dir
        Where prepared sets are kept (see :mod:`crisismap.boundaries.cache`; the shells
        pass ``<data dir>/cache``): a file or folder loaded before, with the same bytes
        and options, is opened from there in milliseconds. None: no cache.
    keep_unnamed_overlaps
        Keep unnamed polygons that overlap named regions in the join (the overlap checks,
        :mod:`crisismap.boundaries.checks`, find them; by default they are left out).
    population_field
        The column of region populations, where it is in a layer; else a column whose name
        says population and holds non-negative numbers (:mod:`crisismap.boundaries.population`).
    """
    opts = LoadOptions(
        level, code_field, name_field, parent_field, country, max_bytes, max_expanded_bytes
    )
    opts.population_field = population_field
    bset = _load(source, opts, cache_dir)
    return bset if keep_unnamed_overlaps else without_unnamed_covers(bset)


def _load(
    source: str | os.PathLike, opts: LoadOptions, cache_dir: str | os.PathLike | None
) -> BoundarySet:
    """The set as prepared (from the cache when there is one), before any choice."""
    text = os.fspath(source)
    if text.lower() == "world" or text.lower().startswith("world:"):
        return load_world(text)  # a local folder called "world" is reachable as ./world
    if fetched.is_fetched_spec(text):  # fetched earlier: offline (a folder is ./fetched:…)
        found = fetched.resolve(text, cache_dir)
        return fetched.labelled(_cached(found.files, opts, cache_dir, _load_directory), found)
    path = Path(text)
    if path.is_dir():
        return _cached(path, opts, cache_dir, _load_directory)
    if path.is_file():
        check_size(path.stat().st_size, path.name, opts.max_bytes)
        return _cached(path, opts, cache_dir, _load_file)
    raise BoundaryError(
        _(
            "Boundary source {text!r} not found: expected 'world', "
            "'world:<ISO3>' (e.g. world:UKR), 'fetched:<ISO3>' (fetched "
            "earlier with `crisismap boundaries fetch`), or the path of a "
            "boundary file or folder."
        ).format(text=text)
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
    cache_dir: str | os.PathLike | None = None,
    keep_unnamed_overlaps: bool = False,
) -> BoundarySet:
    """Load an uploaded boundary file (same formats, overrides, cache and
    ``keep_unnamed_overlaps`` as ``load_boundaries``)."""
    opts = LoadOptions(
        level, code_field, name_field, parent_field, country, max_bytes, max_expanded_bytes
    )
    safe_name = safe_basename(filename)
    check_size(len(data), safe_name, max_bytes)
    if cache_dir is None:
        bset = _read_upload(data, safe_name, opts)
    else:
        key = cache.bytes_key(data, safe_name, opts)
        bset = cache.load_cached(key, Path(cache_dir), lambda: _read_upload(data, safe_name, opts))
    return bset if keep_unnamed_overlaps else without_unnamed_covers(bset)


def _cached(
    path: Path,
    opts: LoadOptions,
    cache_dir: str | os.PathLike | None,
    load: Callable[[Path, LoadOptions], BoundarySet],
) -> BoundarySet:
    """``load(path, opts)``, through the cache of prepared sets when there is one."""
    if cache_dir is None:
        return load(path, opts)
    files = cache.source_files(path)
    check_size(sum(p.stat().st_size for p in files), path.name, opts.max_expanded_bytes)
    key = cache.source_key(files, path.name, opts)
    return cache.load_cached(key, Path(cache_dir), lambda: load(path, opts))


def _read_upload(data: bytes, safe_name: str, opts: LoadOptions) -> BoundarySet:
    """An upload, written to a private temporary folder and assembled from there."""
    with tempfile.TemporaryDirectory(prefix="crisismap-upload-") as tmp:
        upload = _save_upload(data, safe_name, Path(tmp) / "upload")
        work = Path(tmp) / "work"
        work.mkdir()
        notes: list[str] = []
        files = materialise(upload, work, opts, notes)
        stem = strip_suffixes(safe_name)
        return assemble(stem, files, opts, notes, hashlib.sha256(data).hexdigest())


def _load_file(path: Path, opts: LoadOptions) -> BoundarySet:
    """One file, unpacked into a temporary folder if it is a zip or gzip."""
    check_size(path.stat().st_size, path.name, opts.max_bytes)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="crisismap-boundaries-") as tmp:
        files = materialise(path, Path(tmp), opts, notes)
        bset = assemble(strip_suffixes(path.name), files, opts, notes, sha256_file(path))
    return _dated(bset, cache.source_files(path))


def _load_directory(path: Path, opts: LoadOptions) -> BoundarySet:
    """The boundary files of a folder (one per level), each within the size limits."""
    notes: list[str] = []
    files = data_files(path, notes, recursive=False)
    if not files:
        raise BoundaryError(
            _(
                "Folder {path} holds no boundary file: expected .geojson, .gpkg, "
                ".parquet, .topojson, .shp or .zip files (one per admin level)."
            ).format(path=path)
        )
    total = sum(p.stat().st_size for p in files)
    check_size(total, path.name, opts.max_expanded_bytes)
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="crisismap-boundaries-") as tmp:
        materialised: list[Path] = []
        for i, p in enumerate(files):
            check_size(p.stat().st_size, p.name, opts.max_bytes)
            digest.update(p.name.encode() + b"\0" + sha256_file(p).encode())
            work = Path(tmp) / str(i)
            work.mkdir()
            materialised += materialise(p, work, opts, notes)
        bset = assemble(path.name, materialised, opts, notes, digest.hexdigest())
    return _dated(bset, files)


def _dated(bset: BoundarySet, files: list[Path]) -> BoundarySet:
    """A set whose files state no date gets the files' own date, worded as such
    (uploads never: their file date is the moment of the upload)."""
    if bset.date != UNKNOWN_DATE:
        return bset
    return replace(bset, date=file_date(files))


def _save_upload(data: bytes, safe_name: str, folder: Path) -> Path:
    """The uploaded bytes written to a fresh folder under their sanitised name."""
    folder.mkdir()
    (folder / safe_name).write_bytes(data)
    return folder / safe_name
