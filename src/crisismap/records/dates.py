"""Dates: every form a crisis dataset writes, read once per distinct value.

ISO dates are read in one vectorised pass; other forms (``15 March 2024``, ``D/M/Y``,
Excel serial numbers, partial dates) per distinct value. Day-first vs month-first is
decided once for the whole column, never row by row (the rules are listed in
:mod:`crisismap.records.validation`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crisismap import i18n
from crisismap.errors import MappingError
from crisismap.i18n import _
from crisismap.problems import (
    DATE_AMBIGUOUS,
    DATE_EXCEL_SERIAL,
    DATE_FUTURE,
    DATE_IMPOSSIBLE,
    DATE_INVALID,
    DATE_MISSING,
    DATE_ORDER_CONFLICT,
    DATE_ORDER_MIXED,
    DATE_RANGE_REVERSED,
    DATE_TWO_DIGIT_YEAR,
    ProblemType,
)
from crisismap.records.checks import Checks, unmapped
from crisismap.records.columns import MISSING_TOKENS, strip, text_take
from crisismap.schema import DateOrder, DatePrecision

EXCEL_SERIAL_RANGE = (18264, 73415)  # 1950-01-01 … 2100-12-31
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def check_dates(checks: Checks, order: DateOrder) -> dict[str, Any]:
    """``date``, ``date_end`` and ``date_precision`` of every record (see the rules in
    :mod:`crisismap.records.validation`); problems flagged on ``checks``."""
    single = checks.col("date")
    start_col = single or checks.col("date_start")
    end_col = None if single else checks.col("date_end")
    if start_col is None:
        raise MappingError(unmapped("date", checks.raw.frame.columns))
    parts = [checks.values(start_col)] + ([checks.values(end_col)] if end_col else [])
    lines = np.concatenate([checks.raw.lines] * len(parts))
    text = pd.concat(parts, ignore_index=True)
    parsed = _DateParser(text, lines, order, checks.today).run()
    checks.date_order_used = parsed.order_label
    checks.notes.extend(parsed.notes)
    n = checks.n
    start = parsed.slice(0, n)
    _date_issues(checks, start, start_col, checks.values(start_col))
    begin, end, precision = start.start, start.end, start.precision
    if end_col is not None:
        stop = parsed.slice(n, 2 * n)
        given = ~stop.missing
        stop.missing[:] = False  # an empty end date means "same as the start"
        _date_issues(checks, stop, end_col, checks.values(end_col))
        usable = given & ~stop.failed & ~start.failed
        end = np.where(usable, stop.end, end)
        # a range is as precise as its coarser end
        precision = np.where(usable, np.maximum(precision, stop.precision), precision)
        reversed_ = usable & (stop.end < begin)
        checks.flag(
            reversed_,
            DATE_RANGE_REVERSED,
            end_col,
            checks.values(end_col),
            extra=checks.values(start_col),
        )
    future = ~start.failed & (begin > np.datetime64(checks.today, "D"))
    checks.flag(
        future,
        DATE_FUTURE,
        start_col,
        checks.values(start_col),
        extra=np.broadcast_to(np.array(checks.today.isoformat(), dtype=object), (n,)),
    )
    return {
        "date": pd.Series(begin.astype("datetime64[ns]")),
        "date_end": pd.Series(end.astype("datetime64[ns]")),
        "date_precision": text_take(
            [p.value for p in _PRECISIONS], np.maximum(precision, 0).astype(np.int64)
        ),
    }


def _date_issues(checks: Checks, parsed: _DateSlice, column: str, values: pd.Series) -> None:
    for kind, mask in parsed.issue_masks():
        checks.flag(mask, kind, column, values, extra=parsed.detail)


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

# the problems a date column can have, in the order they are flagged
_DATE_PROBLEMS = (
    DATE_MISSING,
    DATE_INVALID,
    DATE_IMPOSSIBLE,
    DATE_ORDER_CONFLICT,
    DATE_AMBIGUOUS,
    DATE_ORDER_MIXED,
    DATE_EXCEL_SERIAL,
    DATE_TWO_DIGIT_YEAR,
)


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

    def issue_masks(self) -> list[tuple[ProblemType, np.ndarray]]:
        masks = {
            DATE_MISSING.code: self.missing,
            DATE_INVALID.code: self.status == _INVALID,
            DATE_IMPOSSIBLE.code: self.status == _IMPOSSIBLE,
            **self.flags,
        }
        return [(kind, masks[kind.code]) for kind in _DATE_PROBLEMS if kind.code in masks]


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
        self.text = strip(values)
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
            kind.code: np.zeros(size, bool)
            for kind in (DATE_EXCEL_SERIAL, DATE_TWO_DIGIT_YEAR, DATE_AMBIGUOUS,
                         DATE_ORDER_CONFLICT, DATE_ORDER_MIXED)
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
                self.flags[DATE_EXCEL_SERIAL.code][j] = True
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
        self.flags[DATE_TWO_DIGIT_YEAR.code][j] = True
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
            return _("{value!r} on line {line}").format(value=u[j], line=self.lines[first_row[j]])

        if self.order is not DateOrder.AUTO:
            order, label = self.order, self.order.value
        elif dmy_evidence and mdy_evidence:
            order, label, conflict = DateOrder.DMY, "mixed", True
            notes.append(
                _(
                    "Numeric dates mix day-first ({example}) and month-first "
                    "({example2}): dates that read both ways were rejected. Choose the "
                    "date order explicitly."
                ).format(example=example(dmy_evidence), example2=example(mdy_evidence))
            )
        elif mdy_evidence:
            order, label = DateOrder.MDY, "mdy"
            notes.append(
                _("Numeric dates read month-first: {example} decides.").format(
                    example=example(mdy_evidence)
                )
            )
        elif dmy_evidence:
            order, label = DateOrder.DMY, "dmy"
            notes.append(
                _("Numeric dates read day-first: {example} decides.").format(
                    example=example(dmy_evidence)
                )
            )
        else:
            order, label = DateOrder.DMY, "dmy"
            notes.append(
                _(
                    "No numeric date in the file has a part above 12, so day-first was "
                    "assumed; dates that would read differently month-first are "
                    "flagged date-ambiguous. Choose the date order mdy if the file "
                    "writes month first."
                )
            )
        for j, (a, b, year) in self.numeric.items():
            if conflict and a <= 12 and b <= 12 and a != b:
                self.status[j] = _CONFLICT
                self.flags[DATE_ORDER_CONFLICT.code][j] = True
                self.detail[j] = (
                    " ("
                    + _("e.g. {day_first!r} is day-first, {month_first!r} month-first").format(
                        day_first=u[min(dmy_evidence)], month_first=u[min(mdy_evidence)]
                    )
                    + ")"
                )
                continue
            day, month = (a, b) if order is DateOrder.DMY else (b, a)
            if conflict and a > 12:
                day, month = a, b
                self.flags[DATE_ORDER_MIXED.code][j] = True
            elif conflict and b > 12:
                day, month = b, a
                self.flags[DATE_ORDER_MIXED.code][j] = True
            ambiguous = self.order is DateOrder.AUTO and not conflict and a != b
            if ambiguous and a <= 12 and b <= 12 and not (dmy_evidence or mdy_evidence):
                self.flags[DATE_AMBIGUOUS.code][j] = True
            self._set(j, year, month, day, _DAY)
            flagged = self.flags[DATE_AMBIGUOUS.code][j] or self.flags[DATE_ORDER_MIXED.code][j]
            if flagged and 1 <= month <= 12:
                self.detail[j] = _day_in_words(year, month, day)
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
            self.detail[j] = (
                " ("
                + _("read as year {year}, month {month}, day {day}").format(
                    year=y[j], month=m[j], day=d[j]
                )
                + ")"
            )
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


def _day_in_words(year: int, month: int, day: int) -> str:
    """``5 March 2024`` in the current language (the month named, so the order is plain)."""
    try:
        when = dt.date(int(year), int(month), int(day))
    except ValueError:
        return f"{day} {calendar.month_name[month]} {year}"
    from babel.dates import format_date

    return format_date(when, format="d MMMM y", locale=i18n.babel_locale())
