"""Dates and periods: day numbers, one consecutive ordinal per period, period bounds and labels.

Every view places records in periods the same way: a date becomes a day number, a day
number the ordinal of its period (consecutive periods differ by exactly 1), and an
ordinal the period's first and last day and its label. :func:`period_bounds` reads a
label back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crisismap.aggregate.codes import factor_codes
from crisismap.errors import InvalidValueError
from crisismap.i18n import N_, _
from crisismap.schema import DatePrecision, Period

NO_PERIOD = np.iinfo(np.int64).min  # the day number or ordinal of a missing date

_PRECISION_RANK = {DatePrecision.DAY: 0, DatePrecision.MONTH: 1, DatePrecision.YEAR: 2}
_NEEDED_PRECISION = {
    Period.DAY: 0,
    Period.ISO_WEEK: 0,
    Period.ACLED_WEEK: 0,
    Period.MONTH: 1,
    Period.QUARTER: 1,
    Period.YEAR: 2,
}
_EXAMPLE = {
    Period.DAY: N_("Period {label!r} is not a day label (e.g. 2024-03-05)."),
    Period.ISO_WEEK: N_("Period {label!r} is not a week label (e.g. 2024-W10)."),
    Period.ACLED_WEEK: N_(
        "Period {label!r} is not an acled-week label (the week's Saturday, e.g. 2024-03-02)."
    ),
    Period.MONTH: N_("Period {label!r} is not a month label (e.g. 2024-03)."),
    Period.QUARTER: N_("Period {label!r} is not a quarter label (e.g. 2024-Q1)."),
    Period.YEAR: N_("Period {label!r} is not a year label (e.g. 2024)."),
}


def period_bounds(label: str, period: Period | str) -> tuple[Any, Any]:
    """First and last day (``datetime.date``) of the period labelled ``label``.

    Labels are those :func:`summarize` writes: ``2024-03-05`` (day; ACLED week: its
    Saturday), ``2024-W10``, ``2024-03``, ``2024-Q1``, ``2024``.
    """
    period = Period.parse(period)
    text = str(label).strip()
    wrong = _(_EXAMPLE[period]).format(label=label)
    try:
        ordinal = ordinals(np.array([day_number(_first_day_of_label(text, period))]), period)
    except (ValueError, TypeError) as exc:
        raise InvalidValueError(wrong) from exc
    starts, ends = period_days(ordinal, period)
    if period_labels(ordinal, starts, period) != [text]:
        raise InvalidValueError(wrong)
    return pd.Timestamp(starts[0]).date(), pd.Timestamp(ends[0]).date()


def _first_day_of_label(text: str, period: Period) -> pd.Timestamp:
    """The first day a label names (any day for a day label); raises on a malformed one."""
    if period == Period.ISO_WEEK:
        year, week = text.split("-W")
        return pd.Timestamp.fromisocalendar(int(year), int(week), 1)
    if period == Period.QUARTER:
        year, quarter = text.split("-Q")
        return pd.Timestamp(int(year), 3 * int(quarter) - 2, 1)
    return pd.Timestamp(text if period != Period.YEAR else f"{int(text)}-01-01")


def day_numbers(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64, ``NO_PERIOD`` for missing dates."""
    dates = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
    days = dates.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(dates), NO_PERIOD, days)


def day_number(value: Any) -> int:
    """The day number of one ``start``/``end`` argument; raises on a value that is no date."""
    day = pd.Timestamp(value)
    if pd.isna(day):
        raise InvalidValueError(
            _("Expected a date such as 2024-03-05 for start/end, got {value!r}.").format(
                value=value
            )
        )
    return int(np.datetime64(day.date(), "D").astype(np.int64))


def day_ranges(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per record: first and last day number (the last is the first when no end is given)."""
    first = day_numbers(records["date"])
    last = day_numbers(records["date_end"]) if "date_end" in records else first
    return first, np.where(last == NO_PERIOD, first, last)


def record_periods(records: pd.DataFrame, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """Per record: the ordinal of its start period, and whether it lies in that one period."""
    first = ordinals(day_numbers(records["date"]), period)
    last_days = (
        day_numbers(records["date_end"]) if "date_end" in records else day_numbers(records["date"])
    )
    last = ordinals(last_days, period)
    precise = (first != NO_PERIOD) & ((last == NO_PERIOD) | (last == first))
    if "date_precision" in records:
        rank = _precision_ranks(records["date_precision"])
        precise &= rank <= _NEEDED_PRECISION[period]
    return first, precise


def _precision_ranks(values: pd.Series) -> np.ndarray:
    """0 day, 1 month, 2 year; unknown text counts as day (validate guarantees the values)."""
    ranks = {p.value: r for p, r in _PRECISION_RANK.items()}
    codes, uniques = factor_codes(values)
    by_unique = np.array([ranks.get(str(u).lower(), 0) for u in uniques] + [0], dtype=np.int64)
    return by_unique[codes]


def ordinals(days: np.ndarray, period: Period) -> np.ndarray:
    """Consecutive integer per period: consecutive periods differ by exactly 1."""
    missing = days == NO_PERIOD
    if missing.all():
        return days.copy()
    lo, hi = days[~missing].min(), days[~missing].max()
    if hi - lo > 4 * len(days) + 1000:  # sparse dates: compute each one
        return np.where(missing, NO_PERIOD, _ordinal_of_days(np.where(missing, lo, days), period))
    # Dates span few distinct days: compute each day of the span once, then look up.
    table = _ordinal_of_days(np.arange(lo, hi + 1), period)
    return np.where(missing, NO_PERIOD, table[np.where(missing, lo, days) - lo])


def _ordinal_of_days(days: np.ndarray, period: Period) -> np.ndarray:
    """The period ordinal of each day number (no missing days)."""
    if period == Period.DAY:
        return days.copy()
    if period == Period.ISO_WEEK:  # 1970-01-01 was a Thursday: Monday weeks
        return np.floor_divide(days + 3, 7)
    if period == Period.ACLED_WEEK:  # 1970-01-03 was a Saturday: Saturday weeks
        return np.floor_divide(days - 2, 7)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if period == Period.MONTH:
        return months
    return np.floor_divide(months, 3 if period == Period.QUARTER else 12)


def period_days(ordinals: np.ndarray, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (datetime64[D]) of each period."""
    if period == Period.DAY:
        start = ordinals
        stop = ordinals + 1
    elif period == Period.ISO_WEEK:
        start = ordinals * 7 - 3
        stop = start + 7
    elif period == Period.ACLED_WEEK:
        start = ordinals * 7 + 2
        stop = start + 7
    else:
        months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
        first_month = (ordinals * months).astype("datetime64[M]")
        start = first_month.astype("datetime64[D]").astype(np.int64)
        stop = (first_month + months).astype("datetime64[D]").astype(np.int64)
    start = np.asarray(start, dtype=np.int64).astype("datetime64[D]")
    end = (np.asarray(stop, dtype=np.int64) - 1).astype("datetime64[D]")
    return start, end


def period_labels(ordinals: np.ndarray, starts: np.ndarray, period: Period) -> list[str]:
    """The label of each period, from its first day (``2024-W10``, ``2024-Q1``, ...)."""
    days = [str(d) for d in starts]
    if period in (Period.DAY, Period.ACLED_WEEK):
        return days
    if period == Period.ISO_WEEK:
        out = []
        for d in starts:
            year, week, _ = pd.Timestamp(d).isocalendar()
            out.append(f"{year}-W{week:02d}")
        return out
    if period == Period.MONTH:
        return [d[:7] for d in days]
    if period == Period.QUARTER:
        return [f"{d[:4]}-Q{(int(d[5:7]) - 1) // 3 + 1}" for d in days]
    return [d[:4] for d in days]


def to_dates(days: np.ndarray) -> pd.Series:
    """Day numbers as a datetime column (``NO_PERIOD`` → NaT)."""
    values = np.where(days == NO_PERIOD, np.datetime64("NaT"), days.astype("datetime64[D]"))
    return pd.Series(pd.to_datetime(values.astype("datetime64[s]")))
