"""Getting boundary files onto disk safely: size limits, content sniffed before GDAL sees
it, zips and gzips unpacked into a private folder only after checks for bombs and
zip-slip, and the boundary files of a folder picked out."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zipfile
from pathlib import Path, PurePosixPath

from crisismap.boundaries.model import LoadOptions
from crisismap.errors import BoundaryError, UnsafeInputError

MAX_ZIP_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 200  # real boundary files compress 3-30x; bombs 1000x
_DATA_EXTS = {".geojson", ".json", ".topojson", ".gpkg", ".parquet", ".geoparquet", ".shp"}
_ARCHIVE_EXTS = {".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz"}
_SIDECAR_EXTS = {".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".fix", ".qmd"}


def check_size(size: int, name: str, limit: int) -> None:
    """Refuse an input larger than ``limit`` bytes."""
    if size > limit:
        raise UnsafeInputError(
            f"{name} was refused: it is {size / 1024**2:.1f} MB and the limit is "
            f"{limit / 1024**2:.0f} MB. Split the file by level or simplify it first."
        )


MAX_NAME_BYTES = 255  # the longest file name Linux, macOS and Windows file systems keep


def safe_basename(filename: str) -> str:
    """An uploaded file's name without folders or unusual characters."""
    base = re.split(r"[\\/]", str(filename))[-1].strip()
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip(".")
    check_name_length(base)
    return base or "upload"


def check_name_length(name: str, archive: str | None = None) -> None:
    """Refuse a file name the file system cannot hold (over 255 bytes in UTF-8)."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        where = f" inside {archive[:60]!r}" if archive else ""
        raise BoundaryError(
            f"The file name {name[:40] + '…'!r}{where} is {size:,} bytes long; file names "
            f"can be at most {MAX_NAME_BYTES} bytes. Rename the file to a shorter name and "
            "try again."
        )


def strip_suffixes(name: str) -> str:
    """The name of a boundary set from its file name: "ukr.topo.json.gz" -> "ukr"."""
    stem = name
    for suffix in (".gz", ".zip", ".json", ".topo", ".geojson", ".topojson", ".gpkg"):
        stem = stem.removesuffix(suffix)
    return Path(stem).stem or stem


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def materialise(path: Path, work: Path, opts: LoadOptions, notes: list[str]) -> list[Path]:
    """The data files ``path`` stands for: itself, or what a zip/gzip holds (in ``work``)."""
    head = read_head(path)
    kind = sniff(head, path.name)
    if kind == "zip":
        _unzip(path, work, opts, notes)
        files = data_files(work, notes)
        if not files:
            raise BoundaryError(
                f"{path.name} holds no boundary file: expected .shp (with .dbf/.shx), "
                ".geojson, .gpkg, .parquet or .topojson inside the zip."
            )
        return files
    if kind == "gzip":
        inner_name = path.name.removesuffix(".gz").removesuffix(".GZ")
        inner = work / safe_basename(inner_name if inner_name != path.name else "inner")
        _gunzip(path, inner, opts)
        if sniff(read_head(inner), inner.name) in ("zip", "gzip"):
            raise UnsafeInputError(
                f"{path.name} was refused: it is an archive inside an archive; "
                "upload the inner file directly."
            )
        return [inner]
    return [path]


def read_head(path: Path, n: int = 65536) -> bytes:
    """The first bytes of a file, for sniffing."""
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


def sniff(head: bytes, name: str) -> str:
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
    for part in parts:
        check_name_length(part, archive)


def _unzip(path: Path, dest: Path, opts: LoadOptions, notes: list[str]) -> None:
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


def _gunzip(path: Path, target: Path, opts: LoadOptions) -> None:
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


def data_files(folder: Path, notes: list[str], recursive: bool = True) -> list[Path]:
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
