"""The benchmark harness, run tiny: its inputs are seeded and its correctness checks bite.

Speed is never asserted here (it lives in the harness output); these tests check that
the harness measures the right thing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from benchmarks import data, pipelines
from crisismap.records import read as ingest

ROOT = Path(__file__).resolve().parents[1]


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
    for option in ("--quick", "--sizes", "--repeats", "--map-sizes", "--dask-rows"):
        assert option in proc.stdout


def test_the_mostly_empty_fields_input_is_mostly_empty_quoted_fields():
    raw = ingest.read_csv_bytes(data.empty_fields_csv(50_000))
    assert raw.rejected == [] and len(raw.header) == 100 and len(raw.frame) > 100
    values = raw.frame.to_numpy().ravel()
    assert (values == "").mean() > 0.9
    assert data.empty_fields_csv(50_000).count(b'""') > 0.9 * values.size
