"""Building one admin level from a layer and its detected fields: codes and names as
text, country codes, the file's own attributes, geometry cleaned in EPSG:4326, missing
codes and names derived, and every code made unique."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from crisismap.boundaries.countries import NE_UNITS_IN_ISO3, iso3_from_name, to_iso3
from crisismap.boundaries.detect import HASC, LayerSchema, first_column, lower_columns
from crisismap.boundaries.formats import Layer
from crisismap.boundaries.geometry import WGS84, clean_geometries, polygonal, to_wgs84
from crisismap.boundaries.languages import name_columns
from crisismap.boundaries.model import LoadOptions
from crisismap.boundaries.population import population_column, population_values
from crisismap.i18n import N_, _, ngettext
from crisismap.schema import BOUNDARY_COLUMNS, name_column

_CONTRACT = [c for c in BOUNDARY_COLUMNS if c != "geometry"]
_OWN = ("population", "population_source")  # set by _add_population, never the file's text
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


def build_level(
    layer: Layer, schema: LayerSchema, opts: LoadOptions, notes: list[str]
) -> gpd.GeoDataFrame:
    """The level frame: the boundary columns, then the file's own as text, in EPSG:4326."""
    raw = layer.frame
    origin = layer.origin
    level = schema.level
    code, numeric = _as_text(raw[schema.code])
    if schema.kind.startswith("natural-earth"):
        code = _natural_earth_codes(raw, code, schema)
    if numeric:
        notes.append(
            _(
                "Level {level} codes in {origin} ({code}) are stored as numbers: "
                "leading zeros, if the codes had any, are lost. Export P-codes as "
                "text."
            ).format(level=level, origin=origin, code=schema.code)
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
    _add_language_names(frame, raw, schema, notes)
    for col in raw.columns:
        if col == raw.geometry.name or col in (schema.code, schema.name, schema.parent):
            continue
        if col == schema.country and col == "country":
            continue
        taken = col in BOUNDARY_COLUMNS or col in _OWN or col.startswith("_")
        out = f"source_{col}" if taken else col
        frame[out] = _as_text(raw[col])[0]
    _add_population(frame, raw, level, origin, opts, notes)
    if "code_source" not in frame:  # the bundled set says region by region how it got its codes
        frame["code_source"] = _code_sources(code, schema)
    frame = to_wgs84(frame, origin, notes)
    frame = clean_geometries(frame, level, origin, notes)
    frame = _fill_codes_and_names(frame, level, origin, schema, notes)
    frame = _unique_codes(frame, level, origin, notes)
    details = {
        "level": level,
        "origin": origin,
        "n": len(frame),
        "kind": schema.kind,
        "code": schema.code,
        "code_kind": schema.code_kind,
        "name": schema.name or _("(none)"),
        "parent": schema.parent,
    }
    if schema.parent:
        text = ngettext(
            "Level {level} from {origin}: {n} region ({kind}; code {code} ({code_kind}), "
            "name {name}, parent {parent}).",
            "Level {level} from {origin}: {n} regions ({kind}; code {code} ({code_kind}), "
            "name {name}, parent {parent}).",
            len(frame),
        )
    else:
        text = ngettext(
            "Level {level} from {origin}: {n} region ({kind}; code {code} ({code_kind}), "
            "name {name}).",
            "Level {level} from {origin}: {n} regions ({kind}; code {code} ({code_kind}), "
            "name {name}).",
            len(frame),
        )
    notes.append(text.format(**details))
    frame = frame.reset_index(drop=True)
    return frame[[*_CONTRACT, *[c for c in frame.columns if c not in BOUNDARY_COLUMNS], "geometry"]]


def _add_population(frame, raw, level: int, origin: str, opts: LoadOptions, notes) -> None:
    """``population`` (float, NaN: no figure) and ``population_source`` (the column and
    file it came from) when the layer carries populations (boundaries.population)."""
    wanted = opts.population_field if opts.population_field in raw.columns else None
    col = population_column(raw, wanted)
    if col is None:
        return
    values = population_values(raw[col])
    frame["population"] = values
    source = f"{col}, {origin}"
    frame["population_source"] = pd.Series(source, index=raw.index, dtype="string").mask(
        values.isna()
    )
    notes.append(
        _(
            "Level {level} populations from column {column} of {origin}: {n} of {total} regions."
        ).format(
            level=level, column=col, origin=origin, n=int(values.notna().sum()), total=len(raw)
        )
    )


def _add_language_names(frame, raw, schema: LayerSchema, notes: list[str]) -> None:
    """``name:<lang>`` columns for the names the layer has in each language."""
    found = name_columns(raw, schema)
    for lang, col in found.items():
        frame[name_column(lang)] = _as_text(raw[col])[0]
    if found:
        notes.append(
            _("Level {level} names by language: {languages}.").format(
                level=schema.level,
                languages=", ".join(f"{lang} ({col})" for lang, col in sorted(found.items())),
            )
        )


_ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


CODE_LABELS = {
    "p-code": N_("P-code"),
    "iso-3166-2": "ISO 3166-2",
    "iso-3166-1": "ISO 3166-1",
    "file-id": N_("the file's own id"),
}


def code_kinds(frame: pd.DataFrame) -> dict[str, int]:
    """How many regions of a level carry each kind of code (P-code, ISO 3166-2, ISO 3166-1,
    the file's own id), in crisismap's order of preference; from ``code_source``, whose
    finer rules (the bundled set's ``iso-3166-2-name-match``, ``hasc``...) count as their
    kind."""
    if "code_source" not in frame:
        return {_(CODE_LABELS["file-id"]): len(frame)}
    sources = frame["code_source"].astype("string").fillna("file-id")
    kinds = sources.map(lambda s: next((k for k in CODE_LABELS if s.startswith(k)), "file-id"))
    counts = kinds.value_counts()
    return {_(label): int(counts[k]) for k, label in CODE_LABELS.items() if k in counts}


def _code_sources(code: pd.Series, schema: LayerSchema) -> pd.Series:
    """Which kind of code each region got: the layer's (P-code, ISO 3166-2, ISO 3166-1 or
    the file's own id); Natural Earth admin-1 falls back to its own id where ISO is missing."""
    kind = pd.Series(schema.code_kind, index=code.index, dtype="string")
    if schema.kind == "natural-earth-admin1":
        iso = code.str.match(_ISO_3166_2.pattern).fillna(False).astype(bool)
        kind = kind.where(iso, "file-id")
    return kind


def _natural_earth_codes(raw: pd.DataFrame, code: pd.Series, schema: LayerSchema) -> pd.Series:
    """Natural Earth codes, fixed where the file has gaps.

    Admin-1: ``iso_3166_2`` when complete ("UA-30", not "UA-") and unique, else Natural
    Earth's own ``adm1_code``. Admin-0: ISO 3166-1 alpha-3, where ``-99`` (France and Norway
    in some versions) is filled from ``adm0_a3``/``gu_a3`` or the country name.
    """
    cols = lower_columns(raw)
    if schema.level == 1:
        good = code.str.match(_ISO_3166_2.pattern).fillna(False) & ~code.duplicated(keep=False)
        fallback = first_column(cols, "adm1_code")
        return code.where(good, _as_text(raw[fallback])[0] if fallback else code)
    fixed = code.map(to_iso3, na_action="ignore").astype("string")
    for col in (c for c in ("iso_a3_eh", "adm0_a3", "gu_a3", "su_a3") if c in cols):
        fixed = fixed.fillna(_as_text(raw[cols[col]])[0].map(to_iso3, na_action="ignore"))
    name_col = first_column(cols, "name", "admin", "name_long")
    if name_col and fixed.isna().any():
        names = _as_text(raw[name_col])[0]
        fixed = fixed.fillna(names[fixed.isna()].map(iso3_from_name, na_action="ignore"))
    return fixed.astype("string")


def _country_values(raw: pd.DataFrame, schema: LayerSchema, opts: LoadOptions) -> pd.Series:
    if schema.kind == "natural-earth-admin0":
        values = _natural_earth_codes(raw, _as_text(raw[schema.code])[0], schema)
        if schema.name:  # units without an ISO code of their own: the ISO country they are in
            names = _as_text(raw[schema.name])[0].str.lower()
            values = values.fillna(names.map(NE_UNITS_IN_ISO3).astype("string"))
    elif schema.country and schema.country in raw.columns:
        values = _as_text(raw[schema.country])[0].map(to_iso3, na_action="ignore")
    elif schema.kind == "generic" and schema.code:
        codes = _as_text(raw[schema.code])[0]
        values = codes.where(codes.str.match(HASC.pattern).fillna(False)).str[:2]
        values = values.map(to_iso3, na_action="ignore")
    else:
        values = pd.Series(pd.NA, index=raw.index)
    values = values.astype("string")
    if opts.country:
        values = values.fillna(to_iso3(opts.country) or opts.country.upper())
    return values


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
        for _key, group in frame[anonymous].groupby(base[anonymous], sort=False):
            row = group.iloc[[0]].copy()
            row["geometry"] = [polygonal(shapely.union_all(group.geometry.values))]
            rows.append(row)
            merged += len(group) - 1
        frame = pd.concat([frame[~anonymous], *rows]).sort_index()
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)
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
        rows_without = int(no_code.sum()) + merged
        fields = {
            "level": level,
            "origin": origin,
            "n": rows_without,
            "column": schema.code,
            "merged": merged + len(rows) if merged else 0,
            "example": derived[0],
        }
        if merged:
            text = ngettext(
                "Level {level} ({origin}): {n} row without a code in {column} ({merged} "
                "without a name either, merged per parent); they got derived codes "
                "<parent or country>-X<n> (e.g. {example}).",
                "Level {level} ({origin}): {n} rows without a code in {column} ({merged} "
                "without a name either, merged per parent); they got derived codes "
                "<parent or country>-X<n> (e.g. {example}).",
                rows_without,
            )
        else:
            text = ngettext(
                "Level {level} ({origin}): {n} row without a code in {column}; it got a "
                "derived code <parent or country>-X<n> (e.g. {example}).",
                "Level {level} ({origin}): {n} rows without a code in {column}; they got "
                "derived codes <parent or country>-X<n> (e.g. {example}).",
                rows_without,
            )
        notes.append(text.format(**fields))
    no_name = frame["name"].isna()
    if no_name.any():
        frame.loc[no_name, "name"] = "(unnamed " + frame.loc[no_name, "code"] + ")"
        notes.append(
            ngettext(
                "Level {level} ({origin}): {n} region without a name, shown as '(unnamed <code>)'.",
                "Level {level} ({origin}): {n} regions without a name, shown as "
                "'(unnamed <code>)'.",
                int(no_name.sum()),
            ).format(level=level, origin=origin, n=int(no_name.sum()))
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
        for _key, group in parts.groupby(["code", "name"], sort=False, dropna=False):
            for _parent, sub in group.groupby(group["parent_code"].fillna("\x00"), sort=False):
                row = sub.iloc[[0]].copy()
                row["geometry"] = [polygonal(shapely.union_all(sub.geometry.values))]
                groups.append(row)
                merged += len(sub) - 1
        frame = pd.concat([rest, *groups]).sort_index()
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)
        notes.append(
            ngettext(
                "Level {level} ({origin}): merged {n} row repeating the code, "
                "name and parent of another row into it (parts of one region).",
                "Level {level} ({origin}): merged {n} rows repeating the code, "
                "name and parent of another row into it (parts of one region).",
                merged,
            ).format(level=level, origin=origin, n=merged)
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
            ngettext(
                "Level {level} ({origin}): {n} code repeated by different regions made "
                "unique with a suffix, in file order: {codes}",
                "Level {level} ({origin}): {n} codes repeated by different regions made "
                "unique with a suffix, in file order: {codes}",
                len(renamed),
            ).format(level=level, origin=origin, n=len(renamed), codes="; ".join(renamed[:5]))
            + ("…" if len(renamed) > 5 else ".")
        )
    return frame
