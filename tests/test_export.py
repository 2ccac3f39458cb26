"""Exports cannot carry spreadsheet formulas and keep every row."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from crisismap.escape import neutralise_formula
from crisismap.export import (
    manifest_bytes,
    regions_geojson_bytes,
    to_csv_bytes,
    to_xlsx_bytes,
)

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20x",
    "  =1",
    "plain\rsplit=1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_neutralise_formula_prefixes_an_apostrophe(text):
    assert neutralise_formula(text).startswith("'") or "\r" in text[1:]


def test_neutralise_leaves_ordinary_text():
    assert neutralise_formula("Kharkiv 3 killed") == "Kharkiv 3 killed"
    assert neutralise_formula("") == ""


def test_csv_export_has_no_live_formula_and_keeps_rows():
    frame = pd.DataFrame({"text": HOSTILE, "n": range(len(HOSTILE))})
    data = to_csv_bytes(frame)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == ["text", "n"]
    assert len(rows) == len(HOSTILE) + 1
    for row in rows[1:]:
        assert not row[0].lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
    # every field is quoted, so the bare CR inside a field cannot start a row
    assert data.startswith(b'"text","n"\r\n"\'=HYPERLINK(')
    # numbers stay numbers (negative numbers in numeric columns are not touched)
    numeric = to_csv_bytes(pd.DataFrame({"change": [-3, 2]})).decode()
    assert '"-3"' in numeric


def test_xlsx_export_has_no_formula_cells():
    frame = pd.DataFrame({"text": HOSTILE, "victims": [1.0] * len(HOSTILE)})
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"Summary": frame})))
    sheet = book["Summary"]
    assert sheet.max_row == len(HOSTILE) + 1
    kinds = {cell.data_type for row in sheet.iter_rows() for cell in row}
    assert "f" not in kinds
    assert sheet.cell(2, 1).value == HOSTILE[0]
    assert sheet.cell(2, 2).value == 1


def test_geojson_export_includes_regions_without_figures():
    regions = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["Alpha", "Beta"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    figures = pd.DataFrame({"incidents": [3]}, index=pd.Index(["A"]))
    doc = json.loads(regions_geojson_bytes(regions, figures))
    props = {f["properties"]["code"]: f["properties"]["incidents"] for f in doc["features"]}
    assert props == {"A": 3, "B": 0}


def test_manifest_is_reproducible_without_timestamp():
    kwargs = dict(
        inputs=[{"name": "x.csv", "sha256": "ab"}],
        outputs={"summary.csv": b"1"},
        counts={"records": 1},
        boundaries={"name": "world"},
        parameters={"level": 1, "period": "month"},
    )
    assert manifest_bytes(**kwargs) == manifest_bytes(**kwargs)
    doc = json.loads(manifest_bytes(**kwargs))
    assert doc["outputs"][0]["sha256"].startswith("6b86b273")


def test_xlsx_columns_read_back_as_their_values_and_types():
    """The workbook is written a column at a time: every kind of column keeps its values,
    missing values stay blank, dates stay dates."""
    import datetime as dt

    frame = pd.DataFrame(
        {
            "text": ["a", "=1+1", None, "é"],
            "count": pd.array([1, None, 3, 2**40], dtype="Int64"),
            "share": [1.5, np.nan, 2.0, -3.25],
            "flag": pd.array([True, None, False, True], dtype="boolean"),
            "date": pd.to_datetime(["2020-01-01", None, "1999-12-31", "2024-02-29"]),
            "mixed": [dt.date(2020, 1, 2), "x", 3, None],
        }
    )
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"S": frame})))
    rows = list(book["S"].iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    assert [r[0] for r in rows[1:]] == ["a", "=1+1", None, "é"]
    assert book["S"]["A3"].data_type == "s"  # a string, never a formula
    assert [r[1] for r in rows[1:]] == [1, None, 3, 2**40]
    assert [r[2] for r in rows[1:]] == [1.5, None, 2.0, -3.25]
    assert [r[3] for r in rows[1:]] == [True, None, False, True]
    assert [r[4] for r in rows[1:]] == [
        dt.datetime(2020, 1, 1),
        None,
        dt.datetime(1999, 12, 31),
        dt.datetime(2024, 2, 29),
    ]
    assert [r[5] for r in rows[1:]] == ["2020-01-02", "x", 3, None]  # mixed: as text
