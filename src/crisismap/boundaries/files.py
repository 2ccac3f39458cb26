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
from crisismap.i18n import _

MAX_ZIP_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 200  # real boundary files compress 3-30x; bombs 1000x
_DATA_EXTS = {".geojson", ".json", ".topojson", ".gpkg", ".parquet", ".geoparquet", ".shp"}
_ARCHIVE_EXTS = {".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz"}
_SIDECAR_EXTS = {".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".fix", ".qmd"}


def check_size(size: int, name: str, limit: int) -> None:
    """Refuse an input larger than ``limit`` bytes."""
    if size > limit:
        raise UnsafeInputError(
            _(
                "{name} was refused: it is {size_mb:.1f} MB and the limit is "
                "{limit_mb:.0f} MB. Split the file by level or simplify it first."
            ).format(name=name, size_mb=size / 1024**2, limit_mb=limit / 1024**2)
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
        if archive:
            text = _(
                "The file name {name!r} inside {archive!r} is {size:,} bytes long; file names "
                "can be at most {limit} bytes. Rename the file to a shorter name and try again."
            )
        else:
            text = _(
                "The file name {name!r} is {size:,} bytes long; file names can be at most "
                "{limit} bytes. Rename the file to a shorter name and try again."
            )
        raise BoundaryError(
            text.format(
                name=name[:40] + "…", archive=(archive or "")[:60], size=size, limit=MAX_NAME_BYTES
            )
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
                _(
                    "{name} holds no boundary file: expected .shp (with .dbf/.shx), "
                    ".geojson, .gpkg, .parquet or .topojson inside the zip."
                ).format(name=path.name)
            )
        return files
    if kind == "gzip":
        inner_name = path.name.removesuffix(".gz").removesuffix(".GZ")
        inner = work / safe_basename(inner_name if inner_name != path.name else "inner")
        _gunzip(path, inner, opts)
        if sniff(read_head(inner), inner.name) in ("zip", "gzip"):
            raise UnsafeInputError(
                _(
                    "{name} was refused: it is an archive inside an archive; upload "
                    "the inner file directly."
                ).format(name=path.name)
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
            _(
                "{name} was refused: it is XML (an OGR VRT or GML/KML file), which "
                "can make GDAL read other files on the server. Export the "
                "boundaries as GeoJSON, GeoPackage, GeoParquet or a zipped "
                "Shapefile."
            ).format(name=name)
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
        what = _("unrecognised content") if found == "unknown" else _("{kind} content")
        if expected:
            said = _("{name} cannot be read as boundaries: found {what} in a {suffix} file.")
        else:
            said = _("{name} cannot be read as boundaries: found {what}.")
        what = what.format(kind=found)
        raise BoundaryError(
            said.format(name=name, what=what, suffix=Path(name).suffix)
            + " "
            + _(
                "Expected GeoJSON, TopoJSON, GeoPackage, GeoParquet, a zipped "
                "Shapefile, or one of those gzipped."
            )
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
            _(
                "{archive} was refused: member {name!r} would be written outside "
                "the extraction folder (an absolute or '..' path, a 'zip-slip')."
            ).format(archive=archive, name=name)
        )
    for part in parts:
        check_name_length(part, archive)


def _unzip(path: Path, dest: Path, opts: LoadOptions, notes: list[str]) -> None:
    """Extract a zip into ``dest`` after checking it cannot exhaust or escape."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BoundaryError(
            _("{name} is not a readable zip file ({exc}).").format(name=path.name, exc=exc)
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise UnsafeInputError(
                _("{name} was refused: it has {n} members and the limit is {limit}.").format(
                    name=path.name, n=len(infos), limit=MAX_ZIP_MEMBERS
                )
            )
        total = 0
        for info in infos:
            _check_member_name(info.filename, path.name)
            if info.is_dir():
                continue
            if Path(info.filename.lower()).suffix in _ARCHIVE_EXTS:
                raise UnsafeInputError(
                    _(
                        "{name} was refused: it contains another archive ({filename}); put "
                        "the boundary files directly in one zip."
                    ).format(name=path.name, filename=info.filename)
                )
            if info.flag_bits & 0x1:
                raise BoundaryError(
                    _("{name} is encrypted: upload it without a password.").format(name=path.name)
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO and info.file_size > 1024**2:
                raise UnsafeInputError(
                    _(
                        "{name} was refused: {filename} expands {ratio:.0f}-fold (limit "
                        "{MAX_COMPRESSION_RATIO}), the signature of a zip bomb."
                    ).format(
                        name=path.name,
                        filename=info.filename,
                        ratio=ratio,
                        MAX_COMPRESSION_RATIO=MAX_COMPRESSION_RATIO,
                    )
                )
            total += info.file_size
        if total > opts.max_expanded_bytes:
            raise UnsafeInputError(
                _(
                    "{name} was refused: it would expand to {size_mb:.0f} MB and the "
                    "limit is {limit_mb:.0f} MB."
                ).format(
                    name=path.name,
                    size_mb=total / 1024**2,
                    limit_mb=opts.max_expanded_bytes / 1024**2,
                )
            )
        skipped = 0
        for info in infos:
            member = PurePosixPath(info.filename)
            if info.is_dir() or member.parts[0] == "__MACOSX" or member.name.startswith("."):
                skipped += not info.is_dir()
                continue
            target = dest.joinpath(*member.parts)
            if not target.resolve().is_relative_to(dest.resolve()):
                raise UnsafeInputError(
                    _("{name} was refused: {filename!r} escapes.").format(
                        name=path.name, filename=info.filename
                    )
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_bounded(archive.open(info), target, info.file_size, path.name)
        if skipped:
            notes.append(
                _("Skipped {skipped} hidden or __MACOSX files in {name}.").format(
                    skipped=skipped, name=path.name
                )
            )


def _copy_bounded(src: io.BufferedIOBase, target: Path, limit: int, archive: str) -> None:
    written = 0
    with src, target.open("wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            written += len(chunk)
            if written > limit:
                raise UnsafeInputError(
                    _(
                        "{archive} was refused: a member expands beyond the size it declares."
                    ).format(archive=archive)
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
                        _(
                            "{name} was refused: it expands more than "
                            "{MAX_COMPRESSION_RATIO}-fold, the signature of a zip bomb."
                        ).format(name=path.name, MAX_COMPRESSION_RATIO=MAX_COMPRESSION_RATIO)
                    )
                if written > opts.max_expanded_bytes:
                    raise UnsafeInputError(
                        _("{name} was refused: it expands to more than {limit_mb:.0f} MB.").format(
                            name=path.name, limit_mb=opts.max_expanded_bytes / 1024**2
                        )
                    )
                out.write(chunk)
        except (OSError, EOFError) as exc:
            raise BoundaryError(
                _("{name} is not a readable gzip file ({exc}).").format(name=path.name, exc=exc)
            ) from exc


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
        notes.append(
            _("Ignored files that are not boundary data: {values}.").format(
                values=", ".join(ignored[:10])
            )
        )
    return found
