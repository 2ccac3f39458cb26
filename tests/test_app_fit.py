"""The dashboard says how the boundaries and dates fit the records, and offers the choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import box, mapping
from streamlit.testing.v1 import AppTest

from crisismap import fit, pipeline
from crisismap.boundaries import load_boundaries
from crisismap.schema import View

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
UCDP = "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"


def _texts(at: AppTest) -> str:
    """Captions and warnings as plain text (the app escapes them for Markdown)."""
    return " ".join(e.value for e in [*at.caption, *at.warning]).replace("\\", "")


@pytest.mark.slow
def test_the_page_shows_vintage_outside_points_and_the_date_range_choice(shared_data):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    data = (shared_data / UCDP).read_bytes()
    at.file_uploader[0].set_value(("ucdp.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Boundaries: world: Natural Earth 10m admin-0/admin-1 v3.0.0" in text
    assert "dated 2013-06-02" in text
    assert "sit in 'date not attributable' at periods of one month" in text
    assert "Choose 'Count on the start date' or '… end date' under 'Columns and dates'" in text
    (choice,) = [r for r in at.radio if r.label == "Records dated over several days"]
    choice.set_value("start").run()
    assert not at.exception, at.exception
    assert "0 incidents (0 victims) sit in 'date not attributable'" in _texts(at)
    assert "counted on their start date, as chosen" in _texts(at)


def test_fit_messages_on_a_hand_built_coast(tmp_path):
    feature = {
        "type": "Feature",
        "properties": {"code": "XA", "name": "Coast"},
        "geometry": mapping(box(0, 0, 1, 1)),
    }
    path = tmp_path / "coast.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    own = load_boundaries(path, level=1, country="XXA")
    data = b"id,date,lat,lon\n1,2024-01-01,0.5,1.005\n2,2024-01-01,0.5,1.05\n3,2024-01-01,0.5,0.5\n"
    plain = fit.outside_points(pipeline.analyse(data, own))
    assert (plain.outside, plain.snapped, plain.snap_m) == (2, 0, None)
    assert "Snapping is off" in plain.message().text
    snapped = fit.outside_points(pipeline.analyse(data, own, snap_distance_m=1000))
    assert (snapped.outside, snapped.snapped) == (1, 1)
    assert "within 1,000 m (as asked" in snapped.message().text


def test_fit_counts_ucdp_not_attributable_by_month(shared_data):
    data = (shared_data / UCDP).read_bytes()
    analysis = pipeline.analyse(data, load_boundaries("world:UKR"))
    found = fit.unattributed(analysis, View.parse(level=1, period="month"))
    assert (found.incidents, found.victims, found.ranged, found.ranged_victims) == (
        87,
        1428,
        666,
        3487,
    )
    assert found.choice == "never"
    messages = fit.boundary_messages(analysis)
    assert messages[0].text.startswith("Boundaries: world:UKR: Natural Earth")
