"""The one read → map → validate recipe shared by the pipeline, the CLI and the dask engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crisismap.records.presets import detect_mapping
from crisismap.records.read import DEFAULT_MAX_BYTES, read_csv_bytes
from crisismap.records.validation import ValidationResult, validate
from crisismap.schema import DateOrder


def validate_bytes(
    data: bytes | Callable[[], bytes],
    *,
    filename: str = "incidents.csv",
    preset: str | None = None,
    overrides: Mapping[str, str] | None = None,
    date_order: DateOrder | str = DateOrder.AUTO,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    category_separator: str | None = None,
) -> ValidationResult:
    """Read CSV bytes, detect (or apply) the column mapping, validate every record.

    Every input record ends in ``result.records`` (accepted, possibly with warnings) or
    ``result.rejected`` with its reasons; the report counts both. ``category_separator``
    (``auto``, ``none``, ``;``, ``|``, ``,``) replaces the preset's multi-label choice.
    ``data`` may be a function returning the bytes: it is called to read them, and they
    are not held while the records are checked (the file's size again, on a large file).
    """
    raw = read_csv_bytes(
        data() if callable(data) else data,
        filename=filename,
        max_bytes=max_bytes,
        encoding=encoding,
    )
    mapping = detect_mapping(
        raw.header,
        raw.hxl_tags,
        preset=preset,
        overrides=overrides,
        category_separator=category_separator,
    )
    return validate(raw, mapping, date_order=DateOrder.parse(date_order))
