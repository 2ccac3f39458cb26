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
- **category**: labels split on the mapping's separator (when "auto", the one of no split,
  ``;``, ``|``, ``,`` whose labels recur most: see ``fields.choose_separator``), trimmed,
  de-duplicated, joined with ``CATEGORY_SEPARATOR``; none
  [category-missing W] (kept, with category ""); unknown coded value [category-unknown-code W].
- **victims**: non-negative integers; ``""``, ``NA``, ``unknown`` … are NaN silently;
  negative [victims-negative W], fractional [victims-not-integer W], text
  [victims-invalid W] are NaN, flagged.
- **max_level** from ``location_precision`` (see :class:`crisismap.records.PrecisionScheme`):
  UCDP where_prec 1–2 → NA (any level), 3 → 2, 4 → 1, 5–6 → 0, 7 → -1; ACLED
  geo_precision 1–2 → NA, 3 → 1. Unknown value [precision-invalid W] → NA.
- stated admin names and codes are kept as text in ``stated_adm{N}_name`` / ``_code``.
- ``approved`` / ``verified`` (Ushahidi's APPROVED / VERIFIED, or a post status) are kept
  as true/false columns (NA when unreadable); the notes count the records that are not.

This module is the recipe and the result; the checks live by field in
:mod:`~crisismap.records.fields` (ids, categories, text), :mod:`~crisismap.records.dates`,
:mod:`~crisismap.records.coordinates` and :mod:`~crisismap.records.counts` (victims,
precision), over what they share in :mod:`~crisismap.records.checks`. Every code, its
severity and message template are listed in :data:`crisismap.problems.CODES`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crisismap.problems import DEFAULT_PROBLEM_LIMIT, Problem, Report
from crisismap.records.checks import Checks
from crisismap.records.columns import value_at
from crisismap.records.coordinates import check_coordinates
from crisismap.records.counts import check_max_level, check_victims
from crisismap.records.dates import check_dates
from crisismap.records.fields import (
    check_categories,
    check_flags,
    check_ids,
    check_stated,
    check_text,
)
from crisismap.records.rejections import Rejections
from crisismap.records.rejections import build as build_rejections
from crisismap.schema import RECORD_COLUMNS, DateOrder, Severity

if TYPE_CHECKING:
    from crisismap.records.presets import ColumnMapping
    from crisismap.records.read import RawTable

_E, _W = Severity.ERROR, Severity.WARNING


@dataclass
class ValidationResult:
    """Accepted records (``RECORD_COLUMNS`` + stated admin columns), rejected rows, report.

    ``rejected`` (one row per rejected record: line, the file's fields, raw text, reasons)
    is built from the columnar ``rejections`` the first time it is read: rendered, the
    reasons of a file whose every record is rejected take about three times its size.
    """

    records: pd.DataFrame
    rejections: Rejections
    report: Report

    @cached_property
    def rejected(self) -> pd.DataFrame:
        return self.rejections.frame()


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
        Output of :func:`crisismap.records.read_csv_bytes` (duck-typed: ``frame``,
        ``lines``, ``rejected``, ``problems``, ``notes``, ``encoding``, ``delimiter``).
    mapping
        Output of :func:`crisismap.records.detect_mapping`.
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
    checks = Checks(raw, mapping, today or dt.date.today())
    columns, ids = _check_fields(checks, DateOrder.parse(date_order))
    errors, warnings = _problem_rows(checks)
    records = _accepted_records(columns, errors, warnings)
    report = _report(checks, ~errors, warnings, ids, problem_limit)
    rejected = _rejected(checks, errors)
    return ValidationResult(records=records, rejections=rejected, report=report)


def _check_fields(checks: Checks, order: DateOrder) -> tuple[dict[str, Any], pd.Series]:
    """Every field checked (two checks at a time on large tables): the columns, the ids."""
    (
        ids,
        dates,
        (lat, lon),
        category,
        subcategory,
        victims,
        description,
        source,
        level,
        stated,
        flags,
    ) = checks.run_all(
        check_ids,
        lambda c: check_dates(c, order),
        check_coordinates,
        check_categories,
        lambda c: check_text(c, "subcategory"),
        check_victims,
        lambda c: check_text(c, "description"),
        lambda c: check_text(c, "source"),
        check_max_level,
        check_stated,
        check_flags,
    )
    columns: dict[str, Any] = {
        "id": ids,
        "line": np.asarray(checks.raw.lines, dtype=np.int64),
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
        **flags,
    }
    return columns, ids


def _problem_rows(checks: Checks) -> tuple[np.ndarray, np.ndarray]:
    """Which rows have an error (they are rejected) and how many warnings each row has."""
    errors = np.zeros(checks.n, dtype=bool)
    warn_rows = [i.rows for i in checks.issues if i.severity == _W]
    for issue in checks.issues:
        if issue.severity == _E:
            errors[issue.rows] = True
    warnings = np.bincount(
        np.concatenate(warn_rows) if warn_rows else np.array([], np.int64), minlength=checks.n
    )
    return errors, warnings


def _accepted_records(
    columns: dict[str, Any], errors: np.ndarray, warnings: np.ndarray
) -> pd.DataFrame:
    """The record columns in schema order, rows without errors only."""
    columns = {**columns, "warnings": warnings.astype(np.int64, copy=False)}
    ordered = list(RECORD_COLUMNS) + [c for c in columns if c not in RECORD_COLUMNS]
    frame = pd.DataFrame({k: _as_series(columns[k]) for k in ordered}, copy=False)
    accepted = ~errors
    # nothing rejected (the usual case): no copy of every column
    return frame if accepted.all() else frame.loc[accepted].reset_index(drop=True)


def _report(
    checks: Checks, accepted: np.ndarray, warnings: np.ndarray, ids: pd.Series, limit: int
) -> Report:
    """Counts of every code (exact) and the first ``limit`` problems, rendered."""
    raw = checks.raw
    report = Report(
        preset=checks.mapping.label,
        mapping=checks.mapping.describe(),
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        date_order=checks.date_order_used,
        category_separator=checks.category_separator_used,
        limit=limit,
        notes=list(raw.notes) + checks.notes,
    )
    report.records = raw.n_records
    report.rejected = int((~accepted).sum()) + len(raw.rejected)
    report.accepted = int(accepted.sum())
    report.warned = int((accepted & (warnings > 0)).sum())
    for problem in raw.problems:
        report.add(problem)
    for issue in checks.issues:
        report.counts[(issue.code, issue.severity.value)] += len(issue.rows)
    for rej in raw.rejected:
        report.counts[(rej.problem.code, rej.problem.severity.value)] += 1
    room = max(0, limit - len(report.problems))
    report.problems.extend(_first_problems(checks, room, ids))
    return report


def _first_problems(checks: Checks, room: int, ids: pd.Series) -> list[Problem]:
    """The ``room`` first problems by line (then check order), rendered.

    An issue's rows, and the unreadable records, are in file order: only the first
    ``room`` of each can be among the first ``room`` of all.
    """
    if room == 0:
        return []
    lines = np.asarray(checks.raw.lines, dtype=np.int64)
    keys_line, keys_seq, keys_pos = [], [], []
    for seq, issue in enumerate(checks.issues):
        first = issue.rows[:room]
        keys_line.append(lines[first])
        keys_seq.append(np.full(len(first), seq + 1))
        keys_pos.append(np.arange(len(first)))
    parse = checks.raw.rejected
    keys_line.append(np.array([r.line for r in parse[:room]], dtype=np.int64))
    keys_seq.append(np.zeros(len(parse[:room]), dtype=np.int64))
    keys_pos.append(np.arange(len(parse[:room])))
    line_k, seq_k, pos_k = (np.concatenate(k) for k in (keys_line, keys_seq, keys_pos))
    order = np.lexsort((seq_k, line_k))[:room]
    problems = []
    for k in order:
        seq, pos = int(seq_k[k]), int(pos_k[k])
        if seq == 0:
            problems.append(parse[pos].problem)
            continue
        issue = checks.issues[seq - 1]
        row = int(issue.rows[pos])
        problems.append(
            Problem(
                code=issue.code,
                severity=issue.severity,
                message=issue.message(pos),
                line=int(lines[row]),
                column=issue.column,
                value=_value_text(value_at(issue.values, pos)),
                record_id=str(ids.iat[row]),
            )
        )
    return problems


def _rejected(checks: Checks, errors: np.ndarray) -> Rejections:
    """The rejected records, columnar (see :mod:`crisismap.records.rejections`)."""
    raw = checks.raw
    issues = [issue for issue in checks.issues if issue.severity == _E]
    return build_rejections(raw.frame, raw.lines, np.flatnonzero(errors), issues, raw.rejected)


def _as_series(values: Any) -> pd.Series:
    """A column of the records; a numpy array is wrapped, not copied (pandas 3 copies by
    default: four numeric columns of 5M records held twice at the peak, 190 MB)."""
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(values, copy=False)


def _value_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)
