"""Overlap and gap checks, made once when a set is prepared: hand-built files, then the
real COD-AB CAF and geoBoundaries Yemen files (no significant overlap in either)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box, mapping

from crisismap import pipeline
from crisismap.boundaries import load_boundaries
from crisismap.boundaries.checks import MIN_KM2, MIN_SHARE, check_levels, summary_lines
from crisismap.cli import main


def _level(rows) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        [{"code": c, "name": n, "parent_code": p, "country": "XXA"} for c, n, p, _ in rows],
        geometry=[g for *_, g in rows],
        crs="EPSG:4326",
    )


def _file(path: Path, rows) -> Path:
    features = [
        {"type": "Feature", "properties": {"code": c, "name": n}, "geometry": mapping(g)}
        for c, n, g in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_overlaps_are_found_with_their_area_and_slivers_tolerated():
    level = _level(
        [
            ("A", "Alpha", None, box(0, 0, 1, 1)),
            ("B", "Beta", None, box(0.5, 0, 1.5, 1)),  # half of each overlaps the other
            ("C", "Gamma", None, box(1.4999, 1, 2, 2)),  # touches B's corner: nothing
            ("D", "Delta", None, box(5, 0, 6, 1)),
            ("E", "Epsilon", None, box(5.9995, 0, 7, 1)),  # 55 m wide sliver: tolerated
        ]
    )
    found = check_levels({1: level})["levels"]["1"]
    assert found["overlaps"] == 1
    (overlap,) = found["overlap_list"]
    assert (overlap["a_code"], overlap["b_code"], overlap["share"]) == ("A", "B", 0.5)
    assert 6100 < overlap["km2"] < 6200  # 0.5° × 1° at the equator: about 6,150 km²
    assert found["unnamed_covers"] == []


def test_children_escaping_their_parent_are_found():
    parents = _level([("P", "Parent", None, box(0, 0, 1, 1))])
    children = _level(
        [
            ("P1", "Inside", "P", box(0, 0, 0.5, 1)),
            ("P2", "Half out", "P", box(0.5, 0, 1.5, 1)),
            ("P3", "Sliver out", "P", box(0.5, 0, 1.0004, 0.5)),  # 0.08 % out: tolerated
        ]
    )
    found = check_levels({0: parents, 1: children})["levels"]["1"]
    assert [(e["code"], e["share"]) for e in found["escape_list"]] == [("P2", 0.5)]
    assert "Half out (P2) lies" in " ".join(summary_lines(check_levels({0: parents, 1: children})))


def test_an_unnamed_covering_polygon_is_left_out_of_the_join_unless_kept(tmp_path):
    path = _file(
        tmp_path / "xxa_adm1.geojson",
        [
            ("XA1", "Luhansk-like", box(0, 0, 1, 1)),
            ("XA2", "Donetsk-like", box(1, 0, 2, 1)),
            ("XA3", None, box(0.5, 0, 3, 1)),  # unnamed, over half of both and beyond
        ],
    )
    default = load_boundaries(path, level=1, country="XXA")
    kept = load_boundaries(path, level=1, country="XXA", keep_unnamed_overlaps=True)
    assert default.checks["levels"]["1"]["unnamed_covers"] == ["XA3"]
    assert list(kept.level(1)["code"]) == ["XA1", "XA2", "XA3"]
    assert list(default.level(1)["code"]) == ["XA1", "XA2"]
    assert any("Left out of the join: admin-1 XA3" in n for n in default.notes)
    points = pd.DataFrame({"id": [1, 2], "date": "2024-01-01", "lat": 0.5, "lon": [0.7, 2.5]})
    data = points.to_csv(index=False).encode()
    joined = pipeline.analyse(data, default).joined
    assert list(joined["adm1_match"].astype(str)) == ["inside", "outside"]
    assert joined["adm1_code"].iloc[0] == "XA1"
    # kept, the overlap makes the first point ambiguous ('border', as the issue saw)
    assert list(pipeline.analyse(data, kept).joined["adm1_match"].astype(str)) == [
        "border",
        "inside",
    ]


def test_the_checks_are_kept_with_the_prepared_set(tmp_path):
    path = _file(
        tmp_path / "xxa_adm1.geojson",
        [("XA1", "One", box(0, 0, 1, 1)), ("XA2", "Two", box(0.5, 0, 2, 1))],
    )
    cache = tmp_path / "cache"
    first = load_boundaries(path, level=1, country="XXA", cache_dir=cache)
    again = load_boundaries(path, level=1, country="XXA", cache_dir=cache)
    assert first.checks == again.checks
    assert again.checks["levels"]["1"]["overlaps"] == 1


def test_cli_boundaries_reports_the_checks_and_the_threshold(tmp_path, capsys):
    path = _file(
        tmp_path / "xxa_adm1.geojson",
        [("XA1", "One", box(0, 0, 1, 1)), ("XA2", "Two", box(0.5, 0, 2, 1))],
    )
    assert main(["boundaries", str(path)]) == 0
    out = capsys.readouterr().out
    assert "checks: 1 overlap, 0 regions partly outside their parent" in out
    assert f"under {MIN_SHARE:.0%} of the smaller region or under {MIN_KM2} km²" in out
    assert "check: Admin-1: One (XA1) and Two (XA2) overlap by" in out


def test_real_cod_ab_caf_has_no_overlap_and_no_escape(shared_data):
    caf = load_boundaries(shared_data / "boundaries" / "caf_codab")
    for level, item in caf.checks["levels"].items():
        assert (level, item["overlaps"], item["escapes"], item["unnamed_covers"]) == (
            level,
            0,
            0,
            [],
        )


def test_real_geoboundaries_yemen_has_no_overlap(shared_data):
    yem = load_boundaries(shared_data / "boundaries" / "yem_geoboundaries")
    assert [item["overlaps"] for item in yem.checks["levels"].values()] == [0, 0]
    # The ADM2 file is the simplified one, ADM1 the full one: simplification moves borders,
    # and 138 districts lie partly (at least 1 % and 0.1 km²) outside their governorate.
    assert yem.checks["levels"]["2"]["escapes"] == 138


def test_the_bundled_world_set_has_no_findings():
    world = load_boundaries("world:UKR,YEM")
    assert world.checks["levels"]["1"] == {
        "overlaps": 0,
        "overlap_list": [],
        "escapes": 0,
        "escape_list": [],
        "unnamed_covers": [],
    }
