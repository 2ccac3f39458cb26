"""The dashboard's masked points: the choice, the id column, the warning, the bundle."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crisismap import dashboard, pipeline, publish
from crisismap.boundaries import load_boundaries
from crisismap.schema import View

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 60
SECRET = b"workspace secret used only in tests"
NO_ID = b"ref,date,latitude,longitude,category\n" + b"".join(
    b"R%d,2024-03-0%d,15.6,32.5,killing\n" % (n, n % 9 + 1) for n in range(8)
)


def select(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


@pytest.mark.slow
def test_points_without_ids_warn_and_the_id_column_is_the_mappings():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.file_uploader[0].set_value(("no-ids.csv", NO_ID, "text/csv")).run()
    assert not at.exception, at.exception
    assert not any("generated ids" in w.value for w in at.warning)  # no points, no warning
    select(at, "Incident points in the report bundle").set_value("displace").run()
    assert not at.exception, at.exception
    assert any("keyed on generated ids" in w.value for w in at.warning)
    select(at, "Id column for masked points").set_value("ref").run()
    assert not at.exception, at.exception
    assert select(at, "id column").value == "ref"  # the same mapping as the sidebar's
    assert not any("generated ids" in w.value for w in at.warning)


def test_the_dashboards_bundle_carries_masked_points_and_the_fingerprint():
    analysis = pipeline.analyse(NO_ID, load_boundaries("world:SDN"), filename="x.csv")
    page = dashboard.build_view(analysis, View.parse(level=1, period="month"))
    masking = dashboard.point_masking("displace")
    items = dashboard.exports(analysis, page, k=2, masking=masking, secret=lambda: SECRET)
    bundle = next(i for i in items if i.label == "Report bundle (ZIP)").make()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        said = json.loads(archive.read("manifest.json"))["parameters"]["publication"]["points"]
        assert "points.csv" in archive.namelist()
    assert said["secret_fingerprint"] == publish.secret_fingerprint(SECRET)
    assert said["generated_ids"] == said["points"] == 8
    assert dashboard.point_masking("none") is None
    assert "generated ids" in dashboard.generated_id_warning(analysis)
