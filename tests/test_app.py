"""The app's wiring, through Streamlit's AppTest: upload, mapping, filters, level, isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.hostile import hostile_csv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 60
pytestmark = pytest.mark.slow  # every test runs the whole app script (~3 s each)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def top_regions(at: AppTest):
    """The top-regions table (the admin section's audit log may follow it)."""
    return next(d.value for d in reversed(at.dataframe) if "region_code" in d.value)


def select(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_demo_opens_with_its_validation_report(app):
    assert metric(app, "Records") == "3,001"
    assert metric(app, "Accepted") == "2,996"
    assert metric(app, "Rejected") == "5"
    assert any("synthetic demo file" in c.value for c in app.caption)
    top = top_regions(app)
    assert top.iloc[0]["name"] == "Khartoum"


def test_upload_changes_everything_and_the_mapping_can_be_overridden(app):
    data = (
        b"when,y,x,kind,dead\n"
        b"05/03/2024,15.6,32.5,killing,2\n"
        b"06/03/2024,13.63,25.35,killing,1\n"
        b"07/03/2024,12.05,24.88,detention,\n"
    )
    app.file_uploader[0].set_value(("mine.csv", data, "text/csv")).run()
    assert not app.exception, app.exception
    assert metric(app, "Records") == "3"
    # date order is ambiguous in this file: switching to month-first changes the dates
    next(r for r in app.radio if r.label.startswith("Ambiguous dates")).set_value("mdy").run()
    assert not app.exception, app.exception
    # map the category column explicitly
    select(app, "category column").set_value("kind").run()
    assert metric(app, "Accepted") == "3"
    cats = next(m for m in app.multiselect if m.label == "Categories")
    assert set(cats.options) == {"killing", "detention"}


def test_zero_accepted_records_says_so(app):
    data = b"id,date,latitude,longitude,category\n1,not a date,999,999,x\n"
    app.file_uploader[0].set_value(("bad.csv", data, "text/csv")).run()
    assert metric(app, "Accepted") == "0"
    assert any("0 of 1 records were accepted" in e.value for e in app.error)


def test_filters_and_level_change_the_tables(app):
    top_all = top_regions(app)
    cats = next(m for m in app.multiselect if m.label == "Categories")
    cats.set_value(["killing"]).run()
    top_killing = top_regions(app)
    assert top_killing["incidents"].sum() < top_all["incidents"].sum()
    select(app, "Admin level").set_value(0).run()
    assert not app.exception
    assert top_regions(app).iloc[0]["region_code"] == "SDN"


def test_sessions_do_not_see_each_others_uploads():
    first = AppTest.from_file(APP, default_timeout=TIMEOUT)
    first.run()
    first.file_uploader[0].set_value(("secret.csv", hostile_csv(), "text/csv")).run()
    assert metric(first, "Records") == "12"
    second = AppTest.from_file(APP, default_timeout=TIMEOUT)
    second.run()
    assert metric(second, "Records") == "3,001"
    shown = " ".join(str(df.value.to_dict()) for df in second.dataframe)
    assert "x0<img" not in shown


def test_uploads_can_be_saved_and_reopened_from_the_workspace(app):
    data = b"id,date,latitude,longitude,category\nw1,2024-03-05,15.6,32.5,killing\n"
    app.file_uploader[0].set_value(("saved.csv", data, "text/csv")).run()
    save = next(b for b in app.button if b.label == "Save uploads to the workspace")
    save.click().run()
    assert any("saved as" in s.value and "saved" in s.value for s in app.success)
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    fresh.run()
    saved = next(m for m in fresh.multiselect if m.label.startswith("Saved datasets"))
    mine = [o for o in saved.options if o.startswith("saved.csv")]
    assert mine
    saved.set_value([next(d for d in saved.options if d.startswith("saved.csv"))]).run()
    assert metric(fresh, "Records") == "1"


def test_the_change_panel_says_where_incidents_rose_or_fell(app):
    """The expander's table is the library's trend table of the same view."""
    sentence = next(c.value for c in app.caption if "rose above their usual level" in c.value)
    assert "against each region's previous 8 periods" in sentence
    table = next(d.value for d in app.dataframe if "status" in d.value and "p_rise" in d.value)
    assert len(table) > 0
    assert set(table["status"]) <= {
        "rising", "falling", "no clear change", "too little history", "not published"
    }  # fmt: skip
    baseline = next(n for n in app.number_input if n.label.startswith("Compare with"))
    baseline.set_value(3).run()
    assert not app.exception, app.exception
    assert any("previous 3 periods" in c.value for c in app.caption)


def test_a_link_opens_the_same_view_and_the_page_keeps_its_link_current():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["level"] = "1"
    at.query_params["unit"] = "quarter"
    at.query_params["cat"] = "killing"
    at.query_params["show"] = "2024-Q1"
    at.query_params["ds"] = "a-dataset-of-another-team"
    at.run()
    assert not at.exception, at.exception
    assert select(at, "Period").value.value == "quarter"
    assert next(m for m in at.multiselect if m.label == "Categories").value == ["killing"]
    assert next(s for s in at.select_slider if s.label == "Show").value == "2024-Q1"
    assert metric(at, "Records") == "3,001"  # the unknown dataset opened nothing: the demo
    select(at, "Period").set_value(
        next(p for p in select(at, "Period").options if "year" in str(p))
    )
    at.run()
    assert at.query_params["unit"] == ["year"] or at.query_params["unit"] == "year"
    assert "ds" not in at.query_params  # no saved dataset is open


def test_the_region_search_opens_the_region(app):
    search = select(app, "Find a region")
    khartoum = next(o for o in search.options if "Khartoum" in str(o))
    assert "admin-1" in khartoum
    search.set_value("SD-KH").run()
    assert not app.exception, app.exception
    assert any("Khartoum" in i.value for i in app.info)


def test_outlining_rising_and_falling_regions_on_the_map(app):
    toggle = next(t for t in app.toggle if t.label.startswith("Outline regions"))
    toggle.set_value(True).run()
    assert not app.exception, app.exception


def test_stated_names_disagreeing_with_the_boundaries_are_listed_as_text(app):
    data = (
        b"id,date,latitude,longitude,category,country,admin1\n"
        b"1,2024-03-01,15.6,32.5,killing,Sudan,North Darfur\n"
        b"2,2024-03-02,15.61,32.51,killing,Sudan,North Darfur\n"
        b"3,2024-03-03,15.62,32.52,killing,Sudan,Khartoum\n"
        b'4,2024-03-04,15.63,32.53,killing,Sudan,"<img src=x onerror=alert(1)>"\n'
    )
    app.file_uploader[0].set_value(("stated.csv", data, "text/csv")).run()
    assert not app.exception, app.exception
    panel = next(e for e in app.expander if e.label == "Stated names against the boundaries")
    agreement, pairs = (d.value for d in panel.dataframe)
    assert agreement.values.tolist() == [
        ["admin-0", 4, 4, 0, "100.0%"],
        ["admin-1", 4, 1, 3, "25.0%"],
    ]
    assert pairs.values.tolist() == [
        ["admin-1", "North Darfur", "North Darfur (SD-DN)", "Khartoum (SD-KH)", 2],
        ["admin-1", "<img src=x onerror=alert(1)>", "", "Khartoum (SD-KH)", 1],
    ]


def test_a_file_that_states_no_names_has_no_agreement_panel(app):
    data = b"id,date,latitude,longitude,category\n1,2024-03-01,15.6,32.5,killing\n"
    app.file_uploader[0].set_value(("plain.csv", data, "text/csv")).run()
    assert not app.exception, app.exception
    assert not [e for e in app.expander if e.label == "Stated names against the boundaries"]
