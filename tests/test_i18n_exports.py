"""Export headers in the user's language; the codes, the HXL row and GeoJSON keys stable."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from crisismap import i18n
from crisismap.export import (
    hxl_tags,
    localized_columns,
    to_csv_bytes,
    to_xlsx_bytes,
    with_hxl_row,
)

SUMMARY = pd.DataFrame(
    {
        "region_code": ["SD01", "SD02"],
        "region_name": ["Khartoum", "Darfur"],
        "period": ["2024-03", "2024-03"],
        "category": ["arbitrary-detention", "shelling"],
        "incidents": [3, 5],
        "suppressed": [False, True],
    }
)


def _csv_rows(data: bytes) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_french_csv_headers_translate_while_codes_and_hxl_row_stay():
    tags = hxl_tags(list(SUMMARY.columns), level=1, period="month")
    english = with_hxl_row(to_csv_bytes(SUMMARY, localized=True), tags)
    with i18n.using("fr"):
        french = with_hxl_row(to_csv_bytes(SUMMARY, localized=True), tags)
    en_rows, fr_rows = _csv_rows(english), _csv_rows(french)
    assert en_rows[0] == list(SUMMARY.columns)  # English: the codes, as before
    assert fr_rows[0] == [
        "code de la région",
        "nom de la région",
        "période",
        "catégorie",
        "incidents",
        "masqué",
    ]
    assert (
        fr_rows[1]
        == en_rows[1]
        == [
            "#adm1+code",
            "#adm1+name",
            "#date+month",
            "#event+type",
            "#event+num",
            "#meta+suppressed",
        ]
    )
    assert fr_rows[2:] == en_rows[2:]  # region and category codes, figures: unchanged


def test_csv_headers_stay_codes_unless_asked_and_only_named_columns_translate():
    with i18n.using("fr"):
        plain = _csv_rows(to_csv_bytes(SUMMARY))[0]
        some = localized_columns(["line", "date", "reasons"], only=["line", "reasons"])
    assert plain == list(SUMMARY.columns)
    assert some == ["ligne", "date", "motifs"]


def test_a_translated_header_never_repeats_a_files_column():
    with i18n.using("fr"):
        names = localized_columns(["ligne", "line", "adm2_code", "crisismap_status"])
    assert names == ["ligne", "line", "code admin 2", "crisismap_statut"]


def test_xlsx_headers_and_sheet_names_in_arabic_hxl_row_unchanged():
    tags = hxl_tags(list(SUMMARY.columns), level=1, period="month")
    with i18n.using("ar"):
        data = to_xlsx_bytes(
            {"About": pd.DataFrame({"About this file": ["x"]}), "Summary": SUMMARY},
            hxl={"Summary": tags},
        )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["حول الملف", "الملخص"]
    sheet = book["الملخص"]
    assert [c.value for c in sheet[1]] == [
        "رمز المنطقة",
        "اسم المنطقة",
        "الفترة",
        "الفئة",
        "الحوادث",
        "محجوب",
    ]
    assert [c.value for c in sheet[2]] == tags
    assert [c.value for c in sheet[3]][:4] == ["SD01", "Khartoum", "2024-03", "arbitrary-detention"]
    assert book["حول الملف"]["A1"].value == "حول هذا الملف"


def test_pseudo_language_marks_every_header():
    with i18n.using(i18n.PSEUDO):
        names = localized_columns([*SUMMARY.columns, "adm1_match"])
    assert all(n.startswith("⟦") and n.endswith("⟧") for n in names), names


def test_trend_workbook_in_french_says_how_it_was_made():
    from crisismap.aggregate import trends as method
    from crisismap.trends import Trends, export

    table = pd.DataFrame(
        [["SD01", "Khartoum", "2024-03", 9, 8, 2.0, 5, 7.0, 0.001, 1.0, method.RISING]],
        columns=method.COLUMNS,
    )
    settings = {"level": 1, "period_unit": "month", "baseline_periods": 8, "alpha": 0.05}
    settings |= {"min_count": 3, "k": 5}
    with i18n.using("fr"):
        made = Trends(table, "2024-03", settings, public=True)
        data = export(made, "xlsx")
        sentence = made.sentence()
    assert sentence.startswith("En 2024-03, 1 région(s) ont dépassé leur niveau habituel et 0")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tendances", "À propos"]
    assert [c.value for c in book["Tendances"][1]][:3] == [
        "code de la région",
        "nom de la région",
        "période",
    ]
    assert book["Tendances"]["K2"].value == method.RISING  # statuses stay codes
    about = [c.value for c in book["À propos"]["A"]]
    assert about[0] == "à propos" and about[1] == sentence
    assert "Benjamini-Hochberg" in about[4]


def test_records_csv_translates_crisismaps_columns_not_the_files():
    from crisismap.record_table import records_bytes

    table = pd.DataFrame(
        {
            "date": ["2024-03-01"],
            "category": ["shelling"],
            "status": ["accepted"],
            "adm1_code": ["SD01"],
        }
    )
    table.attrs["ours"] = ["status", "adm1_code"]
    with i18n.using("es"):
        header, row = _csv_rows(records_bytes(table, "csv"))
    assert header == ["date", "category", "estado", "código admin 1"]
    assert row == ["2024-03-01", "shelling", "accepted", "SD01"]
