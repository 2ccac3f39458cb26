"""``crisismap report --mask``: one displacement secret per workspace, made with it, never
by an export; ``workspace init``; ``--id-column`` and the warning for generated ids."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pandas as pd
import pytest

from crisismap import publish
from crisismap.cli import main
from crisismap.store import Workspace

# (latitude, longitude) inside Kyiv city and Lviv oblast
PLACES = [(50.45, 30.52), (49.84, 24.03)]


def incidents(extra_column: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["ref", "date", "latitude", "longitude", "category", *(["notes"] * extra_column)]
    )
    for n in range(24):
        lat, lon = PLACES[n % 2]
        row = [f"R-{n:03d}", f"2023-{n % 3 + 1:02d}-1{n % 9}", lat + n * 0.001, lon, "shelling"]
        writer.writerow(row + (["added later"] if extra_column else []))
    return buffer.getvalue().encode()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("USER", "tester")
    return tmp_path / "data"


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def report(capsys, tmp_path, *extra: str, data: bytes | None = None, name: str = "r.zip"):
    source = tmp_path / "incidents.csv"
    source.write_bytes(data if data is not None else incidents())
    out = tmp_path / name
    options = ("--boundaries", "world:UKR", "--level", "1", "--period", "quarter", "--out", out)
    code, _, err = run(capsys, "report", source, *options, *extra)
    return code, err, out


def bundle_files(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_fresh_data_dir_cannot_make_displaced_points(tmp_path, capsys, data_dir):
    code, err, out = report(capsys, tmp_path, "--mask", "displace:5000")
    assert code == 2
    assert "no workspace" in err and "crisismap workspace init" in err
    assert not out.exists()
    assert not Workspace.exists(data_dir)  # nothing was created: running again refuses again
    assert report(capsys, tmp_path, "--mask", "displace:5000")[0] == 2


def test_workspace_init_makes_the_secret_once(capsys, data_dir):
    code, out, _ = run(capsys, "workspace", "init")
    assert code == 0 and "Created the workspace" in out
    fingerprint = publish.secret_fingerprint(Workspace.open(data_dir).secret)
    assert fingerprint in out
    code, again, _ = run(capsys, "workspace", "init")
    assert code == 0 and "already exists" in again and fingerprint in again
    assert Workspace.open(data_dir).secret_created is not None


@pytest.mark.slow
def test_report_names_the_secret_by_fingerprint_and_keeps_it(tmp_path, capsys, data_dir):
    run(capsys, "workspace", "init")
    secret = Workspace.open(data_dir).secret
    code, err, out = report(capsys, tmp_path, "--mask", "displace:5000", "--id-column", "ref")
    assert code == 0, err
    files = bundle_files(out)
    said = json.loads(files["manifest.json"])["parameters"]["publication"]["points"]
    assert said["secret_fingerprint"] == publish.secret_fingerprint(secret)
    assert said["secret_fingerprint"] in err
    assert secret.hex() not in json.dumps(said) and secret not in b"".join(files.values())
    code, _, second = report(capsys, tmp_path, "--mask", "displace:5000", "--id-column", "ref")
    assert bundle_files(second)["points.csv"] == files["points.csv"]  # the same draw


@pytest.mark.slow
def test_a_secret_made_during_the_export_is_refused(tmp_path, capsys, data_dir):
    """A workspace from before secrets were made at creation gets one when opened: an
    export that opens it must not use a secret that new."""
    ws = Workspace.open(data_dir)
    with sqlite3.connect(ws.db_path) as conn:
        conn.execute("DELETE FROM meta WHERE key IN ('secret', 'secret_created')")
    code, err, _ = report(capsys, tmp_path, "--mask", "displace:5000")
    assert code == 2 and "got its displacement secret just now" in err
    assert "crisismap workspace init" in err
    code, err, _ = report(capsys, tmp_path, "--mask", "displace:5000")
    assert code == 0, err  # the secret is the workspace's now, older than this export


@pytest.mark.slow
def test_rounding_needs_no_secret(tmp_path, capsys, data_dir):
    code, err, out = report(capsys, tmp_path, "--mask", "round:2")
    assert code == 0, err
    said = json.loads(bundle_files(out)["manifest.json"])["parameters"]["publication"]["points"]
    assert "secret_fingerprint" not in said


@pytest.mark.slow
def test_generated_ids_are_warned_about_and_an_id_column_keeps_points_still(
    tmp_path, capsys, data_dir
):
    run(capsys, "workspace", "init")
    code, err, plain = report(capsys, tmp_path, "--mask", "displace:5000")
    assert code == 0 and "keyed on generated ids" in err and "--id-column" in err
    code, err, widened = report(
        capsys, tmp_path, "--mask", "displace:5000", data=incidents(True), name="w.zip"
    )
    moved = [bundle_files(p)["points.csv"] for p in (plain, widened)]
    assert moved[0] != moved[1]  # an unrelated column moved every point
    kept = []
    for data, name in ((incidents(), "a.zip"), (incidents(True), "b.zip")):
        code, err, path = report(
            capsys, tmp_path, "--mask", "displace:5000", "--id-column", "ref", data=data, name=name
        )
        assert code == 0 and "generated ids" not in err
        kept.append(bundle_files(path)["points.csv"])
    assert kept[0] == kept[1]
    points = pd.read_csv(io.BytesIO(kept[0]))
    assert len(points) > 0 and "ref" not in points


def test_id_column_and_a_different_map_id_are_refused(tmp_path, capsys, data_dir):
    code, err, _ = report(capsys, tmp_path, "--id-column", "ref", "--map", "id=other")
    assert code == 2 and "both name the id column" in err


def test_the_secret_is_made_with_the_workspace_and_must_predate_the_export(tmp_path):
    from datetime import UTC, datetime

    from crisismap.errors import InputError

    before = datetime.now(UTC)
    ws = Workspace.open(tmp_path / "new")
    with sqlite3.connect(ws.db_path) as conn:  # made by opening, before anyone asked for it
        assert conn.execute("SELECT 1 FROM meta WHERE key = 'secret'").fetchone() == (1,)
    assert before <= ws.secret_created <= datetime.now(UTC)
    with pytest.raises(InputError, match="got its displacement secret just now"):
        ws.export_secret(before)  # an export that began before the workspace existed
    assert ws.export_secret(datetime.now(UTC)) == ws.secret == Workspace.open(ws.db_path).secret
