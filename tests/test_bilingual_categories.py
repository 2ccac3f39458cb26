"""Bilingual category labels (issue 17, point 4): ``Penurie d'eau | Water shortage`` is one
category in two languages, never split in two; the user may show one of its languages in
the outputs, the data keeping the whole label and the manifest saying what was shown."""

from __future__ import annotations

import json

import pytest

from crisismap import bilingual, i18n, pipeline
from crisismap.bilingual import Bilingual, detect, guess_language
from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.records import validate_bytes
from crisismap.records.fields import choose_separator
from crisismap.schema import View
from tests.test_bundle import pdf_text  # noqa: F401 (the fixture)
from tests.test_category_split import BILINGUAL

KOBO = [
    "Penurie d'eau | Water shortage",
    "Arrestation arbitraire | Arbitrary arrest",
    "Disparition forcée | Enforced disappearance",
    "Penurie d'eau | Water shortage",
]


def _csv(categories: list[str]) -> bytes:
    lines = ["id,date,latitude,longitude,category"]
    for i, label in enumerate(categories):
        lines.append(f'{i + 1},2024-01-{1 + i % 28:02d},50.5,30.5,"{label}"')
    return ("\n".join(lines) + "\n").encode()


def _labels(result) -> list[str]:
    return list(result.records["category"])


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (BILINGUAL, Bilingual("|", "fr", "en")),  # no accents: told by d', -ee, -ing, -ed
        (KOBO, Bilingual("|", "fr", "en")),
        (["Arrestation arbitraire / Arbitrary arrest"], Bilingual("/", "fr", "en")),
        (["Detención arbitraria | Arbitrary detention"], Bilingual("|", "es", "en")),
        (["اعتقال تعسفي | Arbitrary detention", "قتل | Killing"], Bilingual("|", "ar", "en")),
        (["Вбивство | Killing", "Катування | Torture"], Bilingual("|", "uk", "en")),
        (["Вбивство | Killing"], Bilingual("|", None, "en")),  # told apart by script alone
        (["Killing / Looting", "Looting / Arson", "Arson"], None),  # parts combine freely
        (["Killing / Looting", "Arson / Shelling"], None),  # one language on both sides
        (["Meurtre / Pillage", "Incendie / Bombardement"], None),
        (["Pillage | Looting"], None),  # two words the words alone cannot tell apart
    ],
)
def test_a_column_is_bilingual_only_when_its_parts_pair_in_two_languages(labels, expected):
    assert detect(labels) == expected


def test_languages_told_by_script_letters_words_and_endings():
    assert guess_language("Викрадення людей") == "uk"
    assert guess_language("Катування і вбивство") == "uk"
    assert guess_language("Похищение людей") == "ru"
    assert guess_language("Пытки") == "ru"
    assert guess_language("Катувати") is None  # no letter or ending tells them apart
    assert guess_language("Exécution sommaire") == "fr"
    assert guess_language("Desaparición forzada") == "es"
    assert guess_language("Killing of civilians") == "en"
    assert guess_language("12") is None


# --- splitting --------------------------------------------------------------------------------


def test_a_bilingual_label_is_not_split_in_two():
    counts = [2, 1, 1]
    uniques = sorted(set(KOBO))
    assert choose_separator(uniques, counts)[0] == "|"  # what the recurrence rule alone does
    result = validate_bytes(_csv(KOBO), filename="kobo.csv")
    assert _labels(result) == KOBO  # each record: one category, its two languages kept
    assert result.report.category_separator == "none"
    assert any("two languages around '|' (fr | en)" in note for note in result.report.notes)


def test_bilingual_labels_several_a_record_split_between_labels_only():
    data = _csv([f"{a}; {b}" for a, b in zip(KOBO, KOBO[1:] + KOBO[:1], strict=True)])
    result = validate_bytes(data, filename="kobo.csv")
    assert result.report.category_separator == "';'"
    assert set(result.records["category"].iloc[0].split("; ")) == {KOBO[0], KOBO[1]}


def test_a_slash_that_separates_labels_still_splits_when_asked_for():
    data = _csv(["Killing / Looting", "Looting", "Arson / Killing", "Killing"])
    result = validate_bytes(data, filename="x.csv", category_separator="/")
    assert [set(v.split("; ")) for v in _labels(result)] == [
        {"Killing", "Looting"},
        {"Looting"},
        {"Arson", "Killing"},
        {"Killing"},
    ]


def test_a_slash_between_two_languages_is_kept_even_when_asked_for():
    labels = ["Arrestation arbitraire / Arbitrary arrest", "Exécution sommaire / Summary execution"]
    result = validate_bytes(_csv(labels), filename="x.csv", category_separator="/")
    assert _labels(result) == labels
    assert any("two languages around '/'" in note for note in result.report.notes)


def test_a_declared_pair_is_kept_whole_when_the_words_cannot_tell():
    labels = ["Pillage | Looting", "Deces | Deaths", "Pillage | Looting"]
    with bilingual.showing("fr", bilingual.parse_pair("|:fr,en")):
        result = validate_bytes(_csv(labels), filename="x.csv")
        shown = bilingual.shown(sorted(set(labels)))
    assert _labels(result) == labels
    assert shown == ["Deces", "Pillage"]


@pytest.mark.parametrize("bad", ["-", "|:fr", "|:fr,fr", ";:fr,en"])
def test_a_declared_pair_is_checked(bad):
    with pytest.raises(ValueError, match="Expected"):
        bilingual.parse_pair(bad)


# --- showing one language ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    path = tmp_path_factory.mktemp("b") / "adm1.geojson"
    square = {
        "type": "Polygon",
        "coordinates": [[[30, 50], [31, 50], [31, 51], [30, 51], [30, 50]]],
    }
    feature = {"type": "Feature", "properties": {"ADM1_PCODE": "XY01", "ADM1_EN": "One"}}
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [{**feature, "geometry": square}]})
    )
    return pipeline.analyse(_csv(KOBO), load_boundaries(path))


@pytest.mark.parametrize(
    ("choice", "lang", "water"),
    [
        ("full", "fr", "Penurie d'eau | Water shortage"),
        ("en", "fr", "Water shortage"),
        ("second", "en", "Water shortage"),
        ("first", "en", "Penurie d'eau"),
        ("auto", "fr", "Penurie d'eau"),
        ("auto", "en", "Water shortage"),
        ("auto", "uk", "Penurie d'eau | Water shortage"),  # not in the labels: whole
        ("ar", "en", "Penurie d'eau | Water shortage"),
    ],
)
def test_the_export_shows_the_chosen_language_and_the_manifest_says_so(
    analysis, choice, lang, water
):
    result = pipeline.summary_result(analysis, View(level=1))
    with i18n.using(lang), bilingual.showing(choice):
        data = result.export("csv").decode("utf-8")
        manifest = json.loads(result.manifest({"x.csv": data.encode()}))
    assert f'"{water}"' in data
    assert (manifest["parameters"].get("category_labels_shown") or "full") == choice
    assert set(analysis.records["category"]) == set(KOBO)  # the data keeps the whole labels


def test_cli_category_language(tmp_path, capsys):
    data = tmp_path / "kobo.csv"
    data.write_bytes(_csv(KOBO))
    out = tmp_path / "out.csv"
    argv = ["summarize", str(data), "--boundaries", "world:UKR", "--level", "1", "--internal"]
    assert main([*argv, "--out", str(out), "--category-language", "en"]) == 0
    written = next(tmp_path.glob("*out.csv")).read_text(encoding="utf-8-sig")
    assert '"Water shortage"' in written and "Penurie" not in written
    manifest = json.loads(next(tmp_path.glob("*out.manifest.json")).read_text())
    assert manifest["parameters"]["category_labels_shown"] == "en"
    assert main([*argv, "--out", str(out), "--category-language", "french"]) == 2
    assert "Unknown category language 'french'" in capsys.readouterr().err


def test_the_dashboard_learns_whether_and_in_which_languages(analysis):
    assert pipeline.bilingual_categories(analysis) == Bilingual("|", "fr", "en")
    with bilingual.showing("fr", bilingual.parse_pair("|:fr,en")):
        assert pipeline.bilingual_categories(analysis).describe() == "fr | en"


@pytest.mark.slow
def test_the_brief_and_its_tables_show_the_chosen_language(analysis, pdf_text):  # noqa: F811
    from crisismap.report.bundle import bundle_files

    with bilingual.showing("en"):
        files = bundle_files(analysis, View(level=1), public=False)
    by_name = {name.removeprefix("SENSITIVE_"): data for name, data in files.items()}
    series = by_name["series.csv"].decode("utf-8-sig")
    assert '"Water shortage"' in series and "Penurie" not in series
    assert "Water shortage" in pdf_text(by_name["brief.pdf"])
    assert "Penurie" not in pdf_text(by_name["brief.pdf"])
    manifest = json.loads(by_name["manifest.json"])
    assert manifest["parameters"]["category_labels_shown"] == "en"
