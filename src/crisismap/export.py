"""Exports as bytes (CSV, XLSX, GeoJSON, JSON manifest), shared by the app and the CLI.

Every export is safe to open in a spreadsheet: text cells that a spreadsheet would
evaluate (leading ``= + - @``, tab, CR, LF and their full-width forms) are neutralised
with a leading apostrophe in CSV (see :mod:`crisismap.escape`), every CSV field is quoted
(so a bare CR inside a field cannot start a new row), and XLSX is written with strings
never turned into formulas, numbers or links.

Column headers and sheet names are written in the user's language (:func:`localized_columns`)
where a person reads them: the workbooks always, CSV when the caller asks (a table of
crisismap's own columns; the file's own columns of a records table keep their names). In
English a header is the column's code (``region_code``), so English files are unchanged. What
machines read stays stable in every language: region, problem and category codes, the HXL
hashtag row (computed from the codes, so a French CSV with ``--hxl`` is read by HDX tools as
an English one), and GeoJSON property names (a GIS joins and styles on them, and crisismap
reads its own cells GeoJSON back through ``crisismap boundaries``).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from crisismap import bilingual, i18n
from crisismap.escape import cell_text, neutralise_formula, neutralise_formulas
from crisismap.i18n import pgettext
from crisismap.schema import with_region_names


def _is_text_column(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` as text, with formula-like text cells neutralised."""
    out = pd.DataFrame(index=frame.index)
    for position, name in enumerate(frame.columns):
        out[neutralise_formula(str(name))] = _safe_texts(frame.iloc[:, position]).to_pylist()
    return out


def _column_headers() -> dict[str, str]:
    """Each code column's header in the current language (see :func:`localized_columns`)."""
    # Translators: the "column" context is a column header of the exported tables (CSV and
    # Excel); keep them short. "suppressed": figures hidden to protect small counts.
    return {
        "region_code": pgettext("column", "region code"),
        "region_name": pgettext("column", "region name"),
        "parent_code": pgettext("column", "parent region code"),
        "country": pgettext("column", "country"),
        "period": pgettext("column", "period"),
        "period_start": pgettext("column", "period start"),
        "period_end": pgettext("column", "period end"),
        "category": pgettext("column", "category"),
        "incidents": pgettext("column", "incidents"),
        "victims": pgettext("column", "victims"),
        "victims_known": pgettext("column", "incidents with a known victim count"),
        "incidents_change": pgettext("column", "change in incidents"),
        "victims_change": pgettext("column", "change in victims"),
        "suppressed": pgettext("column", "suppressed"),
        "item": pgettext("column", "item"),
        "value": pgettext("column", "value"),
        "problem": pgettext("column", "problem"),
        "severity": pgettext("column", "severity"),
        "records": pgettext("column", "records"),
        "baseline_periods": pgettext("column", "baseline periods"),
        "baseline_mean": pgettext("column", "baseline mean"),
        "usual_high": pgettext("column", "usual high"),
        "change": pgettext("column", "change"),
        "p_rise": pgettext("column", "p rise (adjusted)"),
        "p_fall": pgettext("column", "p fall (adjusted)"),
        "status": pgettext("column", "status"),
        "about": pgettext("column", "about"),
        "About this file": pgettext("column", "About this file"),
        "file": pgettext("column", "file"),
        "line": pgettext("column", "line"),
        "column": pgettext("column", "column"),
        "code": pgettext("column", "code"),
        "message": pgettext("column", "message"),
        "record_id": pgettext("column", "record id"),
        "raw_text": pgettext("column", "raw text"),
        "reasons": pgettext("column", "reasons"),
        "warnings": pgettext("column", "warnings"),
        "warning_codes": pgettext("column", "warning codes"),
    }


def _admin_header(name: str) -> str | None:
    """``adm2_code`` → "admin 2 code" in the current language (None for other names)."""
    level, _, part = name.removeprefix("adm").partition("_")
    if not (name.startswith("adm") and level.isdigit()):
        return None
    forms = {
        "code": pgettext("column", "admin {level} code"),
        "name": pgettext("column", "admin {level} name"),
        # Translators: how the record was placed in its region (inside, border, snapped…)
        "match": pgettext("column", "admin {level} match"),
    }
    return forms[part].format(level=level) if part in forms else None


def localized_columns(columns: Iterable[Any], *, only: Iterable[str] | None = None) -> list[str]:
    """Column headers in the current language: crisismap's code columns translated (those in
    ``only``, when given), any other name as it is; the codes themselves in English.

    A translated header that would repeat another column's name keeps its code, so that no
    two columns of a file share a header.
    """
    names = [str(c) for c in columns]
    if i18n.language() == i18n.DEFAULT:
        return names
    headers = _column_headers()
    wanted = None if only is None else set(only)
    out: list[str] = []
    taken = set(names)
    for name in names:
        base = name.removeprefix(_OURS_PREFIX)
        header = None
        if wanted is None or name in wanted:
            header = headers.get(base) or _admin_header(base)
        if header and base != name:
            header = _OURS_PREFIX + header
        if not header or header in taken:
            header = name
        taken.add(header)
        out.append(header)
    return out


_OURS_PREFIX = "crisismap_"  # crisismap's column where the file has one of the same name


def sheet_name(title: str) -> str:
    """A workbook sheet's name in the current language (any other title as it is)."""
    names = {
        "About": pgettext("sheet", "About"),
        "Summary": pgettext("sheet", "Summary"),
        "Regions": pgettext("sheet", "Regions"),
        "Time series": pgettext("sheet", "Time series"),
        "Periods": pgettext("sheet", "Periods"),
        "Totals": pgettext("sheet", "Totals"),
        "Cells": pgettext("sheet", "Cells"),
        "Data quality": pgettext("sheet", "Data quality"),
        "Problems": pgettext("sheet", "Problems"),
        "Trends": pgettext("sheet", "Trends"),
    }
    return names.get(title, title)


def to_csv_bytes(frame: pd.DataFrame, *, localized: bool | Iterable[str] = False) -> bytes:
    """CSV (UTF-8, every field quoted, CRLF rows) that no spreadsheet evaluates.

    ``localized``: headers in the user's language (:func:`localized_columns`), for all of
    crisismap's code columns (True) or only the named ones (the rest are the file's own).

    Column at a time in pyarrow (text, neutralisation, quoting, joining): the same bytes
    as ``csv.writer(quoting=QUOTE_ALL, lineterminator="\\r\\n")`` over :func:`safe_frame`,
    without a Python call per cell.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = bilingual.displayed(frame)  # bilingual category labels as the user chose to see them
    names = [str(name) for name in frame.columns]
    if localized is not False:
        names = localized_columns(names, only=None if localized is True else localized)
    header = ",".join(_quoted_text(neutralise_formula(name)) for name in names)
    if frame.shape[1] == 0 or len(frame) == 0:
        return (header + "\r\n" + "\r\n" * len(frame)).encode("utf-8")
    quoted = [_quoted_texts(frame.iloc[:, i]) for i in range(frame.shape[1])]
    text, nothing = pa.large_string(), pa.scalar("", pa.large_string())
    quoted[0] = pc.binary_join_element_wise(pa.scalar('"', text), quoted[0], nothing)
    quoted[-1] = pc.binary_join_element_wise(quoted[-1], pa.scalar('"\r\n', text), nothing)
    rows = pc.binary_join_element_wise(*quoted, pa.scalar('","', text))
    return b"".join([(header + "\r\n").encode("utf-8"), _string_bytes(rows)])


UTF8_BOM = b"\xef\xbb\xbf"


def with_bom(data: bytes) -> bytes:
    """CSV bytes with a UTF-8 byte-order mark first: Excel on Windows then reads accents
    right (without it, it guesses the local code page). Never added twice."""
    return data if data.startswith(UTF8_BOM) else UTF8_BOM + data


def with_hxl_row(data: bytes, tags: Sequence[str]) -> bytes:
    """CSV bytes from :func:`to_csv_bytes` with an HXL hashtag row under the header.

    The header is the first CRLF-ended line (crisismap's own column names, quoted), so
    the row goes right after it; a BOM stays first.
    """
    bom = UTF8_BOM if data.startswith(UTF8_BOM) else b""
    body = data[len(bom) :]
    end = body.find(b"\r\n")
    if end < 0:
        raise ValueError("CSV without a header line: no place for an HXL row.")
    row = ",".join(_quoted_text(tag) for tag in tags).encode("utf-8") + b"\r\n"
    return bom + body[: end + 2] + row + body[end + 2 :]


def hxl_tags(columns: Sequence[str], *, level: int, period: str | None = None) -> list[str]:
    """HXL hashtags for a summary's columns, in HDX's conventions ("" leaves one untagged).

    ``region_code`` / ``region_name`` are ``#adm<level>+code`` / ``+name`` (``#country``
    at level 0), ``parent_code`` the level above's code, ``period`` ``#date+<unit>``
    (``#date+month`` as HDX's ACLED tables), ``period_start`` / ``period_end``
    ``#date+start`` / ``#date+end``, ``category`` ``#event+type``, ``incidents``
    ``#event+num`` and ``victims`` ``#affected+killed`` (the victim or fatality count).
    """
    unit = (period or "period").replace("-", "_")
    tags = {
        "region_code": _adm_tag(level, "code"),
        "region_name": _adm_tag(level, "name"),
        "parent_code": _adm_tag(level - 1, "code") if level > 0 else "",
        "country": "#country+code",
        "period": f"#date+{unit}",
        "period_start": "#date+start",
        "period_end": "#date+end",
        "category": "#event+type",
        "incidents": "#event+num",
        "victims": "#affected+killed",
        "victims_known": "#event+num+victims_known",
        "incidents_change": "#event+num+change",
        "victims_change": "#affected+killed+change",
        "suppressed": "#meta+suppressed",
    }
    for n in range(6):
        for part in ("code", "name"):
            tags[f"adm{n}_{part}"] = _adm_tag(n, part)
    return [tags.get(str(name), "") for name in columns]


def _adm_tag(level: int, part: str) -> str:
    return f"#country+{part}" if level == 0 else f"#adm{level}+{part}"


def _quoted_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _quoted_texts(series: pd.Series) -> Any:
    """The column's safe texts with quotes doubled; a categorical's once per category."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pd.Series(series.dtype.categories)
        texts = _column_texts(categories)
        if _is_text_column(series):
            texts = neutralise_formulas(texts)
        quoted = pc.replace_substring(texts, '"', '""')
        with_missing = pa.concat_arrays([quoted, pa.array([""], pa.large_string())])
        codes = series.cat.codes.to_numpy()
        return with_missing.take(np.where(codes < 0, len(categories), codes))
    return pc.replace_substring(_safe_texts(series), '"', '""')


def _safe_texts(series: pd.Series) -> Any:
    """The column's cells as CSV text (pyarrow large_string), neutralised if text."""
    texts = _column_texts(series)
    return neutralise_formulas(texts) if _is_text_column(series) else texts


def _column_texts(series: pd.Series) -> Any:
    """:func:`crisismap.escape.cell_text` of every cell, by dtype over the whole column."""
    import pyarrow as pa

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # each category's text once, then a take
        categories = _column_texts(pd.Series(dtype.categories))
        with_missing = pa.concat_arrays([categories, pa.array([""], pa.large_string())])
        codes = series.cat.codes.to_numpy()
        return with_missing.take(np.where(codes < 0, len(categories), codes))
    if pd.api.types.is_bool_dtype(dtype):
        flags = series.to_numpy(dtype=object, na_value=None)
        texts = np.where(pd.isna(series), "", np.where(flags == True, "True", "False"))  # noqa: E712
        return pa.array(texts, pa.large_string())
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(series, from_pandas=True).cast(pa.large_string()).fill_null("")
    if pd.api.types.is_float_dtype(dtype):
        return _float_texts(series.to_numpy(dtype=np.float64, na_value=np.nan))
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return _datetime_texts(series)
    if isinstance(dtype, pd.StringDtype) or (
        dtype == np.dtype(object)
        and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    ):
        return pa.array(series, type=pa.large_string(), from_pandas=True).fill_null("")
    return pa.array([cell_text(v) for v in series.tolist()], pa.large_string())


def _float_texts(values: np.ndarray) -> Any:
    """Missing is "", whole numbers without ".0", others as Python writes them (repr).

    pyarrow writes the same shortest round-trip digits as ``repr`` for 1e-4 <= |x| < 1e9
    (it turns to exponents earlier above); values outside that range go through repr.
    """
    import pyarrow as pa

    magnitude = np.abs(values)
    whole = np.isfinite(values) & (np.floor(values) == values) & (magnitude < 2.0**62)
    plain = ~whole & (magnitude >= 1e-4) & (magnitude < 1e9)
    texts = pa.array(values, mask=~plain).cast(pa.large_string()).fill_null("")
    rare = ~whole & ~plain & ~np.isnan(values)
    if not whole.any() and not rare.any():
        return texts
    out = texts.to_numpy(zero_copy_only=False)
    out[whole] = values[whole].astype(np.int64).astype(str)
    out[rare] = [cell_text(v) for v in values[rare].tolist()]
    return pa.array(out, pa.large_string())


def _datetime_texts(series: pd.Series) -> Any:
    """Dates at midnight as YYYY-MM-DD (missing as ""); any time of day: cell by cell."""
    import pyarrow as pa

    values = series.to_numpy()
    present = ~np.isnat(values)
    days = values.astype("datetime64[D]")
    if (values[present] != days[present]).any():
        return pa.array([cell_text(v) for v in series.tolist()], pa.large_string())
    return pa.array(days, mask=~present).cast(pa.large_string()).fill_null("")


def _string_bytes(rows: Any) -> memoryview:
    """The UTF-8 bytes of a large_string array's values, end to end (its data buffer)."""
    rows = rows.combine_chunks() if hasattr(rows, "combine_chunks") else rows
    _, offsets, data = rows.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return memoryview(data)[ends[0] : ends[-1]]


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


def to_xlsx_bytes(
    sheets: Mapping[str, pd.DataFrame],
    *,
    created: datetime | None = None,
    hxl: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """XLSX with one sheet per frame; strings are stored as strings, never formulas.

    ``created`` fixes the workbook's creation date (otherwise now), so that the same
    sheets give byte-identical files (report bundles are reproducible). ``hxl`` gives,
    per sheet title, an HXL hashtag row written under that sheet's header. Sheet names
    and crisismap's column headers are written in the user's language (a workbook is for
    people; the HXL row keeps the codes for machines).
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
            frame = bilingual.displayed(frame)  # as the user chose to see the labels
            sheet = book.add_worksheet(_sheet_title(sheet_name(title)))
            for col, name in enumerate(localized_columns(frame.columns)):
                sheet.write_string(0, col, name, header_format)
            tags = (hxl or {}).get(title)
            first = 1
            if tags:
                for col, tag in enumerate(tags):
                    sheet.write_string(1, col, tag)
                first = 2
            for col in range(frame.shape[1]):
                _write_column(sheet, col, frame.iloc[:, col], date_format, first=first)
            sheet.freeze_panes(first, 0)
    return buffer.getvalue()


EXCEL_EPOCH = np.datetime64("1899-12-30")  # serial 0 (serials after 1900-03-01 are exact)


def _write_column(
    sheet: Any, col: int, values: pd.Series, date_format: Any, *, first: int = 1
) -> None:
    """One column from row ``first`` down (1: under the header; 2: under an HXL row too),
    converted a column at a time (not a cell at a time).

    Missing values are left blank; numbers, booleans and dates are written as such, dates
    as Excel serial numbers with ``date_format`` (what ``write_datetime`` stores), the rest
    as strings (never formulas).
    """
    dtype = values.dtype
    missing = values.isna().to_numpy()
    rows = np.flatnonzero(~missing) + first
    if pd.api.types.is_bool_dtype(dtype):
        for row, value in zip(rows.tolist(), values[~missing].astype(bool).tolist(), strict=True):
            sheet.write_boolean(row, col, value)
    elif pd.api.types.is_numeric_dtype(dtype):
        numbers = values[~missing].to_numpy(dtype=float)
        for row, value in zip(rows.tolist(), numbers.tolist(), strict=True):
            sheet.write_number(row, col, value)
    elif pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is None:
        days = (values[~missing].to_numpy("datetime64[ns]") - EXCEL_EPOCH) / np.timedelta64(1, "D")
        if len(days) and days.min() < 61:  # before 1900-03-01: Excel's leap-year bug
            for row, value in zip(rows.tolist(), values[~missing].tolist(), strict=True):
                _write_cell(sheet, row, col, _xlsx_value(value), date_format)
            return
        for row, value in zip(rows.tolist(), days.tolist(), strict=True):
            sheet.write_number(row, col, value, date_format)
    elif pd.api.types.is_string_dtype(dtype) and all(
        isinstance(v, str) for v in values[~missing].tolist()
    ):
        for row, value in zip(rows.tolist(), values[~missing].tolist(), strict=True):
            sheet.write_string(row, col, value)
    else:
        for row, value in zip(rows.tolist(), values[~missing].tolist(), strict=True):
            _write_cell(sheet, row, col, _xlsx_value(value), date_format)


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
    regions = with_region_names(regions)  # names in the user's language where the set has them
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


def cells_geojson_bytes(
    regions: gpd.GeoDataFrame,
    cells: pd.DataFrame,
    *,
    level: int,
    members: Mapping[str, Any] | None = None,
) -> bytes:
    """GeoJSON with one feature per region × period (× category) cell of ``cells``.

    ``cells`` is a summary table (``region_code``, ``period``, ``category``, figures…) as
    computed or as published: figures are written as they are (a suppressed one stays
    ``null``). Cells without a region geometry (outside every region, not attributable)
    and plain zeros (no incident, nothing hidden) are left out, as in the workbook's Cells
    sheet; the CSV lists every cell. Properties follow crisismap's boundary layout
    (``code``, ``name``, ``parent_code``, ``country``, ``level``), so the file reads back
    through ``crisismap boundaries``; ``members`` are added to the collection.
    """
    if regions.crs is None or regions.crs.to_epsg() != 4326:
        raise ValueError(f"regions must be in EPSG:4326 for GeoJSON, got {regions.crs}")
    regions = with_region_names(regions)  # names in the user's language where the set has them
    cells = bilingual.displayed(cells)  # bilingual category labels as the user chose to see them
    kept = cells[cells["region_code"].isin(regions["code"])]
    hidden = kept["suppressed"].astype(bool) if "suppressed" in kept else False
    incidents = pd.to_numeric(kept["incidents"], errors="coerce")
    kept = kept[hidden | incidents.isna() | (incidents != 0)]
    shapes = pd.DataFrame(regions[["code", "name", *[c for c in ("country",) if c in regions]]])
    frame = shapes.merge(
        kept.drop(columns=["region_name"], errors="ignore"),
        how="inner",
        left_on="code",
        right_on="region_code",
    ).drop(columns=["region_code"])
    frame.insert(frame.columns.get_loc("name") + 1, "level", level)
    for name in frame.columns:
        if isinstance(frame[name].dtype, np.dtype) and frame[name].dtype.kind == "M":
            frame[name] = frame[name].dt.strftime("%Y-%m-%d")
    # Each region's shape repeats once per cell: written once per region as text, with 6
    # decimals (~0.1 m: exact enough for any boundary file, 40 % smaller than full digits).
    rounded = shapely.transform(regions.geometry.values, lambda xy: np.round(xy, 6))
    shape_text = dict(zip(regions["code"], shapely.to_geojson(rounded), strict=True))
    properties = json.loads(frame.to_json(orient="records", force_ascii=False))
    features = [
        '{"type": "Feature", "properties": '
        + json.dumps(props, ensure_ascii=False)
        + ', "geometry": '
        + shape_text[code]
        + "}"
        for code, props in zip(frame["code"], properties, strict=True)
    ]
    head = {**(members or {}), "type": "FeatureCollection"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [' + ", ".join(features)
    return (text + "]}").encode("utf-8")


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
    manifest["parameters"].update(bilingual.display().record())  # a display choice, if made
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
