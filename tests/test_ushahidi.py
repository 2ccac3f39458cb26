"""Ushahidi exports: the 2.x layout, the current platform's CSV, approval and verification."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crisismap import aggregate, dashboard, pipeline
from crisismap.cli import main
from crisismap.errors import InputError
from crisismap.records import validate_bytes
from crisismap.schema import View
from tests.test_category_split import USHAHIDI_2X_HEADER, ushahidi_2x

# Native post fields of the platform's export (ushahidi/platform FormAttributeRepository),
# then survey fields under their labels; a location field becomes "<label>.lat/.lon".
PLATFORM_HEADER = [
    "Post ID",
    "Post Status",
    "Created (UTC)",
    "Updated (UTC)",
    "Post Date (UTC)",
    "Contact ID",
    "Contact",
    "Sets",
    "Title",
    "Description",
    "Location.lat",
    "Location.lon",
    "Categories",
]


def platform_export() -> bytes:
    rows = [
        ["101", "published", "2019-05-01 10:00:00", "", "2019-05-01 09:00:00", "", "", "",
         "Clinic closed", "No staff", "12.35", "-1.52", "Health,Displacement"],
        ["102", "draft", "2019-05-02 10:00:00", "", "2019-05-02 09:00:00", "", "", "",
         "Roadblock", "Checkpoint", "12.36", "-1.53", "Displacement"],
        ["103", "archived", "2019-05-03 10:00:00", "", "2019-05-03 09:00:00", "", "", "",
         "Well dry", "", "12.37", "-1.54", "Health"],
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PLATFORM_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_ushahidi_2x_export_is_detected_with_serial_ids_and_flags():
    data, _ = ushahidi_2x(40)
    result = validate_bytes(data, filename="ushahidi.csv")
    report = result.report
    assert report.preset == "ushahidi"
    assert report.mapping["id"] == "#"
    assert report.mapping["approved"] == "APPROVED"
    assert report.mapping["verified"] == "VERIFIED"
    assert result.records["id"].tolist() == [str(i) for i in range(1, 41)]
    assert not result.records["id"].str.startswith("gen-").any()
    # every 4th record is verified (see ushahidi_2x): 30 of 40 are not
    assert result.records["verified"].tolist() == [i % 4 == 0 for i in range(40)]
    assert "30 of 40 records are not verified (column 'VERIFIED')." in report.notes
    assert "0 of 40 records are not approved (column 'APPROVED')." in report.notes


def test_serial_column_is_the_id_and_the_preset_can_be_forced():
    data, _ = ushahidi_2x(12)
    text = data.decode().replace("#,INCIDENT TITLE", "Serial,INCIDENT TITLE", 1)
    for preset in (None, "ushahidi"):
        result = validate_bytes(text.encode(), filename="u.csv", preset=preset)
        assert result.report.preset == "ushahidi"
        assert result.report.mapping["id"] == "Serial"
        assert result.records["id"].tolist()[:3] == ["1", "2", "3"]
    assert USHAHIDI_2X_HEADER[0] == "#"


def test_platform_export_maps_post_fields_and_reads_post_status_as_approval():
    result = validate_bytes(platform_export(), filename="platform.csv")
    mapping = result.report.mapping
    assert result.report.preset == "ushahidi"
    assert (mapping["id"], mapping["date"]) == ("Post ID", "Post Date (UTC)")
    assert (mapping["lat"], mapping["lon"]) == ("Location.lat", "Location.lon")
    assert mapping["approved"] == "Post Status"
    assert "verified" not in result.records.columns
    assert result.records["approved"].tolist() == [True, False, False]
    assert result.records["id"].tolist() == ["101", "102", "103"]
    assert "2 of 3 records are not approved (column 'Post Status')." in result.report.notes


def test_unreadable_flags_are_unknown_and_not_counted_as_approved():
    text = (
        "#,INCIDENT TITLE,INCIDENT DATE,CATEGORY,LATITUDE,LONGITUDE,APPROVED,VERIFIED\n"
        "1,a,2011-03-01,X,5.3,-4.0,YES,NO\n"
        "2,b,2011-03-02,X,5.3,-4.0,maybe,\n"
        "3,c,2011-03-03,X,5.3,-4.0,no,yes\n"
    )
    result = validate_bytes(text.encode(), filename="u.csv")
    assert result.records["approved"].tolist()[0] is True
    assert pd.isna(result.records["approved"].iloc[1])
    records = result.records
    joined = pd.DataFrame(index=records.index)
    rows = aggregate.select_rows(records, joined, None, level=None, approved_only=True)
    assert rows.tolist() == [0]
    rows = aggregate.select_rows(records, joined, None, level=None, verified_only=True)
    assert rows.tolist() == [2]
    both = aggregate.select_rows(
        records, joined, None, level=None, approved_only=True, verified_only=True
    )
    assert both.tolist() == []
    note = "1 of 3 records are not approved (column 'APPROVED'); 1 have no readable value"
    assert any(n.startswith(note) for n in result.report.notes)


def test_view_carries_the_flags_and_keeps_its_old_shape_when_they_are_off():
    view = View.parse(1, approved_only="yes", verified_only=False)
    assert view.approved_only and not view.verified_only
    assert view.filters()["approved_only"] is True and "verified_only" not in view.filters()
    assert view.with_(verified_only=True).verified_only
    assert "approved_only" not in View(1).to_dict()
    with pytest.raises(ValueError, match="Expected yes or no for verified_only"):
        View.parse(1, verified_only="perhaps")


@pytest.fixture(scope="module")
def civ_world():
    from crisismap.boundaries import load_boundaries

    return load_boundaries("world:CIV")


def test_verified_only_counts_fewer_records_through_the_pipeline(civ_world):
    data, _ = ushahidi_2x(40)
    analysis = pipeline.analyse(data, civ_world, filename="u.csv")
    everything = pipeline.summarize(analysis, View(0), by_category=False)
    verified = pipeline.summarize(analysis, View(0, verified_only=True), by_category=False)
    assert everything["incidents"].sum() == 40
    assert verified["incidents"].sum() == int(np.sum(analysis.records["verified"])) == 10
    assert dashboard.flag_filters(analysis) == ["approved", "verified"]
    assert any("not verified" in n for n in dashboard.flag_notes(analysis.report))


def test_a_filter_the_file_cannot_answer_is_a_sentence(civ_world):
    text = "id,date,lat,lon,category\n1,2011-03-01,5.3,-4.0,X\n"
    analysis = pipeline.analyse(text.encode(), civ_world, filename="plain.csv")
    assert dashboard.flag_filters(analysis) == []
    with pytest.raises(InputError, match="needs a column saying whether each record is verified"):
        pipeline.check_flag_filters(analysis, View(0, verified_only=True))


def test_cli_verified_only(tmp_path: Path, capsys):
    data, _ = ushahidi_2x(40)
    path = tmp_path / "ushahidi.csv"
    path.write_bytes(data)
    out = tmp_path / "verified.csv"
    argv = ["summarize", str(path), "--boundaries", "world:CIV", "--level", "0"]
    assert main([*argv, "--out", str(out), "--verified-only", "--no-categories", "--internal"]) == 0
    assert pd.read_csv(tmp_path / "SENSITIVE_verified.csv")["incidents"].sum() == 10
    plain = tmp_path / "plain.csv"
    plain.write_text("id,date,lat,lon,category\n1,2011-03-01,5.3,-4.0,X\n")
    code = main(["summarize", str(plain), *argv[2:], "--out", str(out), "--approved-only"])
    assert code == 2
    assert "needs a column saying whether each record is approved" in capsys.readouterr().err


@pytest.mark.slow
def test_app_offers_the_separator_and_the_approval_filters():
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP, TIMEOUT, metric, select

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not [c for c in at.checkbox if c.label == "Verified records only"]  # demo: no flag
    data, _ = ushahidi_2x(40)
    at.file_uploader[0].set_value(("ushahidi.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    assert metric(at, "Preset") == "ushahidi"
    categories = next(m for m in at.multiselect if m.label == "Categories")
    assert len(categories.options) == 10  # the bilingual labels, whole
    select(at, "Multi-label categories").set_value("|").run()
    categories = next(m for m in at.multiselect if m.label == "Categories")
    assert len(categories.options) > 10  # split inside the labels, as asked
    select(at, "Multi-label categories").set_value(None).run()
    verified = next(c for c in at.checkbox if c.label == "Verified records only")
    verified.check().run()
    assert not at.exception, at.exception
    assert any("10 incidents" in c.value for c in at.caption)
