"""Outputs that fit HDX, QGIS and Excel: HXL hashtag rows, a UTF-8 BOM, cell GeoJSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.export import (
    UTF8_BOM,
    cells_geojson_bytes,
    hxl_tags,
    to_csv_bytes,
    to_xlsx_bytes,
    with_bom,
    with_hxl_row,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


# ----------------------------------------------------------------------------- HXL and BOM


def test_hxl_tags_follow_hdx_conventions():
    columns = ["region_code", "region_name", "parent_code", "period", "period_start"]
    columns += ["period_end", "category", "incidents", "victims", "suppressed", "free"]
    assert hxl_tags(columns, level=2, period="month") == [
        "#adm2+code",
        "#adm2+name",
        "#adm1+code",
        "#date+month",
        "#date+start",
        "#date+end",
        "#event+type",
        "#event+num",
        "#affected+killed",
        "#meta+suppressed",
        "",  # a column HXL has no tag for stays untagged
    ]
    assert hxl_tags(["region_code", "parent_code"], level=1) == ["#adm1+code", "#country+code"]
    assert hxl_tags(["region_code", "region_name"], level=0) == ["#country+code", "#country+name"]
    assert hxl_tags(["period"], level=1, period="acled-week") == ["#date+acled_week"]


def test_hxl_row_goes_under_the_header_and_the_bom_stays_first():
    frame = pd.DataFrame({"region_code": ["A"], "incidents": [3]})
    data = with_bom(to_csv_bytes(frame))
    tagged = with_hxl_row(data, hxl_tags(frame.columns, level=1))
    assert tagged.startswith(UTF8_BOM) and with_bom(tagged) == tagged  # never twice
    lines = tagged[len(UTF8_BOM) :].decode("utf-8").split("\r\n")
    assert lines[:3] == ['"region_code","incidents"', '"#adm1+code","#event+num"', '"A","3"']
    back = pd.read_csv(io.BytesIO(tagged), encoding="utf-8-sig", skiprows=[1])
    assert back.to_dict("list") == {"region_code": ["A"], "incidents": [3]}


def test_xlsx_hxl_row_sits_between_header_and_data():
    frame = pd.DataFrame({"region_code": ["A", "B"], "incidents": [3, 4]})
    data = to_xlsx_bytes({"Cells": frame}, hxl={"Cells": ["#adm1+code", "#event+num"]})
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(io.BytesIO(data))["Cells"]]
    assert rows == [["region_code", "incidents"], ["#adm1+code", "#event+num"], ["A", 3], ["B", 4]]


# ----------------------------------------------------------------------------- GeoJSON


def _regions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["R1", "R2"],
            "name": ["North", "South"],
            "parent_code": ["C", "C"],
            "country": ["XXX", "XXX"],
        },
        geometry=[box(0, 1, 1, 2), box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )


def test_cells_geojson_has_one_feature_per_cell_and_keeps_hidden_figures_hidden():
    cells = pd.DataFrame(
        {
            "region_code": ["R1", "R1", "R2", "R2", "__outside__"],
            "region_name": ["North", "North", "South", "South", None],
            "period": ["2024-01", "2024-02", "2024-01", "2024-02", "2024-01"],
            "category": ["a", "b", "a", "a", "a"],
            "incidents": pd.array([7, None, 0, 6, 9], dtype="Int64"),
            "suppressed": [False, True, False, False, False],
        }
    )
    doc = json.loads(cells_geojson_bytes(_regions(), cells, level=1, members={"k": 5}))
    got = [
        (p["code"], p["period"], p["category"], p["incidents"], p["suppressed"])
        for p in (f["properties"] for f in doc["features"])
    ]
    # the zero is left out, the hidden figure stays null, outside has no geometry
    assert got == [
        ("R1", "2024-01", "a", 7, False),
        ("R1", "2024-02", "b", None, True),
        ("R2", "2024-02", "a", 6, False),
    ]
    assert doc["k"] == 5 and doc["features"][0]["properties"]["level"] == 1
    assert doc["features"][0]["geometry"]["type"] == "Polygon"


def test_cells_geojson_reads_back_as_boundaries(tmp_path):
    cells = pd.DataFrame(
        {
            "region_code": ["R1", "R1", "R2"],
            "region_name": ["North", "North", "South"],
            "period": ["2024-01", "2024-02", "2024-01"],
            "incidents": [1, 2, 3],
        }
    )
    path = tmp_path / "cells.geojson"
    path.write_bytes(cells_geojson_bytes(_regions(), cells, level=1))
    regions = load_boundaries(str(path)).levels[1]
    assert sorted(regions["code"]) == ["R1", "R2"]
    assert sorted(regions["name"]) == ["North", "South"]
    assert regions.crs.to_epsg() == 4326


# ----------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_summarize_public_geojson_carries_period_and_category_of_the_published_cells(
    tmp_path, capsys
):
    common = ["summarize", DEMO, "--boundaries", "world:SDN", "--level", 1]
    code, err = run(capsys, *common, "--out", tmp_path / "s.geojson")
    assert code == 0, err
    code, err = run(capsys, *common, "--out", tmp_path / "s.csv")
    assert code == 0, err
    doc = json.loads((tmp_path / "s.geojson").read_text())
    assert doc["sensitivity"] == "public"
    features = {
        (p["code"], p["period"], p["category"]): p
        for p in (f["properties"] for f in doc["features"])
    }
    cells = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    listed = cells[~cells["region_code"].str.startswith("__")]
    listed = listed[(listed["suppressed"] == "True") | (~listed["incidents"].isin(["", "0"]))]
    assert len(features) == len(listed) == len(doc["features"])
    for row in listed.itertuples():
        published = features[(row.region_code, row.period, row.category)]
        assert published["suppressed"] is (row.suppressed == "True")
        assert published["incidents"] == (int(row.incidents) if row.incidents else None)
    code, err = run(capsys, "boundaries", tmp_path / "s.geojson")
    assert code == 0, err


@pytest.mark.slow
def test_summarize_internal_geojson_without_categories_is_per_region_and_period(tmp_path, capsys):
    code, err = run(
        capsys,
        "summarize",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "1",
        "--internal",
        "--no-categories",
        "--out",
        tmp_path / "s.geojson",
    )
    assert code == 0, err
    doc = json.loads((tmp_path / "SENSITIVE_s.geojson").read_text())
    props = [f["properties"] for f in doc["features"]]
    assert props and all("category" not in p and p["period"] for p in props)
    assert len({(p["code"], p["period"]) for p in props}) == len(props)


@pytest.mark.slow
@pytest.mark.parametrize("internal", [False, True])
def test_summarize_hxl_csv_has_the_hashtag_row_and_bom(tmp_path, capsys, internal):
    extra = ["--internal"] if internal else []
    code, err = run(
        capsys,
        "summarize",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "1",
        "--hxl",
        "--bom",
        *extra,
        "--out",
        tmp_path / "h.csv",
    )
    assert code == 0, err
    data = (tmp_path / ("SENSITIVE_h.csv" if internal else "h.csv")).read_bytes()
    assert data.startswith(UTF8_BOM)
    tags = data.decode("utf-8-sig").split("\r\n")[1].split(",")
    assert tags[:2] == ['"#adm1+code"', '"#adm1+name"'] and '"#date+start"' in tags


@pytest.mark.slow
def test_summarize_hxl_xlsx_tags_the_cells_sheet(tmp_path, capsys):
    out = tmp_path / "h.xlsx"
    common = ["summarize", DEMO, "--boundaries", "world:SDN", "--level", 1, "--hxl"]
    code, err = run(capsys, *common, "--out", out)
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert book["Cells"]["A2"].value == "#adm1+code"
    assert book["About"]["A2"].value != "#adm1+code"  # no tag row on prose sheets


@pytest.mark.parametrize(
    ("option", "out", "says"),
    [("--hxl", "s.geojson", "--hxl adds a hashtag row"), ("--bom", "s.xlsx", "--bom marks")],
)
def test_table_options_refuse_formats_they_do_not_fit(tmp_path, capsys, option, out, says):
    argv = ["summarize", DEMO, "--boundaries", "world:SDN", "--level", 1, option]
    code, err = run(capsys, *argv, "--out", tmp_path / out)
    assert code == 2 and says in err and not list(tmp_path.iterdir())
