"""Boundary loading: field detection, repairs, parents, safety, and the real files.

Tiny hand-built files (unit squares around 30°E 50°N) check one behaviour each; the
real COD-AB, geoBoundaries and Natural Earth files in ../shared/data and the bundled
world set check the real world.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box, mapping

from crisismap.boundaries import (
    BoundarySet,
    country_codes,
    load_boundaries,
    read_boundary_bytes,
    subset,
)
from crisismap.errors import BoundaryError, UnsafeInputError
from crisismap.schema import BOUNDARY_COLUMNS

BOUNDARIES = "boundaries"


def feature_collection(rows: list[tuple[dict, object]], crs: str | None = None) -> dict:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": mapping(geom)}
            for props, geom in rows
        ],
    }
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return fc


def write_geojson(path: Path, rows: list[tuple[dict, object]], crs: str | None = None) -> Path:
    path.write_text(json.dumps(feature_collection(rows, crs)), encoding="utf-8")
    return path


def notes_text(bs: BoundarySet) -> str:
    return "\n".join(bs.notes)


# --- field detection and text codes -----------------------------------------------------


def test_cod_ab_geojson_fields_detected_and_pcodes_kept_as_text(tmp_path):
    path = write_geojson(
        tmp_path / "ukr_adm1.geojson",
        [
            ({"ADM1_PCODE": "UA01", "ADM1_EN": "Alpha", "ADM0_PCODE": "UA"}, box(30, 50, 31, 51)),
            ({"ADM1_PCODE": "UA02", "ADM1_EN": "Beta", "ADM0_PCODE": "UA"}, box(31, 50, 32, 51)),
        ],
    )
    bs = load_boundaries(path)
    frame = bs.level(1)
    assert bs.levels_available == [1]
    assert list(frame.columns[:4]) == list(BOUNDARY_COLUMNS)[:4]
    assert list(frame.columns[-2:]) == ["code_source", "geometry"]
    assert frame["code_source"].tolist() == ["p-code", "p-code"]  # the code kind chosen
    assert frame[["code", "name", "parent_code", "country"]].values.tolist() == [
        ["UA01", "Alpha", "UA", "UKR"],
        ["UA02", "Beta", "UA", "UKR"],
    ]
    assert frame.crs.to_epsg() == 4326
    assert bs.sha256 is not None and len(bs.sha256) == 64


def test_leading_zeros_survive_in_geojson_and_numeric_codes_are_flagged(tmp_path):
    text_codes = write_geojson(
        tmp_path / "adm2.geojson",
        [({"adm2_pcode": "007", "adm2_name": "Seven"}, box(30, 50, 31, 51))],
    )
    assert load_boundaries(text_codes).level(2)["code"].tolist() == ["007"]
    numeric = write_geojson(
        tmp_path / "numbers_adm2.geojson",
        [({"adm2_pcode": 7, "adm2_name": "Seven"}, box(30, 50, 31, 51))],
    )
    bs = load_boundaries(numeric)
    assert bs.level(2)["code"].tolist() == ["7"]
    assert "stored as numbers" in notes_text(bs)


def test_overrides_name_the_fields_and_level(tmp_path):
    path = write_geojson(
        tmp_path / "regions.geojson",
        [({"kod": "R-1", "nazva": "One"}, box(30, 50, 31, 51))],
    )
    with pytest.raises(BoundaryError, match="columns are kod, nazva. Rename the column"):
        load_boundaries(path)
    with pytest.raises(BoundaryError, match="name the file after its level"):
        load_boundaries(path, code_field="kod")
    bs = load_boundaries(path, level=1, code_field="kod", name_field="nazva", country="UKR")
    assert bs.level(1)[["code", "name", "country"]].values.tolist() == [["R-1", "One", "UKR"]]
    with pytest.raises(BoundaryError, match="'missing' is not in regions.geojson"):
        load_boundaries(path, level=1, code_field="missing")


def test_topojson_datamaps_style_hasc_ids_give_level_and_country(tmp_path):
    topo = {
        "type": "Topology",
        "objects": {
            "ukr": {
                "type": "GeometryCollection",
                "geometries": [
                    {
                        "type": "Polygon",
                        "id": "UA.KR",
                        "properties": {"name": "Crimea"},
                        "arcs": [[0]],
                    },
                    {
                        "type": "Polygon",
                        "id": "UA.MY",
                        "properties": {"name": "Mykolayiv"},
                        "arcs": [[1]],
                    },
                ],
            }
        },
        "arcs": [
            [[33, 45], [34, 45], [34, 46], [33, 46], [33, 45]],
            [[31, 46], [32, 46], [32, 47], [31, 47], [31, 46]],
        ],
    }
    path = tmp_path / "ukr.topo.json"
    path.write_text(json.dumps(topo))
    expected = [["UA.KR", "Crimea", "UKR"], ["UA.MY", "Mykolayiv", "UKR"]]
    frame = load_boundaries(path).level(1)
    assert frame[["code", "name", "country"]].values.tolist() == expected
    bs = read_boundary_bytes(gzip.compress(path.read_bytes()), "ukr.topo.json.gz")
    assert bs.name == "ukr"
    assert bs.level(1)[["code", "name", "country"]].values.tolist() == expected


def test_natural_earth_admin0_iso_gaps_are_filled():
    # naturalearth_lowres ships in pyogrio's wheel; France, Norway and Kosovo have iso_a3 -99.
    import pyogrio

    path = (
        Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp"
    )
    if not path.is_file():
        pytest.skip("pyogrio's naturalearth_lowres fixture is not installed")
    frame = load_boundaries(path).level(0).set_index("name")
    assert len(frame) == 177 and frame["code"].is_unique
    assert frame.loc[["France", "Norway", "Kosovo"], "code"].tolist() == ["FRA", "NOR", "XKX"]
    assert frame.loc[["N. Cyprus", "Somaliland"], "country"].tolist() == ["CYP", "SOM"]
    assert frame.loc["N. Cyprus", "code"] == "CYP-X1"


# --- geometry repairs, CRS and duplicates -----------------------------------------------


def test_reprojects_from_a_projected_crs(tmp_path):
    # UTM zone 36N: x = 500 000 m lies on the central meridian 33°E.
    utm = gpd.GeoDataFrame(
        {"ADM1_PCODE": ["UA71"], "ADM1_EN": ["Cherkasy"]},
        geometry=[box(500_000, 5_500_000, 510_000, 5_510_000)],
        crs="EPSG:32636",
    )
    path = tmp_path / "utm.gpkg"
    utm.to_file(path, driver="GPKG", layer="adm1")
    bs = load_boundaries(path)
    xmin, ymin, xmax, ymax = bs.level(1).total_bounds
    assert (round(xmin, 2), round(ymin, 2)) == (33.0, 49.65)
    assert xmax < 33.2 and ymax < 49.8
    assert "reprojected from EPSG:32636" in notes_text(bs)


def test_projected_coordinates_without_crs_are_refused(tmp_path):
    path = write_geojson(
        tmp_path / "adm1.geojson",
        [({"adm1_pcode": "X1", "adm1_name": "X"}, box(500_000, 5_500_000, 510_000, 5_510_000))],
    )
    # A GeoJSON without "crs" means lon/lat: GDAL reports EPSG:4326 and the range check refuses.
    with pytest.raises(BoundaryError, match="not longitude/latitude"):
        load_boundaries(path)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_assumes_lonlat_only_when_it_fits(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    frame = gpd.GeoDataFrame(
        {"adm1_pcode": ["A1"], "adm1_name": ["A"]}, geometry=[box(30, 50, 31, 51)], crs=None
    )
    frame.to_file(folder / "adm1.shp")
    bs = load_boundaries(folder / "adm1.shp")
    assert "EPSG:4326 was assumed" in notes_text(bs)
    frame.set_geometry([box(500_000, 5_500_000, 510_000, 5_510_000)]).to_file(folder / "adm1.shp")
    with pytest.raises(BoundaryError, match="no coordinate reference system"):
        load_boundaries(folder / "adm1.shp")


def test_invalid_geometry_is_repaired_with_a_note(tmp_path):
    bowtie = Polygon([(30, 50), (31, 51), (31, 50), (30, 51), (30, 50)])
    path = write_geojson(
        tmp_path / "adm1.geojson", [({"adm1_pcode": "B1", "adm1_name": "Bowtie"}, bowtie)]
    )
    bs = load_boundaries(path)
    geom = bs.level(1).geometry.iloc[0]
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    assert round(geom.area, 6) == 0.5
    assert "repaired 1 invalid geometry" in notes_text(bs)


def test_duplicate_codes_are_made_unique_and_parts_are_merged(tmp_path):
    path = write_geojson(
        tmp_path / "adm1.geojson",
        [
            ({"adm1_pcode": "D1", "adm1_name": "Dup"}, box(30, 50, 31, 51)),
            ({"adm1_pcode": "D1", "adm1_name": "Other"}, box(31, 50, 32, 51)),
            ({"adm1_pcode": "P1", "adm1_name": "Parts"}, box(32, 50, 33, 51)),
            ({"adm1_pcode": "P1", "adm1_name": "Parts"}, box(34, 50, 35, 51)),
        ],
    )
    bs = load_boundaries(path)
    frame = bs.level(1)
    assert frame[["code", "name"]].values.tolist() == [
        ["D1", "Dup"],
        ["D1_2", "Other"],
        ["P1", "Parts"],
    ]
    assert frame.geometry.iloc[2].geom_type == "MultiPolygon"
    assert "D1 -> D1_2 (Other)" in notes_text(bs)
    assert "merged 1 row repeating the code, name and parent" in notes_text(bs)


def test_features_without_code_or_name_get_derived_ones(tmp_path):
    path = write_geojson(
        tmp_path / "adm2.geojson",
        [
            ({"adm2_pcode": None, "adm2_name": "Named", "adm1_pcode": "P"}, box(30, 50, 31, 51)),
            ({"adm2_pcode": None, "adm2_name": None, "adm1_pcode": "P"}, box(31, 50, 32, 51)),
            ({"adm2_pcode": None, "adm2_name": "None", "adm1_pcode": "P"}, box(32, 50, 33, 51)),
            ({"adm2_pcode": "P01", "adm2_name": "Real", "adm1_pcode": "P"}, box(33, 50, 34, 51)),
        ],
    )
    bs = load_boundaries(path)
    frame = bs.level(2)
    assert frame[["code", "name"]].values.tolist() == [
        ["P-X1", "Named"],
        ["P-X2", "(unnamed P-X2)"],
        ["P01", "Real"],
    ]
    assert frame.geometry.iloc[1].area == 2  # the two unnamed parts of P are one region
    assert "3 rows without a code in adm2_pcode (2 without a name either" in notes_text(bs)


# --- parents ------------------------------------------------------------------------------


def test_parents_from_the_data_in_a_cod_ab_folder(tmp_path):
    write_geojson(
        tmp_path / "x_adm1.geojson",
        [
            ({"adm1_pcode": "X01", "adm1_name": "West", "adm0_pcode": "UA"}, box(30, 50, 31, 51)),
            ({"adm1_pcode": "X02", "adm1_name": "East", "adm0_pcode": "UA"}, box(31, 50, 32, 51)),
        ],
    )
    write_geojson(
        tmp_path / "x_adm2.geojson",
        [
            ({"adm2_pcode": "X0101", "adm2_name": "a", "adm1_pcode": "X01"}, box(30, 50, 30.5, 51)),
            ({"adm2_pcode": "X0201", "adm2_name": "b", "adm1_pcode": "X02"}, box(31, 50, 31.5, 51)),
        ],
    )
    (tmp_path / "README.txt").write_text("not boundaries")
    bs = load_boundaries(tmp_path)
    assert bs.levels_available == [1, 2]
    assert bs.level(2)[["code", "parent_code", "country"]].values.tolist() == [
        ["X0101", "X01", "UKR"],
        ["X0201", "X02", "UKR"],
    ]
    assert "parent codes taken from the data" in notes_text(bs)
    assert "README.txt" in notes_text(bs)


def test_parents_derived_spatially_for_geoboundaries(tmp_path):
    def gb(shape_id, name, level):
        return {
            "shapeID": shape_id,
            "shapeName": name,
            "shapeType": f"ADM{level}",
            "shapeGroup": "UKR",
            "shapeISO": "",
        }

    write_geojson(
        tmp_path / "geoBoundaries-UKR-ADM1.geojson",
        [(gb("A", "West", 1), box(30, 50, 31, 51)), (gb("B", "East", 1), box(31, 50, 32, 51))],
    )
    write_geojson(
        tmp_path / "geoBoundaries-UKR-ADM2.geojson",
        [
            (gb("a1", "inside west", 2), box(30.2, 50.2, 30.4, 50.4)),
            (gb("b1", "mostly east", 2), box(30.5, 50.2, 31.8, 50.4)),
            (gb("z1", "offshore", 2), box(40, 40, 41, 41)),
        ],
    )
    bs = load_boundaries(tmp_path)
    frame = bs.level(2)
    assert frame[["code", "parent_code"]].astype(object).fillna("-").values.tolist() == [
        ["a1", "A"],
        ["b1", "B"],
        ["z1", "-"],
    ]
    assert "derived spatially" in notes_text(bs)
    assert "1 region outside every level-1 region" in notes_text(bs)


def test_gpkg_with_one_layer_per_level(tmp_path):
    path = tmp_path / "cod.gpkg"
    gpd.GeoDataFrame(
        {"adm0_pcode": ["UA"], "adm0_name": ["Ukraine"], "iso3": ["UKR"]},
        geometry=[box(30, 50, 32, 51)],
        crs="EPSG:4326",
    ).to_file(path, layer="adm0", driver="GPKG")
    gpd.GeoDataFrame(
        {"adm1_pcode": ["UA01", "UA02"], "adm1_name": ["W", "E"], "adm0_pcode": ["UA", "UA"]},
        geometry=[box(30, 50, 31, 51), box(31, 50, 32, 51)],
        crs="EPSG:4326",
    ).to_file(path, layer="adm1", driver="GPKG")
    bs = load_boundaries(path)
    assert bs.levels_available == [0, 1]
    assert bs.level(0)[["code", "country"]].values.tolist() == [["UA", "UKR"]]
    assert bs.level(1)["parent_code"].tolist() == ["UA", "UA"]
    with pytest.raises(BoundaryError, match="available levels are 0, 1"):
        bs.level(3)


def test_zipped_shapefile_upload(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.GeoDataFrame(
        {"ADM1_PCODE": ["001", "002"], "ADM1_EN": ["One", "Two"]},
        geometry=[box(30, 50, 31, 51), box(31, 50, 32, 51)],
        crs="EPSG:4326",
    ).to_file(folder / "som_adm1.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, f"som/{part.name}")
        zf.writestr("__MACOSX/som/._som_adm1.shp", b"junk")
    bs = read_boundary_bytes(buffer.getvalue(), "som_adm1.zip")
    assert bs.name == "som_adm1"
    assert bs.level(1)[["code", "name"]].values.tolist() == [["001", "One"], ["002", "Two"]]


# --- safety ---------------------------------------------------------------------------------

VRT = b"""<OGRVRTDataSource>
  <OGRVRTLayer name="passwd"><SrcDataSource>CSV:/etc/passwd</SrcDataSource></OGRVRTLayer>
</OGRVRTDataSource>"""


def test_vrt_named_geojson_is_refused(tmp_path):
    path = tmp_path / "regions.geojson"
    path.write_bytes(VRT)
    for call in (lambda: load_boundaries(path), lambda: read_boundary_bytes(VRT, "x.geojson")):
        with pytest.raises(UnsafeInputError, match="OGR VRT") as info:
            call()
        assert "root:" not in str(info.value)


def test_vrt_inside_a_zip_or_gzip_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("adm1.geojson", VRT)
    with pytest.raises(UnsafeInputError, match="OGR VRT"):
        read_boundary_bytes(buffer.getvalue(), "adm1.zip")
    with pytest.raises(UnsafeInputError, match="OGR VRT"):
        read_boundary_bytes(gzip.compress(VRT), "adm1.topo.json.gz")


@pytest.mark.slow
def test_gdal_vrt_driver_is_skipped_when_crisismap_loads_first():
    code = "import crisismap.boundaries as b; print(b.gdal_vrt_disabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr


def test_zip_bomb_is_refused_fast():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("adm1.geojson", b"\0" * (64 * 1024**2))
    data = buffer.getvalue()
    assert len(data) < 200_000
    start = time.perf_counter()
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        read_boundary_bytes(data, "bomb.zip")
    assert time.perf_counter() - start < 1.0


def test_zip_expanding_past_the_limit_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("adm1.geojson", b"{}" * 5000)
    with pytest.raises(UnsafeInputError, match="would expand to"):
        read_boundary_bytes(buffer.getvalue(), "big.zip", max_expanded_bytes=1000)


@pytest.mark.parametrize("member", ["../evil.geojson", "/tmp/evil.geojson", "a/../../evil.geojson"])
def test_zip_slip_is_refused(tmp_path, member):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(member, b"{}")
    with pytest.raises(UnsafeInputError, match="zip-slip"):
        read_boundary_bytes(buffer.getvalue(), "slip.zip")
    assert not (tmp_path.parent / "evil.geojson").exists()


def test_nested_archives_and_oversized_inputs_are_refused():
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("adm1.geojson", b"{}")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    with pytest.raises(UnsafeInputError, match="another archive"):
        read_boundary_bytes(outer.getvalue(), "outer.zip")
    with pytest.raises(UnsafeInputError, match="limit is"):
        read_boundary_bytes(b"{" + b" " * 100 + b"}", "adm1.geojson", max_bytes=50)


def test_content_must_match_the_extension():
    with pytest.raises(BoundaryError, match="found geojson content in a .gpkg file"):
        read_boundary_bytes(b'{"type": "FeatureCollection", "features": []}', "x.gpkg")
    with pytest.raises(BoundaryError, match="unrecognised content"):
        read_boundary_bytes(b"id,name\n1,a\n", "regions.csv")


def test_upload_filename_cannot_escape_the_temp_dir(tmp_path):
    data = json.dumps(
        feature_collection([({"adm1_pcode": "Z1", "adm1_name": "Z"}, box(30, 50, 31, 51))])
    ).encode()
    bs = read_boundary_bytes(data, "../../etc/adm1.geojson")
    assert bs.level(1)["code"].tolist() == ["Z1"]
    assert bs.name == "adm1"


# --- the bundled world set ------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> BoundarySet:
    return load_boundaries("world")


def test_world_codes_are_unique_and_nested(world):
    admin0, admin1 = world.level(0), world.level(1)
    assert world.levels_available == [0, 1]
    for frame in (admin0, admin1):
        assert frame["code"].notna().all() and (frame["code"].str.len() > 0).all()
        assert frame["code"].is_unique
        assert frame["name"].notna().all()
        assert frame.crs.to_epsg() == 4326
    assert len(admin0) > 240 and len(admin1) > 4500
    assert admin1["country"].isin(admin0["code"]).all()
    assert (admin1["parent_code"] == admin1["country"]).all()
    assert admin0["parent_code"].isna().all()
    assert {"FRA", "NOR", "XKX", "SOM", "PSE"} <= set(admin0["code"])


def test_world_repeated_hasc_ids_get_distinct_codes(world):
    ukr = world.level(1).query("country == 'UKR'")
    for hasc in ("UA.MY", "UA.KM"):
        rows = ukr[ukr["hasc"] == hasc]
        assert len(rows) == 2 and rows["code"].nunique() == 2


def test_world_subset_ukraine():
    start = time.perf_counter()
    bs = load_boundaries("world:ukr")
    assert time.perf_counter() - start < 3
    regions = bs.level(1).set_index("name")["code"].to_dict()
    assert bs.name == "world:UKR" and len(regions) == 27
    assert regions["Kiev City"] == "UA-30"
    assert regions["Kiev"] == "UA-32"
    assert regions["Crimea"] == "UA-43"
    assert regions["Sevastopol"] == "UA-40"
    assert bs.level(0)["code"].tolist() == ["UKR"]
    assert country_codes(load_boundaries("world:UKR,SDN")) == ["SDN", "UKR"]


def test_world_unknown_country_is_a_clear_error():
    with pytest.raises(BoundaryError, match="Unknown country code 'XXX'"):
        load_boundaries("world:XXX")


def test_subset_of_a_loaded_set(world):
    part = subset(world, ["sd", "UKR"])
    assert country_codes(part) == ["SDN", "UKR"]
    assert part.name == "world:SDN,UKR"


# --- real files in ../shared/data -----------------------------------------------------------


@pytest.fixture(scope="module")
def caf(shared_data) -> BoundarySet:
    return load_boundaries(shared_data / BOUNDARIES / "caf_codab")


def test_cod_ab_caf_folder(caf, shared_data):
    assert caf.levels_available == [0, 1, 2, 3, 4]
    admin1 = caf.level(1)
    assert "CF62" in set(admin1["code"]) and admin1["code"].map(type).eq(str).all()
    assert admin1.set_index("code").loc["CF62", "name"] == "Mbomou"
    raw = gpd.read_parquet(shared_data / BOUNDARIES / "caf_codab" / "caf_admin2.parquet")
    expected = dict(zip(raw["adm2_pcode"], raw["adm1_pcode"], strict=True))
    admin2 = caf.level(2)
    assert dict(zip(admin2["code"], admin2["parent_code"], strict=True)) == expected
    assert caf.level(0)[["code", "country"]].values.tolist() == [["CF", "CAF"]]
    assert (caf.level(3)["parent_code"].isin(caf.level(2)["code"])).all()
    assert caf.level(4)["code"].is_unique
    assert "caf_admin2.geojson repeats level 2" in notes_text(caf)
    assert caf.version == "valid_on 2015-06-15, version_no 201506"
    assert caf.date == "2015-06-15 (COD-AB valid_on)"


def test_cod_ab_caf_admin2_geojson(shared_data):
    bs = load_boundaries(shared_data / BOUNDARIES / "caf_codab" / "caf_admin2.geojson")
    frame = bs.level(2)
    assert bs.levels_available == [2] and len(frame) == 72
    assert frame["code"].str.match(r"^CF\d{3}$").all()
    assert set(frame["parent_code"]) <= {f"CF{n}" for n in range(10, 80)}


def test_geoboundaries_yemen_folder(shared_data):
    bs = load_boundaries(shared_data / BOUNDARIES / "yem_geoboundaries")
    admin1, admin2 = bs.level(1), bs.level(2)
    assert (len(admin1), len(admin2)) == (22, 335)
    raw = gpd.read_file(
        shared_data / BOUNDARIES / "yem_geoboundaries" / "geoBoundaries-YEM-ADM1.geojson"
    )
    # ISO 3166-2 (shapeISO) where every region has one, else geoBoundaries' own shapeID
    assert set(admin1["code"]) == set(raw["shapeISO"]) and "YE-SA" in set(admin1["code"])
    assert set(admin1["shapeID"]) == set(raw["shapeID"])  # kept beside it
    assert set(admin1["code_source"]) == {"iso-3166-2"}
    assert set(admin2["code_source"]) == {"file-id"}  # ADM2 shapeISO is empty
    assert admin2["code"].str.fullmatch(r"\d+B\d+").all()
    assert admin2["parent_code"].isin(admin1["code"]).all()
    assert set(admin2["country"]) == {"YEM"}
    assert "parents derived spatially" in notes_text(bs)
    assert "code shapeISO (iso-3166-2)" in notes_text(bs)


@pytest.mark.slow
def test_natural_earth_world_admin1_gz_topojson(shared_data):
    path = (
        shared_data
        / BOUNDARIES
        / "world_ne_admin1"
        / "ne_10m_admin_1_states_provinces.topo.json.gz"
    )
    bs = load_boundaries(path)
    frame = bs.level(1)
    assert len(frame) == 4855 and frame["code"].is_unique
    assert frame.is_valid.all()
    assert frame.set_index("code").loc["AR-E", "name"] == "Entre Ríos"
    assert "EPSG:4326 was assumed" in notes_text(bs)
    assert "repaired 21 invalid geometries" in notes_text(bs)
    assert pd.api.types.is_string_dtype(frame["code"])
