"""Assembling a BoundarySet from data files on disk: every layer read, detected and built,
one frame per admin level, parents linked (from the data, else spatially), countries
inherited from the level above, and a version and date found in the data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from crisismap.boundaries.checks import check_levels
from crisismap.boundaries.detect import detect_schema
from crisismap.boundaries.formats import Layer, read_layers
from crisismap.boundaries.levels import build_level
from crisismap.boundaries.model import BoundarySet, LoadOptions
from crisismap.boundaries.vintage import vintage_of
from crisismap.errors import BoundaryError
from crisismap.i18n import _, ngettext


def assemble(
    name: str, files: list[Path], opts: LoadOptions, notes: list[str], digest: str
) -> BoundarySet:
    """The set that data files on disk make, named ``name``; ``notes`` so far go with it."""
    layers = _read_all(name, files, opts, notes)
    levels, layouts = _build_levels(layers, opts, notes)
    _link_parents(levels, notes)
    _inherit_countries(levels)
    version, date = vintage_of(levels, files)
    return BoundarySet(
        name=name,
        source=f"{', '.join(p.name for p in files)} ({', '.join(dict.fromkeys(layouts))})",
        version=version,
        levels=levels,
        notes=notes
        + [_("Levels available: {levels}.").format(levels=", ".join(map(str, sorted(levels))))],
        sha256=digest,
        date=date,
        checks=check_levels(levels),
    )


def _read_all(name: str, files: list[Path], opts: LoadOptions, notes: list[str]) -> list[Layer]:
    """Every polygon layer of the files; ``level=`` is refused for more than one."""
    layers: list[Layer] = []
    for path in files:
        layers += read_layers(path, notes)
    if not layers:
        raise BoundaryError(
            _("{name}: no polygon layer found in {values}.").format(
                name=name, values=", ".join(p.name for p in files)
            )
        )
    if opts.level is not None and len(layers) > 1:
        raise BoundaryError(
            _(
                "Admin level {level} was given but {name} has {n} polygon layers "
                "({values}): load one file at a time."
            ).format(
                level=opts.level,
                name=name,
                n=len(layers),
                values=", ".join(layer.origin for layer in layers),
            )
        )
    return layers


def _build_levels(
    layers: list[Layer], opts: LoadOptions, notes: list[str]
) -> tuple[dict[int, gpd.GeoDataFrame], list[str]]:
    """One frame per admin level, and the layout each layer was read in."""
    by_level: dict[int, list[tuple[Layer, gpd.GeoDataFrame]]] = {}
    layouts: list[str] = []
    for layer in layers:
        schema = detect_schema(layer.frame, layer.origin, opts)
        frame = build_level(layer, schema, opts, notes)
        by_level.setdefault(schema.level, []).append((layer, frame))
        layouts.append(_LAYOUTS.get(schema.kind, schema.kind))
    levels = {n: _pick_one(n, candidates, notes) for n, candidates in sorted(by_level.items())}
    return levels, layouts


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
                _(
                    "Two inputs give admin level {level} with different regions: "
                    "{origin} ({n} regions) and {origin2} ({n2} regions). Load them "
                    "separately or remove one."
                ).format(
                    level=level,
                    origin=first_layer.origin,
                    n=len(first),
                    origin2=layer.origin,
                    n2=len(frame),
                )
            )
        notes.append(
            _(
                "{origin} repeats level {level} of {origin2} (same codes); {origin2} was used."
            ).format(origin=layer.origin, level=level, origin2=first_layer.origin)
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
                    ngettext(
                        "Level {n}: {missing} parent code missing or not found at level "
                        "{parent}, derived spatially instead ({found} found).",
                        "Level {n}: {missing} parent codes missing or not found at level "
                        "{parent}, derived spatially instead ({found} found).",
                        int((~ok).sum()),
                    ).format(
                        n=n,
                        missing=int((~ok).sum()),
                        parent=n - 1,
                        found=int(pd.Series(fixed).notna().sum()),
                    )
                )
            else:
                notes.append(
                    _(
                        "Level {n}: parent codes taken from the data; all found at level {parent}."
                    ).format(n=n, parent=n - 1)
                )
            continue
        if given.notna().any():
            notes.append(
                _(
                    "Level {n}: the parent codes in the data (e.g. {example}) do not "
                    "match level {parent} codes (e.g. {expected}); parents were derived "
                    "spatially instead."
                ).format(n=n, example=given.dropna().iloc[0], parent=n - 1, expected=min(known))
            )
        derived = _spatial_parents(frame, above)
        frame["parent_code"] = pd.array(derived, dtype="string")
        unmatched = int(pd.isna(derived).sum())
        notes.append(
            ngettext(
                "Level {n}: parents derived spatially from level {parent} (the "
                "region containing each region's representative point, else the "
                "largest overlap); {unmatched} region outside every level-{parent} region.",
                "Level {n}: parents derived spatially from level {parent} (the "
                "region containing each region's representative point, else the "
                "largest overlap); {unmatched} regions outside every level-{parent} region.",
                unmatched,
            ).format(n=n, parent=n - 1, unmatched=unmatched)
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
