"""How old a boundary set is: its version and date, from its own metadata where it has it.

Boundaries go out of date (provinces split, renamed, merged), so every set says what it
is as of when. In the order tried: COD-AB's ``valid_on`` / ``version_no`` columns, a
geoBoundaries ``*metaData.json`` beside the data file (as geoBoundaries ships it), other
date-like columns, then the file's own modification date (which says when the copy was
made, not when the boundaries were valid: the text says so). Nothing found is
"unknown", plainly.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd

from crisismap.i18n import _

UNKNOWN_VERSION = "unknown (the files carry no date or version)"
UNKNOWN_DATE = "unknown"
_META_MAX_BYTES = 1 << 20
# geoBoundaries metadata keys, most telling first
_GB_DATE_KEYS = ("sourceDataUpdateDate", "buildDate")
_GB_SOURCE_KEYS = ("boundarySource", "boundarySource-1")
_DATE_COLUMNS = ("valid_on", "source_valid_on", "date", "shapeDate")


def vintage_of(levels: dict[int, gpd.GeoDataFrame], files: list[Path]) -> tuple[str, str]:
    """``(version, date)`` of a set from its columns and the metadata files beside it."""
    cod = _cod_ab(levels)
    if cod is not None:
        return cod
    meta = geoboundaries_meta(files)
    if meta:
        return _geoboundaries(meta)
    for col in _DATE_COLUMNS:
        for frame in levels.values():
            if col in frame and frame[col].notna().any():
                latest = _day(frame[col].dropna().max())
                return f"{col} {latest}", f"{latest} ({col})"
    return UNKNOWN_VERSION, UNKNOWN_DATE


def file_date(paths: list[Path]) -> str:
    """The newest modification date of ``paths``, worded as what it is (a copy's date)."""
    try:
        newest = max(p.stat().st_mtime for p in paths)
    except (OSError, ValueError):
        return UNKNOWN_DATE
    day = dt.datetime.fromtimestamp(newest, dt.UTC).date().isoformat()
    return _("{day} (file modified; the files state no date of their own)").format(day=day)


def geoboundaries_meta(files: list[Path]) -> dict[str, str]:
    """The geoBoundaries metadata JSON next to any of ``files`` (``<stem>-metaData.json``,
    or the only ``*metaData.json`` of the folder), else ``{}``."""
    for path in files:
        folder = path.parent
        stem = path.name.split(".")[0].removesuffix("_simplified")
        candidates = [folder / f"{stem}-metaData.json"]
        candidates += sorted(folder.glob("*metaData.json"))
        for meta in candidates:
            found = _read_meta(meta)
            if found:
                return found
    return {}


def _read_meta(path: Path) -> dict[str, str]:
    try:
        if not path.is_file() or path.stat().st_size > _META_MAX_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not any(k in data for k in _GB_DATE_KEYS):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int, float))}


def _cod_ab(levels: dict[int, gpd.GeoDataFrame]) -> tuple[str, str] | None:
    """COD-AB: ``valid_on`` (the date the boundaries were valid) and ``version_no``."""
    dates, versions = [], []
    for frame in levels.values():
        if "valid_on" in frame:
            dates += list(frame["valid_on"].dropna())
        if "version_no" in frame:
            versions += [str(v) for v in frame["version_no"].dropna().unique()]
    if not dates:
        return None
    latest = _day(max(dates))
    version = f"valid_on {latest}"
    if versions:
        version += f", version_no {', '.join(sorted(set(versions)))}"
    return version, f"{latest} (COD-AB valid_on)"


def _geoboundaries(meta: dict[str, str]) -> tuple[str, str]:
    """geoBoundaries: build and source dates, year represented, source, licence."""
    parts = [f"geoBoundaries {meta.get('boundaryID', '').strip()}".strip()]
    if meta.get("boundaryYearRepresented"):
        parts.append(f"year represented {meta['boundaryYearRepresented']}")
    for key in _GB_SOURCE_KEYS:
        if meta.get(key):
            parts.append(f"source {meta[key]}")
            break
    if meta.get("boundaryLicense"):
        parts.append(f"licence {meta['boundaryLicense']}")
    for key in _GB_DATE_KEYS:
        if meta.get(key):
            return ", ".join(parts), f"{_day(meta[key])} (geoBoundaries {key})"
    return ", ".join(parts), UNKNOWN_DATE


def _day(value: object) -> str:
    """An ISO day for a date-like value; the text itself when it is no date."""
    try:
        stamp = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        text = str(value).strip()
        for fmt in ("%b %d, %Y", "%d %b %Y", "%Y/%m/%d"):
            try:
                return dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                pass
        return text
    return stamp.isoformat()
