"""The command line contract, on the demo file and the real UCDP / COD-AB files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from crisismap.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_json_reports_counts_preset_and_mapping(capsys):
    code, out, _ = run(capsys, "validate", DEMO, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["records"] == 3001
    assert doc["accepted"] + doc["rejected"] == doc["records"]
    # the demo's documented defects: missing lat, 31/02, (0,0), lat 95, the extra-field line
    assert doc["rejected"] == 5
    assert doc["warnings"] >= 2
    assert doc["mapping"]["date"] == "date"
    assert doc["mapping"]["lat"] == "latitude"
    assert doc["preset"]
    assert doc["date_order"] == "dmy"


def test_validate_ucdp_file_is_detected_and_every_record_accounted(capsys, shared_data):
    path = shared_data / "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"
    code, out, _ = run(capsys, "validate", path, "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["records"] == 2989
    assert doc["accepted"] + doc["rejected"] == 2989
    assert "ucdp" in doc["preset"].lower()
    assert doc["mapping"]["lat"] == "latitude"
    assert doc["mapping"]["victims"] == "best"


def test_join_ucdp_to_world_ukr_agrees_with_stated_admin1(tmp_path, capsys, shared_data):
    path = shared_data / "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2021_hxl.csv"
    out = tmp_path / "joined.csv"
    code, _, err = run(
        capsys, "join", path, "--boundaries", "world:UKR", "--internal", "--out", out
    )
    assert code == 0, err
    assert not out.exists()  # internal: written as SENSITIVE_joined.csv
    joined = pd.read_csv(tmp_path / "SENSITIVE_joined.csv", dtype=str, keep_default_na=False)
    assert list(joined.columns[:2]) == ["id", "line"]
    for n in (0, 1):
        assert {f"adm{n}_code", f"adm{n}_name", f"adm{n}_match"} <= set(joined.columns)
    assert set(joined["adm1_match"]) <= {"inside", "border", "snapped", "outside", "imprecise"}
    source = pd.read_csv(path, dtype=str, keep_default_na=False, skiprows=[1])
    assert len(joined) == len(source)  # every UCDP record is accepted
    # stated adm_1 agrees for >= 99 % of the attributable records that state one
    merged = joined.merge(source[["id", "adm_1", "where_prec"]], on="id")
    stated = merged[(merged["adm_1"] != "") & (merged["adm1_match"] != "imprecise")]
    from crisismap.join.names import names_match

    agree = sum(
        names_match(a, b) for a, b in zip(stated["adm_1"], stated["adm1_name"], strict=True)
    )
    assert agree / len(stated) >= 0.99
    assert "agree" in err


def test_join_lines_point_at_the_records_in_the_file(tmp_path, capsys, shared_data):
    path = shared_data / "incidents/ucdp_ged_ukr/ucdp_ged_ukr_2014_2019_hxl_oldlayout.csv"
    out = tmp_path / "SENSITIVE_joined.csv"
    assert (
        run(capsys, "join", path, "--boundaries", "world:UKR", "--internal", "--out", out)[0] == 0
    )
    joined = pd.read_csv(out, dtype=str, keep_default_na=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = joined.iloc[0]
    assert lines[int(first["line"]) - 1].startswith(first["id"] + ",")


@pytest.mark.slow
def test_summarize_caf_codab_carries_pcodes_and_parents(tmp_path, capsys, shared_data):
    folder = shared_data / "boundaries/caf_codab"
    import geopandas as gpd

    adm2 = gpd.read_parquet(folder / "caf_admin2.parquet")
    inner = adm2.geometry.representative_point()
    csv = tmp_path / "caf.csv"
    pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(adm2))],
            "date": ["2024-03-05"] * len(adm2),
            "latitude": [f"{p.y:.5f}" for p in inner],
            "longitude": [f"{p.x:.5f}" for p in inner],
            "category": ["killing"] * len(adm2),
        }
    ).to_csv(csv, index=False)
    out = tmp_path / "summary.csv"
    code, _, err = run(
        capsys,
        "summarize",
        csv,
        "--boundaries",
        folder,
        "--level",
        "2",
        "--period",
        "month",
        "--internal",
        "--out",
        out,
    )
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "SENSITIVE_summary.csv", dtype=str, keep_default_na=False)
    real = summary[~summary["region_code"].str.startswith("__")]
    assert set(real["region_code"]) == set(adm2["adm2_pcode"])
    parents = dict(zip(adm2["adm2_pcode"], adm2["adm1_pcode"], strict=True))
    for code_, parent in zip(real["region_code"], real["parent_code"], strict=True):
        assert parents[code_] == parent
    assert real["incidents"].astype(int).sum() == len(adm2)
    manifest = json.loads((tmp_path / "SENSITIVE_summary.manifest.json").read_text())
    assert manifest["counts"]["accepted"] == len(adm2)
    assert manifest["inputs"][0]["sha256"] and manifest["inputs"][0]["name"] == "caf.csv"


@pytest.mark.parametrize("fmt", ["xlsx", "geojson"])
def test_summarize_other_formats_internal(tmp_path, capsys, fmt):
    out = tmp_path / f"summary.{fmt}"
    code, _, err = run(
        capsys,
        "summarize",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "1",
        "--period",
        "quarter",
        "--internal",
        "--out",
        out,
    )
    assert code == 0, err
    out = tmp_path / f"SENSITIVE_summary.{fmt}"
    assert out.stat().st_mode & 0o777 == 0o600
    if fmt == "xlsx":
        book = openpyxl.load_workbook(out)
        assert book.sheetnames == ["About", "Summary"]  # rejected records: only --rejected
        assert str(book["About"]["A2"].value).startswith("SENSITIVE - internal use only")
        assert all(c.data_type != "f" for row in book["Summary"].iter_rows() for c in row)
    else:
        doc = json.loads(out.read_text())
        assert doc["sensitivity"] == "sensitive" and doc["notice"].startswith("SENSITIVE")
        props = [f["properties"] for f in doc["features"]]
        # one feature per state × quarter × category that holds incidents
        keys = {(p["code"], p["period"], p["category"]) for p in props}
        assert len(keys) == len(props) and all(p["incidents"] > 0 for p in props)
        assert len({p["period"] for p in props}) > 1 and len({p["category"] for p in props}) > 1
        assert sum(p["incidents"] for p in props) > 2900


def test_summarize_names_a_missing_input_before_loading_boundaries(tmp_path, capsys):
    # the file is read only when its records are (its bytes are not kept while they are
    # checked), but a typo in its name is still the first thing said
    missing = tmp_path / "missing.csv"
    argv = ("summarize", missing, "--boundaries", "world:XXX", "--level", "1")
    code, _, err = run(capsys, *argv, "--out", tmp_path / "x.csv", "--internal")
    assert code == 2
    assert "missing.csv" in err and "does not exist" in err and "XXX" not in err


def test_bad_input_is_one_sentence_and_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "validate", tmp_path / "missing.csv")
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        "summarize",
        DEMO,
        "--boundaries",
        "world:XXX",
        "--level",
        "1",
        "--out",
        tmp_path / "x.csv",
    )
    assert code == 2 and "XXX" in err
    code, _, err = run(
        capsys,
        "summarize",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "7",
        "--out",
        tmp_path / "x.csv",
    )
    assert code == 2 and "level" in err.lower()


def test_console_script_runs():
    done = subprocess.run(
        [sys.executable, "-m", "crisismap.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "crisismap" in done.stdout


def test_console_entry_keeps_the_status_and_freezes_only_its_own_process(tmp_path):
    """The entry freezes what the command made out of the collector (its exit walked it
    all); bad input still exits 2, and an in-process main() freezes nothing."""
    import gc

    from crisismap.cli import common

    probe = (
        "import atexit, gc, sys; "
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0)); "
        "from crisismap.cli import run; run()"
    )
    env = {**os.environ, "CRISISMAP_DATA_DIR": str(tmp_path)}
    ok = subprocess.run(
        [sys.executable, "-c", probe, "validate", str(DEMO)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0 and "frozen True" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-c", probe, "validate", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    before = gc.get_freeze_count()
    assert main(["validate", str(DEMO)]) == 0
    assert gc.get_freeze_count() == before and not common.ONE_COMMAND


@pytest.mark.slow
def test_public_summary_suppresses_small_cells_and_internal_is_labelled(tmp_path, capsys):
    out = tmp_path / "public.csv"
    code, _, err = run(
        capsys,
        "summarize",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "1",
        "--period",
        "quarter",
        "--public",  # the old scripts' no-op alias: public is the default
        "--out",
        out,
    )
    assert code == 0, err
    cells = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "description" not in cells.columns and "source" not in cells.columns
    shown = cells.loc[cells["suppressed"] == "False", "incidents"].astype(int)
    assert not ((shown > 0) & (shown < 5)).any()
    assert (cells["suppressed"] == "True").any()
    manifest = json.loads((tmp_path / "public.manifest.json").read_text())
    assert manifest["parameters"]["publication"]["sensitivity"] == "public"
    internal = tmp_path / "internal.csv"
    argv = ("summarize", DEMO, "--boundaries", "world:SDN", "--level", "1", "--out", internal)
    assert run(capsys, *argv, "--internal")[0] == 0
    manifest = json.loads((tmp_path / "SENSITIVE_internal.manifest.json").read_text())
    assert manifest["parameters"]["sensitivity"].startswith("SENSITIVE")
    code, _, err = run(capsys, *argv, "--internal", "--public")
    assert code == 2 and "opposite" in err


@pytest.mark.slow
def test_report_bundle_from_the_command_line(tmp_path, capsys):
    import zipfile

    out = tmp_path / "report.zip"
    code, _, err = run(
        capsys,
        "report",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "1",
        "--period",
        "quarter",
        "--out",
        out,
    )
    assert code == 0, err
    names = zipfile.ZipFile(out).namelist()
    assert {"brief.pdf", "manifest.json", "regions.csv", "figures.xlsx"} <= set(names)
    code, _, err = run(
        capsys,
        "report",
        DEMO,
        "--boundaries",
        "world:SDN",
        "--level",
        "1",
        "--mask",
        "wobble",
        "--out",
        out,
    )
    assert code == 2 and "--mask expects" in err


def test_workspace_commands_add_list_rename_export_remove(tmp_path, capsys):
    """Files loaded from the command line are what the dashboard's saved-dataset list opens."""
    from crisismap.store import Workspace

    ws_dir = tmp_path / "ws"
    base = ("workspace", "--data-dir", str(ws_dir))
    code, out, _ = run(capsys, *base, "add", DEMO, "--name", "Demo batch")
    assert code == 0 and "3,001 records" in out and "5 rejected" in out
    dataset_id = out.split(" saved as ")[1].split()[0]
    infos = Workspace.open(ws_dir).list_datasets("incidents")
    assert [(i.id, i.name, i.report["records"]) for i in infos] == [
        (dataset_id, "Demo batch", 3001)
    ]
    code, out, _ = run(capsys, *base, "add", DEMO)  # the same bytes: not stored twice
    assert code == 0 and "already saved" in out and dataset_id in out
    code, out, _ = run(capsys, *base, "list", "--json")
    listed = json.loads(out)
    assert [d["id"] for d in listed] == [dataset_id] and listed[0]["report"]["rejected"] == 5
    assert run(capsys, *base, "rename", dataset_id, "Renamed")[0] == 0
    assert Workspace.open(ws_dir).info(dataset_id).name == "Renamed"
    copy = tmp_path / "copy.csv"
    assert run(capsys, *base, "export", dataset_id, str(copy))[0] == 0
    assert copy.read_bytes() == Path(DEMO).read_bytes()
    code, out, _ = run(capsys, *base, "check")
    assert code == 0 and "workspace OK" in out
    assert run(capsys, *base, "remove", dataset_id)[0] == 0
    assert Workspace.open(ws_dir).list_datasets() == []
    code, _, err = run(capsys, *base, "remove", dataset_id)
    assert code == 2 and dataset_id in err and "Traceback" not in err


def test_the_input_size_limit_is_the_users_to_raise(tmp_path, monkeypatch, capsys):
    """Batch work reads files over the dashboard's 200 MB upload cap when asked to; the
    refusal says how."""
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    size_mb = DEMO.stat().st_size / 1e6
    code = main(["validate", str(DEMO), "--max-size-mb", f"{size_mb / 2:.3f}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--max-size-mb" in err and "Traceback" not in err
    assert main(["validate", str(DEMO), "--max-size-mb", f"{size_mb * 2:.3f}"]) == 0
    assert main(["validate", str(DEMO), "--max-size-mb", "0"]) == 2
