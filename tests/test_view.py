"""The View value object: parsed once at the shells, passed inward unchanged."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from crisismap.schema import Period, View


def test_parse_reads_user_text_and_objects_alike():
    view = View.parse("2", "Quarter", "2024-1-5", pd.Timestamp("2024-03-31"), ["a"], "A1")
    assert view == View(
        level=2,
        period=Period.QUARTER,
        start=dt.date(2024, 1, 5),
        end=dt.date(2024, 3, 31),
        categories=("a",),
        regions=("A1",),
    )
    assert View.parse(1, start=dt.datetime(2024, 2, 1, 13, 5)).start == dt.date(2024, 2, 1)


def test_empty_filters_are_no_filters():
    view = View.parse(1, categories=[], regions=None, start="", end=None)
    assert view == View(1)
    assert view.filters() == {"start": None, "end": None, "categories": None, "regions": None}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": "two"}, "Expected an admin level such as 1 or 2, got 'two'"),
        ({"level": 1, "period": "fortnight"}, "expected one of day, week, acled-week"),
        ({"level": 1, "start": "05/03/2024"}, "Expected a date such as 2024-03-05 for start"),
        ({"level": 1, "start": "2024-03-02", "end": "2024-03-01"}, "swap start and end"),
    ],
)
def test_bad_values_say_what_was_expected_and_where(kwargs, message):
    with pytest.raises(ValueError, match=message):
        View.parse(**kwargs)


def test_with_changes_fields_and_refuses_unknown_ones():
    view = View.parse(1, "month", categories=["killing"])
    drilled = view.with_(level=2, regions=["A"])
    assert (drilled.level, drilled.regions, drilled.categories) == (2, ("A",), ("killing",))
    assert view.level == 1  # frozen: the original is unchanged
    with pytest.raises(TypeError, match="no field"):
        view.with_(colour="red")


def test_to_dict_is_json_ready():
    view = View.parse(1, "week", "2024-01-01", None, ["a", "b"])
    assert view.to_dict() == {
        "level": 1,
        "period": "week",
        "start": "2024-01-01",
        "end": None,
        "categories": ["a", "b"],
        "regions": None,
    }
