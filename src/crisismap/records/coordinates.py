"""Coordinates: decimal degrees in one vectorised pass, other notations (decimal comma,
degrees-minutes-seconds, hemisphere letters, one combined column) per distinct value.

Swapped latitude/longitude cannot be seen here: it takes the boundaries (the pipeline
checks it after the join).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap.errors import MappingError
from crisismap.i18n import N_, _
from crisismap.problems import (
    COORDS_DECIMAL_COMMA,
    COORDS_DMS,
    COORDS_HEMISPHERE,
    COORDS_INVALID,
    COORDS_LOW_PRECISION,
    COORDS_MISSING,
    COORDS_NOT_FINITE,
    COORDS_OUT_OF_RANGE,
    COORDS_ZERO,
    ProblemType,
    axis_name,
)
from crisismap.records.checks import Checks, unmapped
from crisismap.records.columns import arrow, has_any_byte, is_missing_token, plain_floats, strip


def check_coordinates(checks: Checks) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of every record in decimal degrees (NaN where rejected)."""
    comma_ok = checks.raw.delimiter != ","
    combined = checks.col("coords")
    if combined is not None:
        lat_text, lon_text = _split_combined(checks, combined)
        lat_col = lon_col = combined
    else:
        lat_col, lon_col = checks.col("lat"), checks.col("lon")
        if lat_col is None or lon_col is None:
            raise MappingError(unmapped("lat/lon", checks.raw.frame.columns))
        lat_text, lon_text = strip(checks.values(lat_col)), strip(checks.values(lon_col))
    lat = _AxisParser(lat_text, "lat", comma_ok).run()
    lon = _AxisParser(lon_text, "lon", comma_ok).run()
    if combined is not None:  # one column: report a missing pair once
        lon.masks[COORDS_MISSING.code] = np.zeros(checks.n, dtype=bool)
    for axis, column, values in ((lat, lat_col, lat_text), (lon, lon_col, lon_text)):
        for kind, mask in axis.issue_masks():
            checks.flag(mask, kind, column, values, extra=axis.detail, **axis.fields)
    both = lat.ok & lon.ok
    zero = (lat.value == 0) & (lon.value == 0)
    checks.flag(both & zero, COORDS_ZERO, lat_col, lambda: lat_text + ", " + lon_text)
    for axis, column, values in ((lat, lat_col, lat_text), (lon, lon_col, lon_text)):
        checks.flag(both & ~zero & (axis.decimals < 2), COORDS_LOW_PRECISION, column, values)
    ok = both & ~zero
    return np.where(ok, lat.value, np.nan), np.where(ok, lon.value, np.nan)


def _split_combined(checks: Checks, column: str) -> tuple[pd.Series, pd.Series]:
    text = strip(checks.values(column))
    arr = pa.array(text, type=pa.large_string(), from_pandas=True)
    lat = np.full(checks.n, None, dtype=object)
    lon = np.full(checks.n, None, dtype=object)
    for pattern, lat_group, lon_group in _COMBINED_PATTERNS:
        found = pc.extract_regex(arr, pattern)
        valid = found.is_valid().to_numpy(zero_copy_only=False) & (lat == None)  # noqa: E711
        if valid.any():
            lat[valid] = found.field(lat_group).to_numpy(zero_copy_only=False)[valid]
            lon[valid] = found.field(lon_group).to_numpy(zero_copy_only=False)[valid]
    unmatched = lat == None  # noqa: E711
    missing = is_missing_token(text) | text.str.fullmatch(r"(?i)POINT\s*EMPTY").to_numpy(dtype=bool)
    checks.flag(unmatched & ~missing, COORDS_INVALID, column, text, variant="pair")
    # rows left empty here are reported once, as missing, by the axis checks
    lat[unmatched & ~missing] = "\x00unreadable"
    lon[unmatched & ~missing] = "\x00unreadable"
    lat[unmatched & missing] = ""
    lon[unmatched & missing] = ""
    return pd.Series(lat, dtype="str"), pd.Series(lon, dtype="str")


_NUM = r"[+-]?\d+(?:\.\d+)?"
_COMBINED_PATTERNS = (
    (
        rf"(?i)^POINT\s*(?:Z|M|ZM)?\s*\(\s*(?P<x>{_NUM})\s+(?P<y>{_NUM})(?:\s+{_NUM}){{0,2}}\s*\)$",
        "y",
        "x",
    ),
    (rf"^\(?\s*(?P<a>{_NUM})\s*[,;]\s*(?P<b>{_NUM})\s*\)?$", "a", "b"),
    (rf"^(?P<a>{_NUM})\s+(?P<b>{_NUM})(?:\s+{_NUM}){{0,2}}$", "a", "b"),
)
_PLAIN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_HEMI_DECIMAL = re.compile(r"([NSEWnsew])?\s*([+-]?\d+(?:[.,]\d+)?)\s*°?\s*([NSEWnsew])?")
_DMS = re.compile(
    r"([NSEWnsew])?\s*(\d+(?:[.,]\d+)?)\s*(?:°|º|˚|d|deg|:|\s)\s*"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:'|′|’|m|min|:|\s)\s*)?"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|”|''|s|sec)?\s*)?([NSEWnsew])?"
)
_AXIS = {"lat": ("NS", 90.0, N_("latitude")), "lon": ("EW", 180.0, N_("longitude"))}
# parse outcomes of one coordinate by code ("" clean); those up to coords-hemisphere give
# a usable value; "unreadable" marks a pair the combined-column split already reported
_AXIS_CODES = (
    "", COORDS_DECIMAL_COMMA.code, COORDS_DMS.code, COORDS_HEMISPHERE.code, COORDS_MISSING.code,
    COORDS_INVALID.code, COORDS_NOT_FINITE.code, COORDS_OUT_OF_RANGE.code, "unreadable",
)  # fmt: skip
# the problems of one axis, in the order they are flagged
_AXIS_PROBLEMS = (
    COORDS_MISSING, COORDS_INVALID, COORDS_NOT_FINITE, COORDS_OUT_OF_RANGE,
    COORDS_DECIMAL_COMMA, COORDS_DMS, COORDS_HEMISPHERE,
)  # fmt: skip


@dataclass
class _AxisResult:
    value: np.ndarray
    ok: np.ndarray
    decimals: np.ndarray
    detail: np.ndarray
    masks: dict[str, np.ndarray]
    axis: str

    @property
    def fields(self) -> dict[str, Any]:
        """What the messages say about the axis: its name and range."""
        _letters, limit, word = _AXIS[self.axis]
        return {"axis_name": axis_name(word), "limit": limit}

    def issue_masks(self) -> list[tuple[ProblemType, np.ndarray]]:
        return [(kind, self.masks[kind.code]) for kind in _AXIS_PROBLEMS if kind.code in self.masks]


class _AxisParser:
    """Decimal degrees in one vectorised pass; other notations per distinct value."""

    def __init__(self, text: pd.Series, axis: str, decimal_comma_ok: bool) -> None:
        self.text = text
        self.axis = axis
        self.comma_ok = decimal_comma_ok

    def run(self) -> _AxisResult:
        n = len(self.text)
        arr = arrow(self.text)
        plain, value = _plain_decimals(arr)
        dot = pc.find_substring(arr, ".").to_numpy(zero_copy_only=False)
        # bytes = characters for plain values (ASCII); the others get their own decimals
        length = pc.binary_length(arr).to_numpy(zero_copy_only=False)
        decimals = np.where(dot >= 0, length - dot - 1, 0).astype(np.int64)
        detail = np.full(n, "", dtype=object)
        codes = np.zeros(n, dtype=np.int8)  # index into _AXIS_CODES; 0 = clean
        missing = is_missing_token(self.text, ~plain)
        codes[missing] = _AXIS_CODES.index(COORDS_MISSING.code)
        rest = np.flatnonzero(~plain & ~missing)
        if len(rest):
            sub_codes, uniques = pd.factorize(self.text.iloc[rest])
            parsed = [_parse_coordinate(str(u), self.axis, self.comma_ok) for u in uniques]
            for k, j in enumerate(rest):
                v, code, dec, extra = parsed[sub_codes[k]]
                value[j], decimals[j], detail[j] = v, dec, extra
                codes[j] = _AXIS_CODES.index(code)
        _letters, limit, _word = _AXIS[self.axis]
        finite = np.isfinite(value)
        parsed_ok = codes <= _AXIS_CODES.index(COORDS_HEMISPHERE.code)
        not_finite = parsed_ok & ~finite & ~missing
        out_of_range = parsed_ok & finite & (np.abs(value) > limit)
        codes[not_finite] = _AXIS_CODES.index(COORDS_NOT_FINITE.code)
        codes[out_of_range] = _AXIS_CODES.index(COORDS_OUT_OF_RANGE.code)
        masks = {code: codes == k for k, code in enumerate(_AXIS_CODES) if k}
        ok = parsed_ok & ~not_finite & ~out_of_range
        return _AxisResult(value, ok, decimals, detail, masks, self.axis)


def _plain_decimals(arr: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which values are plain decimals (``_PLAIN``) and their floats (NaN elsewhere).

    A column Arrow casts whole (the usual clean file) needs no regex: among castable
    strings, the plain ones are exactly the finite ones written without an exponent.
    Any other column is matched with the regex.
    """
    try:
        value = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        plain = pc.match_substring_regex(arr, _PLAIN).to_numpy(zero_copy_only=False)
        return plain, plain_floats(arr, plain)
    plain = np.isfinite(value)
    if has_any_byte(arr, b"eE"):  # exponent notation somewhere: find which values
        for letter in "eE":
            plain &= ~pc.match_substring(arr, letter).to_numpy(zero_copy_only=False).astype(bool)
    return plain, np.where(plain, value, np.nan)


def _not_a_hemisphere(letter: str, axis: str) -> str:
    if axis == "lat":
        said = _("hemisphere {letter} is not a latitude letter")
    else:
        said = _("hemisphere {letter} is not a longitude letter")
    return " (" + said.format(letter=letter) + ")"


def _parse_coordinate(text: str, axis: str, comma_ok: bool) -> tuple[float, str, int, str]:
    """(value, code, decimals, detail) for a non-plain coordinate; code "" = clean."""
    letters, _limit, _word = _AXIS[axis]
    bad = (np.nan, COORDS_INVALID.code, 0, "")
    if text.startswith("\x00"):  # marked unreadable by the combined-column split
        return np.nan, "unreadable", 0, ""
    lowered = text.lower()
    if lowered in {"inf", "+inf", "-inf", "infinity", "-infinity", "nan"}:
        return float(lowered.replace("infinity", "inf")), "", 0, ""
    try:
        value = float(text)  # exponent notation and the like
        return value, "", 6, ""
    except ValueError:
        pass
    if _DECIMAL_COMMA.fullmatch(text):
        if not comma_ok:
            return (
                np.nan,
                COORDS_INVALID.code,
                0,
                " ("
                + _("a decimal comma cannot be told from the delimiter in a comma-delimited file")
                + ")",
            )
        value = float(text.replace(",", "."))
        return value, COORDS_DECIMAL_COMMA.code, len(text.split(",")[1]), f"{value:g}"
    if m := _HEMI_DECIMAL.fullmatch(text):
        pre, number, post = m[1], m[2], m[3]
        if bool(pre) != bool(post) and (pre or post):
            letter = (pre or post).upper()
            if letter not in letters or number.startswith(("-", "+")):
                return np.nan, COORDS_INVALID.code, 0, _not_a_hemisphere(letter, axis)
            if "," in number and not comma_ok:
                return bad
            value = float(number.replace(",", "."))
            value = -value if letter in "SW" else value
            decimals = len(re.split(r"[.,]", number)[1]) if re.search(r"[.,]", number) else 0
            return value, COORDS_HEMISPHERE.code, decimals, f"{value:g}"
    marked = re.search("[°º˚'′’\"″”]", text)
    if (m := _DMS.fullmatch(text)) and (marked or m[1] or m[5]):
        pre, post = m[1], m[5]
        if pre and post:
            return bad
        letter = (pre or post or "").upper()
        if letter and letter not in letters:
            return np.nan, COORDS_INVALID.code, 0, _not_a_hemisphere(letter, axis)
        deg = float(m[2].replace(",", "."))
        minutes = float(m[3].replace(",", ".")) if m[3] else 0.0
        seconds = float(m[4].replace(",", ".")) if m[4] else 0.0
        if minutes >= 60 or seconds >= 60:
            return bad
        value = deg + minutes / 60 + seconds / 3600
        value = -value if letter in ("S", "W") else value
        decimals = 4 if m[4] else (2 if m[3] else 0)
        return round(value, 6), COORDS_DMS.code, decimals, f"{value:.6f}"
    return bad
