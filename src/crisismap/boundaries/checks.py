"""Overlap and gap checks, run once when a set is prepared and kept with it.

Regions of one level should not overlap, and a region should lie inside its parent. Real
files break both: a geoBoundaries Ukraine admin-2 file holds one unnamed 118,000 km²
polygon over most of Luhansk and Donetsk, so points there fall in two regions at once.
Generalised or independently digitised files also leave thin slivers along shared borders,
which are harmless: an overlap (or the part of a child outside its parent) counts only when
it is at least :data:`MIN_SHARE` of the smaller region *and* at least :data:`MIN_KM2`.

Areas are geodesic (WGS84, pyproj.Geod). Candidates are found with an STR-tree (``overlaps``
and ``contains`` predicates, so neighbours that only touch cost nothing), and a child is
measured against its parent only when it is not covered by it. An unnamed polygon that
overlaps named ones ("covering") is listed apart: :func:`without_unnamed_covers` leaves it
out of the join unless the user keeps it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import shapely
from pyproj import Geod

from crisismap.boundaries.model import BoundarySet
from crisismap.i18n import _, ngettext

MIN_SHARE = 0.01  # of the smaller region's area
MIN_KM2 = 0.1  # square kilometres (10 ha)
LISTED = 50  # findings kept per kind and level
_GEOD = Geod(ellps="WGS84")
UNNAMED_PREFIX = "(unnamed "


def check_levels(levels: dict[int, Any]) -> dict[str, Any]:
    """What the checks found, JSON-ready: thresholds, and per level its overlaps, its
    children escaping their parents, and its unnamed covering polygons."""
    found: dict[str, Any] = {
        "thresholds": {"min_share": MIN_SHARE, "min_km2": MIN_KM2},
        "levels": {},
    }
    ordered = sorted(levels)
    for i, level in enumerate(ordered):
        frame = levels[level]
        overlaps = _overlaps(frame)
        parent = levels[ordered[i - 1]] if i > 0 else None
        escapes = _escapes(frame, parent) if parent is not None else []
        covers = sorted(
            {
                o[f"{side}_code"]
                for o in overlaps
                for side in ("a", "b")
                if str(o[f"{side}_name"]).startswith(UNNAMED_PREFIX)
            }
        )
        found["levels"][str(level)] = {
            "overlaps": len(overlaps),
            "overlap_list": overlaps[:LISTED],
            "escapes": len(escapes),
            "escape_list": escapes[:LISTED],
            "unnamed_covers": covers,
        }
    return found


def checks_for(checks: dict[str, Any], levels: dict[int, Any]) -> dict[str, Any]:
    """``checks`` cut to the regions of ``levels`` (a subset of the set they were made for)."""
    if not checks.get("levels"):
        return checks
    out: dict[str, Any] = {**checks, "levels": {}}
    for level, item in checks["levels"].items():
        if int(level) not in levels:
            continue
        codes = set(levels[int(level)]["code"].astype(str))
        overlaps = [o for o in item["overlap_list"] if {o["a_code"], o["b_code"]} <= codes]
        escapes = [e for e in item["escape_list"] if e["code"] in codes]
        out["levels"][level] = {
            "overlaps": len(overlaps),
            "overlap_list": overlaps,
            "escapes": len(escapes),
            "escape_list": escapes,
            "unnamed_covers": [c for c in item["unnamed_covers"] if c in codes],
        }
    return out


def counts_text(checks: dict[str, Any]) -> str:
    """'2 overlaps, 138 regions partly outside their parent, 1 unnamed covering polygon'."""
    items = checks.get("levels", {}).values()
    overlaps = sum(i["overlaps"] for i in items)
    escapes = sum(i["escapes"] for i in items)
    covers = sum(len(i["unnamed_covers"]) for i in items)
    # Translators: the three counts below, e.g. "2 overlaps, 1 region partly outside its
    # parent, 0 unnamed covering polygons" (use your language's list separator).
    return _("{overlaps}, {escapes}, {covers}").format(
        overlaps=ngettext("{n} overlap", "{n} overlaps", overlaps).format(n=overlaps),
        escapes=ngettext(
            "{n} region partly outside its parent",
            "{n} regions partly outside their parent",
            escapes,
        ).format(n=escapes),
        covers=ngettext(
            "{n} unnamed covering polygon", "{n} unnamed covering polygons", covers
        ).format(n=covers),
    )


def summary_lines(checks: dict[str, Any]) -> list[str]:
    """The findings as sentences (empty when there is nothing to say)."""
    if not checks.get("levels"):
        return []
    lines = []
    for level, item in sorted(checks["levels"].items(), key=lambda kv: int(kv[0])):
        for o in item["overlap_list"]:
            lines.append(
                _(
                    "Admin-{level}: {a_name} ({a_code}) and {b_name} ({b_code}) overlap by "
                    "{km2:,.1f} km² ({share:.0%} of the smaller)."
                ).format(level=level, **o)
            )
        if item["overlaps"] > len(item["overlap_list"]):
            more = item["overlaps"] - len(item["overlap_list"])
            lines.append(
                ngettext("Admin-{level}: {n} more.", "Admin-{level}: {n} more.", more).format(
                    level=level, n=more
                )
            )
        for e in item["escape_list"]:
            lines.append(
                _(
                    "Admin-{level}: {name} ({code}) lies {km2:,.1f} km² ({share:.0%}) "
                    "outside its parent {parent_name} ({parent_code})."
                ).format(level=level, **{"parent_name": "", **e})
            )
        if item["escapes"] > len(item["escape_list"]):
            more = item["escapes"] - len(item["escape_list"])
            lines.append(
                ngettext("Admin-{level}: {n} more.", "Admin-{level}: {n} more.", more).format(
                    level=level, n=more
                )
            )
        if item["unnamed_covers"]:
            covers = item["unnamed_covers"]
            lines.append(
                ngettext(
                    "Admin-{level}: {n} unnamed polygon overlapping named regions ({codes}): "
                    "left out of the join unless kept (--keep-unnamed-overlaps, or the "
                    "dashboard's option).",
                    "Admin-{level}: {n} unnamed polygons overlapping named regions ({codes}): "
                    "left out of the join unless kept (--keep-unnamed-overlaps, or the "
                    "dashboard's option).",
                    len(covers),
                ).format(level=level, n=len(covers), codes=", ".join(covers))
            )
    return lines


def threshold_text() -> str:
    """The tolerance, said once wherever the checks are shown."""
    return _(
        "Overlaps and parts outside a parent under {share:.0%} of the smaller region or "
        "under {km2} km² are tolerated as slivers."
    ).format(share=MIN_SHARE, km2=MIN_KM2)


def without_unnamed_covers(bset: BoundarySet) -> BoundarySet:
    """The set without the unnamed polygons that overlap named regions (with a note)."""
    levels, dropped = {}, []
    for level, frame in bset.levels.items():
        covers = bset.checks.get("levels", {}).get(str(level), {}).get("unnamed_covers", [])
        out = frame["code"].astype(str).isin(covers)
        levels[level] = frame[~out].reset_index(drop=True) if out.any() else frame
        dropped += [f"admin-{level} {code}" for code in frame.loc[out, "code"]]
    if not dropped:
        return bset
    note = _(
        "Left out of the join: {regions} (unnamed, overlapping named regions); "
        "keep them with --keep-unnamed-overlaps or the dashboard's option."
    ).format(regions=", ".join(dropped))
    return replace(bset, levels=levels, notes=[*bset.notes, note])


def _overlaps(frame: Any) -> list[dict[str, Any]]:
    geoms = frame.geometry.to_numpy()
    if len(geoms) < 2:
        return []
    tree = shapely.STRtree(geoms)
    over = tree.query(geoms, predicate="overlaps")
    # containment only where one bounding box holds the other (most neighbours' do not)
    box_i, box_j = tree.query(geoms)
    bounds = shapely.bounds(geoms)
    holds = (
        (box_i != box_j)
        & (bounds[box_i, 0] <= bounds[box_j, 0])
        & (bounds[box_i, 1] <= bounds[box_j, 1])
        & (bounds[box_i, 2] >= bounds[box_j, 2])
        & (bounds[box_i, 3] >= bounds[box_j, 3])
    )
    box_i, box_j = box_i[holds], box_j[holds]
    shapely.prepare(geoms)
    inside = shapely.contains(geoms[box_i], geoms[box_j])
    left = np.concatenate([over[0], box_i[inside]])
    right = np.concatenate([over[1], box_j[inside]])
    keep = left != right
    a, b = np.minimum(left[keep], right[keep]), np.maximum(left[keep], right[keep])
    if len(a) == 0:
        return []
    unique = np.unique(np.column_stack([a, b]), axis=0)
    a, b = unique[:, 0], unique[:, 1]
    shared = shapely.intersection(geoms[a], geoms[b])
    km2 = _km2(shared)
    smaller = np.minimum(_km2(geoms[a]), _km2(geoms[b]))
    share = np.divide(km2, smaller, out=np.zeros_like(km2), where=smaller > 0)
    big = (km2 >= MIN_KM2) & (share >= MIN_SHARE)
    codes, names = frame["code"].astype(str).to_numpy(), frame["name"].astype(str).to_numpy()
    found = [
        {
            "a_code": codes[i],
            "a_name": names[i],
            "b_code": codes[j],
            "b_name": names[j],
            "km2": round(float(k), 3),
            "share": round(float(s), 4),
        }
        for i, j, k, s in zip(a[big], b[big], km2[big], share[big], strict=True)
    ]
    return sorted(found, key=lambda o: -o["km2"])


def _escapes(frame: Any, parents: Any) -> list[dict[str, Any]]:
    if "parent_code" not in frame or frame["parent_code"].isna().all():
        return []
    parent_of = dict(zip(parents["code"].astype(str), parents.geometry, strict=True))
    parent_name = dict(zip(parents["code"].astype(str), parents["name"].astype(str), strict=True))
    codes = frame["parent_code"].astype(str).to_numpy()
    has = np.array([c in parent_of for c in codes])
    if not has.any():
        return []
    children = frame.geometry.to_numpy()[has]
    mother = np.array([parent_of[c] for c in codes[has]], dtype=object)
    shapely.prepare(mother)
    outside = ~shapely.covered_by(children, mother)
    if not outside.any():
        return []
    rows = np.flatnonzero(has)[outside]
    rest = shapely.difference(children[outside], mother[outside])
    km2 = _km2(rest)
    whole = _km2(children[outside])
    share = np.divide(km2, whole, out=np.zeros_like(km2), where=whole > 0)
    big = (km2 >= MIN_KM2) & (share >= MIN_SHARE)
    found = [
        {
            "code": str(frame["code"].iloc[r]),
            "name": str(frame["name"].iloc[r]),
            "parent_code": str(frame["parent_code"].iloc[r]),
            "parent_name": parent_name[str(frame["parent_code"].iloc[r])],
            "km2": round(float(k), 3),
            "share": round(float(s), 4),
        }
        for r, k, s in zip(rows[big], km2[big], share[big], strict=True)
    ]
    return sorted(found, key=lambda e: -e["km2"])


def _km2(geoms: np.ndarray) -> np.ndarray:
    """Geodesic areas in km² (0 for empty or non-polygonal pieces)."""
    out = np.zeros(len(geoms))
    for i, geom in enumerate(geoms):
        if geom is not None and not geom.is_empty and geom.area > 0:
            polygons = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
            out[i] = sum(abs(_GEOD.geometry_area_perimeter(p)[0]) for p in polygons) / 1e6
    return out
