"""Boundary sets fetched earlier from geoBoundaries or OCHA's COD-AB, used offline.

``crisismap boundaries fetch`` (:mod:`crisismap.boundaries.fetch`) downloads a country's
boundaries once and keeps them in ``<cache_dir>/fetched/<source>-<ISO3>/``: the files as
downloaded in ``files/`` and what is known of them (source, vintage, licence, where each
file came from, its SHA-256) in ``fetched.json``. This module only reads that folder, so
loading a fetched set never touches the network. Unlike the prepared sets in
``<cache_dir>/boundaries/``, fetched sets are never pruned.

A fetched set is named like the bundled one: ``fetched:UKR`` (the one set fetched for
Ukraine), or ``fetched:geoboundaries:UKR`` / ``fetched:cod-ab:UKR`` when both were fetched.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from crisismap.boundaries.countries import to_iso3
from crisismap.boundaries.model import BoundarySet
from crisismap.errors import BoundaryError, InvalidValueError
from crisismap.i18n import _

FORMAT = 1  # of fetched.json
METADATA = "fetched.json"
FILES = "files"
PREFIX = "fetched:"


class FetchSource(StrEnum):
    """Where current boundaries can be fetched from."""

    GEOBOUNDARIES = "geoboundaries"
    COD_AB = "cod-ab"

    @classmethod
    def parse(cls, text: str) -> FetchSource:
        """The source named by ``text`` (any case; ``codab`` and ``cod_ab`` too)."""
        key = str(text).strip().lower().replace("_", "-")
        key = "cod-ab" if key == "codab" else key
        try:
            return cls(key)
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InvalidValueError(
                _("Unknown boundary source {text!r}: expected one of {allowed}.").format(
                    text=text, allowed=allowed
                )
            ) from None


LABELS = {FetchSource.GEOBOUNDARIES: "geoBoundaries", FetchSource.COD_AB: "OCHA COD-AB on HDX"}


def check_iso3(text: str) -> str:
    """``text`` as an ISO 3166-1 alpha-3 code (alpha-2 accepted), or a sentence saying why not."""
    import pycountry

    raw = str(text).strip()
    code = to_iso3(raw) or ""
    if code == "XKX" or (len(code) == 3 and pycountry.countries.get(alpha_3=code)):
        return code
    raise InvalidValueError(
        _(
            "{raw!r} is not an ISO 3166-1 country code: expected three letters "
            "such as UKR (Ukraine), SDN (Sudan) or COD (DR Congo)."
        ).format(raw=raw)
    )


@dataclass(frozen=True)
class FetchedSet:
    """One fetched set on disk: its folder and what ``fetched.json`` says of it."""

    source: FetchSource
    iso3: str
    folder: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.source.value}:{self.iso3}"

    @property
    def files(self) -> Path:
        return self.folder / FILES

    @property
    def levels(self) -> list[int]:
        return sorted(int(n) for n in self.meta.get("levels", []))

    @property
    def label(self) -> str:
        """``UKR from geoBoundaries, fetched 2026-12-07 (boundaries as of ADM1 2022)``."""
        return _("{iso3} from {source}, fetched {day} ({vintage})").format(
            iso3=self.iso3,
            source=LABELS[self.source],
            day=str(self.meta.get("fetched_at", "?"))[:10],
            vintage=self.meta.get("vintage", _("vintage not stated")),
        )


def root(cache_dir: str | os.PathLike[str]) -> Path:
    """Where fetched sets are kept under a cache folder (the shells pass ``<data dir>/cache``)."""
    return Path(cache_dir) / "fetched"


def folder_for(cache_dir: str | os.PathLike[str], source: FetchSource, iso3: str) -> Path:
    return root(cache_dir) / f"{source.value}-{iso3}"


def is_fetched_spec(text: str) -> bool:
    return text.lower().startswith(PREFIX)


def list_fetched(cache_dir: str | os.PathLike[str] | None) -> list[FetchedSet]:
    """Every complete fetched set under ``cache_dir``, by country then source."""
    if cache_dir is None or not root(cache_dir).is_dir():
        return []
    found = []
    for folder in sorted(root(cache_dir).iterdir()):
        item = _read(folder)
        if item is not None:
            found.append(item)
    return sorted(found, key=lambda f: (f.iso3, f.source.value))


def resolve(spec: str, cache_dir: str | os.PathLike[str] | None) -> FetchedSet:
    """The fetched set ``spec`` names (``fetched:UKR``, ``fetched:cod-ab:UKR``)."""
    parts = [p.strip() for p in spec[len(PREFIX) :].split(":")]
    if len(parts) not in (1, 2) or not all(parts):
        raise BoundaryError(
            _(
                "Boundary source {spec!r} is not a fetched set's name: expected "
                "'fetched:<ISO3>' or 'fetched:<source>:<ISO3>', e.g. fetched:UKR "
                "or fetched:cod-ab:UKR."
            ).format(spec=spec)
        )
    iso3 = check_iso3(parts[-1])
    source = FetchSource.parse(parts[0]) if len(parts) == 2 else None
    if cache_dir is None:
        raise BoundaryError(
            _(
                "{spec!r} names a fetched set, and fetched sets are kept under a "
                "cache folder: pass cache_dir (the CLI and the dashboard pass "
                "<data dir>/cache)."
            ).format(spec=spec)
        )
    have = list_fetched(cache_dir)
    matches = [f for f in have if f.iso3 == iso3 and source in (None, f.source)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = " or ".join(f.name for f in matches)
        raise BoundaryError(
            _("{spec!r} could mean {n} fetched sets: name one, {names}.").format(
                spec=spec, n=len(matches), names=names
            )
        )
    listed = ", ".join(f.name for f in have) or _("none yet")
    command = f"crisismap boundaries fetch {iso3}" + (f" --source {source.value}" if source else "")
    if source:
        text = _(
            "No {source} boundaries for {iso3} have been fetched (fetched sets: {listed}). "
            "While online, fetch them once with `{command}` or the dashboard's 'Fetch current "
            "boundaries'; they work offline from then on."
        )
    else:
        text = _(
            "No boundaries for {iso3} have been fetched (fetched sets: {listed}). While "
            "online, fetch them once with `{command}` or the dashboard's 'Fetch current "
            "boundaries'; they work offline from then on."
        )
    raise BoundaryError(
        text.format(
            source=source.value if source else "", iso3=iso3, listed=listed, command=command
        )
    )


def labelled(bset: BoundarySet, fetched: FetchedSet) -> BoundarySet:
    """The set loaded from a fetched folder, named, sourced and dated from its metadata,
    with only the levels that were fetched."""
    meta = fetched.meta
    wanted = set(fetched.levels) or set(bset.levels)
    levels = {n: frame for n, frame in bset.levels.items() if n in wanted}
    dropped = sorted(set(bset.levels) - wanted)
    notes = [
        _("Fetched from {service} on {day}: {vintage}. Licence: {licence}.").format(
            service=meta.get("service", fetched.source.value),
            day=meta.get("fetched_at", "?")[:10],
            vintage=meta.get("vintage", _("vintage not stated")),
            licence=meta.get("licence", _("not stated")),
        ),
        *[str(n) for n in meta.get("notes", [])],
        *bset.notes,
    ]
    if dropped:
        notes.append(
            _("Left out levels {values} (not asked for).").format(
                values=", ".join(map(str, dropped))
            )
        )
    return replace(
        bset,
        name=fetched.name,
        source=str(meta.get("source", fetched.source.value)),
        version=str(meta.get("version", "")),
        levels=levels,
        notes=notes,
        date=(
            _("{vintage} (fetched {day})").format(
                vintage=meta["vintage"], day=str(meta.get("fetched_at", "?"))[:10]
            )
            if meta.get("vintage")
            else bset.date
        ),
    )


def _read(folder: Path) -> FetchedSet | None:
    """The fetched set in ``folder``, or None for anything incomplete or foreign."""
    try:
        meta = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or not (folder / FILES).is_dir():
            return None
        return FetchedSet(FetchSource(meta["source_key"]), str(meta["iso3"]), folder, meta)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
