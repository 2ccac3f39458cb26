"""The report bundle: reproducible bytes, one set of figures everywhere, nothing private leaks."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import shutil
import subprocess
import zipfile

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from crisismap import pipeline, publish, report
from crisismap.boundaries import BoundarySet, load_boundaries
from crisismap.errors import InvalidValueError
from crisismap.schema import Period, View
from tests.helpers.attacker import Attacker
from tests.helpers.hostile import PAYLOADS

SECRET = b"workspace secret used only in tests"
MONTHLY = View(1, Period.MONTH)
NAME_IN_TEXT = "Witness Jane Doe"
SOURCE_TEXT = "Radio Sentinel 99.1"


def squares() -> BoundarySet:
    """One country (AAA) of four 1° squares: R1 R2 on top, R3 R4 below."""
    cells = {"R1": (30, 11), "R2": (31, 11), "R3": (30, 10), "R4": (31, 10)}
    level1 = gpd.GeoDataFrame(
        {
            "code": list(cells),
            "name": ["North-West", "North-East", "South-West", "South-East"],
            "parent_code": "AAA",
            "country": "AAA",
        },
        geometry=[shapely.box(x, y, x + 1, y + 1) for x, y in cells.values()],
        crs=4326,
    )
    level0 = gpd.GeoDataFrame(
        {"code": ["AAA"], "name": ["Alphaland"], "parent_code": [None], "country": ["AAA"]},
        geometry=[shapely.box(30, 10, 32, 12)],
        crs=4326,
    )
    return BoundarySet(
        name="squares",
        source="hand-made squares (tests)",
        version="1",
        levels={0: level0, 1: level1},
        sha256="0" * 64,
    )


# (region corner lon, lat, category, how many per month Jan, Feb, Mar)
PLAN = [
    (30, 11, "killing", [7, 6, 8]),
    (31, 11, "detention", [5, 4, 3]),
    (30, 10, "killing", [1, 0, 2]),
    (31, 10, "killing", [3, 3, 2]),
    (31, 10, "detention", [1, 0, 0]),
]


def incidents_csv(extra_name: str = NAME_IN_TEXT) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["id", "date", "latitude", "longitude", "category", "victims", "description", "source"]
    )
    n = 0
    for lon, lat, category, months in PLAN:
        for month, count in enumerate(months, start=1):
            for i in range(count):
                n += 1
                writer.writerow(
                    [
                        f"case-{n:03d}",
                        f"2024-{month:02d}-{i + 1:02d}",
                        f"{lat + 0.1 + 0.02 * i:.4f}",
                        f"{lon + 0.1 + 0.03 * (n % 20):.4f}",
                        category,
                        str(n % 3),
                        f"{extra_name} saw it near the market",
                        SOURCE_TEXT,
                    ]
                )
    writer.writerow(["case-sea", "2024-02-10", "5.5000", "5.5000", "killing", "1", "x", "y"])
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def analysis() -> pipeline.Analysis:
    return pipeline.analyse(incidents_csv(), squares(), filename="cases.csv")


@pytest.fixture(scope="module")
def public_zip(analysis) -> bytes:
    return report.build_bundle(analysis, MONTHLY, title="Alphaland, Q1 2024")


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.fixture(scope="session")
def pdf_text():
    """Text of a PDF via poppler's pdftotext (CI must have poppler-utils)."""
    if not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("pdftotext (Debian package poppler-utils) is needed to read the PDF.")
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")

    def read(data: bytes) -> str:
        done = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")

    return read


def csv_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


# ----------------------------------------------------------------------------- contents


def test_bundle_holds_the_expected_files_in_a_fixed_order(public_zip):
    with zipfile.ZipFile(io.BytesIO(public_zip)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == [
        "README.txt",
        "brief.pdf",
        "regions.csv",
        "series.csv",
        "periods.csv",
        "totals.csv",
        "cells.csv",
        "data_quality.csv",
        "problems.csv",
        "figures.xlsx",
        "regions.geojson",
        "manifest.json",
    ]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_two_runs_give_identical_bytes(analysis, public_zip):
    again = report.build_bundle(analysis, MONTHLY, title="Alphaland, Q1 2024")
    assert again == public_zip


def test_a_bundle_whose_pdf_is_drawn_in_a_forked_child_is_the_same_bytes(analysis, public_zip):
    from crisismap import parallel, publish

    with parallel.processes_allowed():  # what the CLI does (two cores: a child draws the PDF)
        forked = report.build_bundle(
            analysis,
            MONTHLY,
            title="Alphaland, Q1 2024",
            figures=lambda: report.view_figures(analysis, MONTHLY, k=publish.DEFAULT_K),
        )
    assert forked == public_zip


def test_manifest_lists_every_input_and_output_with_its_hash(analysis, public_zip):
    files = unzip(public_zip)
    manifest = json.loads(files.pop("manifest.json"))
    assert manifest["sensitivity"] == "public"
    assert {o["name"]: o["sha256"] for o in manifest["outputs"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items()
    }
    assert manifest["inputs"][0] == {"name": "incident file 1"}  # no name, hash or size
    assert manifest["inputs"][1]["name"] == "boundaries:squares"
    params = manifest["parameters"]
    assert (params["level"], params["period"], params["title"]) == (
        1,
        "month",
        "Alphaland, Q1 2024",
    )
    suppression = params["publication"]["suppression"]
    assert suppression["k"] == 5 and suppression["suppressed_figures"] > 0
    assert "level_totals" not in manifest["counts"]  # unsuppressed per-level counts stay out
    assert manifest["software"]["name"] == "crisismap" and "reportlab" in manifest["environment"]


def test_figures_agree_between_pdf_csv_xlsx_and_geojson(public_zip, pdf_text):
    files = unzip(public_zip)
    regions = csv_frame(files["regions.csv"]).set_index("region_code")

    book = openpyxl.load_workbook(io.BytesIO(files["figures.xlsx"]))
    assert book.sheetnames[0] == "About"
    header, *rows = book["Regions"].values
    xlsx = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    geo = json.loads(files["regions.geojson"])
    geojson = {f["properties"]["code"]: f["properties"] for f in geo["features"]}
    text = pdf_text(files["brief.pdf"])

    for code, row in regions.iterrows():
        hidden = row["suppressed"] == "True"
        expected = None if hidden else int(row["incidents"])
        assert xlsx[code]["incidents"] == expected
        if code in geojson:
            assert geojson[code]["incidents"] == expected
            assert geojson[code]["suppressed"] is hidden
        name = row["region_name"] if not code.startswith("__") else "Outside all regions"
        shown = "x" if hidden else f"{expected:,}"
        victims = "x" if hidden else f"{float(row['victims']):,.0f}"
        if hidden or expected:
            line = next(line for line in text.splitlines() if line.strip().startswith(name))
            assert line.split()[-2:] == [shown, victims], line

    totals = csv_frame(files["totals.csv"]).set_index("category")
    grand = totals.loc["all categories"]
    assert f"{int(grand['incidents']):,}" in text.split("Incidents")[0]  # the key figure


def test_published_figures_keep_the_small_count_rule_and_resist_recovery(analysis):
    figures = report.view_figures(analysis, MONTHLY, k=5)
    for frame in [figures.cells, figures.regions, figures.series, figures.periods, figures.totals]:
        shown = frame.loc[~frame["suppressed"], "incidents"].astype(int)
        assert not ((shown > 0) & (shown < 5)).any()
    # South-West has 3 incidents: its total and cells are suppressed
    south_west = figures.regions.set_index("region_code").loc["R3"]
    assert south_west["suppressed"] and pd.isna(south_west["incidents"])
    protected = publish.suppress(
        pipeline.summarize(analysis, View(1, Period.MONTH)), k=5
    )  # what view_figures protects
    attacker = Attacker(protected)
    assert attacker.by_subtraction() == {} and attacker.by_intervals(lower=1.0) == {}


def test_pdf_has_title_period_sections_and_page_numbers(public_zip, pdf_text):
    text = pdf_text(unzip(public_zip)["brief.pdf"])
    for expected in [
        "Alphaland, Q1 2024",
        "2024-01-01 to 2024-03-31",
        "PUBLIC. Figures below 5 incidents are hidden",
        "Regional summary",
        "Incidents over time",
        "Data quality",
        "Records rejected",
        "Methodology",
        "Boundaries: squares (hand-made squares (tests); version 1; dated unknown)",
        "Incidents dated over several days count in a period only when the whole range lies",
        "Sources and attributions",
        "Page 1 of",
    ]:
        assert expected in " ".join(text.split()), expected


def test_public_bundle_leaks_no_free_text_sources_or_ids(public_zip, pdf_text):
    files = unzip(public_zip)
    texts = [pdf_text(files.pop("brief.pdf"))]
    with zipfile.ZipFile(io.BytesIO(files.pop("figures.xlsx"))) as book:
        texts += [book.read(n).decode("utf-8", "replace") for n in book.namelist()]
    texts += [data.decode("utf-8") for data in files.values()]
    everything = "\n".join(texts)
    for secret in [NAME_IN_TEXT, SOURCE_TEXT, "case-0", "near the market"]:
        assert secret not in everything, secret
    cells = csv_frame(unzip(public_zip)["cells.csv"])
    assert set(cells.columns) <= set(publish.PUBLIC_SUMMARY_COLUMNS)


def test_public_bundle_names_the_input_only_by_a_keyed_fingerprint(analysis, pdf_text):
    raw = incidents_csv()
    digest = hashlib.sha256(raw).hexdigest()
    public = unzip(report.build_bundle(analysis, MONTHLY, secret=SECRET))
    everything = b"".join(public.values())
    assert b"cases.csv" not in everything and digest.encode() not in everything
    assert "cases.csv" not in pdf_text(public["brief.pdf"])
    keyed = hmac.new(SECRET, bytes.fromhex(digest), hashlib.sha256).hexdigest()
    entry = json.loads(public["manifest.json"])["inputs"][0]
    assert entry["name"] == "incident file 1" and entry["fingerprint"] == f"hmac-sha256:{keyed}"
    internal = unzip(report.build_bundle(analysis, MONTHLY, public=False))
    entry = json.loads(internal["SENSITIVE_manifest.json"])["inputs"][0]
    assert entry == {"name": "cases.csv", "sha256": digest, "bytes": len(raw)}
    assert "cases.csv" in pdf_text(internal["SENSITIVE_brief.pdf"])


@pytest.mark.parametrize("k", [1, 0, -3])
def test_a_public_bundle_refuses_k_below_2(analysis, k):
    with pytest.raises(InvalidValueError, match="--internal"):
        report.build_bundle(analysis, MONTHLY, k=k)


def test_internal_bundle_is_labelled_sensitive_everywhere(analysis, pdf_text):
    files = unzip(report.build_bundle(analysis, MONTHLY, public=False))
    assert all(name.startswith("SENSITIVE_") for name in files)
    assert "Do not publish" in files["SENSITIVE_README.txt"].decode()
    assert json.loads(files["SENSITIVE_manifest.json"])["sensitivity"] == "sensitive"
    text = " ".join(pdf_text(files["SENSITIVE_brief.pdf"]).split())
    assert "SENSITIVE - internal use only" in text
    assert text.count("SENSITIVE - internal use only, do not publish") == text.count("Page ")
    book = openpyxl.load_workbook(io.BytesIO(files["SENSITIVE_figures.xlsx"]))
    assert book.sheetnames[0] == "About" and "Rejected records" not in book.sheetnames
    assert "SENSITIVE" in str(book["About"]["A3"].value)
    regions = csv_frame(files["SENSITIVE_regions.csv"]).set_index("region_code")
    assert regions.loc["R3", "incidents"] == "3"  # nothing suppressed internally
    assert report.bundle_filename(level=1, period="month", public=False).startswith("SENSITIVE_")


def test_masked_points_are_displaced_and_stripped(analysis):
    masking = publish.Masking(radius_m=5_000, min_radius_m=500)
    files = unzip(report.build_bundle(analysis, MONTHLY, masking=masking, secret=SECRET))
    points = csv_frame(files["points.csv"])
    assert set(points.columns) == {
        "period",
        "lat",
        "lon",
        "category",
        "victims",
        "adm0_code",
        "adm0_name",
        "adm1_code",
        "adm1_name",
    }
    # internal points keep the records' order: their displacement is measurable
    every = report.view_points(analysis, MONTHLY, masking=masking, secret=SECRET, public=False)
    truth = analysis.records.iloc[every.index]
    moved = Geod(ellps="WGS84").inv(truth["lon"], truth["lat"], every["lon"], every["lat"])[2]
    assert np.min(moved) >= 500 - 1 and np.max(moved) <= 5_000 + 1
    public = set(zip(points["lat"].astype(float), points["lon"].astype(float), strict=True))
    assert public < set(zip(every["lat"], every["lon"], strict=True))  # same key, fewer points
    everything = b"".join(files.values())
    assert (
        SECRET not in everything and hashlib.sha256(SECRET).hexdigest().encode() not in everything
    )
    settings = json.loads(files["manifest.json"])["parameters"]["publication"]["masking"]
    assert settings["method"] == "displace" and settings["min_radius_m"] == 500


def test_public_points_need_masking(analysis):
    with pytest.raises(ValueError, match="needs location masking"):
        report.view_points(analysis, MONTHLY, masking=None, secret=None)


def test_hostile_names_and_categories_stay_text(pdf_text):
    hostile = squares()
    level1 = hostile.levels[1].copy()
    level1["name"] = [PAYLOADS[0], "<b>bold</b> & co", "$x_1$ region", "_hidden"]
    hostile.levels[1] = level1
    data = incidents_csv().replace(b"killing", PAYLOADS[1].encode())
    data = data.replace(b"detention", b"$\\alpha$ arrests")
    analysis = pipeline.analyse(data, hostile, filename="hostile.csv")
    files = unzip(report.build_bundle(analysis, MONTHLY, public=False))
    text = " ".join(pdf_text(files["SENSITIVE_brief.pdf"]).split())
    assert "onerror=" in text and "<b>bold</b> & co" in text and "_hidden" in text


def test_an_empty_view_still_builds(analysis, pdf_text):
    files = unzip(report.build_bundle(analysis, MONTHLY.with_(start="2030-01-01")))
    assert "Regional summary" in pdf_text(files["brief.pdf"])
    totals = csv_frame(files["totals.csv"])
    assert totals["incidents"].tolist()[-1] == "0"


# ----------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_real_ucdp_ukraine_bundle(shared_data, pdf_text):
    path = shared_data / "incidents" / "ucdp_ged_ukr" / "ucdp_ged_ukr_2014_2021_hxl.csv"
    analysis = pipeline.analyse(path.read_bytes(), load_boundaries("world:UKR"), filename=path.name)
    data = report.build_bundle(analysis, View(1, Period.YEAR))
    files = unzip(data)
    text = " ".join(pdf_text(files["brief.pdf"]).split())
    assert "UCDP Georeferenced Event Dataset" in text and "Natural Earth" in text
    regions = csv_frame(files["regions.csv"]).set_index("region_code")
    donetsk = regions.loc["UA-14"]
    assert (
        donetsk["suppressed"] == "False" and f"Donets'k UA-14 {int(donetsk['incidents']):,}" in text
    )
    grand = csv_frame(files["totals.csv"]).set_index("category").loc["all categories"]
    assert int(grand["incidents"]) == 2989
    # the single non-state conflict incident of the file (Odessa, May 2014) stays hidden
    assert regions.loc["UA-51", "suppressed"] == "True"
    assert report.build_bundle(analysis, View(1, Period.YEAR)) == data
