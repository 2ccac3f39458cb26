"""Do the admin names (or codes) a file states agree with the region its point falls in?

Gazetteers spell the same place many ways ("Donetsk oblast", "Donets'k", "Донецька
область"; "Idleb"/"Idlib"; "Ad Dali"/"al dhale'e"), so names are compared after
normalisation, by a transliteration-tolerant key, then by fuzzy similarity. Countries are
resolved through pycountry (names, official and common names, ISO alpha-2/3 codes), so
"United States" is "United States of America". Renamings and exonyms no rule can reach
are data, each with its source: ``aliases.csv`` beside this module. A city is never the
region around it: "Kyiv" is not "Kiev City" (a name that says city, town or ville only
matches another that says so). Stated codes compare exactly (case-insensitive; zero
padding is significant: ``UA05`` is not ``UA5``).

Only records attributed to a region at that level are compared: a record outside every
polygon, or imprecise at that level (``max_level`` < level), has nothing to agree with
and is counted apart.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from crisismap.schema import MatchStatus, stated_code_column, stated_name_column

# Similarity (0-100, rapidfuzz ``ratio``) above which two normalised names agree.
# Tuned on transliteration pairs: Vinnytsya/Vinnytsia 89, Zaporizhzhia/Zaporizhzhya 92;
# different neighbouring regions stay well below (Kherson/Khmelnytskyi 50).
SIMILARITY_THRESHOLD = 85

_ADMIN_WORDS = frozenset(
    """
    oblast oblasti province provincia provincie provinsi governorate gouvernorat
    muhafazah muhafazat mohafazat region regione regiao state estado etat district
    distrito municipality municipio municipal special republican
    autonomous republic republique of the de du des del la le
    prefecture county raion rayon okrug krai kray territory federal capital
    department departement sub prefecture sous commune wilaya wilayah amanat
    """.split()
)
# Words that make a name a settlement: kept, and a settlement never matches a region.
_SETTLEMENT_WORDS = frozenset("city ciudad ville cite town".split())
_ARTICLES = frozenset("al el ad ar as an at az ash adh ath ed er es ez en et".split())


def aliases() -> pd.DataFrame:
    """The alias table (``alias``, ``name``, ``source``): renamings and exonyms, as data."""
    return pd.DataFrame(list(_alias_rows()), columns=["alias", "name", "source"])


@lru_cache(maxsize=1)
def _alias_rows() -> tuple[tuple[str, str, str], ...]:
    text = resources.files(__package__).joinpath("aliases.csv").read_text(encoding="utf-8")
    return tuple((r["alias"], r["name"], r["source"]) for r in csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    """Normalised alias → normalised name (loaded once)."""
    return {normalise_name(a): normalise_name(n) for a, n, _ in _alias_rows()}


_APOSTROPHES = re.compile(r"['`´’‘ʼʻ]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGRAPHS = (("dh", "d"), ("th", "t"), ("kh", "k"), ("gh", "g"), ("sh", "s"), ("zh", "z"))


def normalise_name(name: str) -> str:
    """Lower-case ASCII words without punctuation, admin-type words or articles.

    ``"Autonomous Republic of Crimea"`` → ``"crimea"``; ``"Al-Hasakah"`` → ``"hasakah"``.
    A name made only of such words (``"City"``) keeps them, so it never becomes empty.
    """
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return ""
    from anyascii import anyascii  # imported when names are compared, not by every command

    text = _APOSTROPHES.sub("", anyascii(str(name)).casefold())
    words = _NON_ALNUM.sub(" ", text).split()
    kept = [w for w in words if w not in _ADMIN_WORDS and w not in _ARTICLES]
    return " ".join(kept or words)


def names_match(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same place up to spelling (see module docstring)."""
    country_a, country_b = country_code(a), country_code(b)
    if country_a and country_b:
        return country_a == country_b
    return _names_match(normalise_name(a), normalise_name(b))


def country_code(name: Any) -> str | None:
    """ISO 3166 alpha-3 of a country name or code (pycountry + the alias table), else None.

    ``"Tanzania"``, ``"Tanzania, United Republic of"``, ``"TZ"`` → ``"TZA"``; ``"Swaziland"``
    → ``"SWZ"``. Codes count only in capitals (``"TZ"``, not ``"tz"``), so that a short
    region name is not read as a country code.
    """
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return None
    text = str(name).strip()
    if re.fullmatch(r"[A-Z]{2,3}", text):
        import pycountry  # imported when names are compared, not by every command

        found = pycountry.countries.get(**{f"alpha_{len(text)}": text})
        if found is not None:
            return found.alpha_3
    return _country_of_key(normalise_name(text))


@lru_cache(maxsize=65_536)
def _country_of_key(key: str) -> str | None:
    index = _country_index()
    return index.get(_aliases().get(key, key)) or index.get(key.replace(" ", ""))


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    """Normalised country name → alpha-3: names, official and common names, and the part of
    a name before its comma ("Tanzania" of "Tanzania, United Republic of") when unambiguous."""
    index: dict[str, str] = {}
    short: dict[str, set[str]] = {}
    import pycountry

    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                index[normalise_name(value)] = country.alpha_3
                index.setdefault(normalise_name(value).replace(" ", ""), country.alpha_3)
        if "," in country.name:
            key = normalise_name(country.name.split(",")[0])
            short.setdefault(key, set()).add(country.alpha_3)
    for key, codes in short.items():
        if len(codes) == 1 and key not in index:
            index[key] = next(iter(codes))
    return index


@lru_cache(maxsize=65_536)
def _names_match(a: str, b: str) -> bool:
    if not a or not b:
        return False
    a, b = _aliased(a), _aliased(b)
    if _is_settlement(a) != _is_settlement(b):
        return False  # a city is not the region around it
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return True
    key_a, key_b = _sound_key(a), _sound_key(b)
    if len(key_a) >= 2 and key_a == key_b:
        return True
    from rapidfuzz import fuzz  # ~0.1 s to import: only when names are compared

    return fuzz.ratio(a, b) >= SIMILARITY_THRESHOLD


def _aliased(name: str) -> str:
    """The alias table applied to the whole name, else word by word ("kyiv city")."""
    table = _aliases()
    if name in table:
        return table[name]
    return " ".join(table.get(word, word) for word in name.split())


def _is_settlement(name: str) -> bool:
    return any(word in _SETTLEMENT_WORDS for word in name.split())


def _sound_key(name: str) -> str:
    """Consonant skeleton tolerant of transliteration: dh/d, y/i, doubled letters, vowels."""
    text = name.replace(" ", "")
    for digraph, letter in _DIGRAPHS:
        text = text.replace(digraph, letter)
    text = re.sub(r"(.)\1+", r"\1", text)
    if len(text) > 1 and text.endswith("h"):
        text = text[:-1]
    return text[:1] + re.sub(r"[aeiouyw]", "", text[1:])


def compare_stated(
    records: pd.DataFrame, joined: pd.DataFrame, levels: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agreement between stated admin names/codes and the joined regions, per level.

    A stated code is compared when present (exactly, case-insensitive), else the stated
    name (:func:`names_match` against the region's name).

    Returns
    -------
    summary
        One row per level that states something: ``level``, ``stated`` (records with a
        value), ``compared`` (stated and attributed to a region there), ``agree``,
        ``disagree``, ``agreement_rate`` (agree / compared, NaN when nothing compared),
        ``outside`` and ``imprecise`` (stated but not comparable).
    disagreements
        ``id``, ``line``, ``level``, ``stated``, ``stated_region_code`` and
        ``stated_region_name`` (the region of the joined region's country that the stated
        name or code names: where the file puts the point; NA when none does),
        ``joined_code``, ``joined_name`` (where the boundaries put it), ``match``, ``lat``,
        ``lon`` — one row per disagreeing record and level, so a user can judge who is right.
    """
    mapping = getattr(levels, "levels", levels)
    level_numbers = sorted(mapping) if isinstance(mapping, Mapping) else []
    rows, found = [], []
    for level in level_numbers:
        stated, kind = _stated_values(records, level)
        if stated is None or f"adm{level}_code" not in joined.columns:
            continue
        row, disagreeing = _compare_level(records, joined, level, stated, kind)
        disagreeing = _with_stated_regions(disagreeing, mapping[level])
        rows.append(row)
        found.append(disagreeing)
    summary = pd.DataFrame(rows, columns=_SUMMARY_COLUMNS).astype(
        {c: "int64" for c in _SUMMARY_COLUMNS if c != "agreement_rate"}
    )
    disagreements = (
        pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=_DISAGREE_COLUMNS)
    )
    return summary, disagreements[_DISAGREE_COLUMNS]


def disagreement_pairs(disagreements: pd.DataFrame) -> pd.DataFrame:
    """The disagreements grouped by what each source says, most frequent first.

    One row per level, stated value and pair of regions: ``level``, ``stated`` (the name
    or code the file gives), ``stated_region`` (the region it names, in the joined
    region's country: where the file puts the point; empty when none does),
    ``boundary_region`` (where the boundaries put it), ``records``. A pair seen by many
    records is a naming difference worth an alias; a pair seen once may be a wrong point.
    """
    if disagreements.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c in ("level", "records") else "str")
             for c in _PAIR_COLUMNS}
        )  # fmt: skip
    pairs = pd.DataFrame(
        {
            "level": disagreements["level"].astype("int64"),
            "stated": disagreements["stated"].astype("str"),
            "stated_region": _region_label(
                disagreements["stated_region_name"], disagreements["stated_region_code"]
            ),
            "boundary_region": _region_label(
                disagreements["joined_name"], disagreements["joined_code"]
            ),
        }
    )
    counted = pairs.groupby(list(pairs.columns), sort=False, dropna=False).size()
    out = counted.rename("records").reset_index()
    out = out.sort_values(
        ["records", "level", "stated", "boundary_region"],
        ascending=[False, True, True, True],
        kind="stable",
    )
    return out[_PAIR_COLUMNS].reset_index(drop=True)


def _region_label(name: pd.Series, code: pd.Series) -> pd.Series:
    """``Name (CODE)``; the code alone without a name; empty when there is no region."""
    name, code = name.astype("str").fillna(""), code.astype("str").fillna("")
    both = (name != "") & (code != "")
    label = name.where(name != "", code)
    return label.where(~both, name + " (" + code + ")")


_PAIR_COLUMNS = ["level", "stated", "stated_region", "boundary_region", "records"]
_SUMMARY_COLUMNS = [
    "level",
    "stated",
    "compared",
    "agree",
    "disagree",
    "agreement_rate",
    "outside",
    "imprecise",
]
_DISAGREE_COLUMNS = [
    "id",
    "line",
    "level",
    "stated",
    "stated_region_code",
    "stated_region_name",
    "joined_code",
    "joined_name",
    "match",
    "lat",
    "lon",
]


def _stated_values(records: pd.DataFrame, level: int) -> tuple[pd.Series | None, pd.Series]:
    """Per record: the stated text (code preferred over name) and its kind."""
    code = _clean_text(records, stated_code_column(level))
    name = _clean_text(records, stated_name_column(level))
    if code is None and name is None:
        return None, pd.Series(dtype="str")
    empty = pd.Series(pd.NA, index=records.index, dtype="str")
    code = empty if code is None else code
    name = empty if name is None else name
    kind = pd.Series(np.where(code.notna(), "code", "name"), index=records.index)
    return code.fillna(name), kind


def _clean_text(records: pd.DataFrame, column: str) -> pd.Series | None:
    if column not in records.columns:
        return None
    text = records[column].astype("str").str.strip()
    return text.where(text.notna() & (text != ""))


def _compare_level(
    records: pd.DataFrame, joined: pd.DataFrame, level: int, stated: pd.Series, kind: pd.Series
) -> tuple[dict[str, Any], pd.DataFrame]:
    match = joined[f"adm{level}_match"].astype("str")
    joined_code = joined[f"adm{level}_code"].astype("str")
    joined_name = joined[f"adm{level}_name"].astype("str")
    has = stated.notna()
    outside = has & (match == MatchStatus.OUTSIDE.value)
    imprecise = has & (match == MatchStatus.IMPRECISE.value)
    compared = has & joined_code.notna()
    agree = np.zeros(len(records), dtype=bool)
    by_code = (compared & (kind == "code")).to_numpy(dtype=bool)
    same_code = stated[by_code].str.casefold() == joined_code[by_code].str.casefold()
    agree[by_code] = same_code.to_numpy(dtype=bool, na_value=False)
    by_name = (compared & (kind == "name")).to_numpy(dtype=bool)
    # Decide each distinct (stated, region name) pair once: files repeat them a lot.
    said, said_text = pd.factorize(stated[by_name])
    found, found_text = pd.factorize(joined_name[by_name])
    width = len(found_text) + 1
    keys, pair_of_record = np.unique(said * width + found, return_inverse=True)
    verdicts = np.array(
        [names_match(said_text[k // width], found_text[k % width]) for k in keys], dtype=bool
    )
    agree[by_name] = verdicts[pair_of_record]
    agree = pd.Series(agree, index=records.index)
    disagree = compared & ~agree
    n_compared, n_agree = int(compared.sum()), int((compared & agree).sum())
    row = {
        "level": level,
        "stated": int(has.sum()),
        "compared": n_compared,
        "agree": n_agree,
        "disagree": int(disagree.sum()),
        "agreement_rate": n_agree / n_compared if n_compared else float("nan"),
        "outside": int(outside.sum()),
        "imprecise": int(imprecise.sum()),
    }
    rows = pd.DataFrame(
        {
            "id": _column(records, "id", disagree),
            "line": _column(records, "line", disagree),
            "level": level,
            "stated": stated[disagree],
            "joined_code": joined_code[disagree],
            "joined_name": joined_name[disagree],
            "match": match[disagree],
            "lat": _column(records, "lat", disagree),
            "lon": _column(records, "lon", disagree),
        }
    )
    return row, rows.reset_index(drop=True)


def _with_stated_regions(rows: pd.DataFrame, frame: Any) -> pd.DataFrame:
    """Add the region the stated value names, looked for in the joined region's country."""
    codes = frame["code"].astype("str").to_numpy()
    region_names = frame["name"].astype("str").to_numpy()
    if "country" in frame.columns:
        countries = frame["country"].astype("str").to_numpy()
    else:
        countries = np.full(len(frame), "")
    country_of = dict(zip(codes, countries, strict=True))
    found: dict[tuple[str, str], tuple[Any, Any]] = {}
    out_code, out_name = [], []
    for stated, joined_code in zip(rows["stated"], rows["joined_code"], strict=True):
        key = (str(stated), str(joined_code))
        if key not in found:
            same = countries == country_of.get(key[1], "")
            found[key] = _named_region(key[0], codes[same], region_names[same])
        out_code.append(found[key][0])
        out_name.append(found[key][1])
    return rows.assign(
        stated_region_code=pd.Series(out_code, index=rows.index, dtype="str"),
        stated_region_name=pd.Series(out_name, index=rows.index, dtype="str"),
    )


def _named_region(stated: str, codes: np.ndarray, region_names: np.ndarray) -> tuple[Any, Any]:
    """The (code, name) of the first region whose code or name the stated value gives."""
    for code, name in zip(codes, region_names, strict=True):
        if stated.casefold() == code.casefold() or names_match(stated, name):
            return code, name
    return None, None


def _column(records: pd.DataFrame, name: str, mask: pd.Series) -> pd.Series:
    if name in records.columns:
        return records.loc[mask, name]
    return pd.Series(pd.NA, index=records.index[mask])
