"""The internal records export: original columns, status, regions; CSV, GeoPackage, Parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from crisismap import dashboard, pipeline, record_table
from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.export import UTF8_BOM
from crisismap.schema import View

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"

# Two regions side by side: West x 0..1, East x 1..2 (y 0..1).
REGIONS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name, "level": 1},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]],
            },
        }
        for code, name, x in (("W", "West", 0), ("E", "East", 1))
    ],
}
CSV = (
    "id,date,latitude,longitude,category,status,line,note\n"
    'a1,2024-01-05,0.51234,0.51234,killing,open,x,=HYPERLINK("http://evil")\n'
    "a2,2024-01-06,0.51234,1.51234,detention,closed,y,café\n"
    "a3,2024-01-07,,1.51234,detention,open,z,no latitude\n"
    "a4,2024-02-01,0.5,5.0,killing,open,w,outside (low precision: a warning)\n"
).encode()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bounds")
    (folder / "adm1.geojson").write_text(json.dumps(REGIONS))
    bset = load_boundaries(str(folder / "adm1.geojson"))
    return pipeline.analyse(CSV, bset, filename="small.csv")


def test_every_record_with_its_original_columns_status_and_region(small):
    table = record_table.record_table(small, [("small.csv", CSV)])
    assert list(table.columns) == [
        "id",
        "date",
        "latitude",
        "longitude",
        "category",
        "status",
        "line",
        "note",
        "record_id",
        "crisismap_line",  # the file has its own line and status columns
        "crisismap_status",
        "warnings",
        "warning_codes",
        "reasons",
        "adm1_code",
        "adm1_name",
        "adm1_match",
    ]
    flat = table[["id", "crisismap_line", "crisismap_status", "adm1_code", "adm1_match"]]
    assert flat.astype(object).where(flat.notna(), None).values.tolist() == [
        ["a1", 2, "accepted", "W", "inside"],
        ["a2", 3, "accepted", "E", "inside"],
        ["a3", 4, "rejected", None, None],
        ["a4", 5, "warned", None, "outside"],  # outside every region: no code
    ]
    assert table.loc[2, "reasons"].startswith("coords-missing")
    assert table["warnings"].tolist()[:2] == [0, 0] and table.loc[3, "warnings"] == 2
    assert table["warning_codes"].isna().tolist() == [True, True, True, False]
    assert table.loc[3, "warning_codes"] == "coords-low-precision"  # two warnings, one code


def test_warning_codes_are_left_out_when_the_report_kept_only_its_first_problems(small):
    from dataclasses import replace

    capped = replace(small.report, problems=small.report.problems[:1])
    table = record_table.record_table(replace(small, report=capped), [("small.csv", CSV)])
    assert "warning_codes" not in table and table.loc[3, "warnings"] == 2
    assert table.loc[1, "note"] == "café" and table.loc[1, "status"] == "closed"  # as written


def test_csv_is_neutralised_and_can_start_with_a_bom(small):
    table = record_table.record_table(small, [("small.csv", CSV)])
    data = record_table.records_bytes(table, "csv", bom=True)
    assert data.startswith(UTF8_BOM)
    assert b'"\'=HYPERLINK(""http://evil"")"' in data  # a text, never a formula
    assert "café".encode() in data


@pytest.mark.parametrize("fmt", ["gpkg", "parquet"])
def test_gpkg_and_parquet_hold_points_in_epsg_4326(small, fmt):
    table = record_table.record_table(small, [("small.csv", CSV)])
    data = record_table.records_bytes(table, fmt)
    if fmt == "gpkg":
        frame = gpd.read_file(io.BytesIO(data), layer=record_table.LAYER)
    else:
        frame = gpd.read_parquet(io.BytesIO(data))
        metadata = pq.read_schema(io.BytesIO(data)).metadata
        assert metadata[b"crisismap_sensitivity"] == b"sensitive"
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.isna().tolist() == [False, False, True, False]  # rejected: none
    assert (frame.geometry.x[0], frame.geometry.y[0]) == (0.51234, 0.51234)
    assert list(frame["adm1_code"].astype(object).fillna("")) == ["W", "E", "", ""]
    assert list(frame["adm1_match"].astype(object).fillna("")) == [
        "inside",
        "inside",
        "",
        "outside",
    ]
    assert "note" in frame and "crisismap_status" in frame


def test_a_view_keeps_only_its_records_and_leaves_rejected_out(small):
    view = View.parse(level=1, period="month", categories=["detention"])
    rows = record_table.view_rows(small, view)
    table = record_table.record_table(small, [("small.csv", CSV)], rows=rows, rejected=False)
    assert table["id"].tolist() == ["a2"]


def test_several_files_say_which_file_each_record_came_from(small):
    other = CSV.replace(b"a1,", b"b1,").replace(b"a2,", b"b2,").replace(b"a4,", b"b4,")
    other = other.replace(b"a3,", b"b3,")
    analysis = pipeline.analyse_files([("one.csv", CSV), ("two.csv", other)], small.boundaries)
    table = record_table.record_table(analysis, [("one.csv", CSV), ("two.csv", other)])
    assert table[["id", "file"]].values.tolist() == [
        ["a1", "one.csv"],
        ["a2", "one.csv"],
        ["a3", "one.csv"],
        ["a4", "one.csv"],
        ["b1", "two.csv"],
        ["b2", "two.csv"],
        ["b3", "two.csv"],
        ["b4", "two.csv"],
    ]
    assert table.loc[table["id"] == "b3", "crisismap_status"].item() == "rejected"


def test_the_file_own_fid_and_geometry_columns_survive_in_a_geopackage(tmp_path):
    table = pd.DataFrame({"fid": ["x"], "geometry": ["y"], "id": ["1"]})
    table.attrs["points"] = pd.DataFrame({"lon": [1.0], "lat": [2.0]}).to_numpy()
    frame = gpd.read_file(io.BytesIO(record_table.records_bytes(table, "gpkg")))
    assert frame[["fid_original", "geometry_original", "id"]].values.tolist() == [["x", "y", "1"]]


# ----------------------------------------------------------------------------- dashboard


def test_the_dashboard_offers_the_view_records_only_in_internal_mode(small):
    page = dashboard.build_view(small, View.parse(level=1, period="month"))
    files = [("small.csv", CSV)]
    public = {i.label: i for i in dashboard.exports(small, page, files=files)}
    assert not any(label.startswith("Records") for label in public)
    internal = {i.label: i for i in dashboard.exports(small, page, public=False, files=files)}
    item = internal["Records (GeoPackage)"]
    assert item.filename == "SENSITIVE_records.gpkg"
    frame = gpd.read_file(io.BytesIO(item.make()))
    assert frame["id"].tolist() == ["a1", "a2", "a4"]  # the view's records, none rejected
    csv = internal["Records (CSV)"].make()
    assert csv.startswith(UTF8_BOM)  # CSV downloads are for Excel by default
    assert internal["Summary (CSV)"].make().startswith(UTF8_BOM)
    plain = dashboard.exports(small, page, public=False, files=files, bom=False)
    assert not next(i for i in plain if i.label == "Records (CSV)").make().startswith(UTF8_BOM)


# ----------------------------------------------------------------------------- the CLI


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_records_refuses_without_internal_and_writes_nothing(tmp_path, capsys):
    code, err = run(
        capsys, "records", DEMO, "--boundaries", "world:SDN", "--out", tmp_path / "r.gpkg"
    )
    assert code == 2 and "internal only: add --internal" in err and "SENSITIVE_r.gpkg" in err
    assert not list(tmp_path.iterdir())


def test_records_refuses_an_unknown_format(tmp_path, capsys):
    argv = ["records", DEMO, "--boundaries", "world:SDN", "--internal"]
    code, err = run(capsys, *argv, "--out", tmp_path / "r.xlsx")
    assert code == 2 and ".csv, .gpkg or .parquet" in err


@pytest.mark.slow
def test_records_demo_geopackage_opens_as_points_with_every_input_column(tmp_path, capsys):
    argv = ["records", DEMO, "--boundaries", "world:SDN", "--internal"]
    code, err = run(capsys, *argv, "--out", tmp_path / "r.gpkg")
    assert code == 0, err
    out = tmp_path / "SENSITIVE_r.gpkg"
    assert out.stat().st_mode & 0o777 == 0o600
    frame = gpd.read_file(out)
    header = DEMO.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert set(header) <= set(frame.columns)
    assert {"record_id", "line", "status", "warnings", "adm0_code", "adm1_code"} <= set(frame)
    assert {"adm1_name", "adm1_match"} <= set(frame)
    assert frame.crs.to_epsg() == 4326
    assert set(frame.geom_type.dropna()) == {"Point"}
    assert len(frame) == 3001  # every line of the demo: 2,996 accepted and 5 rejected
    assert (frame["status"] == "rejected").sum() == 5
    assert frame["adm1_name"].notna().sum() > 2900
    assert "wrote 3,001 records (2,993 accepted, 3 warned, 5 rejected)" in err


@pytest.mark.slow
def test_records_demo_csv_with_bom_and_parquet(tmp_path, capsys):
    argv = ["records", DEMO, "--boundaries", "world:SDN", "--internal", "--no-rejected"]
    code, err = run(capsys, *argv, "--bom", "--out", tmp_path / "r.csv")
    assert code == 0, err
    data = (tmp_path / "SENSITIVE_r.csv").read_bytes()
    assert data.startswith(UTF8_BOM)
    frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    assert len(frame) == 2996 and frame.columns[0] == "incident_id"
    code, err = run(capsys, *argv, "--out", tmp_path / "r.parquet")
    assert code == 0, err
    assert len(gpd.read_parquet(tmp_path / "SENSITIVE_r.parquet")) == 2996
