"""What a boundary load takes and gives: the options and size limits, and the BoundarySet.

Also what is done to a loaded set (its country codes, a subset by country) and the count
wording ("1 region", "2 regions") the loading steps' notes share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd

from crisismap.boundaries.countries import country_list
from crisismap.errors import BoundaryError
from crisismap.i18n import N_, _

DEFAULT_MAX_BYTES = 200 * 1024**2  # an input file or upload
MAX_EXPANDED_BYTES = 500 * 1024**2  # everything a zip or gzip expands to


@dataclass
class BoundarySet:
    """Admin levels of one boundary source, ready to join against."""

    name: str
    source: str
    version: str
    levels: dict[int, gpd.GeoDataFrame]
    notes: list[str] = field(default_factory=list)
    sha256: str | None = None
    # When the boundaries were valid or published ("2015-06-15 (COD-AB valid_on)"), else
    # "unknown" said plainly: see boundaries.vintage.
    date: str = "unknown"
    # Points outside every region are snapped within this many metres unless the caller
    # says otherwise: the bundled set's own generalisation distance, 0 for a user's file.
    snap_default_m: float = 0.0
    # Overlaps, escaping children and unnamed covering polygons found when the set was
    # prepared (boundaries.checks); kept with the prepared set in the cache.
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def vintage(self) -> str:
        """Source, version and date in one line, for every place that shows the set."""
        return _("{source}; version {version}; dated {date}").format(
            source=self.source, version=_said(self.version), date=_said(self.date)
        )

    @property
    def levels_available(self) -> list[int]:
        return sorted(self.levels)

    def level(self, n: int) -> gpd.GeoDataFrame:
        """The frame of admin level ``n``; the error lists the levels there are."""
        if n not in self.levels:
            have = ", ".join(map(str, self.levels_available)) or "none"
            raise BoundaryError(
                _(
                    "Admin level {n} is not in boundary set {name!r}: available levels are {have}."
                ).format(n=n, name=self.name, have=have)
            )
        return self.levels[n]


@dataclass
class LoadOptions:
    """The caller's overrides (level, fields, country) and size limits, for every step."""

    level: int | None = None
    code_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    country: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_expanded_bytes: int = MAX_EXPANDED_BYTES
    # The column of region populations (else one whose name says so: boundaries.population)
    population_field: str | None = None


def country_codes(boundaries: BoundarySet) -> list[str]:
    """The distinct country codes (ISO 3166-1 alpha-3 where known) across all levels."""
    codes: set[str] = set()
    for frame in boundaries.levels.values():
        codes.update(frame["country"].dropna().astype(str))
    return sorted(codes)


def subset(boundaries: BoundarySet, iso3s: Iterable[str]) -> BoundarySet:
    """Only the regions of the given countries (ISO 3166-1 alpha-3 or alpha-2)."""
    wanted = country_list(iso3s, country_codes(boundaries))
    levels = {
        n: frame[frame["country"].isin(wanted)].reset_index(drop=True)
        for n, frame in boundaries.levels.items()
    }
    notes = [*boundaries.notes, _("Subset to {values}.").format(values=", ".join(wanted))]
    return replace(
        boundaries, name=f"{boundaries.name}:{','.join(wanted)}", levels=levels, notes=notes
    )


# What boundaries.vintage says when the files carry no date or version (translated when shown).
_UNKNOWN = {N_("unknown"), N_("unknown (the files carry no date or version)")}


def _said(text: str) -> str:
    return _(text) if text in _UNKNOWN else text


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 region', '2 regions'."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
