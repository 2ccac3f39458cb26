"""Region names in the user's language where the boundary file has them (issue 17, point 4).

Hand-built files in the layouts that carry several names (COD-AB old and new style, Natural
Earth, OpenStreetMap), a geoBoundaries-like file that carries one; the names every output
shows follow ``i18n.language()``, codes never change. Real files: test_region_names_real.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import box, mapping

from crisismap import i18n, pipeline
from crisismap.boundaries import load_boundaries
from crisismap.schema import View, name_languages, region_names, with_region_names


def _write(path: Path, rows: list[dict]) -> Path:
    features = [
        {"type": "Feature", "properties": props, "geometry": mapping(box(30 + i, 50, 31 + i, 51))}
        for i, props in enumerate(rows)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def _names(frame: pd.DataFrame, lang: str) -> dict[str, str]:
    return dict(zip(frame["code"], region_names(frame, lang), strict=True))


def test_cod_ab_old_style_keeps_each_language_column(tmp_path):
    path = _write(
        tmp_path / "yem_adm1.geojson",
        [
            {"ADM1_EN": "Sana'a", "ADM1_AR": "صنعاء", "ADM1_PCODE": "YE23", "ADM0_PCODE": "YE"},
            {"ADM1_EN": "Aden", "ADM1_AR": "عدن", "ADM1_PCODE": "YE24", "ADM0_PCODE": "YE"},
        ],
    )
    frame = load_boundaries(path).level(1)
    assert name_languages(frame) == ["ar", "en"]
    assert _names(frame, "ar") == {"YE23": "صنعاء", "YE24": "عدن"}
    assert _names(frame, "fr") == {"YE23": "Sana'a", "YE24": "Aden"}  # none: the source name
    assert list(frame["name"]) == ["Sana'a", "Aden"]  # the source name itself is unchanged


def test_cod_ab_hdx_style_reads_the_language_of_each_name_column(tmp_path):
    rows = [
        {"adm1_pcode": "CF11", "adm1_name": "Ombella-M'Poko", "lang": "fr",
         "adm1_name1": "Ombella-M'Poko EN", "lang1": "en", "adm1_name2": None, "lang2": None},
        {"adm1_pcode": "CF12", "adm1_name": "Lobaye", "lang": "fr",
         "adm1_name1": None, "lang1": "en", "adm1_name2": None, "lang2": None},
    ]  # fmt: skip
    frame = load_boundaries(_write(tmp_path / "caf_adm1.geojson", rows)).level(1)
    assert name_languages(frame) == ["en", "fr"]  # lang2 has no value: no language
    assert _names(frame, "en") == {"CF11": "Ombella-M'Poko EN", "CF12": "Lobaye"}
    assert _names(frame, "fr") == {"CF11": "Ombella-M'Poko", "CF12": "Lobaye"}


def test_natural_earth_and_openstreetmap_name_columns(tmp_path):
    ne = _write(
        tmp_path / "ne_admin1.geojson",
        [
            {"iso_3166_2": "UA-30", "adm0_a3": "UKR", "name": "Kiev City", "name_uk": "Київ",
             "name_fr": "Kiev", "name_alt": "Kyiv", "name_id": "Kiev"},
            {"iso_3166_2": "UA-46", "adm0_a3": "UKR", "name": "L'viv", "name_uk": "Львівська",
             "name_fr": None, "name_alt": None, "name_id": "Lviv"},
        ],
    )  # fmt: skip
    frame = load_boundaries(ne).level(1)
    assert name_languages(frame) == ["fr", "uk"]  # not name_alt, nor the ambiguous name_id
    assert _names(frame, "uk") == {"UA-30": "Київ", "UA-46": "Львівська"}
    assert _names(frame, "fr") == {"UA-30": "Kiev", "UA-46": "L'viv"}
    osm = _write(tmp_path / "osm_adm1.geojson", [{"code": "A", "name": "Halab", "name:ar": "حلب"}])
    assert _names(load_boundaries(osm, level=1).level(1), "ar") == {"A": "حلب"}


def test_codes_and_numbers_are_not_taken_for_names(tmp_path):
    path = _write(
        tmp_path / "adm1.geojson",
        [{"ADM1_PCODE": "XY01", "ADM1_EN": "One", "ADM1_ID": 7, "ADM1_FR": "XY01"}],
    )
    assert name_languages(load_boundaries(path).level(1)) == ["en"]


def test_geoboundaries_has_one_name_and_every_language_shows_it(tmp_path):
    path = _write(
        tmp_path / "geoBoundaries-YEM-ADM1.geojson",
        [{"shapeName": "Aden", "shapeID": "Y1", "shapeISO": "YE-AD", "shapeType": "ADM1"}],
    )
    frame = load_boundaries(path).level(1)
    assert name_languages(frame) == []
    assert _names(frame, "ar") == {"YE-AD": "Aden"}
    assert with_region_names(frame, "ar") is frame


def test_the_current_language_chooses_and_unnamed_regions_show_their_code():
    frame = pd.DataFrame(
        {
            "code": ["A", "B", "C"],
            "name": ["Alpha", "Beta", None],
            "name:fr": ["Alpha-fr", None, None],
        }
    )
    with i18n.using("fr"):
        assert list(region_names(frame)) == ["Alpha-fr", "Beta", "C"]
        shown = with_region_names(frame)
    assert list(shown.columns) == ["code", "name"]
    assert list(shown["name"]) == ["Alpha-fr", "Beta", "C"]
    assert list(region_names(frame)) == ["Alpha", "Beta", "C"]  # English: the source names


def test_cache_format_records_names_by_language(tmp_path):
    path = _write(
        tmp_path / "adm1.geojson", [{"ADM1_PCODE": "XY01", "ADM1_EN": "One", "ADM1_AR": "واحد"}]
    )
    first = load_boundaries(path, cache_dir=tmp_path / "cache").level(1)
    again = load_boundaries(path, cache_dir=tmp_path / "cache").level(1)
    assert _names(again, "ar") == _names(first, "ar") == {"XY01": "واحد"}


def test_figures_map_and_exports_follow_the_language_codes_do_not(tmp_path):
    rows = [
        {"ADM1_PCODE": "YE23", "ADM1_EN": "Sana'a", "ADM1_AR": "صنعاء", "ADM0_PCODE": "YE"},
        {"ADM1_PCODE": "YE24", "ADM1_EN": "Aden", "ADM1_AR": None, "ADM0_PCODE": "YE"},
    ]
    bset = load_boundaries(_write(tmp_path / "yem_adm1.geojson", rows))
    data = (
        b"id,date,latitude,longitude,category\n"
        b"1,2024-01-02,50.5,30.5,killing\n2,2024-01-03,50.5,31.5,killing\n"
    )
    analysis = pipeline.analyse(data, bset)
    view = View(level=1)
    with i18n.using("ar"):
        table = pipeline.summarize(analysis, view, by_category=False)
        shown = pipeline.display_regions(analysis, 1)
    named = table.drop_duplicates("region_code").set_index("region_code")["region_name"]
    assert named["YE23"] == "صنعاء" and named["YE24"] == "Aden"
    assert dict(zip(shown["code"], shown["name"], strict=True)) == {"YE23": "صنعاء", "YE24": "Aden"}
    english = pipeline.summarize(analysis, view, by_category=False)
    assert (
        english.drop_duplicates("region_code").set_index("region_code").loc["YE23", "region_name"]
        == "Sana'a"
    )
    assert set(english["region_code"]) == set(table["region_code"])


@pytest.mark.parametrize("lang", ["fr", "ar", "es", "uk"])
def test_pseudo_language_and_unknown_ones_fall_back_to_the_source_name(lang):
    frame = pd.DataFrame({"code": ["A"], "name": ["Alpha"]})
    assert list(region_names(frame, lang)) == ["Alpha"]


def test_records_export_names_follow_the_language(tmp_path):
    from crisismap.record_table import record_table

    rows = [{"ADM1_PCODE": "YE23", "ADM1_EN": "Sana'a", "ADM1_AR": "صنعاء", "ADM0_PCODE": "YE"}]
    bset = load_boundaries(_write(tmp_path / "yem_adm1.geojson", rows))
    data = b"id,date,latitude,longitude,category\n1,2024-01-02,50.5,30.5,killing\n"
    analysis = pipeline.analyse(data, bset)
    with i18n.using("ar"):
        shown = record_table(analysis, [("x.csv", data)])
    assert list(shown["adm1_code"]) == ["YE23"] and list(shown["adm1_name"]) == ["صنعاء"]
    assert list(analysis.joined["adm1_name"]) == ["Sana'a"]  # the joined data: source names
