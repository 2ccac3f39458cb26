"""Exports as bytes (CSV, XLSX, GeoJSON, JSON manifest), shared by the app and the CLI.

Every export is safe to open in a spreadsheet: text cells that a spreadsheet would
evaluate (leading ``= + - @``, tab, CR, LF and their full-width forms) are neutralised
with a leading apostrophe in CSV (see :mod:`crisismap.escape`), every CSV field is quoted
(so a bare CR inside a field cannot start a new row), and XLSX is written with strings
never turned into formulas, numbers or links.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from crisismap.escape import cell_text, neutralise_formula


def _is_text_column(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` as text, with formula-like text cells neutralised."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        col = frame[name]
        texts = [cell_text(v) for v in col.tolist()]
        if _is_text_column(col):
            texts = [neutralise_formula(t) for t in texts]
        out[neutralise_formula(str(name))] = texts
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV (UTF-8, every field quoted, CRLF rows) that no spreadsheet evaluates."""
    safe = safe_frame(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(list(safe.columns))
    writer.writerows(safe.itertuples(index=False, name=None))
    return buffer.getvalue().encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    return str(value)


def to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, created: datetime | None = None) -> bytes:
    """XLSX with one sheet per frame; strings are stored as strings, never formulas.

    ``created`` fixes the workbook's creation date (otherwise now), so that the same
    sheets give byte-identical files (report bundles are reproducible).
    """
    import xlsxwriter

    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(buffer, options) as book:
        if created is not None:
            book.set_properties({"created": created})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        header_format = book.add_format({"bold": True})
        for title, frame in sheets.items():
            sheet = book.add_worksheet(_sheet_title(title))
            for col, name in enumerate(frame.columns):
                sheet.write_string(0, col, str(name), header_format)
            for row, values in enumerate(frame.itertuples(index=False, name=None), start=1):
                for col, value in enumerate(values):
                    _write_cell(sheet, row, col, _xlsx_value(value), date_format)
            sheet.freeze_panes(1, 0)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    cleaned = "".join(c for c in title if c not in "[]:*?/\\")
    return (cleaned or "Sheet")[:31]


def _write_cell(sheet: Any, row: int, col: int, value: Any, date_format: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, str):
        sheet.write_string(row, col, value)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, date_format)
    else:
        sheet.write_string(row, col, str(value))


def regions_geojson_bytes(
    regions: gpd.GeoDataFrame, figures: pd.DataFrame, *, key: str = "code"
) -> bytes:
    """GeoJSON of ``regions`` (EPSG:4326) with ``figures`` joined on ``key``.

    ``figures`` is indexed by region code; regions without figures get zeros for
    numeric columns so the map shows every region.
    """
    if regions.crs is not None and regions.crs.to_epsg() != 4326:
        raise ValueError(f"regions must be in EPSG:4326 for GeoJSON, got {regions.crs}")
    frame = regions[[key, "name", "geometry"]].merge(
        figures, how="left", left_on=key, right_index=True
    )
    for name in figures.columns:
        if pd.api.types.is_numeric_dtype(figures[name]):
            frame[name] = frame[name].fillna(0)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    text = frame.to_json(na="null", show_bbox=False, drop_id=True, to_wgs84=False)
    return text.encode("utf-8")


def features_geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """GeoJSON of ``frame`` (EPSG:4326) as it is: missing values stay ``null``.

    Unlike :func:`regions_geojson_bytes` nothing is filled: a suppressed figure in a
    public export must not turn into a zero.
    """
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError(f"Features must be in EPSG:4326 for GeoJSON, got {frame.crs}")
    text = frame.to_json(na="null", show_bbox=False, drop_id=True, to_wgs84=False)
    return text.encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (inputs and outputs in manifests)."""
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(
    *,
    inputs: Iterable[Mapping[str, Any]],
    outputs: Mapping[str, bytes] | None = None,
    counts: Mapping[str, Any],
    boundaries: Mapping[str, Any],
    parameters: Mapping[str, Any],
    created: datetime | None = None,
) -> bytes:
    """The provenance manifest as JSON: inputs with SHA-256, counts, boundaries, parameters.

    ``created`` is recorded only when given, so that the same inputs and parameters
    produce byte-identical manifests.
    """
    from crisismap import __version__

    manifest: dict[str, Any] = {
        "software": {"name": "crisismap", "version": __version__},
        "inputs": [dict(item) for item in inputs],
        "counts": dict(counts),
        "boundaries": dict(boundaries),
        "parameters": {k: _jsonable(v) for k, v in parameters.items()},
    }
    if outputs:
        manifest["outputs"] = [
            {"name": name, "sha256": sha256_bytes(data), "bytes": len(data)}
            for name, data in sorted(outputs.items())
        ]
    if created is not None:
        manifest["created"] = created.astimezone(UTC).isoformat()
    return (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
