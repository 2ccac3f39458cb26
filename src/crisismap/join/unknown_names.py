"""Admin names a file states that no region of the boundaries has.

A file written against newer (or other) boundaries names regions the loaded set does not
know: "Socotra" against a set from before 2013, post-2020 Ukrainian districts against the
old ones. Compared with :func:`crisismap.join.names.compare_stated` (does the stated name
agree with the region the point falls in?), this asks whether the name exists at all at
that level, in any country of the set, under the same spelling rules (normalised, aliases,
transliteration key, fuzzy similarity). Over :data:`UNKNOWN_SHARE` of a level's stated
records naming unknown regions means the boundaries do not fit the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from crisismap.join.names import (
    SIMILARITY_THRESHOLD,
    _aliased,
    _is_settlement,
    _sound_key,
    normalise_name,
)
from crisismap.schema import stated_code_column, stated_name_column

UNKNOWN_SHARE = 0.10  # above this share of stated records at a level, the set does not fit
NAMES_SHOWN = 20  # unknown names listed (most frequent first)


@dataclass(frozen=True)
class UnknownNames:
    """One level's stated names and codes the boundaries do not have."""

    level: int
    stated: int  # records stating a name or code at this level
    unknown: int  # of those, records whose name or code is in no region of the level
    names: tuple[tuple[str, int], ...]  # (name as written, records), most frequent first

    @property
    def share(self) -> float:
        return self.unknown / self.stated if self.stated else 0.0

    @property
    def too_many(self) -> bool:
        return self.share > UNKNOWN_SHARE


def unknown_stated_names(records: pd.DataFrame, levels: Any) -> list[UnknownNames]:
    """Per level the file states names or codes for: how many name no region there."""
    mapping = getattr(levels, "levels", levels)
    found = []
    for level in sorted(mapping) if isinstance(mapping, Mapping) else []:
        stated = _stated(records, level)
        if stated is None or not stated.notna().any():
            continue
        known = _Known(mapping[level])
        counts = stated.dropna().value_counts()
        missing = [(str(text), int(n)) for text, n in counts.items() if not known(str(text))]
        found.append(
            UnknownNames(
                level=level,
                stated=int(counts.sum()),
                unknown=sum(n for _, n in missing),
                names=tuple(missing),
            )
        )
    return found


def _stated(records: pd.DataFrame, level: int) -> pd.Series | None:
    """The stated code where there is one, else the stated name."""
    columns = [c for c in (stated_code_column(level), stated_name_column(level)) if c in records]
    if not columns:
        return None
    values = None
    for column in columns:
        text = records[column].astype("str").str.strip()
        text = text.where(text.notna() & (text != ""))
        values = text if values is None else values.fillna(text)
    return values


class _Known:
    """Whether a stated name or code names a region of one level (decided once per text)."""

    def __init__(self, frame: Any) -> None:
        self.codes = {str(c).casefold() for c in frame["code"].dropna()}
        names = [str(n) for n in frame["name"].dropna()]
        if "name_alt" in frame:
            names += [p for alt in frame["name_alt"].dropna() for p in str(alt).split("|") if p]
        self.keys = {_aliased(normalise_name(n)) for n in names} - {""}
        self.joined = {k.replace(" ", "") for k in self.keys}

    @cached_property
    def sounds(self) -> set[str]:
        """Sound keys of the region names: built at the first name not found as written
        (half of a fresh process's first map, for a file whose names are all found)."""
        return {sound for sound in map(_sound_key, self.keys) if len(sound) >= 2}

    @cached_property
    def choices(self) -> list[str]:
        return sorted(self.keys)

    def __call__(self, text: str) -> bool:
        if text.casefold() in self.codes:
            return True
        key = _aliased(normalise_name(text))
        if not key:
            return True  # nothing to judge
        if key in self.keys or key.replace(" ", "") in self.joined:
            return True
        if len(_sound_key(key)) >= 2 and _sound_key(key) in self.sounds:
            return True
        from rapidfuzz import fuzz, process

        best = process.extractOne(
            key, self.choices, scorer=fuzz.ratio, score_cutoff=SIMILARITY_THRESHOLD
        )
        return best is not None and _is_settlement(best[0]) == _is_settlement(key)
