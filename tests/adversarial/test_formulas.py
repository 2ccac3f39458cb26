"""Spreadsheet formulas: hostile cells through every export; none may be evaluated.

Cells starting with ``= + - @``, tab, CR, LF or their full-width forms, and text with a
bare CR or LF followed by ``=`` inside a field, are placed in every text field of an
incident file, in its column headers, in its file name and in the region names and
codes of a boundary file. Every download the app offers (public and internal, the
report bundle's members included) and every file the CLI writes is then read back the
way a spreadsheet reads it (RFC 4180 CSV with quotes honoured; XLSX cell types) and
must hold:

* **0 cells a spreadsheet would evaluate**: no CSV cell starts (after spaces) with a
  formula character unless it is a plain number; no XLSX cell is a formula
  (openpyxl ``data_type == "f"``);
* **row counts preserved**: two independent CSV parsers read the same rows, all of the
  same width (a bare CR inside a field splits no row), and as many as the frame written
  where the test built it (rejected records, join, problems, the CLI's summary);
* GeoJSON is data, not a spreadsheet: its strings must come back verbatim.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from crisismap import dashboard, pipeline
from crisismap.boundaries import read_boundary_bytes
from crisismap.export import to_csv_bytes
from crisismap.schema import Period, View
from tests.adversarial import figures
from tests.helpers.payloads import (
    FORMULA_PAYLOADS,
    FORMULA_STARTS,
    boundaries_geojson,
    incidents_csv,
)

SUITE = "spreadsheet formulas"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@pytest.fixture(scope="module")
def analysis() -> pipeline.Analysis:
    names = FORMULA_PAYLOADS[:6]
    boundaries = read_boundary_bytes(
        boundaries_geojson(names, [f"={i}+1" for i in range(len(names))]), "=regions.geojson"
    )
    return pipeline.analyse(
        incidents_csv(FORMULA_PAYLOADS), boundaries, filename="=HYPERLINK(1).csv"
    )


def _exports(analysis: pipeline.Analysis) -> dict[str, tuple[bytes, pd.DataFrame | None]]:
    """Every download the app offers (public and internal, report bundles included) and
    the CLI's files, with the frame written when the test knows it."""
    view = dashboard.build_view(analysis, View(1))
    out: dict[str, tuple[bytes, pd.DataFrame | None]] = {}
    for public in (True, False):
        for item in dashboard.exports(analysis, view, public=public):
            kind = "public" if public else "internal"
            out[f"{item.label} [{kind}] {item.filename}"] = (item.make(), None)
    summary = pipeline.summarize(analysis, View(1, Period.MONTH))
    join = pipeline.join_table(analysis)
    problems = dashboard.problem_table(analysis.report)
    out["rejected records (CLI --rejected) rejected.csv"] = (
        to_csv_bytes(analysis.rejected),
        analysis.rejected,
    )
    out["join (CLI join --internal --out) SENSITIVE_joined.csv"] = (to_csv_bytes(join), join)
    out["problems (CLI --problems) problems.csv"] = (to_csv_bytes(problems), problems)
    for fmt in ("csv", "xlsx"):
        data = pipeline.summary_result(analysis, View(1, Period.MONTH)).export(fmt)
        out[f"summary (CLI summarize --internal --out) SENSITIVE_summary.{fmt}"] = (data, summary)
    return out


def _check(name: str, data: bytes, frame: pd.DataFrame | None, analysis) -> None:
    """Dispatch on the file type; a ZIP (the report bundle) is checked member by member."""
    figures.add(SUITE, "files checked")
    suffix = name.rsplit(".", 1)[-1].lower()
    if suffix == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                _check(f"{name}/{member}", archive.read(member), None, analysis)
    elif suffix == "csv":
        _check_csv(name, data, frame)
    elif suffix == "xlsx":
        _check_xlsx(name, data, frame)
    elif suffix == "geojson":
        _check_geojson(name, data, analysis)


def _evaluated(cell: str) -> bool:
    """Would a spreadsheet evaluate this cell (a formula, not a plain number)?"""
    text = cell.lstrip(" ")
    return text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text)


def _check_csv(name: str, data: bytes, frame: pd.DataFrame | None, *, count: bool = True) -> None:
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [c for row in rows for c in row]
    bad = [c for c in cells if _evaluated(c)]
    if count:
        figures.add(SUITE, "cells checked", len(cells))
        figures.add(SUITE, "cells a spreadsheet would evaluate", len(bad))
    assert bad == [], f"{name}: {bad[:5]}"
    other = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)  # C parser
    assert len(other) == len(rows) - 1, f"{name}: pandas reads {len(other)} rows"
    assert len({len(row) for row in rows}) == 1, f"{name}: ragged rows"
    if frame is not None:
        assert len(rows) == len(frame) + 1, f"{name}: {len(rows) - 1} rows for {len(frame)}"
        assert len(rows[0]) == len(frame.columns), f"{name}: columns"
    figures.add(SUITE, "cells neutralised with an apostrophe", sum(c[:1] == "'" for c in cells))


def _check_xlsx(name: str, data: bytes, frame: pd.DataFrame | None) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    formulas = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                figures.add(SUITE, "cells checked")
                formulas += cell.data_type == "f"
    figures.add(SUITE, "formula cells in XLSX", formulas)
    assert formulas == 0, name
    if frame is not None:
        summary = book["Summary"] if "Summary" in book.sheetnames else book.worksheets[0]
        assert summary.max_row - 1 == len(frame), f"{name}: {summary.max_row - 1} rows"


def _check_geojson(name: str, data: bytes, analysis: pipeline.Analysis) -> None:
    """GeoJSON is data, not a spreadsheet: hostile names come back verbatim, none lost."""
    features = json.loads(data)["features"]
    names = {str(v) for f in features for k, v in f["properties"].items() if "name" in k}
    regions = set(pipeline.summary_levels(analysis)[1]["name"])
    assert regions <= names, f"{name}: region names changed or lost"


@pytest.mark.slow
def test_no_export_holds_a_cell_a_spreadsheet_would_evaluate(analysis):
    assert analysis.report.rejected >= 2 and analysis.report.accepted >= len(FORMULA_PAYLOADS)
    exports = _exports(analysis)
    for name, (data, frame) in exports.items():
        figures.add(SUITE, "exports checked")
        _check(name, data, frame, analysis)
    figures.put(SUITE, "formula payloads", len(FORMULA_PAYLOADS))
    figures.add(SUITE, "rows lost or split", 0)


def test_the_oracle_catches_what_pandas_writes(analysis):
    """The checks above can fail: a naive export of the same frame fails them."""
    naive = analysis.rejected.to_csv(index=False).encode()
    with pytest.raises(AssertionError):
        _check_csv("naive", naive, analysis.rejected, count=False)


@pytest.mark.parametrize("payload", FORMULA_PAYLOADS)
def test_each_payload_alone_in_a_csv_cell(payload):
    frame = pd.DataFrame({"text": [payload, "x"], payload: ["a", payload]})
    data = to_csv_bytes(frame)
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert len(rows) == 3
    assert not any(_evaluated(c) for row in rows for c in row)
    assert rows[1][0].lstrip("'") == payload  # only the apostrophe was added
