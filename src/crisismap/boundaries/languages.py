"""Which columns of a boundary layer hold its regions' names in which language.

Boundary files often name each region in several languages: OCHA COD-AB in the older style
(``ADM1_FR``, ``ADM1_EN``, ``ADM1_AR`` next to ``ADM1_PCODE``), COD-AB as HDX publishes it
now (``adm1_name``, ``adm1_name1``… with ``lang``, ``lang1``… saying which language each
holds), Natural Earth (``name_fr``, ``name_ar``…) or OpenStreetMap exports (``name:fr``).
Each language found becomes a ``name:<lang>`` column of the level (see
``schema.region_names``); the source's own name stays in ``name``.
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from crisismap.boundaries.detect import LayerSchema

# ISO 639-1 codes that are also common column suffixes of another meaning.
_NOT_LANGUAGES = frozenset({"id"})


@cache
def _is_language(code: str) -> bool:
    """A two-letter ISO 639-1 code Babel (CLDR) knows: ``fr``, ``ar``; not ``xx``."""
    if len(code) != 2 or not code.isalpha() or code in _NOT_LANGUAGES:
        return False
    import babel.localedata

    return bool(babel.localedata.exists(code))


def name_columns(frame: pd.DataFrame, schema: LayerSchema) -> dict[str, str]:
    """``{language: column}`` for the layer's names in each language it has.

    Columns holding numbers only, or the code itself, are left out (``ADM1_ID``); a column
    whose language is not a known two-letter code is never guessed at.
    """
    found: dict[str, str] = {}
    for lang, column in [*_hdx_style(frame, schema.level), *_suffixed(frame, schema.level)]:
        if lang not in found and _holds_names(frame, column, schema.code):
            found[lang] = column
    return found


def _hdx_style(frame: pd.DataFrame, level: int) -> list[tuple[str, str]]:
    """COD-AB as on HDX: ``adm<N>_name`` with ``lang``, ``adm<N>_name<k>`` with ``lang<k>``."""
    cols = {c.lower(): c for c in frame.columns}
    pairs = []
    for k in ("", "1", "2", "3", "4"):
        name = cols.get(f"adm{level}_name{k}")
        lang_col = cols.get(f"lang{k}")
        if name is None or lang_col is None:
            continue
        values = frame[lang_col].dropna().astype(str).str.strip().str.lower()
        values = values[values != ""]
        if len(values) and values.nunique() == 1:  # one language for the whole column
            lang = values.iloc[0].split("-")[0].split("_")[0]
            if _is_language(lang):
                pairs.append((lang, name))
    return pairs


def _suffixed(frame: pd.DataFrame, level: int) -> list[tuple[str, str]]:
    """``ADM<N>_FR`` / ``admin<N>Name_fr`` (COD-AB), ``name_fr`` (Natural Earth),
    ``name:fr`` (OpenStreetMap)."""
    patterns = (
        re.compile(rf"^adm(?:in)?{level}_?(?:name_?)?([a-z]{{2}})$", re.I),
        re.compile(r"^name[_:]([a-z]{2})$", re.I),
    )
    pairs = []
    for column in frame.columns:
        for pattern in patterns:
            match = pattern.match(str(column))
            if match and _is_language(match.group(1).lower()):
                pairs.append((match.group(1).lower(), column))
                break
    return pairs


def _holds_names(frame: pd.DataFrame, column: str, code: str | None) -> bool:
    values = frame[column]
    if values.dtype.kind in "iufb":
        return False
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty or text.str.fullmatch(r"[\d.,\-\s]+").all():
        return False
    if code is not None and code in frame.columns and column != code:
        same = frame[code].astype(str).reindex(text.index) == text
        if same.all():
            return False
    return column != code
