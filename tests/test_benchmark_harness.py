"""The benchmark harness, run tiny: its inputs are seeded and its correctness checks bite.

Speed is never asserted here (it lives in the harness output); these tests check that
the harness measures the right thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from benchmarks import data, pipelines
from crisismap.records import read as ingest

ROOT = Path(__file__).resolve().parents[1]


def command_caf() -> Path:
    return data.SHARED_DATA / "boundaries" / "caf_codab"


@pytest.fixture(scope="module")
def layer() -> data.Layer:
    return data.Layer("synth2", 2, data.synthetic_admin2(n_regions=40, depth=3))


@pytest.fixture(scope="module")
def csv_path(layer, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "incidents.csv"
    path.write_bytes(data.incidents_csv(layer, 3_000))
    return path


def test_synthetic_layer_is_seeded_and_a_clean_coverage(layer):
    again = data.synthetic_admin2(n_regions=40, depth=3)
    geoms = layer.frame.geometry.to_numpy()
    assert shapely.equals(geoms, again.geometry.to_numpy()).all()
    assert len(geoms) >= 40 and shapely.is_valid(geoms).all()
    # jagged shared borders: no gaps, no overlaps (areas add up to the frame's box)
    assert np.isclose(shapely.area(geoms).sum(), shapely.area(shapely.union_all(geoms)))
    assert np.isclose(shapely.area(geoms).sum(), 13 * 9)
    assert layer.vertices > 4 * 6 * len(geoms)  # Voronoi cells have ~6 edges, now jagged


def test_incidents_are_seeded_well_formed_and_quoted(layer):
    first = data.incidents_csv(layer, 500)
    assert first == data.incidents_csv(layer, 500)
    raw = ingest.read_csv_bytes(first)
    assert raw.n_records == 500 and raw.rejected == []
    assert raw.header == [
        "id", "date", "latitude", "longitude", "category", "victims", "description", "source"
    ]  # fmt: skip
    assert b'"' in first  # descriptions with commas are quoted


def test_defects_are_rejected_line_by_line(layer):
    raw = ingest.read_csv_bytes(data.incidents_csv(layer, 1_000, defects=0.02))
    codes = {r.problem.code for r in raw.rejected}
    assert codes == {"quote-malformed", "too-many-fields"}  # the stray quote meets a quoted value
    assert raw.n_records == 1_000


def test_crisismap_and_reference_agree_and_the_check_catches_a_wrong_region(layer, csv_path):
    ours = pipelines.crisismap(csv_path, layer.level, layer.frame)
    ref = pipelines.reference(csv_path, layer.frame)
    result, joined, summary = ours.result
    check = pipelines.agreement(result.records, joined, layer.level, ref.result[1])
    assert check.ok and check.mismatches == 0
    assert check.inside_same + check.outside_same + check.border == 3_000
    assert int(summary["incidents"].sum()) == 3_000
    assert set(ours.stages) == {"read", "validate", "join", "aggregate"}
    assert set(ref.stages) == {"read", "join", "aggregate"}
    # move one inside point to another region: the check must see it
    column = f"adm{layer.level}_code"
    wrong = joined.copy()
    row = int(np.flatnonzero(wrong[f"adm{layer.level}_match"] == "inside")[0])
    codes = wrong[column].astype(object).to_numpy(copy=True)
    codes[row] = next(c for c in layer.frame["code"] if c != codes[row])
    wrong[column] = codes
    broken = pipelines.agreement(result.records, wrong, layer.level, ref.result[1])
    assert broken.mismatches == 1 and not broken.ok
    assert broken.examples[0].startswith(f"line {row + 2}:")


def test_floor_reads_every_row(csv_path):
    assert pipelines.floor(csv_path).result.num_rows == 3_000


@pytest.mark.slow
def test_harness_documents_its_one_command():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    for option in (
        "--quick",
        "--sizes",
        "--repeats",
        "--map-sizes",
        "--dask-rows",
        "--command-sizes",
        "--only-command",
    ):
        assert option in proc.stdout


@pytest.mark.slow
def test_map_worker_rebuilds_the_page_for_every_widget_change(layer, csv_path):
    """The dashboard benchmark's widget changes all build a page (it once died on one)."""
    from benchmarks import worker
    from crisismap import dashboard, pipeline
    from crisismap.boundaries import BoundarySet

    bset = BoundarySet("synth2", "test", "seeded", {layer.level: layer.frame})
    analysis = pipeline.analyse(csv_path.read_bytes(), bset, filename=csv_path.name)
    periods = dashboard.period_labels(analysis, dashboard.View(layer.level))
    changes = [
        {"categories": dashboard.categories_of(analysis)[:1]},
        {"period": periods[len(periods) // 2]},
        {"period_unit": "week"},
        {"regions": [c for c, _ in dashboard.region_choices(analysis, layer.level)[:2]]},
    ]
    for widgets in changes:
        page = worker._build_view(dashboard, analysis, layer.level, widgets)
        assert page.level == layer.level and page.total_points > 0


def test_bbox_incidents_spread_over_the_whole_box(layer):
    raw = ingest.read_csv_bytes(data.incidents_csv(layer, 2_000, bbox=True))
    assert raw.n_records == 2_000 and raw.rejected == []
    assert data.incidents_csv(layer, 300, bbox=True) == data.incidents_csv(layer, 300, bbox=True)
    assert data.incidents_csv(layer, 300, bbox=True) != data.incidents_csv(layer, 300)
    assert data.incidents_path("caf3", 10, bbox=True).name == "incidents_caf3_bbox_10.csv"


def test_the_command_check_counts_cells_and_ignores_the_outside_rows(tmp_path):
    from benchmarks import command

    ours, ref = tmp_path / "ours.csv", tmp_path / "ref.csv"
    ours.write_text(
        "region_code,period,incidents\nCF1,2024-01,3\nCF1,2024-02,0\nCF2,2024-01,1\n"
        "__outside__,2024-01,9\n"
    )
    ref.write_text("region_code,period,incidents\nCF1,2024-01,3\nCF2,2024-01,2\n")
    check = command.agreement(ours, ref)
    assert check == {
        "cells": 2,
        "cells_differing": 1,
        "in_regions_crisismap": 4,
        "in_regions_reference": 5,
    }


@pytest.mark.slow
@pytest.mark.skipif(not command_caf().is_dir(), reason="needs ../shared/data")
def test_whole_command_mode_runs_both_commands_as_fresh_processes(tmp_path, capsys):
    from benchmarks import command

    layer = data.load_layer("caf3")
    path = tmp_path / "incidents.csv"
    path.write_bytes(data.incidents_csv(layer, 1_500, bbox=True))
    row = command.measure(path, repeats=1, compile_bytecode=False)
    assert row["size"] == 1_500
    assert row["check"]["cells_differing"] == 0
    assert 0 < row["check"]["in_regions_crisismap"] < 1_500  # about half lie outside CAF
    assert row["check"]["in_regions_crisismap"] == row["check"]["in_regions_reference"]
    for name in ("crisismap", "reference"):
        assert row[name]["median"] > row["startup"]["python"]["median"] > 0
        assert row[name]["peak_mb"] > 50  # geopandas alone is more than that
    assert set(row["bytecode"]) == {
        "PYTHONDONTWRITEBYTECODE",
        "site_packages_compiled",
        "crisismap_compiled",
    }
    assert row["first_run"]["seconds"] > 0 and row["ratio_whole"] > 0
    per_million = row["peak_gb_per_million"]["crisismap"]
    assert per_million == pytest.approx(row["crisismap"]["peak_mb"] / 1024 / 0.0015)
    command.print_command(row)
    assert f"crisismap {per_million:.2f} GB" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not command_caf().is_dir(), reason="needs ../shared/data")
def test_writer_mode_times_the_summary_and_the_join_table(tmp_path):
    from benchmarks import command

    path = tmp_path / "incidents.csv"
    path.write_bytes(data.incidents_csv(data.load_layer("caf3"), 800, bbox=True))
    row = command.writer(path, repeats=1)
    assert row["summary"]["rows"] == 25_000 and row["summary"]["identical"]
    assert row["join table"]["rows"] == 800
    assert row["join table"]["bytes"] > 800 * 17 * 3


def test_the_mostly_empty_fields_input_is_mostly_empty_quoted_fields():
    raw = ingest.read_csv_bytes(data.empty_fields_csv(50_000))
    assert raw.rejected == [] and len(raw.header) == 100 and len(raw.frame) > 100
    values = raw.frame.to_numpy().ravel()
    assert (values == "").mean() > 0.9
    assert data.empty_fields_csv(50_000).count(b'""') > 0.9 * values.size


def test_each_reading_memory_shape_is_the_shape_it_names():
    from benchmarks import reading
    from crisismap import records

    results = {s: records.validate_bytes(reading.generate(s, 40_000)) for s in reading.SHAPES}
    for shape, result in results.items():
        report = result.report
        assert report.records > 100 and report.accepted + report.rejected == report.records
        assert abs(len(reading.generate(shape, 40_000)) - 40_000) < 1_000, shape
    assert results["rejected"].report.accepted == 0
    assert results["warnings"].report.rejected == 0
    assert results["warnings"].report.warned == results["warnings"].report.records
    for shape in ("plain", "multiline"):
        assert results[shape].report.accepted == results[shape].report.records
        assert results[shape].report.warned == 0
    multiline = results["multiline"].records["description"]
    assert 0.005 < multiline.str.contains("\n").mean() < 0.02


# --- the public-figures section (benchmarks/public.py) ------------------------------------


@pytest.mark.slow
def test_public_benchmark_times_public_figures_in_a_fresh_process(shared_data, tmp_path):
    """Each case asks for public figures, and a run reports its own peak memory (VmHWM of
    the new process, not the runner's) and its exit."""
    from benchmarks import public

    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "id,date,latitude,longitude,category\n"
        "a,2024-01-05,4.40,18.55,killing\n"
        "b,2024-02-07,4.41,18.56,killing\n"
    )
    for case in public.cases():
        argv = public.command(case, incidents, tmp_path)
        assert argv[0] in ("summarize", "report") and "--internal" not in argv
        assert argv[0] == "report" or "--public" in argv
    case = next(c for c in public.cases() if c["input"][0] == "caf2")
    env = dict(
        os.environ,
        CRISISMAP_DATA_DIR=str(tmp_path / "data"),
        CRISISMAP_BENCH_PEAK=str(tmp_path / "peak"),
    )
    run = public.run_once(public.command(case, incidents, tmp_path), env, timeout=300)
    assert run["timed_out"] is None and run["seconds"] > 0
    assert 20 < run["peak_mb"] < 4000
    written = (tmp_path / "public.csv").read_text()
    assert '"suppressed"' in written.splitlines()[0]  # the public columns


@pytest.mark.slow
def test_public_benchmark_reference_counts_the_same_file_on_the_same_regions(
    shared_data, tmp_path, monkeypatch
):
    """The yardstick every public case is divided by: the analyst's script on the case's
    own incidents and regions (here two incidents in Bangui, two months)."""
    from benchmarks import public
    from benchmarks.command import timed_process

    monkeypatch.setattr(public.data, "OUT", tmp_path)  # the regions' file is written there
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "id,date,latitude,longitude,category\n"
        "a,2024-01-05,4.37,18.58,killing\n"
        "b,2024-02-07,4.37,18.58,killing\n"
    )
    run = timed_process(public.reference_command(incidents, "caf2", tmp_path), dict(os.environ))
    assert run is not None and run["seconds"] > 0
    rows = (tmp_path / "reference.csv").read_text().splitlines()
    assert rows[0] == "region_code,period,incidents"
    assert [r.split(",")[1:] for r in rows[1:]] == [["2024-01", "1"], ["2024-02", "1"]]
    assert rows[1].split(",")[0].startswith("CF")  # a CAF admin-2 pcode
