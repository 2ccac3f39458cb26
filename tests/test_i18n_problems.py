"""Validation problems in the user's language: the catalogue's templates translated, their
{placeholders} filled, the codes unchanged; the columnar rejections render them too."""

from __future__ import annotations

import string

from crisismap import i18n
from crisismap.problems import CODES, DATE_FUTURE, ID_DUPLICATE, TOO_MANY_FIELDS
from crisismap.records import validate_bytes

BAD = (
    b"id,date,latitude,longitude,category\n"
    b"1,2024-02-30,48.51,37.21,shelling\n"
    b"2,2024-03-01,95.5,37.21,shelling\n"
    b"3,2024-03-02,48.51,37.21,shelling\n"
)


def test_french_message_with_its_placeholders_filled():
    with i18n.using("fr"):
        text = DATE_FUTURE.message(value="2031-01-01", extra="2026-12-07")
        duplicate = ID_DUPLICATE.message("generated", value="A-1", extra=7)
    assert (
        text == "La date '2031-01-01' est dans le futur (après le 2026-12-07) : vérifiez l'année."
    )
    assert duplicate.startswith(
        "L'identifiant 'A-1' est déjà utilisé par l'enregistrement de la ligne 7"
    )


def test_arabic_message_with_its_placeholders_filled():
    with i18n.using("ar"):
        text = TOO_MANY_FIELDS.message(where="line 4", n_fields=6, width=5)
    assert text.startswith("في السجل (line 4) 6 حقلًا؛ وفي سطر العناوين 5.")
    assert "استُبعد السجل" in text


def test_english_stays_the_reference_and_language_is_looked_up_each_time():
    english = DATE_FUTURE.message(value="x", extra="y")
    with i18n.using("es"):
        spanish = DATE_FUTURE.message(value="x", extra="y")
    assert english == "The date 'x' is in the future (after y): check the year."
    assert spanish.startswith("La fecha 'x' está en el futuro")
    assert DATE_FUTURE.message(value="x", extra="y") == english


def test_every_template_and_variant_renders_in_every_language():
    """A translation that breaks str.format (a lost brace, a renamed field) fails here, and
    so does one left in English."""
    numbers = {"limit", "share", "lat", "lon", "n_fields", "width", "records", "level"}
    for lang in [code for code in i18n.LANGUAGES if code != "en"]:
        with i18n.using(lang):
            for kind in CODES.values():
                for variant in (None, *kind.variants):
                    english = kind.template if variant is None else kind.variants[variant]
                    names = {f[1] for f in string.Formatter().parse(english) if f[1]}
                    values = {n: 1.5 if n in numbers else f"<{n}>" for n in names}
                    rendered = kind.message(variant, **values)
                    assert rendered != english.format(**values), (lang, kind.code, variant)
                    for name in names - numbers:
                        assert f"<{name}>" in rendered, (lang, kind.code, variant, name)


def test_descriptions_translate_where_shown():
    with i18n.using("uk"):
        assert CODES["date-future"].localized_description() == "Дата пізніша за сьогоднішню."
    assert CODES["date-future"].localized_description() == "The date is after today."


def test_validation_report_and_rejected_reasons_in_french_keep_codes():
    with i18n.using("fr"):
        result = validate_bytes(BAD, filename="bad.csv")
        reasons = result.rejected["reasons"].tolist()
    codes = sorted(p.code for p in result.report.problems)
    assert codes == ["coords-out-of-range", "date-impossible"]
    messages = {p.code: p.message for p in result.report.problems}
    assert messages["date-impossible"].startswith("'2024-02-30' n'existe pas dans le calendrier")
    assert "plage de latitude de -90 à 90" in messages["coords-out-of-range"]
    assert reasons[0].startswith("date-impossible: '2024-02-30' n'existe pas")
    assert reasons[1].startswith("coords-out-of-range: '95.5' est en dehors")


def test_coordinate_axis_is_named_in_the_language():
    with i18n.using("ar"):
        result = validate_bytes(BAD, filename="bad.csv")
    message = next(p.message for p in result.report.problems if p.code == "coords-out-of-range")
    assert "خط العرض" in message and "latitude" not in message
