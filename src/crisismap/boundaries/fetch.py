"""Fetching a country's current boundaries once, to use offline from then on.

Two services: geoBoundaries (gbOpen, one metadata answer per admin level at
``<api>/<ISO3>/ADM<n>/`` naming the GeoJSON to download, with the year the boundaries
represent, their source and licence) and OCHA's COD-AB on HDX (CKAN ``package_show`` of
``cod-ab-<iso3>``: the dataset's date, licence and source, and its files). Their addresses
come from ``$CRISISMAP_GEOBOUNDARIES_API`` and ``$CRISISMAP_HDX_URL`` (tests point them at
a local server). hdx-python-api is not used: it brings 69 packages (frictionless, typer,
pydantic, a GPL/Artistic transliterator...) for one ``package_show`` call.

A fetch downloads into a private temporary folder, loads what came (the usual safe
reading: content sniffed, zips checked for bombs and zip-slip, GDAL with forced drivers),
and only then writes ``fetched.json`` and renames the folder into place
(:mod:`crisismap.boundaries.fetched`): a failed fetch leaves the earlier one untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from crisismap.boundaries import fetched
from crisismap.boundaries.download import Client, Limits, NotFound
from crisismap.boundaries.fetched import FetchedSet, FetchSource, check_iso3
from crisismap.boundaries.files import safe_basename, sha256_file
from crisismap.boundaries.load import load_boundaries
from crisismap.boundaries.model import BoundarySet
from crisismap.errors import CrisismapError, FetchError
from crisismap.files import private_dir, write_private
from crisismap.i18n import _, ngettext

GEOBOUNDARIES_ENV = "CRISISMAP_GEOBOUNDARIES_API"
HDX_ENV = "CRISISMAP_HDX_URL"
GEOBOUNDARIES_API = "https://www.geoboundaries.org/api/current/gbOpen"
HDX_URL = "https://data.humdata.org"
DEFAULT_LEVEL = 2  # levels 0..2 unless asked: deeper ones are large and rarely counted at
MAX_LEVEL = 5
GEOBOUNDARIES_CITATION = (
    "geoBoundaries gbOpen (William & Mary geoLab; Runfola et al. 2020, PLoS ONE 15(4): e0231866)"
)
# COD-AB file formats crisismap reads, best first (GDB, EMF, XLSX, PDF are skipped).
_COD_FORMATS = (("geojson",), ("geopackage", "gpkg"), ("shp", "shapefile", "zipped shapefile"))


@dataclass(frozen=True)
class Fetched:
    """What a fetch gives: the set on disk and the set loaded from it."""

    fetched: FetchedSet
    boundaries: BoundarySet

    def summary(self) -> list[str]:
        """What was fetched, in lines for the CLI and the dashboard."""
        meta, bset = self.fetched.meta, self.boundaries
        not_stated = _("not stated")
        return [
            f"{bset.name}: {bset.source} ({bset.version})",
            *[
                ngettext("admin-{level}: {n} region", "admin-{level}: {n} regions", len(f)).format(
                    level=n, n=len(f)
                )
                for n, f in sorted(bset.levels.items())
            ],
            _("vintage: {vintage}").format(vintage=meta.get("vintage", not_stated)),
            _("licence: {licence}").format(licence=meta.get("licence", not_stated)),
        ]


def notice(source: FetchSource | str) -> str:
    """What a fetch sends where: said before anything leaves the machine."""
    src = FetchSource.parse(source) if isinstance(source, str) else source
    if src is FetchSource.GEOBOUNDARIES:
        text = _(
            "Fetching goes online: it asks {host} for one country's boundaries (the country "
            "code is sent) and downloads the files it points to (geoBoundaries keeps them on "
            "GitHub) into this workspace, to use offline from then on. Nothing about your "
            "records leaves this machine."
        )
    else:
        text = _(
            "Fetching goes online: it asks {host} for one country's boundaries (the country "
            "code is sent) and downloads the files it points to into this workspace, to use "
            "offline from then on. Nothing about your records leaves this machine."
        )
    return text.format(host=where_to(src))


@dataclass(frozen=True)
class _File:
    url: str
    name: str
    level: int | None
    meta: dict[str, Any]


def where_to(source: FetchSource) -> str:
    """The address a fetch from ``source`` goes to (for the sentence saying it leaves)."""
    base = _base(source)
    return urlsplit(base).netloc or base


def fetch_boundaries(
    iso3: str,
    cache_dir: str | os.PathLike[str],
    *,
    source: FetchSource | str = FetchSource.GEOBOUNDARIES,
    level: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[str], None] | None = None,
) -> Fetched:
    """Download ``iso3``'s admin levels 0 to ``level`` (default 2) and keep them in
    ``<cache_dir>/fetched/`` with their vintage and licence; usable offline afterwards as
    ``fetched:<ISO3>``. The country code is the only thing sent to the service."""
    code = check_iso3(iso3)
    src = FetchSource.parse(source) if isinstance(source, str) else source
    top = _check_level(level)
    say = progress or (lambda _text: None)
    client = Client(limits or Limits())
    say(_("asking {host} for {code}").format(host=where_to(src), code=code))
    if src is FetchSource.GEOBOUNDARIES:
        files, meta = _geoboundaries(client, code, top, level is not None)
    else:
        files, meta = _cod_ab(client, code, top)
    return _store(client, code, src, top, files, meta, Path(cache_dir), say)


def _check_level(level: int | None) -> int:
    if level is None:
        return DEFAULT_LEVEL
    if not 0 <= int(level) <= MAX_LEVEL:
        raise FetchError(
            _("--level expects an admin level from 0 to {top}, got {level}.").format(
                top=MAX_LEVEL, level=level
            )
        )
    return int(level)


def _base(source: FetchSource) -> str:
    if source is FetchSource.GEOBOUNDARIES:
        return os.environ.get(GEOBOUNDARIES_ENV, "").strip() or GEOBOUNDARIES_API
    return os.environ.get(HDX_ENV, "").strip() or HDX_URL


# ----------------------------------------------------------------------- geoBoundaries


def _geoboundaries(
    client: Client, iso3: str, top: int, asked: bool
) -> tuple[list[_File], dict[str, Any]]:
    """One metadata answer per level, ADM0 up to ``top``; stops at the first level missing."""
    service = "geoBoundaries"
    base = _base(FetchSource.GEOBOUNDARIES).rstrip("/")
    files: list[_File] = []
    for n in range(top + 1):
        url = f"{base}/{quote(iso3)}/ADM{n}/"
        try:
            answer = client.get_json(url, service)
        except NotFound:
            answer = None
        if not answer:  # 404, or an empty answer: no such level (or country)
            if n == 0:
                raise FetchError(
                    _(
                        "geoBoundaries has no boundaries for {iso3} (nothing at {url}). "
                        "Check the country code, or try --source cod-ab."
                    ).format(iso3=iso3, url=url)
                ) from None
            if asked:
                raise FetchError(
                    _(
                        "geoBoundaries has no admin-{n} boundaries for {iso3}: its levels "
                        "go to admin-{parent}. Ask for --level {parent} or less."
                    ).format(n=n, iso3=iso3, parent=n - 1)
                )
            break
        files.append(_geoboundaries_level(answer, iso3, n, url))
    levels = [f.meta for f in files]
    return files, {
        "service": f"geoBoundaries ({where_to(FetchSource.GEOBOUNDARIES)})",
        "source": f"{GEOBOUNDARIES_CITATION}; {_by_level(levels, 'source')}",
        "version": "gbOpen build "
        + ", ".join(dict.fromkeys(m["build_date"] or "?" for m in levels)),
        "vintage": "boundaries as of " + _by_level(levels, "year", ", "),
        "licence": f"{_by_level(levels, 'licence')} (the gbOpen product: CC BY 4.0)",
    }


def _by_level(levels: list[dict[str, Any]], key: str, sep: str = "; ") -> str:
    """``ADM0, ADM1: X; ADM2: Y`` (one value alone when every level shares it)."""
    grouped: dict[str, list[str]] = {}
    for m in levels:
        grouped.setdefault(str(m[key]), []).append(f"ADM{m['level']}")
    if len(grouped) == 1:
        return next(iter(grouped))
    return sep.join(f"{', '.join(names)}: {value}" for value, names in grouped.items())


def _geoboundaries_level(answer: Any, iso3: str, n: int, url: str) -> _File:
    """The download and vintage of one level, checked to be the one asked for."""
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if not isinstance(answer, dict):
        raise _unexpected("geoBoundaries", url, "a JSON object", type(answer).__name__)
    download = answer.get("gjDownloadURL") or answer.get("simplifiedGeometryGeoJSON")
    if not isinstance(download, str) or not download:
        raise _unexpected("geoBoundaries", url, "a gjDownloadURL field", sorted(answer)[:12])
    found_iso = str(answer.get("boundaryISO", iso3)).upper()
    found_type = str(answer.get("boundaryType", f"ADM{n}")).upper()
    if found_iso != iso3 or found_type != f"ADM{n}":
        raise _unexpected("geoBoundaries", url, f"{iso3} ADM{n}", f"{found_iso} {found_type}")
    meta = {
        "level": n,
        "id": _text(answer.get("boundaryID")),
        "year": _text(answer.get("boundaryYearRepresented")) or "year not stated",
        "source": _text(answer.get("boundarySource")) or "source not stated",
        "licence": _text(answer.get("boundaryLicense")) or "licence not stated",
        "licence_source": _text(answer.get("licenseSource")),
        "source_updated": _text(answer.get("sourceDataUpdateDate")),
        "build_date": _text(answer.get("buildDate")),
        "regions": _text(answer.get("admUnitCount")),
    }
    return _File(download, f"geoBoundaries-{iso3}-ADM{n}.geojson", n, meta)


# ----------------------------------------------------------------------- COD-AB on HDX


def _cod_ab(client: Client, iso3: str, top: int) -> tuple[list[_File], dict[str, Any]]:
    """The COD-AB dataset's metadata and the files of its best readable format."""
    service = "HDX"
    dataset = f"cod-ab-{iso3.lower()}"
    base = _base(FetchSource.COD_AB).rstrip("/")
    url = f"{base}/api/3/action/package_show?id={quote(dataset)}"
    try:
        answer = client.get_json(url, service)
    except NotFound:
        answer = {"success": False}
    if not isinstance(answer, dict) or "success" not in answer:
        raise _unexpected(service, url, "a CKAN answer with 'success'", type(answer).__name__)
    result = answer.get("result")
    if not answer["success"] or not isinstance(result, dict):
        raise FetchError(
            _(
                "HDX has no COD-AB dataset for {iso3} (no {dataset!r}). Not every "
                "country has one: try --source geoboundaries."
            ).format(iso3=iso3, dataset=dataset)
        )
    files = _cod_files(result.get("resources"), iso3, top, url)
    organisation = (result.get("organization") or {}).get("title") or "OCHA"
    date = _dataset_date(_text(result.get("dataset_date")))
    licence = _text(result.get("license_title") or result.get("license_id"))
    return files, {
        "service": f"OCHA COD-AB on HDX ({where_to(FetchSource.COD_AB)})",
        "source": f"{_text(result.get('title')) or dataset} ({organisation}; "
        f"{_text(result.get('dataset_source')) or 'source not stated'})",
        "version": f"{dataset} {date}, updated "
        + (_text(result.get("last_modified") or result.get("metadata_modified"))[:10] or "?"),
        "vintage": f"dataset date {date}",
        "licence": licence or "licence not stated",
        "dataset": dataset,
    }


def _cod_files(resources: Any, iso3: str, top: int, url: str) -> list[_File]:
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise _unexpected("HDX", url, "a list of resources", type(resources).__name__)
    for names in _COD_FORMATS:
        chosen = [r for r in resources if _text(r.get("format")).lower() in names]
        chosen = [r for r in chosen if (_level_of(r) or 0) <= top]
        if chosen:
            return [
                _File(
                    str(r.get("url", "")),
                    f"{i}_{_file_name(str(r.get('url', '')), f'cod_ab_{iso3.lower()}')}",
                    _level_of(r),
                    {"name": _text(r.get("name")), "modified": _text(r.get("last_modified"))},
                )
                for i, r in enumerate(chosen, 1)
            ]
    found = sorted({_text(r.get("format")) or "?" for r in resources})
    raise FetchError(
        _(
            "HDX's COD-AB for {iso3} has no file crisismap can read: it offers "
            "{found}; crisismap reads GeoJSON, GeoPackage and zipped "
            "Shapefiles. Download a file by hand and convert it, or try "
            "--source geoboundaries."
        ).format(iso3=iso3, found=", ".join(found) or _("no files"))
    )


def _dataset_date(text: str) -> str:
    """HDX's ``[2024-01-01T00:00:00 TO 2024-04-16T23:59:59]`` as ``2024-01-01 to 2024-04-16``."""
    days = list(dict.fromkeys(re.findall(r"\d{4}-\d{2}-\d{2}", text)))
    return " to ".join(days) if days else text or "date not stated"


def _level_of(resource: dict[str, Any]) -> int | None:
    """The admin level a per-level resource is for (``..._adm2...``), None for all levels."""
    found = re.search(r"adm(?:in)?[_ ]?(\d)(?!\d)", _text(resource.get("name")), re.I)
    return int(found.group(1)) if found else None


def _file_name(url: str, fallback: str) -> str:
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return safe_basename(name) if name else fallback


# ----------------------------------------------------------------------- storing


def _store(
    client: Client,
    iso3: str,
    source: FetchSource,
    top: int,
    files: list[_File],
    meta: dict[str, Any],
    cache_dir: Path,
    say: Callable[[str], None],
) -> Fetched:
    """Download into a temporary folder, check it loads, then put it in place."""
    root = private_dir(fetched.root(cache_dir))
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        (tmp / fetched.FILES).mkdir()
        records = []
        for item in files:
            say(_("downloading {name}").format(name=item.name))
            target = tmp / fetched.FILES / item.name
            size = client.download(item.url, meta["service"], target)
            records.append(
                {
                    "name": item.name,
                    "url": item.url,
                    "bytes": size,
                    "sha256": sha256_file(target),
                    **item.meta,
                }
            )
        say(_("checking what came"))
        loaded = _check_loads(tmp / fetched.FILES, meta["service"], cache_dir)
        levels = [n for n in loaded.levels_available if n <= top]
        if not levels:
            raise FetchError(
                _(
                    "{meta} answered files with no admin level up to {top} for {iso3} "
                    "(found levels {levels_available}). Nothing was kept."
                ).format(
                    meta=meta["service"],
                    top=top,
                    iso3=iso3,
                    levels_available=loaded.levels_available,
                )
            )
        document = {
            "format": fetched.FORMAT,
            "source_key": source.value,
            "iso3": iso3,
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "levels": levels,
            **meta,
            "files": records,
        }
        write_private(tmp / fetched.METADATA, json.dumps(document, indent=1).encode())
        final = fetched.folder_for(cache_dir, source, iso3)
        _replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    found = fetched.FetchedSet(source, iso3, final, document)
    return Fetched(found, load_boundaries(found.name, cache_dir=cache_dir))


def _check_loads(folder: Path, service: str, cache_dir: Path) -> BoundarySet:
    """The downloaded files loaded the usual safe way; a sentence if they do not. The
    prepared set is cached by the files' names and bytes, so the load of the folder in
    its final place finds it."""
    try:
        return load_boundaries(folder, cache_dir=cache_dir)
    except CrisismapError as exc:
        raise FetchError(
            _(
                "{service} answered files that cannot be used as boundaries, so "
                "nothing was kept: {exc}"
            ).format(service=service, exc=exc)
        ) from None


def _replace(new: Path, final: Path) -> None:
    """Put ``new`` at ``final``; an earlier fetch there is removed only once ``new`` is in."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _unexpected(service: str, url: str, expected: str, found: Any) -> FetchError:
    return FetchError(
        _(
            "{service} answered something unexpected at {url}: expected "
            "{expected}, found {found}. The service may have changed; nothing "
            "was kept."
        ).format(service=service, url=url, expected=expected, found=str(found)[:120])
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
