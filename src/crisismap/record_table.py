"""Every incident record with the regions it was joined to: the internal records export.

One row per record of the input files, in file order: every original column as the file
wrote it (text), then what crisismap made of the record (``record_id``, ``line``,
``status``, ``warnings`` and ``warning_codes``, ``reasons``) and the region it fell in at
every level
(``admN_code`` / ``admN_name`` / ``admN_match``). Where the file already has a column of
one of these names, crisismap's is written ``crisismap_<name>``.

It holds every raw value (names, descriptions, exact places), so it is internal only:
the CLI requires ``--internal`` and writes ``SENSITIVE_<OUT>`` readable by its owner only;
the dashboard offers it only for internal exports. The GeoPackage's layer is named
``SENSITIVE_records`` and the Parquet file's metadata carries the notice, so the label
travels with the data into QGIS.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crisismap import aggregate, pipeline
from crisismap.export import to_csv_bytes, with_bom
from crisismap.pipeline import Analysis
from crisismap.publish import SENSITIVE, SENSITIVE_NOTICE
from crisismap.records import read_csv_bytes
from crisismap.schema import View

FORMATS = ("csv", "gpkg", "parquet")
LAYER = "SENSITIVE_records"
STATUSES = ("accepted", "warned", "rejected")  # warned: accepted with warnings
_PREFIX = "crisismap_"


def record_table(
    analysis: Analysis,
    files: Sequence[tuple[str, bytes]],
    *,
    encoding: str | None = None,
    rows: np.ndarray | None = None,
    rejected: bool = True,
) -> pd.DataFrame:
    """Original columns, record id, line, status, warnings and regions, one row per record.

    Parameters
    ----------
    analysis
        The analysis of ``files`` (:func:`crisismap.pipeline.analyse_files`).
    files
        The same ``(name, bytes)`` the analysis read: the original columns are read
        again from them, as text.
    encoding
        The encoding the analysis was told to use, if any.
    rows
        Positions of accepted records to keep (a view's records); all when None.
    rejected
        Also list the rejected records (``status`` rejected, ``reasons`` why, no region).

    Returns
    -------
    pandas.DataFrame
        With ``lat`` / ``lon`` (the validated coordinates the join used) in ``attrs`` as
        ``points`` for the GeoPackage and Parquet writers, not as columns.
    """
    several = len(files) > 1
    originals = _originals(files, encoding)
    ours = _ours(analysis, files, rows=rows, rejected=rejected)
    original_columns = [c for c in originals.columns if c not in _KEYS]
    added = [c for c in ours.columns if c not in (*_KEYS, "lat", "lon")]
    if not several:
        added.remove("file")
    names = {c: _PREFIX + c if c in original_columns else c for c in ours.columns}
    names.update({k: k for k in _KEYS})
    table = ours.rename(columns=names).merge(originals, how="left", on=_KEYS, sort=False)
    out = table[[*original_columns, *[names[c] for c in added]]]
    out.attrs["points"] = table[[names["lon"], names["lat"]]].to_numpy(dtype=np.float64)
    out.attrs["ours"] = [names[c] for c in added]  # headers translated in CSV
    return out


_KEYS = ["_file_", "_line_"]  # how a record and its original columns meet (file, line)


def _originals(files: Sequence[tuple[str, bytes]], encoding: str | None) -> pd.DataFrame:
    """Each file's columns as text, keyed by file position and the record's line."""
    parts = []
    for position, (name, data) in enumerate(files):
        raw = read_csv_bytes(data, filename=name, encoding=encoding)
        frame = raw.frame.copy()
        frame.columns = list(raw.header)
        frame[_KEYS[0]] = position
        frame[_KEYS[1]] = raw.lines.astype(np.int64)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _ours(
    analysis: Analysis,
    files: Sequence[tuple[str, bytes]],
    *,
    rows: np.ndarray | None,
    rejected: bool,
) -> pd.DataFrame:
    """crisismap's columns: file, id, line, status, warnings, reasons, coordinates, regions."""
    records = analysis.records
    regions = [c for c in analysis.joined.columns if _REGION_COLUMN.match(c)]
    taken = [c for c in ("file", "id", "line", "warnings", "lat", "lon") if c in records]
    joined = pipeline.joined_in_language(analysis)  # region names in the user's language
    accepted = pd.concat([records[taken], joined[regions]], axis=1)
    if rows is not None:
        accepted = accepted.iloc[np.asarray(rows)]
    warned = accepted["warnings"].to_numpy() > 0
    accepted = accepted.assign(status=np.where(warned, "warned", "accepted"), reasons=None)
    parts = [accepted.rename(columns={"id": "record_id"})]
    if rejected and len(analysis.rejected):
        bad = analysis.rejected
        parts.append(
            pd.DataFrame(
                {
                    "file": bad["file"] if "file" in bad else files[0][0],
                    "line": bad["line"].astype(np.int64),
                    "status": "rejected",
                    "reasons": bad["reasons"],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    if "file" not in frame or frame["file"].isna().all():
        frame["file"] = files[0][0]
    frame["file"] = frame["file"].fillna(files[0][0])
    frame["warnings"] = frame["warnings"].astype("Int64")
    codes = _warning_codes(analysis, files[0][0])
    if codes is not None:
        keys = pd.Series(list(zip(frame["file"], frame["line"], strict=True)), index=frame.index)
        frame["warning_codes"] = keys.map(codes).where(frame["status"] == "warned")
    frame[_KEYS[0]] = frame["file"].map({name: i for i, (name, _) in enumerate(files)})
    frame[_KEYS[1]] = frame["line"]
    frame = frame.sort_values(_KEYS, kind="stable")
    columns = ["file", "record_id", "line", "status", "warnings", "warning_codes", "reasons"]
    columns = [c for c in columns if c in frame] + ["lat", "lon"]
    return frame[[*_KEYS, *columns, *regions]].reset_index(drop=True)


def _warning_codes(analysis: Analysis, first_file: str) -> dict[tuple[str, int], str] | None:
    """Each warned record's warning codes (``coords-low-precision; date-future``) by (file,
    line), from the validation report; None when the report kept only its first problems
    (the counts stay exact, the list does not)."""
    report = analysis.report
    if report.truncated:
        return None
    found: dict[tuple[str, int], list[str]] = {}
    for problem in report.problems:
        if problem.line is None or problem.severity.value != "warning":
            continue
        codes = found.setdefault((problem.file or first_file, int(problem.line)), [])
        if problem.code not in codes:
            codes.append(problem.code)
    return {key: "; ".join(codes) for key, codes in found.items()}


_REGION_COLUMN = re.compile(r"^adm\d_(code|name|match)$")


def view_rows(analysis: Analysis, view: View) -> np.ndarray:
    """Positions of the accepted records a view counts (its dates, categories, regions)."""
    levels = pipeline.summary_levels(analysis)
    return aggregate.select_rows(
        analysis.records, analysis.joined, levels, level=view.level, **view.filters()
    )


def records_bytes(table: pd.DataFrame, fmt: str, *, bom: bool = False) -> bytes:
    """The records table as ``csv`` (formulas neutralised), ``gpkg`` or ``parquet`` bytes.

    GeoPackage and Parquet hold points in EPSG:4326 (records without usable coordinates,
    the rejected ones, have no geometry); the CSV keeps the file's own coordinate columns.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt == "csv":
        # crisismap's columns in the user's language, the file's own as the file named them
        data = to_csv_bytes(table, localized=table.attrs.get("ours", ()))
        return with_bom(data) if bom else data
    if fmt not in FORMATS:
        raise ValueError(f"Unknown records format {fmt!r}: expected csv, gpkg or parquet.")
    frame = _points(table)
    buffer = io.BytesIO()
    if fmt == "gpkg":
        frame.to_file(buffer, driver="GPKG", layer=LAYER)
    else:
        frame.to_parquet(buffer, index=False)
        buffer = io.BytesIO(_labelled_parquet(buffer.getvalue()))
    return buffer.getvalue()


def _points(table: pd.DataFrame) -> Any:
    """The table as a GeoDataFrame of points (EPSG:4326); column names GDAL can take."""
    import geopandas as gpd

    xy = table.attrs.get("points")
    if xy is None:
        raise ValueError("The records table has no coordinates: make it with record_table.")
    frame = table.rename(columns=_writable_names(list(table.columns)))
    frame.attrs = {}  # the coordinates are the geometry now, not metadata
    # GeoPackage and Parquet keep the code column names in every language: programs (QGIS
    # expressions, scripts) address fields by name.
    known = ~np.isnan(xy).any(axis=1)
    geometry = gpd.GeoSeries.from_xy(xy[:, 0], xy[:, 1], crs="EPSG:4326")
    geometry[~known] = None
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geometry.values)


def _writable_names(columns: list[str]) -> dict[str, str]:
    """``fid`` and ``geometry`` are the GeoPackage's own: the file's columns of those names
    are written ``fid_original`` / ``geometry_original``."""
    taken = {c.lower() for c in columns}
    renamed = {}
    for column in columns:
        if column.lower() in ("fid", "geometry", "geom"):
            new = f"{column}_original"
            while new.lower() in taken:
                new += "_"
            renamed[column] = new
            taken.add(new.lower())
    return renamed


def _labelled_parquet(data: bytes) -> bytes:
    """The Parquet file with the SENSITIVE notice in its schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    metadata = dict(table.schema.metadata or {})
    metadata[b"crisismap_sensitivity"] = SENSITIVE.encode()
    metadata[b"crisismap_notice"] = SENSITIVE_NOTICE.encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()
