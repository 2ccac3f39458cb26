"""One rule for the command line and the app: every output is public unless the user asks
for internal output (issue 12, point 3).

Public: k of 2 or more, no rejected record, the input named only by a keyed fingerprint
(never its file name or SHA-256). Internal (``--internal``): named and labelled SENSITIVE,
readable by the owner only. Raw rejected values go only to the file asked for.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from crisismap import cli, dashboard, pipeline
from crisismap.boundaries import load_boundaries
from crisismap.errors import InvalidValueError
from crisismap.schema import Period, View

FILE_NAME = "Kafr_Zeita_witness_list.csv"  # a file name that names a place and a list
REJECTED_VALUE = "Witness Amina Haroun"  # only in the rejected record's description
CORNERS = {"R1": (30, 11), "R2": (31, 11), "R3": (30, 10), "R4": (31, 10)}
# (region, category, incidents in Jan, Feb, Mar): R3 and R4 hold small cells
PLAN = [
    ("R1", "killing", [7, 6, 8]),
    ("R2", "detention", [5, 4, 3]),
    ("R3", "killing", [1, 0, 2]),
    ("R4", "killing", [3, 3, 2]),
]


def _boundaries(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"ADM1_PCODE": code, "ADM1_EN": f"Region {code}"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]],
            },
        }
        for code, (x, y) in CORNERS.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _incidents() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "date", "latitude", "longitude", "category", "description"])
    n = 0
    for code, category, months in PLAN:
        x, y = CORNERS[code]
        for month, count in enumerate(months, start=1):
            for i in range(count):
                n += 1
                row = [f"c{n}", f"2024-{month:02d}-{i + 1:02d}", f"{y + 0.2 + 0.05 * i:.3f}"]
                writer.writerow([*row, f"{x + 0.5:.3f}", category, "radio report"])
    writer.writerow(["bad-1", "2024-02-10", "999", "999", "killing", REJECTED_VALUE])
    return buffer.getvalue().encode()


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """The incident file and boundaries in ``in/``, outputs in ``out/``, a fresh workspace."""
    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "in"
    folder.mkdir()
    incidents = folder / FILE_NAME
    incidents.write_bytes(_incidents())
    out = tmp_path / "out"
    out.mkdir()
    return {"incidents": incidents, "boundaries": _boundaries(folder / "adm1.geojson"), "out": out}


def run(capsys, inputs, command: str, *argv: object, level: bool = True) -> tuple[int, str]:
    args = [command, inputs["incidents"], "--boundaries", inputs["boundaries"]]
    args += ["--level", "1"] if level else []
    code = cli.main([str(a) for a in [*args, *argv]])
    return code, capsys.readouterr().err


def written(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def pdf_text(data: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    done = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


# ----------------------------------------------------------------------------- k


@pytest.mark.parametrize("command", ["summarize", "report"])
@pytest.mark.parametrize("k", ["1", "0", "-3"])
def test_k_below_2_is_refused_for_public_output(inputs, capsys, command, k):
    out = inputs["out"] / ("x.csv" if command == "summarize" else "x.zip")
    code, err = run(capsys, inputs, command, "--k", k, "--out", out)
    assert code == 2 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("crisismap: error: ")
    assert f"--k {k} was given" in line and "2 or more" in line and "--internal" in line
    assert written(inputs["out"]) == {}


def test_k_is_not_asked_of_internal_output(inputs, capsys):
    out = inputs["out"] / "x.csv"
    code, err = run(capsys, inputs, "summarize", "--internal", "--k", "1", "--out", out)
    assert code == 0, err
    assert sorted(written(inputs["out"])) == ["SENSITIVE_x.csv", "SENSITIVE_x.manifest.json"]


# ----------------------------------------------------------------------------- public


def test_summarize_is_public_by_default_and_says_how_many_figures_it_hid(inputs, capsys):
    out = inputs["out"] / "summary.xlsx"  # the README's example
    code, err = run(capsys, inputs, "summarize", "--period", "month", "--out", out)
    assert code == 0, err
    files = written(inputs["out"])
    assert sorted(files) == ["summary.manifest.json", "summary.xlsx"]
    assert mode(out) == 0o644  # public figures: shareable
    book = openpyxl.load_workbook(out)
    assert "Rejected records" not in book.sheetnames
    assert str(book["About"]["A3"].value).startswith("Public export")
    cells = pd.DataFrame(book["Cells"].values)
    cells = cells.iloc[1:].set_axis(cells.iloc[0], axis=1)
    shown = cells.loc[~cells["suppressed"].astype(bool), "incidents"].astype(int)
    assert not ((shown > 0) & (shown < 5)).any()
    hidden = re.search(r"\(([\d,]+) figures hidden\)", err)
    assert hidden, err
    assert int(hidden.group(1).replace(",", "")) >= int(cells["suppressed"].sum()) > 0
    manifest = json.loads(files["summary.manifest.json"])
    assert manifest["sensitivity"] == "public"
    everything = b"".join(files.values())
    assert REJECTED_VALUE.encode() not in everything


def test_public_alias_is_a_no_op_and_help_says_so(inputs, capsys):
    code, err = run(capsys, inputs, "summarize", "--public", "--out", inputs["out"] / "a.csv")
    assert code == 0, err
    assert sorted(written(inputs["out"])) == ["a.csv", "a.manifest.json"]
    with pytest.raises(SystemExit):
        cli.main(["summarize", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "does nothing: output is public unless --internal" in help_text


@pytest.mark.slow
def test_a_public_bundle_carries_no_file_name_and_no_plain_hash(inputs, capsys):
    from crisismap.store import Workspace

    code, err = run(capsys, inputs, "report", "--out", inputs["out"] / "brief.zip")
    assert code == 0, err
    digest = hashlib.sha256(inputs["incidents"].read_bytes()).hexdigest()
    stem = Path(FILE_NAME).stem
    archive = zipfile.ZipFile(inputs["out"] / "brief.zip")
    members = {name: archive.read(name) for name in archive.namelist()}
    assert not any(stem in name for name in members)
    for name, data in members.items():
        for secret in (stem.encode(), digest.encode(), REJECTED_VALUE.encode()):
            assert secret not in data, (name, secret)
    text = pdf_text(members["brief.pdf"])
    assert stem not in text and "Kafr" not in text and digest not in text
    assert "Incident records (1 file;" in " ".join(text.split())
    manifest = json.loads(members["manifest.json"])
    entry = manifest["inputs"][0]
    secret = Workspace.open().secret
    keyed = hmac.new(secret, bytes.fromhex(digest), hashlib.sha256).hexdigest()
    assert entry["name"] == "incident file 1" and entry["fingerprint"] == f"hmac-sha256:{keyed}"
    assert "sha256" not in entry and "bytes" not in entry


def test_a_public_summary_manifest_carries_no_file_name_and_no_plain_hash(inputs, capsys):
    for fmt in ("csv", "geojson"):
        code, err = run(capsys, inputs, "summarize", "--out", inputs["out"] / f"s.{fmt}")
        assert code == 0, err
    digest = hashlib.sha256(inputs["incidents"].read_bytes()).hexdigest()
    for name, data in written(inputs["out"]).items():
        assert Path(FILE_NAME).stem.encode() not in data and digest.encode() not in data, name


# ----------------------------------------------------------------------------- internal


@pytest.mark.slow
def test_internal_outputs_are_named_and_labelled_sensitive(inputs, capsys):
    out = inputs["out"]
    code, err = run(capsys, inputs, "summarize", "--internal", "--out", out / "s.xlsx")
    assert code == 0, err
    code, err = run(capsys, inputs, "report", "--internal", "--out", out / "r.zip")
    assert code == 0, err
    files = written(out)
    assert sorted(files) == ["SENSITIVE_r.zip", "SENSITIVE_s.manifest.json", "SENSITIVE_s.xlsx"]
    assert all(mode(out / name) == 0o600 for name in files)
    book = openpyxl.load_workbook(out / "SENSITIVE_s.xlsx")
    assert book.sheetnames == ["About", "Summary"]
    assert str(book["About"]["A2"].value).startswith("SENSITIVE - internal use only")
    manifest = json.loads(files["SENSITIVE_s.manifest.json"])
    assert manifest["parameters"]["sensitivity"].startswith("SENSITIVE")
    digest = hashlib.sha256(inputs["incidents"].read_bytes()).hexdigest()
    assert manifest["inputs"][0]["name"] == FILE_NAME and manifest["inputs"][0]["sha256"] == digest
    archive = zipfile.ZipFile(out / "SENSITIVE_r.zip")
    assert all(name.startswith("SENSITIVE_") for name in archive.namelist())
    inside = json.loads(archive.read("SENSITIVE_manifest.json"))
    assert inside["inputs"][0] == {
        "name": FILE_NAME,
        "sha256": digest,
        "bytes": inputs["incidents"].stat().st_size,
    }
    assert REJECTED_VALUE.encode() not in b"".join(files.values())
    assert "SENSITIVE" in err


def test_join_is_internal_only(inputs, capsys):
    out = inputs["out"] / "joined.csv"
    code, err = run(capsys, inputs, "join", "--out", out, level=False)
    assert code == 2 and "add --internal" in err and written(inputs["out"]) == {}
    code, err = run(capsys, inputs, "join", "--internal", "--out", out, level=False)
    assert code == 0, err
    assert list(written(inputs["out"])) == ["SENSITIVE_joined.csv"]
    assert mode(inputs["out"] / "SENSITIVE_joined.csv") == 0o600


def test_rejected_values_go_only_to_the_file_asked_for(inputs, capsys):
    out = inputs["out"]
    for extra in ([], ["--internal"]):
        code, err = run(capsys, inputs, "summarize", *extra, "--out", out / f"s{len(extra)}.xlsx")
        assert code == 0, err
    assert REJECTED_VALUE.encode() not in b"".join(written(out).values())
    code, err = run(
        capsys, inputs, "summarize", "--out", out / "p.csv", "--rejected", out / "r.csv"
    )
    assert code == 0, err
    holding = [name for name, data in written(out).items() if REJECTED_VALUE.encode() in data]
    assert holding == ["SENSITIVE_r.csv"] and mode(out / "SENSITIVE_r.csv") == 0o600
    code = cli.main(["validate", str(inputs["incidents"]), "--rejected", str(out / "v.csv")])
    assert code == 0 and (out / "SENSITIVE_v.csv").is_file() and not (out / "v.csv").exists()


# ----------------------------------------------------------------------------- the app


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> pipeline.Analysis:
    folder = tmp_path_factory.mktemp("bounds")
    boundaries = load_boundaries(str(_boundaries(folder / "adm1.geojson")))
    return pipeline.analyse(_incidents(), boundaries, filename=FILE_NAME)


@pytest.mark.slow
def test_the_dashboards_exports_refuse_k_below_2_and_hide_the_upload(analysis):
    page = dashboard.build_view(analysis, View(1, Period.MONTH))
    for k in (1, 0, -3):
        with pytest.raises(InvalidValueError, match="--internal"):
            dashboard.exports(analysis, page, k=k)
    secret = b"a workspace secret for this test"
    items = {i.label: i for i in dashboard.exports(analysis, page, secret=lambda: secret)}
    assert not any(i.filename.startswith("SENSITIVE_") for i in items.values())
    bundle = zipfile.ZipFile(io.BytesIO(items["Report bundle (ZIP)"].make()))
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["inputs"][0]["fingerprint"].startswith("hmac-sha256:")
    everything = b"".join(bundle.read(n) for n in bundle.namelist())
    assert Path(FILE_NAME).stem.encode() not in everything
    assert analysis.input_sha256.encode() not in everything


@pytest.mark.slow
def test_the_app_exports_public_by_default_with_k_of_at_least_2(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    toggle = next(t for t in at.toggle if t.label.startswith("Public export"))
    assert toggle.value is True
    k = next(n for n in at.number_input if n.label == "k")
    assert (k.value, k.proto.min) == (5, 2)
    prepare = "Prepare the downloads of this view"  # a view's downloads come once prepared
    next(b for b in at.button if b.label == prepare).click().run()
    labels = {d.proto.label for d in at.get("download_button")}
    assert {"Summary (CSV)", "Report bundle (ZIP)"} <= labels
    assert "Rejected records (CSV)" not in labels  # only among internal exports
    assert not any("Internal export" in w.value for w in at.warning)
    toggle.set_value(False).run()
    assert any("Internal export" in w.value for w in at.warning)
    for again in (b for b in at.button if b.label == prepare):  # AppTest may repeat the click
        again.click().run()
    assert "Rejected records (CSV)" in {d.proto.label for d in at.get("download_button")}
