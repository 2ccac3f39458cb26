"""The distributed engine gives exactly the single-machine figures (a small local cluster).

One in-process ``LocalCluster`` (two workers) serves the whole module; the code under
test connects to it by address, as it would to a real cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from crisismap import aggregate, distributed
from crisismap.boundaries import load_boundaries
from crisismap.cli import main
from crisismap.errors import InputError
from crisismap.join import locate as join
from crisismap.records import presets
from crisismap.records import read as ingest
from crisismap.records import validation as validate
from crisismap.schema import Period, View

# dask's own Parquet reader calls reset_index(inplace=True), deprecated by pandas 3.1
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


@pytest.fixture(scope="module")
def cluster():
    with distributed.local_cluster(2, processes=False) as address:
        yield address


def _levels() -> dict[int, gpd.GeoDataFrame]:
    """Two countries sharing the edge x = 2; A split at x = 1 into A1 and A2."""

    def frame(rows):
        return gpd.GeoDataFrame(
            {
                "code": [r[0] for r in rows],
                "name": [r[0].lower() for r in rows],
                "parent_code": pd.array([r[1] for r in rows], dtype="str"),
            },
            geometry=[shapely.box(*r[2]) for r in rows],
            crs="EPSG:4326",
        )

    return {
        0: frame([("A", None, (0, 0, 2, 2)), ("B", None, (2, 0, 4, 2))]),
        1: frame([("A1", "A", (0, 0, 1, 2)), ("A2", "A", (1, 0, 2, 2)), ("B1", "B", (2, 0, 4, 2))]),
    }


CSV = """id,date,latitude,longitude,category,victims
1,2024-01-05,0.5,0.5,killing,2
2,2024-01-20,0.5,1.0,killing; torture,
3,2024-02-03,1.5,2.0,torture,5
4,2024-02-10,1.5,3.5,looting,1
5,2024-03-01,5.5,5.5,killing,3
6,2024-03-15,1.5,0.25,,0
7,2024-02,1.5,1.5,looting,4
8,2024-01-30,1.25,3.75,killing,1
"""
# record 6 is located at country level only (admin level 0)
PRECISION = ["", "", "", "", "", "0", "", ""]


def _records() -> pd.DataFrame:
    lines = CSV.splitlines()
    text = "\n".join(
        [lines[0] + ",precision"]
        + [f"{line},{p}" for line, p in zip(lines[1:], PRECISION, strict=True)]
    )
    raw = ingest.read_csv_bytes(text.encode())
    mapping = presets.detect_mapping(
        raw.header,
        raw.hxl_tags,
        overrides={"location_precision": "precision"},
        precision_scheme="admin-level",
    )
    return validate.validate(raw, mapping).records


def _local(records, levels, **view):
    options = dict(view)
    by_category = options.pop("by_category", True)
    joined = join.join_points(records, levels)
    return aggregate.summarize(
        records, joined, levels, View.parse(**options), by_category=by_category
    )


@pytest.fixture(scope="module")
def partitions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    records = _records()
    paths = distributed.write_partitions(records, folder, rows_per_partition=3)
    return folder, records, paths


def test_partitions_hold_every_record_as_geoparquet(partitions):
    folder, records, paths = partitions
    assert [p.name for p in paths] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    back = pd.concat([gpd.read_parquet(p) for p in paths], ignore_index=True)
    assert back["id"].tolist() == records["id"].tolist() == [str(i) for i in range(1, 9)]
    assert back.crs.to_epsg() == 4326
    assert back.geometry.x.tolist() == records["lon"].tolist()


@pytest.mark.slow
@pytest.mark.parametrize(
    "view",
    [
        {"level": 1, "period": "month"},
        {"level": 0, "period": "month", "by_category": False},
        {"level": 1, "period": "week", "start": "2024-01-10", "end": "2024-02-29"},
        {"level": 1, "period": "quarter", "categories": ["torture"]},
        {"level": 1, "period": "month", "regions": ["A"]},
    ],
)
def test_cluster_figures_equal_the_single_machine_figures(partitions, cluster, view):
    folder, records, _ = partitions
    levels = _levels()
    got = _on_cluster(folder, levels, cluster, view)
    want = _local(records, levels, **view)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs


@pytest.mark.slow
def test_border_points_count_once_by_the_tie_rule_on_the_cluster(partitions, cluster):
    folder, _, _ = partitions
    got = distributed.summarize_parquet(
        folder, _levels(), View(1, Period.MONTH), by_category=False, scheduler=cluster
    )
    totals = got.groupby("region_code")["incidents"].sum().to_dict()
    # 2 on x = 1 goes to A1 (smallest code); 3 on x = 2 to country A (smallest code), then
    # to A2 (its parent is A); 7 ("2024-02") counts in February; 6 is known at country
    # level only.
    assert totals == {
        "A1": 2,  # 1, 2
        "A2": 2,  # 3, 7
        "B1": 2,  # 4, 8
        "__outside__": 1,  # 5
        "__not_attributable__": 1,  # 6
    }


@pytest.mark.slow
def test_real_ucdp_file_on_world_boundaries_matches_local(cluster, tmp_path, shared_data):
    path = shared_data / "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"
    raw = ingest.read_csv_file(path)
    records = validate.validate(raw, presets.detect_mapping(raw.header, raw.hxl_tags)).records
    levels = load_boundaries("world:UKR").levels
    distributed.write_partitions(records, tmp_path, rows_per_partition=700)
    view = {"level": 1, "period": "quarter"}
    got = _on_cluster(tmp_path, levels, cluster, view)
    want = _local(records, levels, **view)
    pd.testing.assert_frame_equal(got, want)
    assert got["incidents"].sum() >= len(records)  # multi-label rows may count twice
    assert (got["region_code"] == "__not_attributable__").any()  # where_prec 4-6


@pytest.mark.slow
def test_cli_dask_engine_writes_the_same_files_as_the_local_engine(cluster, tmp_path, capsys):
    source = tmp_path / "incidents.csv"
    source.write_text(CSV)
    boundaries = tmp_path / "adm1.geojson"
    _levels()[1].to_file(boundaries, driver="GeoJSON")
    outputs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        extra = ["--engine", "dask", "--scheduler", cluster] if engine == "dask" else []
        code = main(
            [
                "summarize",
                str(source),
                "--boundaries",
                str(boundaries),
                "--level",
                "1",
                "--internal",
                "--out",
                str(out),
                *extra,
            ]
        )
        assert code == 0, capsys.readouterr().err
        out = out.with_name(f"SENSITIVE_{engine}.csv")
        outputs[engine] = (
            out.read_bytes(),
            json.loads(out.with_suffix(".manifest.json").read_text()),
        )
    assert outputs["dask"][0] == outputs["local"][0]
    local, dask = outputs["local"][1], outputs["dask"][1]
    assert dask["counts"] == local["counts"]
    assert dask["parameters"]["engine"] == "dask"


def test_cli_dask_engine_refuses_what_it_cannot_do(tmp_path, capsys):
    out = tmp_path / "x.csv"
    code = main(
        ["summarize", str(tmp_path / "missing.csv"), "--boundaries", "world", "--level", "1",
         "--out", str(out), "--engine", "dask", "--fix-swapped", "--internal"]
    )  # fmt: skip
    assert code == 2
    assert "--fix-swapped is not available with --engine dask" in capsys.readouterr().err
    code = main(
        ["summarize", str(tmp_path / "missing.csv"), "--boundaries", "world", "--level", "1",
         "--out", str(out), "--engine", "dask"]
    )  # fmt: skip
    assert code == 2 and "add --internal" in capsys.readouterr().err


def test_missing_partitions_are_an_input_error(tmp_path):
    with pytest.raises(InputError, match="No Parquet partitions"):
        distributed.partition_paths(tmp_path / "nowhere")


@pytest.mark.slow
def test_partitions_folder_is_accepted_as_cli_input(partitions, cluster, tmp_path, capsys):
    folder, records, _ = partitions
    boundaries = tmp_path / "adm1.geojson"
    _levels()[1].to_file(boundaries, driver="GeoJSON")
    out = tmp_path / "from_parts.csv"
    code = main(
        ["summarize", str(folder), "--boundaries", str(boundaries), "--level", "1",
         "--out", str(out), "--engine", "dask", "--scheduler", cluster, "--internal"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    got = pd.read_csv(out.with_name("SENSITIVE_from_parts.csv"))
    # 8 records, record 2 in two categories
    assert int(got["incidents"].sum()) == 9


def _on_cluster(source, levels, cluster, view: dict):
    """``summarize_parquet`` for a view written as keyword arguments (as ``_local`` takes)."""
    options = dict(view)
    by_category = options.pop("by_category", True)
    return distributed.summarize_parquet(
        source, levels, View.parse(**options), by_category=by_category, scheduler=cluster
    )


# --- scratch partitions: only the needed columns, owner-only, never left behind ---------------

WITNESS = "Testimony of AMINA-7731 who saw the convoy"
RUN_UNTIL_KILLED = """
import sys, time
from crisismap import distributed
from crisismap.boundaries import load_boundaries
from crisismap.schema import View

def hold(message):
    if message.startswith("joining"):  # the partitions are written: wait to be killed
        print("written", flush=True)
        time.sleep(120)

distributed.summarize_input(
    sys.argv[1], load_boundaries(sys.argv[2]), View.parse(level=1), progress=hold
)
"""


@pytest.fixture
def inputs(tmp_path):
    """The test CSV with descriptions and sources, and its admin-1 boundaries."""
    lines = CSV.splitlines()
    rows = [f"{line},{WITNESS} {k},NGO field report {k}" for k, line in enumerate(lines[1:])]
    source = tmp_path / "incidents.csv"
    source.write_text("\n".join([lines[0] + ",description,source", *rows]) + "\n")
    boundaries = tmp_path / "adm1.geojson"
    _levels()[1].to_file(boundaries, driver="GeoJSON")
    return source, boundaries


def _scratch(data_dir) -> list:
    return sorted((data_dir / "tmp").glob("crisismap-partitions-*"))


@pytest.mark.slow
def test_scratch_partitions_hold_only_the_needed_columns_in_the_data_dir(
    cluster, inputs, tmp_path, monkeypatch
):
    import pyarrow.parquet as pq

    source, boundaries = inputs
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(data_dir))
    seen = {}

    def look(message: str) -> None:
        if message.startswith("joining"):
            (folder,) = _scratch(data_dir)
            seen["mode"] = folder.stat().st_mode & 0o777
            paths = sorted(folder.glob("*.parquet"))
            seen["columns"] = pq.read_schema(paths[0]).names
            seen["bytes"] = b"".join(p.read_bytes() for p in paths)
            seen["records"] = pd.concat([pd.read_parquet(p) for p in paths])

    result = distributed.summarize_input(
        source, load_boundaries(str(boundaries)), View.parse(level=1), scheduler=cluster,
        progress=look,
    )  # fmt: skip
    assert int(result.summary["incidents"].sum()) == 9
    assert seen["mode"] == 0o700
    assert seen["columns"] == [*distributed._NEEDED, "geometry"]
    assert len(seen["records"]) == 8  # every accepted record, without its words
    assert b"AMINA-7731" not in seen["bytes"] and b"NGO field report" not in seen["bytes"]
    assert _scratch(data_dir) == []


def _run_until_killed(inputs, data_dir):
    source, boundaries = inputs
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_UNTIL_KILLED, str(source), str(boundaries)],
        env={**os.environ, "CRISISMAP_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "written"
    (folder,) = _scratch(data_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet"]
    return proc, folder


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_by_a_signal_removes_its_partitions(inputs, tmp_path, signum):
    proc, folder = _run_until_killed(inputs, tmp_path / "data")
    proc.send_signal(signum)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not folder.exists() and _scratch(tmp_path / "data") == []


@pytest.mark.slow
def test_the_next_run_removes_what_a_sigkilled_run_left(cluster, inputs, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    proc, left = _run_until_killed(inputs, data_dir)
    proc.kill()
    proc.wait(timeout=60)
    assert left.exists()  # SIGKILL cannot be caught
    running = data_dir / "tmp" / f"crisismap-partitions-{distributed._owner_tag(os.getpid())}-x"
    running.mkdir()  # a run still going in this process: not an orphan
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(data_dir))
    source, boundaries = inputs
    distributed.summarize_input(
        source, load_boundaries(str(boundaries)), View.parse(level=1), scheduler=cluster
    )
    assert _scratch(data_dir) == [running]


@pytest.mark.slow
def test_cluster_names_regions_in_the_users_language_like_local(cluster, tmp_path, shared_data):
    """Workers count by region code; the names are put on in the caller's process, in the
    caller's language (a worker process would not know it): the same table as local, in
    Ukrainian for a Ukrainian user."""
    from crisismap import i18n

    path = shared_data / "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"
    raw = ingest.read_csv_file(path)
    records = validate.validate(raw, presets.detect_mapping(raw.header, raw.hxl_tags)).records
    levels = load_boundaries("world:UKR").levels
    distributed.write_partitions(records, tmp_path, rows_per_partition=700)
    view = {"level": 1, "period": "year"}
    with i18n.using("uk"):
        got = _on_cluster(tmp_path, levels, cluster, view)
        want = _local(records, levels, **view)
    pd.testing.assert_frame_equal(got, want)
    assert got["region_name"].astype(str).str.contains("Донецька").any()
