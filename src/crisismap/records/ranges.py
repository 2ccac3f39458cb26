"""Date ranges counted on one day when the user chooses so (``DateRange.START`` / ``END``).

By default a record dated ``2022-02-24 .. 2022-05-20`` belongs to no single month and is
counted as "date not attributable" (never spread or guessed). UCDP puts 18 % of Ukraine's
deaths in such ranges, so the user may choose to count each on its first or its last day
instead. Only full-date ranges move: a partial date ("2024-03", "2024") stays as it is, its
range says how little is known, not how long an event lasted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crisismap.schema import DatePrecision, DateRange


@dataclass(frozen=True)
class RangeCounts:
    """How many records span several days, and their victims (NaN counts as 0)."""

    records: int
    victims: int


def multi_day(records: pd.DataFrame) -> np.ndarray:
    """Per record: a range of full dates over more than one day."""
    if "date_end" not in records or "date" not in records or records.empty:
        return np.zeros(len(records), dtype=bool)
    start = pd.to_datetime(records["date"]).to_numpy(dtype="datetime64[ns]")
    end = pd.to_datetime(records["date_end"]).to_numpy(dtype="datetime64[ns]")
    spans = ~np.isnat(start) & ~np.isnat(end) & (end > start)
    if "date_precision" in records:
        day = records["date_precision"].astype("str").str.lower() == DatePrecision.DAY.value
        spans &= day.to_numpy(dtype=bool, na_value=False)
    return spans


def range_counts(records: pd.DataFrame) -> RangeCounts:
    """Records with a multi-day range of full dates, and their victims."""
    spans = multi_day(records)
    victims = 0
    if "victims" in records and spans.any():
        victims = int(pd.to_numeric(records.loc[spans, "victims"], errors="coerce").sum())
    return RangeCounts(int(spans.sum()), victims)


def pin_date_ranges(records: pd.DataFrame, choice: DateRange | str) -> pd.DataFrame:
    """Records whose multi-day ranges count on their first (``start``) or last (``end``)
    day; ``never`` returns them unchanged."""
    choice = DateRange.parse(choice)
    spans = multi_day(records)
    if choice == DateRange.NEVER or not spans.any():
        return records
    out = records.copy()
    if choice == DateRange.START:
        out.loc[spans, "date_end"] = out.loc[spans, "date"]
    else:
        out.loc[spans, "date"] = out.loc[spans, "date_end"]
    return out
