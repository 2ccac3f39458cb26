"""Turn text columns into typed incident records; every record is accepted or rejected with reasons.

Rules, in the order a record meets them (codes in brackets; E = rejects, W = kept, flagged):

- **id**: from the file, else ``gen-`` + the first 16 hex digits of the SHA-1 of the
  record's fields, so re-runs give the same ids. Empty id [id-missing W], repeated id
  [id-duplicate W].
- **dates**: ISO dates and datetimes (time and zone ignored: the date as written),
  ``15 March 2024``, ``March 15, 2024``, ``15-Mar-24``, numeric ``D/M/Y`` or ``M/D/Y``
  (``/ . -``), Excel serial numbers 18264–73415 (1950–2100) [date-excel-serial W],
  partial dates ``2024-03`` / ``March 2024`` (precision month) and ``2024`` (year) with
  ``date_end`` at the end of the period. A ``date_start``/``date_end`` range keeps the
  coarser precision of its ends (``day`` for two full dates): a record belongs to a
  period exactly when ``date`` and ``date_end`` fall in the same one.
  Day-first vs month-first is decided for the whole file, never row by row: a first
  part > 12 anywhere means day-first, a second part > 12 month-first; with neither,
  day-first is assumed and every date that would read differently the other way is
  flagged [date-ambiguous W]; with both, the dates that read both ways are rejected
  [date-order-conflict E] and the others flagged [date-order-mixed W]. An explicit
  ``date_order`` always wins. Missing [date-missing E], unreadable [date-invalid E],
  not on the calendar [date-impossible E], end before start [date-range-reversed E],
  after ``today`` [date-future W], two-digit year [date-two-digit-year W].
- **coordinates**: decimal degrees; decimal comma when the delimiter is not a comma
  [coords-decimal-comma W]; degrees-minutes-seconds [coords-dms W]; hemisphere letters
  [coords-hemisphere W]; missing [coords-missing E], unreadable [coords-invalid E],
  infinite/NaN [coords-not-finite E], out of range [coords-out-of-range E], exactly
  (0, 0) [coords-zero E], fewer than 2 decimals [coords-low-precision W]. Swapped
  lat/lon can only be seen against boundaries: the join step checks it.
- **category**: labels split on the mapping's separator (detected ``;`` then ``|`` then
  ``,`` when "auto"), trimmed, de-duplicated, joined with ``CATEGORY_SEPARATOR``; none
  [category-missing W] (kept, with category ""); unknown coded value [category-unknown-code W].
- **victims**: non-negative integers; ``""``, ``NA``, ``unknown`` … are NaN silently;
  negative [victims-negative W], fractional [victims-not-integer W], text
  [victims-invalid W] are NaN, flagged.
- **max_level** from ``location_precision`` (see :class:`crisismap.presets.PrecisionScheme`):
  UCDP where_prec 1–2 → NA (any level), 3 → 2, 4 → 1, 5–6 → 0, 7 → -1; ACLED
  geo_precision 1–2 → NA, 3 → 1. Unknown value [precision-invalid W] → NA.
- stated admin names and codes are kept as text in ``stated_adm{N}_name`` / ``_code``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap.errors import MappingError
from crisismap.problems import DEFAULT_PROBLEM_LIMIT, Problem, Report
from crisismap.schema import (
    CATEGORY_SEPARATOR,
    RECORD_COLUMNS,
    DateOrder,
    DatePrecision,
    Severity,
    stated_code_column,
    stated_name_column,
)

if TYPE_CHECKING:
    from crisismap.records.presets import ColumnMapping
    from crisismap.records.read import RawTable

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "null", "none", "unknown", "unk", "-", "--", "?", "nd"}
)
EXCEL_SERIAL_RANGE = (18264, 73415)  # 1950-01-01 … 2100-12-31
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_E, _W = Severity.ERROR, Severity.WARNING
_META_COLUMNS = ("line", "raw_text", "reasons")
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"
# Tables at least this long are checked on two threads (below, threads cost more than they save).
_PARALLEL_MIN_ROWS = 50_000
_CHECK_THREADS = 2


@dataclass
class ValidationResult:
    """Accepted records (``RECORD_COLUMNS`` + stated admin columns), rejected rows, report."""

    records: pd.DataFrame
    rejected: pd.DataFrame
    report: Report


def validate(
    raw: RawTable,
    mapping: ColumnMapping,
    *,
    date_order: DateOrder | str = DateOrder.AUTO,
    today: dt.date | None = None,
    problem_limit: int = DEFAULT_PROBLEM_LIMIT,
) -> ValidationResult:
    """Type and check every record of ``raw`` read through ``mapping``.

    Parameters
    ----------
    raw
        Output of :func:`crisismap.ingest.read_csv_bytes` (duck-typed: ``frame``,
        ``lines``, ``rejected``, ``problems``, ``notes``, ``encoding``, ``delimiter``).
    mapping
        Output of :func:`crisismap.presets.detect_mapping`.
    date_order
        ``auto`` decides day-first vs month-first from the whole date column.
    today
        Dates after it are flagged as future (default: the local date).
    problem_limit
        Problems kept in the report's list; counts stay exact beyond it.

    Returns
    -------
    ValidationResult
        ``report.accepted + report.rejected == report.records``.
    """
    checks = _Checks(raw, mapping, today or dt.date.today())
    order = DateOrder.parse(date_order)
    ids, dates, (lat, lon), category, subcategory, victims, description, source, level, stated = (
        checks.run_all(
            _Checks.ids,
            lambda c: c.dates(order),
            _Checks.coordinates,
            _Checks.categories,
            lambda c: c.text("subcategory"),
            _Checks.victims,
            lambda c: c.text("description"),
            lambda c: c.text("source"),
            _Checks.max_level,
            _Checks.stated,
        )
    )
    columns: dict[str, Any] = {
        "id": ids,
        "line": raw.lines.astype(np.int64),
        **dates,
        "lat": lat,
        "lon": lon,
        "category": category,
        "subcategory": subcategory,
        "victims": victims,
        "description": description,
        "source": source,
        "max_level": level,
        **stated,
    }
    return checks.finish(columns, ids, problem_limit)


# --- problem bookkeeping --------------------------------------------------------------------


@dataclass
class _Issue:
    """One check's findings: the same code for many rows, messages rendered lazily."""

    rows: np.ndarray
    code: str
    severity: Severity
    column: str | None
    template: str
    values: np.ndarray
    extra: np.ndarray | None = None

    def message(self, k: int) -> str:
        extra = self.extra[k] if self.extra is not None else ""
        return self.template.format(value=self.values[k], extra=extra)


def _take(values: Any, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` as an object array, without converting the whole column.

    ``values`` may be a function returning the column: it is called only when needed.
    """
    if callable(values):
        values = values()
    if isinstance(values, pd.Series) and isinstance(values.array, pd.arrays.ArrowStringArray):
        return _take_chunked(values.array.__arrow_array__(), rows)
    if isinstance(values, pd.Series):
        return values.iloc[rows].to_numpy(dtype=object)
    return np.asarray(values)[rows].astype(object)


def _take_chunked(array: pa.ChunkedArray, rows: np.ndarray) -> np.ndarray:
    """A few rows of a many-chunk Arrow column (``take`` would first join every chunk)."""
    out = np.empty(len(rows), dtype=object)
    ends = np.cumsum([len(chunk) for chunk in array.chunks])
    which = np.searchsorted(ends, rows, side="right")
    for k in np.unique(which):
        at = np.flatnonzero(which == k)
        local = rows[at] - (ends[k] - len(array.chunks[k]))
        taken = array.chunks[k].take(pa.array(local)).to_numpy(zero_copy_only=False)
        out[at] = [None if v is None else v for v in taken]
    return out


def _strip(series: pd.Series) -> pd.Series:
    """Values without surrounding whitespace; the column itself when none has any."""
    if isinstance(series.array, pd.arrays.ArrowStringArray) and not _may_need_strip(
        series.array.__arrow_array__()
    ):
        return series
    return series.str.strip()


# First or last bytes that may belong to whitespace: ASCII spaces and separators, and
# any non-ASCII byte (Unicode spaces such as U+00A0 and U+3000 are multi-byte).
_MAYBE_SPACE = np.zeros(256, dtype=bool)
_MAYBE_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_MAYBE_SPACE[128:] = True


def _may_need_strip(arr: pa.ChunkedArray | pa.Array) -> bool:
    """Whether some value may start or end with whitespace (looking at two bytes each)."""
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if len(chunk) == 0:
            continue
        if chunk.type != pa.large_string():
            return True  # not worth special-casing: let pandas decide
        _, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        if data_buf is None:
            continue
        data = np.frombuffer(data_buf, np.uint8)
        starts, stops = offsets[:-1], offsets[1:]
        filled = stops > starts
        if _MAYBE_SPACE[data[starts[filled]]].any() or _MAYBE_SPACE[data[stops[filled] - 1]].any():
            return True
    return False


def _arrow(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The Arrow strings behind a text column (no copy when it is Arrow-backed)."""
    if isinstance(series.array, pd.arrays.ArrowStringArray):
        return series.array.__arrow_array__()
    return pa.array(series, type=pa.large_string(), from_pandas=True)


def _is_missing_token(series: pd.Series, where: np.ndarray | None = None) -> np.ndarray:
    """Missing-value words (NA, unknown, -, ...); only rows in ``where`` are looked at."""
    if where is None:
        return series.str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    found = np.zeros(len(series), dtype=bool)
    rows = np.flatnonzero(where)
    if len(rows):
        found[rows] = series.iloc[rows].str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    return found


def _blank(series: pd.Series) -> np.ndarray:
    """Values that are empty once stripped, without building the stripped strings."""
    arr = _arrow(series)
    blank = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))
    return blank.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _text_take(labels: Sequence[str], codes: np.ndarray) -> pd.Series:
    """``labels[codes]`` as a text column, taken in Arrow (no million Python strings)."""
    taken = pc.take(pa.array(list(labels), type=pa.large_string()), pa.array(codes))
    return pd.Series(pd.array(taken, dtype=_TEXT))


@dataclass
class _Checks:
    raw: Any
    mapping: Any
    today: dt.date
    issues: list[_Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date_order_used: str | None = None

    @property
    def n(self) -> int:
        return len(self.raw.frame)

    def run_all(self, *steps: Callable[[_Checks], Any]) -> list[Any]:
        """Run independent checks, two at a time on large tables, as if one after another.

        Each check gets its own problem and note lists, merged back in the order the
        checks are given, so the report is the same whatever finishes first. Most of the
        work is in Arrow kernels, which release the GIL: two cores check in parallel.
        """
        parts = [replace(self, issues=[], notes=[]) for _ in steps]
        if self.n < _PARALLEL_MIN_ROWS:
            results = [step(part) for step, part in zip(steps, parts, strict=True)]
        else:
            with ThreadPoolExecutor(_CHECK_THREADS) as pool:
                futures = [pool.submit(step, p) for step, p in zip(steps, parts, strict=True)]
                results = [f.result() for f in futures]  # the first failing check raises
        for part in parts:
            self.issues.extend(part.issues)
            self.notes.extend(part.notes)
            self.date_order_used = part.date_order_used or self.date_order_used
        return results

    def col(self, name: str) -> str | None:
        column = self.mapping.column(name)
        return column if column in self.raw.frame.columns else None

    def values(self, column: str) -> pd.Series:
        return self.raw.frame[column]

    def flag(
        self,
        mask: np.ndarray,
        code: str,
        severity: Severity,
        column: str | None,
        template: str,
        values: pd.Series | np.ndarray,
        extra: np.ndarray | None = None,
    ) -> None:
        """Record ``code`` for every row where ``mask`` is true."""
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        self.issues.append(
            _Issue(
                rows=rows,
                code=code,
                severity=severity,
                column=column,
                template=template,
                values=_take(values, rows),
                extra=None if extra is None else _take(extra, rows),
            )
        )

    # -- ids --

    def ids(self) -> pd.Series:
        column = self.col("id")
        frame = self.raw.frame
        if column is None:
            self.notes.append(
                "No id column: ids were generated as 'gen-' + a hash of each record's fields "
                "(the same record always gets the same id)."
            )
            ids = pd.Series(_content_ids(frame, np.arange(self.n)), dtype="str")
        else:
            ids = _strip(frame[column])
            empty = (ids == "").to_numpy(dtype=bool)
            if empty.any():
                filled = ids.to_numpy(dtype=object)
                filled[empty] = _content_ids(frame, np.flatnonzero(empty))
                ids = pd.Series(filled, dtype="str")
                self.flag(
                    empty,
                    "id-missing",
                    _W,
                    column,
                    "The record has no id; it was given the generated id {extra} (a hash of "
                    "its fields). Give every record an id so that it can be traced.",
                    frame[column],
                    extra=ids,
                )
        self._duplicate_ids(ids, column)
        return ids

    def _duplicate_ids(self, ids: pd.Series, column: str | None) -> None:
        series = ids
        if _strictly_monotonic(series):
            return  # sorted ids (a common export order) cannot repeat
        dup = series.duplicated(keep="first").to_numpy()
        if not dup.any():
            return
        first_line = pd.Series(self.raw.lines).groupby(series).transform("first").to_numpy()
        self.flag(
            dup,
            "id-duplicate",
            _W,
            column,
            "Id {value!r} was already used by the record on line {extra}"
            + (
                ": ids should be unique; check for a duplicated record."
                if column
                else " (same content): this looks like a duplicated record."
            ),
            ids,
            extra=first_line,
        )

    # -- dates --

    def dates(self, order: DateOrder) -> dict[str, Any]:
        single, start_col, end_col = self.col("date"), self.col("date_start"), self.col("date_end")
        start_col = single or start_col
        end_col = None if single else end_col
        if start_col is None:
            raise MappingError(_unmapped("date", self.raw.frame.columns))
        parts = [self.values(start_col)] + ([self.values(end_col)] if end_col else [])
        lines = np.concatenate([self.raw.lines] * len(parts))
        text = pd.concat(parts, ignore_index=True)
        parsed = _DateParser(text, lines, order, self.today).run()
        self.date_order_used = parsed.order_label
        self.notes.extend(parsed.notes)
        n = self.n
        start = parsed.slice(0, n)
        self._date_issues(start, start_col, self.values(start_col))
        begin, end, precision = start.start, start.end, start.precision
        if end_col is not None:
            stop = parsed.slice(n, 2 * n)
            given = ~stop.missing
            stop.missing[:] = False  # an empty end date means "same as the start"
            self._date_issues(stop, end_col, self.values(end_col))
            usable = given & ~stop.failed & ~start.failed
            end = np.where(usable, stop.end, end)
            # a range is as precise as its coarser end
            precision = np.where(usable, np.maximum(precision, stop.precision), precision)
            reversed_ = usable & (stop.end < begin)
            self.flag(
                reversed_,
                "date-range-reversed",
                _E,
                end_col,
                "The end date {value!r} is before the start date {extra}: fix or swap them.",
                self.values(end_col),
                extra=self.values(start_col),
            )
        future = ~start.failed & (begin > np.datetime64(self.today, "D"))
        self.flag(
            future,
            "date-future",
            _W,
            start_col,
            "The date {value!r} is in the future (after {extra}): check the year.",
            self.values(start_col),
            extra=np.broadcast_to(np.array(self.today.isoformat(), dtype=object), (n,)),
        )
        return {
            "date": pd.Series(begin.astype("datetime64[ns]")),
            "date_end": pd.Series(end.astype("datetime64[ns]")),
            "date_precision": _text_take(
                [p.value for p in _PRECISIONS], np.maximum(precision, 0).astype(np.int64)
            ),
        }

    def _date_issues(self, parsed: _DateSlice, column: str, values: pd.Series) -> None:
        for code, severity, mask, template in parsed.issue_masks():
            self.flag(mask, code, severity, column, template, values, extra=parsed.detail)

    # -- coordinates --

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        comma_ok = self.raw.delimiter != ","
        combined = self.col("coords")
        if combined is not None:
            lat_text, lon_text = self._split_combined(combined)
            lat_col = lon_col = combined
        else:
            lat_col, lon_col = self.col("lat"), self.col("lon")
            if lat_col is None or lon_col is None:
                raise MappingError(_unmapped("lat/lon", self.raw.frame.columns))
            lat_text, lon_text = _strip(self.values(lat_col)), _strip(self.values(lon_col))
        lat = _AxisParser(lat_text, "lat", comma_ok).run()
        lon = _AxisParser(lon_text, "lon", comma_ok).run()
        if combined is not None:  # one column: report a missing pair once
            lon.masks["coords-missing"] = np.zeros(self.n, dtype=bool)
        for axis, column, values in ((lat, lat_col, lat_text), (lon, lon_col, lon_text)):
            for code, severity, mask, template in axis.issue_masks():
                self.flag(mask, code, severity, column, template, values, extra=axis.detail)
        both = lat.ok & lon.ok
        zero = (lat.value == 0) & (lon.value == 0)
        self.flag(
            both & zero,
            "coords-zero",
            _E,
            lat_col,
            "Coordinates (0, 0) are in the Gulf of Guinea and almost always stand for a "
            "missing location: give the real coordinates or leave them empty.",
            lambda: lat_text + ", " + lon_text,
        )
        for axis, column, values in ((lat, lat_col, lat_text), (lon, lon_col, lon_text)):
            self.flag(
                both & ~zero & (axis.decimals < 2),
                "coords-low-precision",
                _W,
                column,
                "{value!r} has fewer than 2 decimals (about 1 km or worse): the point may "
                "fall in the wrong district. Give more precise coordinates if you have them.",
                values,
            )
        ok = both & ~zero
        return np.where(ok, lat.value, np.nan), np.where(ok, lon.value, np.nan)

    def _split_combined(self, column: str) -> tuple[pd.Series, pd.Series]:
        text = _strip(self.values(column))
        arr = pa.array(text, type=pa.large_string(), from_pandas=True)
        lat = np.full(self.n, None, dtype=object)
        lon = np.full(self.n, None, dtype=object)
        for pattern, lat_group, lon_group in _COMBINED_PATTERNS:
            found = pc.extract_regex(arr, pattern)
            valid = found.is_valid().to_numpy(zero_copy_only=False) & (lat == None)  # noqa: E711
            if valid.any():
                lat[valid] = found.field(lat_group).to_numpy(zero_copy_only=False)[valid]
                lon[valid] = found.field(lon_group).to_numpy(zero_copy_only=False)[valid]
        unmatched = lat == None  # noqa: E711
        missing = _is_missing_token(text) | text.str.fullmatch(r"(?i)POINT\s*EMPTY").to_numpy(
            dtype=bool
        )
        self.flag(
            unmatched & ~missing,
            "coords-invalid",
            _E,
            column,
            "{value!r} is not a coordinate pair this tool can read: expected 'lat, lon' "
            "(e.g. '48.5, 37.2'), 'lat lon [altitude accuracy]' (Kobo geopoint) or WKT "
            "'POINT (lon lat)'.",
            text,
        )
        # rows left empty here are reported once, as missing, by the axis checks
        lat[unmatched & ~missing] = "\x00unreadable"
        lon[unmatched & ~missing] = "\x00unreadable"
        lat[unmatched & missing] = ""
        lon[unmatched & missing] = ""
        return pd.Series(lat, dtype="str"), pd.Series(lon, dtype="str")

    # -- other fields --

    def categories(self) -> pd.Series:
        column = self.col("category")
        if column is None:
            self.notes.append("No category column: every record has category ''.")
            return pd.Series([""] * self.n, dtype="str")
        text = _strip(self.values(column))
        codes, uniques = pd.factorize(text)
        uniques = [str(u) for u in uniques]
        separator = self._category_separator(uniques)
        labels = self.mapping.category_labels or {}
        joined, unknown = [], []
        for value in uniques:
            parts = value.split(separator) if separator else [value]
            seen: dict[str, None] = {}
            bad = False
            for part in (p.strip() for p in parts):
                if not part:
                    continue
                if labels:
                    bad |= part not in labels
                    part = labels.get(part, part)
                seen.setdefault(part, None)
            joined.append(CATEGORY_SEPARATOR.join(seen))
            unknown.append(bad)
        empty = np.array([j == "" for j in joined] + [True], dtype=bool)[codes]
        self.flag(
            empty,
            "category-missing",
            _W,
            column,
            "The record has no category: it is kept with category '' and counted under no "
            "category. Add the violation type if it is known.",
            text,
        )
        if labels:
            allowed = ", ".join(f"{k} ({v})" for k, v in labels.items())
            self.flag(
                np.array(unknown + [False], dtype=bool)[codes] & ~empty,
                "category-unknown-code",
                _W,
                column,
                "{value!r} is not a known code for this column (expected " + allowed + "); "
                "it was kept as written.",
                text,
            )
        return _text_take(joined + [""], np.where(codes < 0, len(joined), codes))

    def _category_separator(self, uniques: Sequence[str]) -> str | None:
        separator = self.mapping.category_separator
        if separator != "auto":
            return separator
        for candidate in (";", "|", ","):
            if any(candidate in u for u in uniques):
                self.notes.append(f"Category labels were split on {candidate!r}.")
                return candidate
        if self.mapping.category_split_on_space and any(" " in u for u in uniques):
            if all(re.fullmatch(r"[a-z0-9_]+( [a-z0-9_]+)*", u) for u in uniques if u):
                self.notes.append("Category values are Kobo choice names: split on spaces.")
                return " "
        return None

    def text(self, name: str) -> pd.Series:
        column = self.col(name)
        if column is None:
            return pd.Series(pd.array(pa.nulls(self.n, pa.large_string()), dtype=_TEXT))
        values = self.values(column)
        blank = _blank(values)
        return values.where(~blank) if blank.any() else values

    def victims(self) -> np.ndarray:
        column = self.col("victims")
        if column is None:
            return np.full(self.n, np.nan)
        text = _strip(self.values(column))
        arr = _arrow(text)
        plain = _plain_counts(arr)
        number = _plain_floats(arr, plain)
        other = ~plain & ~_is_missing_token(text, ~plain)
        hints = {
            "victims-negative": "is negative",
            "victims-not-integer": "is not a whole number",
            "victims-invalid": "is not a number",
        }
        kind = np.full(self.n, -1, dtype=np.int8)  # index into hints
        codes = list(hints)
        for j in np.flatnonzero(other):
            kind[j] = codes.index(_victims_problem(text.iat[j]))
        for k, (code, what) in enumerate(hints.items()):
            self.flag(
                kind == k,
                code,
                _W,
                column,
                "The victim count {value!r} " + what + ": it was set to unknown. Use a whole "
                "number of people, or leave it empty when unknown.",
                text,
            )
        return number

    def max_level(self) -> pd.Series:
        column = self.col("location_precision")
        scheme = self.mapping.precision_scheme
        result = pd.Series(
            pd.arrays.IntegerArray(np.zeros(self.n, np.int64), np.ones(self.n, dtype=bool))
        )
        if column is None or scheme is None:
            return result
        text = _strip(self.values(column))
        codes, uniques = pd.factorize(text)
        levels, bad = [], []
        for value in uniques:
            level, ok = _precision_level(str(value), str(scheme))
            levels.append(level)
            bad.append(not ok)
        levels_arr = pd.array(levels + [pd.NA], dtype="Int64")
        result = pd.Series(levels_arr[codes])
        allowed = _PRECISION_HELP[str(scheme)]
        self.flag(
            np.array(bad + [False], dtype=bool)[codes],
            "precision-invalid",
            _W,
            column,
            "{value!r} is not a "
            + str(scheme)
            + " location precision (expected "
            + allowed
            + "): the record is attributed at every admin level, as if precise.",
            text,
        )
        return result

    def stated(self) -> dict[str, pd.Series]:
        out: dict[str, pd.Series] = {}
        for level in range(5):
            for kind, name_of in (("name", stated_name_column), ("code", stated_code_column)):
                column = self.col(f"adm{level}_{kind}")
                if column is None:
                    continue
                values = _strip(self.values(column))
                out[name_of(level)] = values.where(values != "")
        return out

    # -- assembly --

    def finish(self, columns: dict[str, Any], ids: pd.Series, limit: int) -> ValidationResult:
        n = self.n
        errors = np.zeros(n, dtype=bool)
        warn_rows = [i.rows for i in self.issues if i.severity == _W]
        for issue in self.issues:
            if issue.severity == _E:
                errors[issue.rows] = True
        warnings = np.bincount(
            np.concatenate(warn_rows) if warn_rows else np.array([], np.int64), minlength=n
        )
        columns = {**columns, "warnings": warnings.astype(np.int64)}
        ordered = list(RECORD_COLUMNS) + [c for c in columns if c not in RECORD_COLUMNS]
        frame = pd.DataFrame({k: _as_series(columns[k]) for k in ordered}, copy=False)
        accepted = ~errors
        # nothing rejected (the usual case): no copy of every column
        records = frame if accepted.all() else frame.loc[accepted].reset_index(drop=True)
        report = self._report(accepted, warnings, ids, limit)
        rejected = self._rejected(errors)
        return ValidationResult(records=records, rejected=rejected, report=report)

    def _report(
        self, accepted: np.ndarray, warnings: np.ndarray, ids: pd.Series, limit: int
    ) -> Report:
        raw = self.raw
        report = Report(
            preset=self.mapping.label,
            mapping=self.mapping.describe(),
            encoding=raw.encoding,
            delimiter=raw.delimiter,
            date_order=self.date_order_used,
            limit=limit,
            notes=list(raw.notes) + self.notes,
        )
        report.records = raw.n_records
        report.rejected = int((~accepted).sum()) + len(raw.rejected)
        report.accepted = int(accepted.sum())
        report.warned = int((accepted & (warnings > 0)).sum())
        for problem in raw.problems:
            report.add(problem)
        for issue in self.issues:
            report.counts[(issue.code, issue.severity.value)] += len(issue.rows)
        for rej in raw.rejected:
            report.counts[(rej.problem.code, rej.problem.severity.value)] += 1
        room = max(0, limit - len(report.problems))
        report.problems.extend(self._first_problems(room, ids))
        return report

    def _first_problems(self, room: int, ids: pd.Series) -> list[Problem]:
        """The ``room`` first problems by line (then check order), rendered."""
        if room == 0:
            return []
        lines = np.asarray(self.raw.lines, dtype=np.int64)
        keys_line, keys_seq, keys_pos = [], [], []
        for seq, issue in enumerate(self.issues):
            keys_line.append(lines[issue.rows])
            keys_seq.append(np.full(len(issue.rows), seq + 1))
            keys_pos.append(np.arange(len(issue.rows)))
        parse = self.raw.rejected
        keys_line.append(np.array([r.line for r in parse], dtype=np.int64))
        keys_seq.append(np.zeros(len(parse), dtype=np.int64))
        keys_pos.append(np.arange(len(parse)))
        line_k, seq_k, pos_k = (np.concatenate(k) for k in (keys_line, keys_seq, keys_pos))
        order = np.lexsort((seq_k, line_k))[:room]
        problems = []
        for k in order:
            seq, pos = int(seq_k[k]), int(pos_k[k])
            if seq == 0:
                problems.append(parse[pos].problem)
                continue
            issue = self.issues[seq - 1]
            row = int(issue.rows[pos])
            problems.append(
                Problem(
                    code=issue.code,
                    severity=issue.severity,
                    message=issue.message(pos),
                    line=int(lines[row]),
                    column=issue.column,
                    value=_value_text(issue.values[pos]),
                    record_id=str(ids.iat[row]),
                )
            )
        return problems

    def _rejected(self, errors: np.ndarray) -> pd.DataFrame:
        """One row per rejected record: line, the raw fields, raw text, reasons."""
        raw = self.raw
        reasons: dict[int, list[str]] = defaultdict(list)
        for issue in self.issues:
            if issue.severity != _E:
                continue
            for pos, row in enumerate(issue.rows):
                reasons[int(row)].append(f"{issue.code}: {issue.message(pos)}")
        names = list(raw.frame.columns)
        out_names = [f"{c} (file)" if c in _META_COLUMNS else c for c in names]
        rows = np.flatnonzero(errors)
        data: dict[str, list[Any]] = {"line": [int(x) for x in raw.lines[rows]]}
        for name, out in zip(names, out_names, strict=True):
            data[out] = list(_take(raw.frame[name], rows)) if len(rows) else []
        data["raw_text"] = [None] * len(rows)
        data["reasons"] = [" | ".join(reasons[int(r)]) for r in rows]
        for rej in raw.rejected:
            data["line"].append(rej.line)
            for k, out in enumerate(out_names):
                data[out].append(rej.fields[k] if k < len(rej.fields) else None)
            data["raw_text"].append(rej.raw_text)
            data["reasons"].append(f"{rej.problem.code}: {rej.problem.message}")
        frame = pd.DataFrame(data, columns=["line", *out_names, "raw_text", "reasons"])
        frame["line"] = frame["line"].astype(np.int64)
        for column in frame.columns[1:]:
            frame[column] = frame[column].astype("str")
        return frame.sort_values("line", kind="stable").reset_index(drop=True)


def _strictly_monotonic(series: pd.Series) -> bool:
    """Strictly increasing or decreasing text (cheaper than hashing a million ids)."""
    if len(series) < 2 or series.isna().any():
        return False
    arr = _arrow(series)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    head, tail = arr.slice(0, len(arr) - 1), arr.slice(1)
    return bool(pc.all(pc.less(head, tail)).as_py()) or bool(pc.all(pc.greater(head, tail)).as_py())


def _unmapped(name: str, columns: Sequence[str]) -> str:
    return (
        f"The mapping has no usable {name} column (it must name one of the file's columns: "
        f"{', '.join(map(repr, columns))}). Use presets.detect_mapping to build the mapping."
    )


def _as_series(values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(values)


def _value_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _content_ids(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``gen-`` + 16 hex digits of SHA-1 over the record's fields (unit-separator joined)."""
    if not len(rows):
        return np.array([], dtype=object)
    sub = frame.iloc[rows]
    columns = list(sub.columns)
    if columns:
        joined = sub[columns[0]].str.cat([sub[c] for c in columns[1:]], sep="\x1f")
    else:
        joined = pd.Series([""] * len(rows))
    return np.array(
        ["gen-" + hashlib.sha1(t.encode("utf-8")).hexdigest()[:16] for t in joined],
        dtype=object,
    )


# --- dates ---------------------------------------------------------------------------------

_PRECISIONS = (DatePrecision.DAY, DatePrecision.MONTH, DatePrecision.YEAR)
_TIME = (
    r"(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
    r"(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?"
)
_ISO = r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})" + _TIME + "$"
_NUMERIC = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_ISO_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")
_YEAR = re.compile(r"\d{4}")
_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_ORD = r"(?:st|nd|rd|th)?"
_DAY_MONTH_YEAR = re.compile(
    r"(\d{1,2})" + _ORD + r"(?:\s+of)?[\s\-/.]*([A-Za-z]+)\.?,?[\s\-/.]*(\d{4}|\d{2})" + _TIME
)
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2})" + _ORD + r",?\s+(\d{4})" + _TIME)
_MONTH_YEAR = re.compile(r"([A-Za-z]+)\.?[\s\-/,]+(\d{4})")
_WEEKDAY = re.compile(r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+", re.I)
_MONTHS = {
    **{m.lower(): i for i, m in enumerate(calendar.month_name) if m},
    **{m.lower(): i for i, m in enumerate(calendar.month_abbr) if m},
    "sept": 9,
}
_OK, _MISSING, _INVALID, _IMPOSSIBLE, _PENDING, _CONFLICT = 0, 1, 2, 3, 4, 5
_DAY, _MONTH, _YEAR_P = 0, 1, 2

_DATE_MESSAGES = {
    "date-missing": (
        _E,
        "The record has no date: every incident needs one (YYYY-MM-DD, or 2024-03 / 2024 "
        "when only the month or year is known).",
    ),
    "date-invalid": (
        _E,
        "{value!r} is not a date this tool can read: use YYYY-MM-DD (e.g. 2024-03-15), "
        "DD/MM/YYYY, '15 March 2024', 2024-03 or 2024.",
    ),
    "date-impossible": (
        _E,
        "{value!r} is not on the calendar{extra}: check the day and the month.",
    ),
    "date-order-conflict": (
        _E,
        "{value!r} could be day-first or month-first, and this column holds dates of both "
        "kinds{extra}, so it cannot be decided. Choose the date order (dmy or mdy) "
        "explicitly; dates that do not fit it will then be listed.",
    ),
    "date-ambiguous": (
        _W,
        "{value!r} could be day-first or month-first; no date in the column decides, so it "
        "was read day-first as {extra}. If the file writes month first, choose the date "
        "order mdy.",
    ),
    "date-order-mixed": (
        _W,
        "{value!r} can only be read as {extra}, but the column mixes day-first and "
        "month-first dates: check this record.",
    ),
    "date-excel-serial": (
        _W,
        "{value!r} looks like an Excel date number and was read as {extra}. Format the "
        "column as dates in the spreadsheet before exporting.",
    ),
    "date-two-digit-year": (
        _W,
        "{value!r} has a two-digit year, read as {extra}. Write four-digit years.",
    ),
}


@dataclass
class _DateSlice:
    """Parsed dates for one column: day numbers (datetime64[D]), precision, status."""

    start: np.ndarray
    end: np.ndarray
    precision: np.ndarray
    status: np.ndarray
    detail: np.ndarray
    flags: dict[str, np.ndarray]
    missing: np.ndarray

    @property
    def failed(self) -> np.ndarray:
        return self.status != _OK

    def issue_masks(self) -> list[tuple[str, Severity, np.ndarray, str]]:
        out = []
        masks = {
            "date-missing": self.missing,
            "date-invalid": self.status == _INVALID,
            "date-impossible": self.status == _IMPOSSIBLE,
            **self.flags,
        }
        for code, (severity, template) in _DATE_MESSAGES.items():
            if code in masks:
                out.append((code, severity, masks[code], template))
        return out


@dataclass
class _ParsedDates:
    codes: np.ndarray
    u_start: np.ndarray
    u_end: np.ndarray
    u_prec: np.ndarray
    u_status: np.ndarray
    u_detail: np.ndarray
    u_flags: dict[str, np.ndarray]
    u_missing: np.ndarray
    order_label: str
    notes: list[str]

    def slice(self, a: int, b: int) -> _DateSlice:
        codes = self.codes[a:b]
        return _DateSlice(
            start=self.u_start[codes],
            end=self.u_end[codes],
            precision=self.u_prec[codes],
            status=self.u_status[codes],
            detail=self.u_detail[codes],
            flags={k: v[codes] for k, v in self.u_flags.items()},
            missing=self.u_missing[codes].copy(),
        )


class _DateParser:
    """Parse a date column once per distinct value; ISO values in one vectorised pass."""

    def __init__(
        self, values: pd.Series, lines: np.ndarray, order: DateOrder, today: dt.date
    ) -> None:
        self.text = _strip(values)
        self.lines = lines
        self.order = order
        self.today = today

    def run(self) -> _ParsedDates:
        codes, uniques = pd.factorize(self.text)
        u = np.array([str(x) for x in uniques], dtype=object)
        size = len(u)
        self.y, self.m, self.d = (np.zeros(size, np.int64) for _ in range(3))
        self.prec = np.zeros(size, np.int64)
        self.status = np.full(size, _INVALID, np.int64)
        self.detail = np.full(size, "", dtype=object)
        self.flags = {
            k: np.zeros(size, bool)
            for k in ("date-excel-serial", "date-two-digit-year", "date-ambiguous",
                      "date-order-conflict", "date-order-mixed")
        }  # fmt: skip
        self.serial = np.full(size, -1, np.int64)
        self.numeric: dict[int, tuple[int, int, int]] = {}
        missing = np.array([x.lower() in MISSING_TOKENS for x in u], dtype=bool)
        self._iso(u)
        for j in np.flatnonzero((self.status == _INVALID) & ~missing):
            self._other(j, u[j])
        first_row = np.full(size, -1, np.int64)
        first_row[codes[::-1]] = np.arange(len(codes))[::-1]
        order_label, notes = self._resolve_numeric(u, first_row)
        start, end = self._days()
        self.status[missing] = _MISSING
        return _ParsedDates(
            codes=codes,
            u_start=start,
            u_end=end,
            u_prec=self.prec,
            u_status=self.status,
            u_detail=self.detail,
            u_flags=self.flags,
            u_missing=missing,
            order_label=order_label,
            notes=notes,
        )

    def _iso(self, u: np.ndarray) -> None:
        if not len(u):
            return
        found = pc.extract_regex(pa.array(u, type=pa.large_string()), _ISO)
        is_valid = found.is_valid()
        valid = is_valid.to_numpy(zero_copy_only=False)
        if not valid.any():
            return
        for name, target in (("y", self.y), ("m", self.m), ("d", self.d)):
            part = pc.if_else(is_valid, found.field(name), None)  # the struct alone is null
            target[valid] = pc.cast(part, pa.int64()).to_numpy(zero_copy_only=False)[valid]
        self.status[valid] = _OK

    def _other(self, j: int, value: str) -> None:
        """Non-ISO forms, one distinct value at a time (there are few)."""
        text = _WEEKDAY.sub("", value.strip())
        if m := _ISO_MONTH.fullmatch(text):
            self._set(j, int(m[1]), int(m[2]), 1, _MONTH)
        elif _YEAR.fullmatch(text):
            year = int(text)
            if 1800 <= year <= 2200:
                self._set(j, year, 1, 1, _YEAR_P)
        elif (m := _BASIC.fullmatch(text)) and 1800 <= int(m[1]) <= 2200:
            self._set(j, int(m[1]), int(m[2]), int(m[3]), _DAY)
        elif _SERIAL.fullmatch(text):
            serial = int(float(text))
            if EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]:
                self.serial[j] = serial
                self.status[j] = _OK
                self.flags["date-excel-serial"][j] = True
        elif m := _NUMERIC.fullmatch(text):
            year = self._year(j, m[4])
            self.numeric[j] = (int(m[1]), int(m[3]), year)
            self.status[j] = _PENDING
        elif m := _DAY_MONTH_YEAR.fullmatch(text):
            month = _MONTHS.get(m[2].lower())
            if month:
                self._set(j, self._year(j, m[3]), month, int(m[1]), _DAY)
        elif m := _MONTH_DAY_YEAR.fullmatch(text):
            month = _MONTHS.get(m[1].lower())
            if month:
                self._set(j, int(m[3]), month, int(m[2]), _DAY)
        elif m := _MONTH_YEAR.fullmatch(text):
            month = _MONTHS.get(m[1].lower())
            if month:
                self._set(j, int(m[2]), month, 1, _MONTH)

    def _set(self, j: int, y: int, m: int, d: int, prec: int) -> None:
        self.y[j], self.m[j], self.d[j], self.prec[j] = y, m, d, prec
        self.status[j] = _OK

    def _year(self, j: int, text: str) -> int:
        if len(text) == 4:
            return int(text)
        pivot = self.today.year % 100 + 1
        year = (2000 if int(text) <= pivot else 1900) + int(text)
        self.flags["date-two-digit-year"][j] = True
        self.detail[j] = str(year)
        return year

    def _resolve_numeric(self, u: np.ndarray, first_row: np.ndarray) -> tuple[str, list[str]]:
        """Decide day-first / month-first once for the column, then read each value."""
        if not self.numeric:
            return (self.order.value, [])
        dmy_evidence = [j for j, (a, b, _) in self.numeric.items() if a > 12 and b <= 12]
        mdy_evidence = [j for j, (a, b, _) in self.numeric.items() if b > 12 and a <= 12]
        notes: list[str] = []
        conflict = False

        def example(js: list[int]) -> str:
            j = min(js, key=lambda k: first_row[k])
            return f"{u[j]!r} on line {self.lines[first_row[j]]}"

        if self.order is not DateOrder.AUTO:
            order, label = self.order, self.order.value
        elif dmy_evidence and mdy_evidence:
            order, label, conflict = DateOrder.DMY, "mixed", True
            notes.append(
                f"Numeric dates mix day-first ({example(dmy_evidence)}) and month-first "
                f"({example(mdy_evidence)}): dates that read both ways were rejected. Choose "
                "the date order explicitly."
            )
        elif mdy_evidence:
            order, label = DateOrder.MDY, "mdy"
            notes.append(f"Numeric dates read month-first: {example(mdy_evidence)} decides.")
        elif dmy_evidence:
            order, label = DateOrder.DMY, "dmy"
            notes.append(f"Numeric dates read day-first: {example(dmy_evidence)} decides.")
        else:
            order, label = DateOrder.DMY, "dmy"
            notes.append(
                "No numeric date in the file has a part above 12, so day-first was assumed; "
                "dates that would read differently month-first are flagged date-ambiguous. "
                "Choose the date order mdy if the file writes month first."
            )
        for j, (a, b, year) in self.numeric.items():
            if conflict and a <= 12 and b <= 12 and a != b:
                self.status[j] = _CONFLICT
                self.flags["date-order-conflict"][j] = True
                self.detail[j] = (
                    f" (e.g. {u[min(dmy_evidence)]!r} is day-first, "
                    f"{u[min(mdy_evidence)]!r} month-first)"
                )
                continue
            day, month = (a, b) if order is DateOrder.DMY else (b, a)
            if conflict and a > 12:
                day, month = a, b
                self.flags["date-order-mixed"][j] = True
            elif conflict and b > 12:
                day, month = b, a
                self.flags["date-order-mixed"][j] = True
            ambiguous = self.order is DateOrder.AUTO and not conflict and a != b
            if ambiguous and a <= 12 and b <= 12 and not (dmy_evidence or mdy_evidence):
                self.flags["date-ambiguous"][j] = True
            self._set(j, year, month, day, _DAY)
            flagged = self.flags["date-ambiguous"][j] or self.flags["date-order-mixed"][j]
            if flagged and 1 <= month <= 12:
                self.detail[j] = f"{day} {calendar.month_name[month]} {year}"
        return label, notes

    def _days(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end day of each distinct value; impossible dates become NaT."""
        ok = self.status == _OK
        serial = self.serial >= 0
        y, m, d = self.y, self.m, self.d
        good_month = (m >= 1) & (m <= 12)
        month_start = _month_start(y, np.where(good_month, m, 1))
        dim = (_month_start(y, np.where(good_month, m, 1) + 1) - month_start).astype(np.int64)
        good = good_month & (d >= 1) & (d <= dim) & (y >= 1) & (y <= 9999)
        impossible = ok & ~serial & ~good
        for j in np.flatnonzero(impossible):
            self.detail[j] = f" (read as year {y[j]}, month {m[j]}, day {d[j]})"
        self.status[impossible] = _IMPOSSIBLE
        fine = ok & ~impossible
        start = np.where(fine, month_start + (d - 1), np.datetime64("NaT", "D"))
        end_month = _month_start(y, np.where(good_month, m, 1) + 1) - 1
        end_year = _month_start(y + 1, np.ones_like(m)) - 1
        end = np.where(
            self.prec == _MONTH, end_month, np.where(self.prec == _YEAR_P, end_year, start)
        )
        end = np.where(fine, end, np.datetime64("NaT", "D"))
        if serial.any():
            days = _EXCEL_EPOCH + self.serial[serial]
            start[serial] = days
            end[serial] = days
            for j, day in zip(np.flatnonzero(serial), days, strict=True):
                self.detail[j] = str(day)
        return start.astype("datetime64[D]"), end.astype("datetime64[D]")


def _month_start(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """First day of (year, month) for arrays; month may be 13 (next January)."""
    months = (np.asarray(year, np.int64) - 1970) * 12 + (np.asarray(month, np.int64) - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]")


# --- coordinates ---------------------------------------------------------------------------

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
_AXIS = {"lat": ("NS", 90.0, "latitude"), "lon": ("EW", 180.0, "longitude")}
# parse outcomes of one coordinate; those up to coords-hemisphere give a usable value
_AXIS_CODES = (
    "", "coords-decimal-comma", "coords-dms", "coords-hemisphere", "coords-missing",
    "coords-invalid", "coords-not-finite", "coords-out-of-range", "coords-unreadable",
)  # fmt: skip


@dataclass
class _AxisResult:
    value: np.ndarray
    ok: np.ndarray
    decimals: np.ndarray
    detail: np.ndarray
    masks: dict[str, np.ndarray]
    axis: str

    def issue_masks(self) -> list[tuple[str, Severity, np.ndarray, str]]:
        _, limit, word = _AXIS[self.axis]
        templates = {
            "coords-missing": (_E, f"The record has no {word}: it cannot be placed on the map."),
            "coords-invalid": (
                _E,
                f"{{value!r}} is not a {word} this tool can read{{extra}}: use decimal "
                f"degrees such as 48.5123 (or degrees-minutes-seconds like 48°30'44\"N).",
            ),
            "coords-not-finite": (_E, f"{{value!r}} is not a finite {word}."),
            "coords-out-of-range": (
                _E,
                f"{{value!r}} is outside the {word} range -{limit:g} to {limit:g}: check the "
                "value (latitude and longitude may be swapped, or the decimal point lost).",
            ),
            "coords-decimal-comma": (
                _W,
                f"{{value!r}} uses a decimal comma; read as {{extra}}. Use a decimal point "
                f"for {word}s.",
            ),
            "coords-dms": (
                _W,
                "{value!r} is in degrees, minutes and seconds; converted to {extra} "
                "decimal degrees. Check the conversion.",
            ),
            "coords-hemisphere": (
                _W,
                f"{{value!r}} uses a hemisphere letter; read as {{extra}}. Use signed "
                f"decimal degrees (negative for south and west) for {word}s.",
            ),
        }
        return [
            (code, sev, self.masks[code], template)
            for code, (sev, template) in templates.items()
            if code in self.masks
        ]


class _AxisParser:
    """Decimal degrees in one vectorised pass; other notations per distinct value."""

    def __init__(self, text: pd.Series, axis: str, decimal_comma_ok: bool) -> None:
        self.text = text
        self.axis = axis
        self.comma_ok = decimal_comma_ok

    def run(self) -> _AxisResult:
        n = len(self.text)
        arr = _arrow(self.text)
        plain, value = _plain_decimals(arr)
        dot = pc.find_substring(arr, ".").to_numpy(zero_copy_only=False)
        # bytes = characters for plain values (ASCII); the others get their own decimals
        length = pc.binary_length(arr).to_numpy(zero_copy_only=False)
        decimals = np.where(dot >= 0, length - dot - 1, 0).astype(np.int64)
        detail = np.full(n, "", dtype=object)
        codes = np.zeros(n, dtype=np.int8)  # index into _AXIS_CODES; 0 = clean
        missing = _is_missing_token(self.text, ~plain)
        codes[missing] = _AXIS_CODES.index("coords-missing")
        rest = np.flatnonzero(~plain & ~missing)
        if len(rest):
            sub_codes, uniques = pd.factorize(self.text.iloc[rest])
            parsed = [_parse_coordinate(str(u), self.axis, self.comma_ok) for u in uniques]
            for k, j in enumerate(rest):
                v, code, dec, extra = parsed[sub_codes[k]]
                value[j], decimals[j], detail[j] = v, dec, extra
                codes[j] = _AXIS_CODES.index(code)
        _, limit, _ = _AXIS[self.axis]
        finite = np.isfinite(value)
        parsed_ok = codes <= _AXIS_CODES.index("coords-hemisphere")
        not_finite = parsed_ok & ~finite & ~missing
        out_of_range = parsed_ok & finite & (np.abs(value) > limit)
        codes[not_finite] = _AXIS_CODES.index("coords-not-finite")
        codes[out_of_range] = _AXIS_CODES.index("coords-out-of-range")
        masks = {code: codes == k for k, code in enumerate(_AXIS_CODES) if k}
        ok = parsed_ok & ~not_finite & ~out_of_range
        return _AxisResult(value, ok, decimals, detail, masks, self.axis)


def _plain_floats(arr: pa.ChunkedArray | pa.Array, plain: np.ndarray) -> np.ndarray:
    """The values matched as plain decimals as floats, NaN elsewhere.

    Casting the whole column skips a copy of the strings in the usual all-plain case.
    """
    source = arr if plain.all() else pc.if_else(plain, arr, None)
    value = pc.cast(source, pa.float64()).to_numpy(zero_copy_only=False)
    return value if plain.all() else np.where(plain, value, np.nan)


_PLAIN_COUNT = r"^\+?\d+(\.0*)?$"


def _plain_counts(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Values that are plain whole numbers (``_PLAIN_COUNT``).

    Without any of ``+ - . e E`` in the column the pattern is "ASCII digits only",
    which Arrow tests without a regex.
    """
    if _has_any_byte(arr, b"+-.eE"):
        return pc.match_substring_regex(arr, _PLAIN_COUNT).to_numpy(zero_copy_only=False)
    digits = pc.fill_null(pc.ascii_is_decimal(arr), False)
    return digits.to_numpy(zero_copy_only=False).astype(bool)


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
        return plain, _plain_floats(arr, plain)
    plain = np.isfinite(value)
    if _has_any_byte(arr, b"eE"):  # exponent notation somewhere: find which values
        for letter in "eE":
            plain &= ~pc.match_substring(arr, letter).to_numpy(zero_copy_only=False).astype(bool)
    return plain, np.where(plain, value, np.nan)


def _has_any_byte(arr: pa.ChunkedArray | pa.Array, wanted: bytes) -> bool:
    """Whether any of these bytes occurs in the column's character data (or near it:
    a buffer may hold bytes of sliced-off values, so True is only a maybe)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = np.frombuffer(data, dtype=np.uint8)
        if any((raw == byte).any() for byte in wanted):
            return True
    return False


def _parse_coordinate(text: str, axis: str, comma_ok: bool) -> tuple[float, str, int, str]:
    """(value, code, decimals, detail) for a non-plain coordinate; code "" = clean."""
    letters, _, _ = _AXIS[axis]
    bad = (np.nan, "coords-invalid", 0, "")
    if text.startswith("\x00"):  # marked unreadable by the combined-column split
        return np.nan, "coords-unreadable", 0, ""
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
                "coords-invalid",
                0,
                " (a decimal comma cannot be told from the delimiter in a comma-delimited file)",
            )
        value = float(text.replace(",", "."))
        return value, "coords-decimal-comma", len(text.split(",")[1]), f"{value:g}"
    if m := _HEMI_DECIMAL.fullmatch(text):
        pre, number, post = m[1], m[2], m[3]
        if bool(pre) != bool(post) and (pre or post):
            letter = (pre or post).upper()
            if letter not in letters or number.startswith(("-", "+")):
                return np.nan, "coords-invalid", 0, f" (hemisphere {letter} is not a {axis} letter)"
            if "," in number and not comma_ok:
                return bad
            value = float(number.replace(",", "."))
            value = -value if letter in "SW" else value
            decimals = len(re.split(r"[.,]", number)[1]) if re.search(r"[.,]", number) else 0
            return value, "coords-hemisphere", decimals, f"{value:g}"
    marked = re.search("[°º˚'′’\"″”]", text)
    if (m := _DMS.fullmatch(text)) and (marked or m[1] or m[5]):
        pre, post = m[1], m[5]
        if pre and post:
            return bad
        letter = (pre or post or "").upper()
        if letter and letter not in letters:
            return np.nan, "coords-invalid", 0, f" (hemisphere {letter} is not a {axis} letter)"
        deg = float(m[2].replace(",", "."))
        minutes = float(m[3].replace(",", ".")) if m[3] else 0.0
        seconds = float(m[4].replace(",", ".")) if m[4] else 0.0
        if minutes >= 60 or seconds >= 60:
            return bad
        value = deg + minutes / 60 + seconds / 3600
        value = -value if letter in ("S", "W") else value
        decimals = 4 if m[4] else (2 if m[3] else 0)
        return round(value, 6), "coords-dms", decimals, f"{value:.6f}"
    return bad


# --- victims and precision -------------------------------------------------------------------


def _victims_problem(text: str) -> str:
    try:
        value = float(text) if re.fullmatch(r"[+-]?\d+(\.\d+)?", text) else None
    except ValueError:
        value = None
    if value is None:
        return "victims-invalid"
    if value < 0:
        return "victims-negative"
    return "victims-not-integer"


_PRECISION_TABLES: dict[str, dict[int, int | None]] = {
    "ucdp": {1: None, 2: None, 3: 2, 4: 1, 5: 0, 6: 0, 7: -1},
    "acled": {1: None, 2: None, 3: 1},
    "admin-level": {-1: -1, 0: 0, 1: 1, 2: 2, 3: 3, 4: 4},
}
_PRECISION_HELP = {
    "ucdp": "a whole number 1 to 7",
    "acled": "1, 2 or 3",
    "admin-level": "a whole number -1 to 4",
}


def _precision_level(text: str, scheme: str) -> tuple[Any, bool]:
    """(max_level or NA, understood?) for one location-precision value."""
    if text.lower() in MISSING_TOKENS:
        return pd.NA, True
    match = re.fullmatch(r"[+-]?\d+(?:\.0*)?", text)
    table = _PRECISION_TABLES[scheme]
    if not match or int(float(text)) not in table:
        return pd.NA, False
    level = table[int(float(text))]
    return (pd.NA if level is None else level), True
