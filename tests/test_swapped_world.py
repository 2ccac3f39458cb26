"""Swapped coordinates on a worldwide file: small-share countries are not evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crisismap import pipeline
from crisismap.boundaries import load_boundaries
from crisismap.cli import main

# (id, lat, lon, the country the record is really in)
MAIN = (
    [(f"SD{k}", 13.0 + (k % 10) * 0.1, 30.0 + (k % 7) * 0.1, "Sudan") for k in range(100)]
    + [(f"YE{k}", 15.2 + (k % 5) * 0.05, 44.1 + (k % 4) * 0.05, "Yemen") for k in range(100)]
    + [(f"UA{k}", 48.3 + (k % 6) * 0.05, 37.4 + (k % 5) * 0.05, "Ukraine") for k in range(100)]
)
SMALL_SHARE = [  # correct records in countries holding under 2 % of the file
    ("AUSTRIA", 47.5, 14.5, "Austria"),  # swapped: 14.5 N 47.5 E is in Yemen
    ("LIBYA", 27.0, 17.0, "Libya"),  # swapped: 17 N 27 E is in Sudan
    ("SOMALIA", 2.05, 45.32, "Somalia"),
    ("IRAN", 32.0, 53.0, "Iran"),
    ("BAHRAIN", 26.07, 50.55, "Bahrain"),
]
REALLY_SWAPPED = [  # written lon/lat
    ("SEA1", 34.0, 13.0, "Sudan"),  # 13 N 34 E written 34, 13: the Mediterranean
    ("SEA2", 35.0, 15.5, "Sudan"),  # 15.5 N 35 E written 35, 15.5: the sea south of Malta
    ("LAND", 44.2, 15.35, "Yemen"),  # Sana'a written lon/lat: lands in Croatia
]


def world_file(*, stated: bool) -> bytes:
    header = "id,event_date,latitude,longitude,event_type" + (",country" if stated else "")
    lines = [header]
    for k, (rid, lat, lon, country) in enumerate(MAIN + SMALL_SHARE + REALLY_SWAPPED):
        tail = f",{country}" if stated else ""
        lines.append(f"{rid},2024-01-{1 + k % 28:02d},{lat},{lon},Battles{tail}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def world():
    return load_boundaries("world")


def flagged(analysis) -> set[str]:
    return {p.record_id for p in analysis.report.problems if p.code == "coords-swapped"}


def test_without_stated_countries_only_points_in_the_sea_are_flagged(world):
    analysis = pipeline.analyse(world_file(stated=False), world, filename="world.csv")
    assert flagged(analysis) == {"SEA1", "SEA2"}  # LAND lands in Croatia: no evidence


def test_with_stated_countries_the_record_decides(world):
    analysis = pipeline.analyse(world_file(stated=True), world, filename="world.csv")
    assert flagged(analysis) == {"SEA1", "SEA2", "LAND"}
    problems = analysis.report.problems
    land = next(p for p in problems if p.record_id == "LAND" and p.code == "coords-swapped")
    assert "not where the record says it is (Yemen)" in land.message


def test_a_record_whose_stated_country_matches_is_never_flagged(world):
    rows = [("A", 47.5, 14.5, "Yemen")] * 60 + [("B", 47.5, 14.5, "Austria")]
    lines = ["id,date,lat,lon,category,country"]
    lines += [f"{r}{k},2024-01-01,{lat},{lon},x,{c}" for k, (r, lat, lon, c) in enumerate(rows)]
    analysis = pipeline.analyse(("\n".join(lines) + "\n").encode(), world, filename="a.csv")
    # the Yemen-stated ones are really swapped (14.5 N 47.5 E is in Yemen); B is in Austria
    assert flagged(analysis) == {f"A{k}" for k in range(60)}


def test_fixing_moves_only_the_flagged_records(world):
    analysis = pipeline.analyse(
        world_file(stated=True), world, filename="world.csv", fix_swapped=True
    )
    codes = dict(zip(analysis.records["id"], analysis.joined["adm0_code"], strict=True))
    assert (codes["SEA1"], codes["SEA2"], codes["LAND"]) == ("SDN", "SDN", "YEM")
    assert (codes["AUSTRIA"], codes["LIBYA"]) == ("AUT", "LBY")


def test_validate_says_it_does_not_check_against_boundaries(tmp_path: Path, capsys):
    path = tmp_path / "world.csv"
    path.write_bytes(world_file(stated=False))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "swapped coordinates and points outside every region are checked against" in out
    assert main(["validate", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["checked_against_boundaries"] is False


def test_the_cli_join_reports_what_the_dashboard_reports(tmp_path: Path, capsys, world):
    """The CLI's join/summarize/report and the dashboard run one analysis: one swapped count
    (only ``validate``, which has no boundaries, leaves it out, and says so)."""
    from crisismap import dashboard

    data = world_file(stated=True)
    path = tmp_path / "world.csv"
    path.write_bytes(data)
    out = tmp_path / "j.csv"
    assert main(["join", str(path), "--boundaries", "world", "--internal", "--out", str(out)]) == 0
    capsys.readouterr()
    shown = dashboard.analyse_files([("world.csv", data)], world)
    counted = pipeline.analyse(data, world, filename="world.csv")
    assert shown.report.counts == counted.report.counts
    assert shown.report.counts[("coords-swapped", "warning")] == 3
