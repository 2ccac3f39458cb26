"""Region names by language on real boundary files (../shared/data, see its ATTRIBUTION.md)
and on the bundled world set with ISO 3166 names from pycountry (iso-codes, LGPL-2.1)."""

from __future__ import annotations

import csv
import io

import pytest

from crisismap import i18n, pipeline
from crisismap.boundaries import load_boundaries
from crisismap.cli.main import main
from crisismap.schema import View, name_languages, region_names

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world():
    return load_boundaries("world:UKR,YEM,CAF")


def _by_code(frame, lang: str) -> dict[str, str]:
    return dict(zip(frame["code"], region_names(frame, lang), strict=True))


def test_caf_cod_ab_names_are_french_at_every_level(shared_data):
    bset = load_boundaries(shared_data / "boundaries" / "caf_codab")
    for n, frame in bset.levels.items():
        assert name_languages(frame) == ["fr"], n  # HDX style: adm<N>_name with lang = fr
    names = _by_code(bset.level(1), "fr")
    assert names["CF62"] == "Mbomou"
    assert _by_code(bset.level(0), "fr")["CF"] == "République centrafricaine"
    assert _by_code(bset.level(1), "uk")["CF62"] == "Mbomou"  # no Ukrainian: the source name


def test_world_ukrainian_oblasts_in_ukrainian(world):
    names = _by_code(world.level(1), "uk")
    assert names["UA-46"] == "Львівська область"
    assert names["UA-30"] == "Київ"
    ukraine = world.level(1)[world.level(1)["country"] == "UKR"]
    assert region_names(ukraine, "uk").str.contains("[А-яІіЇїЄєҐґ]").all()  # all 27 in Cyrillic
    assert _by_code(world.level(0), "uk")["UKR"] == "Україна"


def test_world_yemen_in_arabic_country_name_only(world):
    assert _by_code(world.level(0), "ar")["YEM"] == "اليمن"
    yemen = world.level(1)[world.level(1)["country"] == "YEM"]
    # iso-codes has no Arabic ISO 3166-2 catalogue: the governorates keep their source names
    assert list(region_names(yemen, "ar")) == list(yemen["name"])
    assert "ar" not in name_languages(world.level(1))


def test_world_names_follow_the_context(world):
    incidents = b"id,date,latitude,longitude,category\n1,2024-01-02,49.84,24.03,killing\n"
    analysis = pipeline.analyse(incidents, world)
    with i18n.using("uk"):
        table = pipeline.summarize(analysis, View(level=1), by_category=False)
    row = table[table["region_code"] == "UA-46"].iloc[0]
    assert row["region_name"] == "Львівська область"
    english = pipeline.summarize(analysis, View(level=1), by_category=False)
    assert english[english["region_code"] == "UA-46"].iloc[0]["region_name"] == "L'viv"


def test_cli_lang_uk_writes_ukrainian_region_names(tmp_path):
    data = tmp_path / "ukr.csv"
    data.write_text(
        "id,date,latitude,longitude,category\n"
        "1,2024-01-02,49.84,24.03,killing\n2,2024-01-03,50.45,30.52,killing\n"
    )
    out = tmp_path / "out.csv"
    code = main(
        ["--lang", "uk", "summarize", str(data), "--boundaries", "world:UKR", "--level", "1",
         "--internal", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    written = next(tmp_path.glob("*out.csv")).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(written)))
    cells = {cell for row in rows for cell in row}
    assert {"Львівська область", "Київ"} <= cells
    assert {"UA-46", "UA-30"} <= cells  # codes unchanged
    assert "L'viv" not in cells
