"""Victims figures are labelled after what the source measures; none is "not reported"."""

from __future__ import annotations

import csv
import io
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from crisismap import pipeline, report
from crisismap.layers import build_map
from crisismap.schema import Period, View, victims_measure
from tests.test_bundle import squares


@pytest.mark.parametrize(
    ("column", "preset", "label", "words"),
    [
        ("fatalities", "acled", "Fatalities", "ACLED reported fatalities, combatants included"),
        ("best", "ucdp", "Deaths", "UCDP best estimate of deaths"),
        ("killed", "generic", "Deaths", "deaths as the file states them"),
        ("Casualties", None, "Casualties", "killed or injured"),
        ("nb_victims", "generic", "Victims", "column \u201cnb_victims\u201d"),
    ],
)
def test_the_label_follows_the_sources_column(column, preset, label, words):
    measure = victims_measure(column, preset)
    assert measure.reported and measure.label == label
    assert words in measure.note


def test_a_file_without_a_victims_column_says_not_reported():
    measure = victims_measure(None)
    assert not measure.reported
    assert measure.show(0) == "not reported"


def _csv(victims_column: str | None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    head = ["event_id", "event_date", "latitude", "longitude", "event_type"]
    writer.writerow(head + ([victims_column] if victims_column else []))
    for i in range(12):
        row = [f"e{i}", f"2024-01-{i + 1:02d}", "11.5", "30.5", "Battles"]
        writer.writerow(row + (["2"] if victims_column else []))
    return buffer.getvalue().encode()


def _pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture(scope="module")
def pdftotext():
    import shutil

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")


def test_the_brief_says_fatalities_for_an_acled_style_file(pdftotext):
    analysis = pipeline.analyse(_csv("fatalities"), squares(), filename="a.csv")
    assert pipeline.victims_measure(analysis).label == "Fatalities"
    figures = report.view_figures(analysis, View(1, Period.MONTH), public=False)
    text = " ".join(_pdf_text(report.render_pdf(analysis, figures, title="t")).split())
    assert "Fatalities" in text and "combatants included" in text
    assert "Victims" not in text.replace("victims or witnesses", "")


def test_the_brief_and_the_map_say_not_reported_without_a_column(pdftotext):
    analysis = pipeline.analyse(_csv(None), squares(), filename="a.csv")
    figures = report.view_figures(analysis, View(1, Period.MONTH), public=False)
    text = _pdf_text(report.render_pdf(analysis, figures, title="t"))
    assert "not reported" in text
    regions = gpd.GeoDataFrame(
        {"code": ["R1"], "name": ["North-West"], "incidents": [12], "victims": [0]},
        geometry=[shapely.box(30, 11, 31, 12)],
        crs=4326,
    )
    no_points = pd.DataFrame(columns=["id", "lat", "lon", "date", "category", "victims"])
    html = (
        build_map(regions, no_points, total_points=0, victims=pipeline.victims_measure(analysis))
        .get_root()
        .render()
    )
    assert '\\"not reported\\"' in html  # the tooltip's figure (JSON inside a string)
    hostile = victims_measure("<img src=x onerror=alert(1)>")
    assert hostile.label == "Victims"  # an unknown column keeps the plain label
