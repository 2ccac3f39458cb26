"""Fetching current boundaries (geoBoundaries, COD-AB on HDX) once and using them offline.

Every request goes to a local server that answers like the real APIs
(tests/helpers/boundary_apis.py); the environment points crisismap at it, and an
autouse fixture makes sure no test can reach the real services.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from crisismap.boundaries import FetchSource, fetch_boundaries, list_fetched, load_boundaries
from crisismap.boundaries.download import Limits
from crisismap.boundaries.fetch import GEOBOUNDARIES_ENV, HDX_ENV
from crisismap.errors import BoundaryError, FetchError, InvalidValueError
from tests.helpers.appserver import free_port
from tests.helpers.boundary_apis import (
    Route,
    ckan_package,
    cod_geojson,
    cod_resource,
    fake_apis,
    geoboundaries_geojson,
    geoboundaries_meta,
    square,
    zipped,
)

GB = "/api/current/gbOpen"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both services point at a closed local port unless a test points them at its server."""
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(GEOBOUNDARIES_ENV, closed + GB)
    monkeypatch.setenv(HDX_ENV, closed)


@pytest.fixture
def apis(monkeypatch: pytest.MonkeyPatch):
    with fake_apis() as server:
        monkeypatch.setenv(GEOBOUNDARIES_ENV, server.base + GB)
        monkeypatch.setenv(HDX_ENV, server.base)
        yield server


ADM0 = geoboundaries_geojson("UKR", 0, [("UKR-0", "Ukraine", square(0, 0, 2))])
ADM1 = geoboundaries_geojson(
    "UKR", 1, [("UKR-1-A", "Kyivska", square(0, 0)), ("UKR-1-B", "Lvivska", square(1, 0))]
)


def serve_geoboundaries(apis, levels: dict[int, bytes], iso3: str = "UKR", **extra) -> None:
    for n, data in levels.items():
        url = apis.file(f"/files/{iso3}-ADM{n}.geojson", data)
        apis.json(f"{GB}/{iso3}/ADM{n}/", geoboundaries_meta(iso3, n, url, **extra))


def test_geoboundaries_fetch_keeps_files_vintage_and_licence_and_loads_offline(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0, 1: ADM1})

    result = fetch_boundaries("ukr", tmp_path, level=1)

    assert apis.asked == [
        f"{GB}/UKR/ADM0/",
        f"{GB}/UKR/ADM1/",
        "/files/UKR-ADM0.geojson",
        "/files/UKR-ADM1.geojson",
    ]
    folder = tmp_path / "fetched" / "geoboundaries-UKR"
    meta = json.loads((folder / "fetched.json").read_text())
    assert meta["iso3"] == "UKR" and meta["levels"] == [0, 1]
    assert "CC BY 3.0 IGO" in meta["licence"]
    assert meta["vintage"] == "boundaries as of 2022"
    assert meta["licence"].startswith("Creative Commons Attribution 3.0 Intergovernmental")
    assert [f["name"] for f in meta["files"]] == [
        "geoBoundaries-UKR-ADM0.geojson",
        "geoBoundaries-UKR-ADM1.geojson",
    ]
    assert meta["files"][1]["bytes"] == len(ADM1)
    assert meta["files"][1]["sha256"] == hashlib.sha256(ADM1).hexdigest()
    assert meta["files"][1]["url"].endswith("/files/UKR-ADM1.geojson")
    assert result.boundaries.name == "fetched:geoboundaries:UKR"
    apis.routes.clear()  # offline from here on: the server answers nothing

    again = load_boundaries("fetched:UKR", cache_dir=tmp_path)
    assert again.name == "fetched:geoboundaries:UKR"
    assert sorted(again.levels) == [0, 1]
    assert list(again.levels[1]["name"]) == ["Kyivska", "Lvivska"]
    assert "OCHA ROSEA" in again.source and "geoBoundaries gbOpen" in again.source
    assert again.version == "gbOpen build Dec 12, 2023"
    assert "Licence: Creative Commons Attribution 3.0" in again.notes[0]
    assert len(apis.asked) == 4  # loading asked nothing


def test_levels_from_other_sources_are_told_apart(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0})
    url = apis.file("/files/UKR-ADM1.geojson", ADM1)
    other = {"boundarySource": "OpenStreetMap", "boundaryLicense": "ODbL 1.0"}
    apis.json(
        f"{GB}/UKR/ADM1/",
        geoboundaries_meta("UKR", 1, url, boundaryYearRepresented="2020", **other),
    )

    meta = fetch_boundaries("UKR", tmp_path, level=1).fetched.meta

    assert meta["vintage"] == "boundaries as of ADM0: 2022, ADM1: 2020"
    assert meta["licence"] == (
        "ADM0: Creative Commons Attribution 3.0 Intergovernmental Organisations (CC BY 3.0 IGO); "
        "ADM1: ODbL 1.0 (the gbOpen product: CC BY 4.0)"
    )
    assert meta["source"].endswith(
        "; ADM0: OCHA ROSEA, State Statistics Service; ADM1: OpenStreetMap"
    )


def test_default_levels_stop_at_the_first_level_the_service_lacks(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0, 1: ADM1})  # no ADM2: 404 there

    result = fetch_boundaries("UKR", tmp_path)

    assert result.fetched.levels == [0, 1]
    assert f"{GB}/UKR/ADM2/" in apis.asked


def test_a_level_asked_for_that_the_service_lacks_is_a_sentence(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0, 1: ADM1})

    with pytest.raises(FetchError, match="no admin-2 boundaries for UKR.*--level 1 or less"):
        fetch_boundaries("UKR", tmp_path, level=2)
    assert list_fetched(tmp_path) == []


def test_a_fetch_again_replaces_the_earlier_one_only_when_it_succeeds(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0})
    fetch_boundaries("UKR", tmp_path, level=0)
    apis.file("/files/UKR-ADM0.geojson", b"<html>maintenance</html>")

    with pytest.raises(FetchError, match="cannot be used as boundaries.*XML"):
        fetch_boundaries("UKR", tmp_path, level=0)

    kept = load_boundaries("fetched:UKR", cache_dir=tmp_path)
    assert list(kept.levels[0]["name"]) == ["Ukraine"]
    assert [p.name for p in (tmp_path / "fetched").iterdir()] == ["geoboundaries-UKR"]


def test_an_unknown_country_code_is_refused_before_anything_leaves(apis, tmp_path):
    with pytest.raises(InvalidValueError, match="'XYZ' is not an ISO 3166-1 country code"):
        fetch_boundaries("XYZ", tmp_path)
    assert apis.asked == []


def test_a_country_the_service_does_not_have_is_a_sentence(apis, tmp_path):
    with pytest.raises(FetchError, match="geoBoundaries has no boundaries for ATA.*cod-ab"):
        fetch_boundaries("ATA", tmp_path)


def test_offline_is_a_sentence_that_points_to_what_still_works(tmp_path):
    with pytest.raises(FetchError, match="looks offline.*fetched:<ISO3>.*world:<ISO3>"):
        fetch_boundaries("UKR", tmp_path)
    assert list_fetched(tmp_path) == []


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"<html>Service unavailable</html>", "expected JSON, got '<html>"),
        (json.dumps({"boundaryISO": "UKR"}).encode(), "expected a gjDownloadURL field"),
        (json.dumps(["a", "b"]).encode(), "expected a JSON object, found list"),
    ],
)
def test_an_unexpected_answer_is_a_sentence(apis, tmp_path, answer, expected):
    apis.file(f"{GB}/UKR/ADM0/", answer)
    with pytest.raises(FetchError, match="answered something unexpected"):
        fetch_boundaries("UKR", tmp_path, level=0)
    with pytest.raises(FetchError, match=expected.replace("[", r"\[")):
        fetch_boundaries("UKR", tmp_path, level=0)


def test_another_countrys_answer_is_refused(apis, tmp_path):
    url = apis.file("/files/RUS-ADM0.geojson", ADM0)
    apis.json(f"{GB}/UKR/ADM0/", geoboundaries_meta("RUS", 0, url))
    with pytest.raises(FetchError, match="expected UKR ADM0, found RUS ADM0"):
        fetch_boundaries("UKR", tmp_path, level=0)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.geojson", "//x"])
def test_a_download_address_that_is_not_http_is_never_followed(apis, tmp_path, url):
    apis.json(f"{GB}/UKR/ADM0/", geoboundaries_meta("UKR", 0, url))
    with pytest.raises(FetchError, match="not an http\\(s\\) URL. Nothing was downloaded"):
        fetch_boundaries("UKR", tmp_path, level=0)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("ftp://example.org/x.geojson", "not an http\\(s\\) URL"),
        ("file:///etc/passwd", "Redirection to url 'file:///etc/passwd' is not allowed"),
    ],
)
def test_a_redirect_away_from_http_is_refused(apis, tmp_path, target, expected):
    apis.routes["/files/moved.geojson"] = Route(302, b"", {"Location": target})
    moved = apis.base + "/files/moved.geojson"
    apis.json(f"{GB}/UKR/ADM0/", geoboundaries_meta("UKR", 0, moved))
    with pytest.raises(FetchError, match=expected):
        fetch_boundaries("UKR", tmp_path, level=0)
    assert list_fetched(tmp_path) == []


def test_downloads_are_capped_by_size(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0})
    with pytest.raises(FetchError, match="was stopped: it is over .* MB"):
        fetch_boundaries("UKR", tmp_path, level=0, limits=Limits(max_bytes=len(ADM0) - 1))
    assert list_fetched(tmp_path) == []


def test_a_service_that_does_not_answer_in_time_is_a_sentence(apis, tmp_path):
    apis.routes[f"{GB}/UKR/ADM0/"] = Route(200, b"{}", delay_s=1.0)
    with pytest.raises(FetchError, match="Could not reach geoBoundaries.*timed out"):
        fetch_boundaries("UKR", tmp_path, level=0, limits=Limits(timeout_s=0.1))


def test_a_fetch_that_takes_too_long_is_stopped(apis, tmp_path):
    serve_geoboundaries(apis, {0: ADM0})
    with pytest.raises(FetchError, match="took longer than 0 s and was stopped"):
        fetch_boundaries("UKR", tmp_path, level=0, limits=Limits(deadline_s=0))
    assert list_fetched(tmp_path) == []


def test_the_level_must_be_an_admin_level(tmp_path):
    with pytest.raises(FetchError, match="--level expects an admin level from 0 to 5, got 9"):
        fetch_boundaries("UKR", tmp_path, level=9)


# ----------------------------------------------------------------------- COD-AB on HDX

COD0 = cod_geojson(0, [("UA", "Ukraine", "", square(0, 0, 2))])
COD1 = cod_geojson(
    1, [("UA01", "Kyivska", "UA", square(0, 0)), ("UA02", "Lvivska", "UA", square(1, 0))]
)
COD2 = cod_geojson(2, [("UA0101", "Bucha", "UA01", square(0, 0))])
PACKAGE = "/api/3/action/package_show?id=cod-ab-ukr"


def serve_cod(apis, archive: bytes, extra: list | None = None) -> None:
    url = apis.file("/dataset/cod-ab-ukr/ukr_admin_boundaries.geojson.zip", archive)
    resources = [
        cod_resource(apis.base + "/x.gdb.zip", "Geodatabase", "ukr_admin_boundaries.gdb.zip"),
        cod_resource(url, "GeoJSON", "ukr_admin_boundaries.geojson.zip"),
        cod_resource(apis.base + "/x.xlsx", "XLSX", "ukr_admin_boundaries.xlsx"),
        *(extra or []),
    ]
    apis.json(PACKAGE, ckan_package("UKR", resources))


def test_cod_ab_fetch_takes_the_geojson_zip_with_the_datasets_date_and_licence(apis, tmp_path):
    serve_cod(
        apis,
        zipped(
            {"ukr_admin0.geojson": COD0, "ukr_admin1.geojson": COD1, "ukr_admin2.geojson": COD2}
        ),
    )

    fetch_boundaries("UKR", tmp_path, source="cod-ab", level=1)

    assert apis.asked == [PACKAGE, "/dataset/cod-ab-ukr/ukr_admin_boundaries.geojson.zip"]
    bset = load_boundaries("fetched:cod-ab:UKR", cache_dir=tmp_path)
    assert sorted(bset.levels) == [0, 1]  # admin-2 was in the zip but not asked for
    assert list(bset.levels[1]["code"]) == ["UA01", "UA02"]
    assert bset.version == "cod-ab-ukr 2024-01-01 to 2024-04-16, updated 2024-05-02"
    assert "OCHA Field Information Services Section" in bset.source
    assert "Creative Commons Attribution for Intergovernmental Organisations" in bset.notes[0]
    assert any("Left out levels 2" in note for note in bset.notes)


def test_cod_ab_per_level_files_are_downloaded_only_up_to_the_level_asked(apis, tmp_path):
    resources = [
        cod_resource(apis.file(f"/d/ukr_admbnda_adm{n}.geojson", data), "GeoJSON", f"ukr_adm{n}")
        for n, data in enumerate([COD0, COD1, COD2])
    ]
    apis.json(PACKAGE, ckan_package("UKR", resources))

    fetch_boundaries("UKR", tmp_path, source="cod-ab", level=1)

    assert apis.asked == [PACKAGE, "/d/ukr_admbnda_adm0.geojson", "/d/ukr_admbnda_adm1.geojson"]


def test_cod_ab_missing_on_hdx_is_a_sentence(apis, tmp_path):
    apis.json(PACKAGE, {"success": False, "error": {"message": "Not found"}}, status=404)
    with pytest.raises(FetchError, match="HDX has no COD-AB dataset for UKR.*geoboundaries"):
        fetch_boundaries("UKR", tmp_path, source=FetchSource.COD_AB)


def test_cod_ab_with_only_formats_crisismap_cannot_read_is_a_sentence(apis, tmp_path):
    resources = [cod_resource(apis.base + "/x.gdb.zip", "Geodatabase", "x.gdb.zip")]
    apis.json(PACKAGE, ckan_package("UKR", resources))
    with pytest.raises(FetchError, match="offers Geodatabase; crisismap reads GeoJSON"):
        fetch_boundaries("UKR", tmp_path, source="cod-ab")


def test_cod_ab_zips_go_through_the_safe_zip_checks(apis, tmp_path):
    serve_cod(apis, zipped({"../../evil.geojson": COD0}))
    with pytest.raises(FetchError, match="zip-slip"):
        fetch_boundaries("UKR", tmp_path, source="cod-ab")
    assert list_fetched(tmp_path) == []
    assert not any((tmp_path / "fetched").iterdir())  # the temporary folder is gone


def test_an_unknown_source_lists_the_ones_there_are(tmp_path):
    with pytest.raises(InvalidValueError, match="expected one of geoboundaries, cod-ab"):
        fetch_boundaries("UKR", tmp_path, source="gadm")


# ----------------------------------------------------------------------- naming fetched sets


def test_fetched_names_need_the_cache_folder_and_a_country():
    with pytest.raises(BoundaryError, match="pass cache_dir"):
        load_boundaries("fetched:UKR")
    with pytest.raises(BoundaryError, match="expected 'fetched:<ISO3>' or 'fetched:<source>"):
        load_boundaries("fetched:", cache_dir="unused")


def test_fetched_names_say_what_to_do_when_missing_or_ambiguous(apis, tmp_path):
    with pytest.raises(BoundaryError, match="No boundaries for UKR have been fetched.*fetch UKR`"):
        load_boundaries("fetched:UKR", cache_dir=tmp_path)
    serve_geoboundaries(apis, {0: ADM0})
    fetch_boundaries("UKR", tmp_path, level=0)
    serve_cod(apis, zipped({"ukr_admin0.geojson": COD0}))
    fetch_boundaries("UKR", tmp_path, source="cod-ab", level=0)

    with pytest.raises(BoundaryError, match="could mean 2.*fetched:cod-ab:UKR or fetched:geob"):
        load_boundaries("fetched:UKR", cache_dir=tmp_path)
    assert (
        load_boundaries("fetched:geoboundaries:ukr", cache_dir=tmp_path).levels[0]["code"][0]
        == "UKR-0"
    )
    assert [f.name for f in list_fetched(tmp_path)] == [
        "fetched:cod-ab:UKR",
        "fetched:geoboundaries:UKR",
    ]
    with pytest.raises(BoundaryError, match="No cod-ab boundaries for SDN.*--source cod-ab`"):
        load_boundaries("fetched:cod-ab:SDN", cache_dir=tmp_path)


# ----------------------------------------------------------------------- the real world


@pytest.mark.slow
def test_real_geoboundaries_files_for_yemen(apis, tmp_path, shared_data: Path):
    """geoBoundaries' own Yemen ADM1 file (22 governorates), served as the API would."""
    data = (
        shared_data / "boundaries" / "yem_geoboundaries" / "geoBoundaries-YEM-ADM1.geojson"
    ).read_bytes()
    serve_geoboundaries(apis, {0: ADM0.replace(b"UKR", b"YEM"), 1: data}, iso3="YEM")

    fetch_boundaries("YEM", tmp_path, level=1)

    bset = load_boundaries("fetched:YEM", cache_dir=tmp_path)
    assert len(bset.levels[1]) == 22
    assert "amanat al asimah" in set(bset.levels[1]["name"])


@pytest.mark.slow
def test_real_cod_ab_as_a_zipped_shapefile_for_the_central_african_republic(
    apis, tmp_path, shared_data: Path
):
    """OCHA's CAF COD-AB admin 0-1 as HDX ships most COD-ABs: one zip of Shapefiles, with
    a line layer beside the polygons (left out: it is no admin level)."""
    import geopandas as gpd

    folder = tmp_path / "shp"
    folder.mkdir()
    for n in (0, 1):
        frame = gpd.read_parquet(shared_data / "boundaries" / "caf_codab" / f"caf_admin{n}.parquet")
        frame.to_file(folder / f"caf_admbnda_adm{n}.shp")
    lines = frame.set_geometry(frame.boundary)[["adm1_pcode", "geometry"]]
    lines.to_file(folder / "caf_admbndl_admALL.shp")
    archive = zipped({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    url = apis.file("/dataset/cod-ab-caf/caf_adm_shp.zip", archive)
    resources = [cod_resource(url, "SHP", "caf_adm_shp.zip")]
    apis.json("/api/3/action/package_show?id=cod-ab-caf", ckan_package("CAF", resources))

    fetch_boundaries("CAF", tmp_path / "cache", source="cod-ab", level=1)

    bset = load_boundaries("fetched:CAF", cache_dir=tmp_path / "cache")
    assert sorted(bset.levels) == [0, 1]
    assert len(bset.levels[1]) == 17
    assert bset.levels[1]["code"].str.startswith("CF").all()
    assert set(bset.levels[1]["parent_code"]) == set(bset.levels[0]["code"])
