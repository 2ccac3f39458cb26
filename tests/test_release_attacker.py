"""The attacker of tests/adversarial/test_release_attacks.py on hand-made releases: it
pins what subtraction gives away and nothing that the published figures leave open."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crisismap.schema import Period
from tests.helpers.release_attack import Export, Model, Release, Truth, attack

JAN, FEB, DEC31 = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 12, 31)
DAYS = ["2024-01-03", "2024-01-20", "2024-02-02", "2024-02-10", *["2024-03-05"] * 3]


def truth(days: list[str], region: str = "R1") -> Truth:
    first = np.array([np.datetime64(d, "D").astype(np.int64) for d in days])
    return Truth(
        pd.DataFrame({1: [region] * len(days)}), first, first.copy(), np.array(["x"] * len(days))
    )


def release(monthly_january: int | None) -> Release:
    """Two yearly exports whose windows start a month apart, and a monthly one with
    January and February hidden at k = 3 (and no "date not attributable" row: no record's dates
    straddle two months)."""
    out = Release()
    out.add(Export(1, Period.YEAR, start=JAN, end=DEC31), [("R1", JAN, "x", 7, True)])
    out.add(Export(1, Period.YEAR, start=FEB, end=DEC31), [("R1", JAN, "x", 5, True)])
    shown = {3: 3}
    months = [("R1", JAN, "x", monthly_january, True), ("R1", FEB, "x", None, True)]
    months += [("R1", dt.date(2024, m, 1), "x", shown.get(m, 0), True) for m in range(3, 13)]
    months += [("R1", None, "x", 7, False)]  # the region's total
    out.add(Export(1, Period.MONTH, k=3), months)
    return out


def test_without_the_monthly_export_a_date_range_could_explain_the_difference():
    """7 - 5 records start in January, but some may end in a later month: not pinned."""
    out = release(monthly_january=None)
    out.figures = [f for f in out.figures if f.export < 2] + [
        f for f in out.figures if f.export == 2 and f.period_start in (JAN, FEB)
    ]
    outcome = attack(Model(out, truth(DAYS)))
    assert (outcome.tried, outcome.pinned, outcome.by_differencing) == (2, 0, 0)


def test_differencing_two_windows_pins_the_month_they_differ_by():
    model = Model(release(monthly_january=None), truth(DAYS))
    model.check()
    outcome = attack(model)
    # January (2) is 7 - 5 (no record straddles months); February (2) is 7 - 2 - 3 (March)
    assert (outcome.tried, outcome.pinned, outcome.by_differencing, outcome.guessed) == (2, 2, 2, 2)


def test_nothing_pinned_when_only_one_export_is_published():
    out = Release()
    out.add(
        Export(1, Period.MONTH, start=JAN, end=dt.date(2024, 2, 29)),
        [("R1", JAN, "x", None, True), ("R1", FEB, "x", None, True), ("R1", None, "x", 4, False)],
    )
    model = Model(out, truth(DAYS[:4]))
    outcome = attack(model)
    assert (outcome.tried, outcome.pinned, outcome.by_differencing) == (2, 0, 0)
    assert outcome.chance == 2  # both are 2, the middle of 1..4 rounded down


def test_the_model_refuses_a_published_figure_it_cannot_reproduce():
    model = Model(release(monthly_january=3), truth(DAYS))  # January really holds 2
    try:
        model.check()
    except AssertionError as exc:
        assert "disagrees with 1 published figures" in str(exc) and "value=3" in str(exc)
    else:
        raise AssertionError("a wrong published figure went unnoticed")
