"""Every error a user can cause is one plain sentence and exit code 2; a bug is a traceback.

Each path is driven through ``crisismap.cli.main`` (exit code, one line on stderr, no
Python syntax in it) or through the library call the dashboard makes.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crisismap import cli
from crisismap.errors import BoundaryError, CrisismapError, InvalidValueError
from crisismap.schema import DateOrder, Period, View

_SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]


def _boundaries(path: Path, ring: list, name: str = "Alpha") -> Path:
    feature = {
        "type": "Feature",
        "properties": {"ADM1_PCODE": "X1", "ADM1_EN": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    other = {
        "type": "Feature",
        "properties": {"ADM1_PCODE": "X2", "ADM1_EN": "Beta"},
        "geometry": {"type": "Polygon", "coordinates": [[[x + 1, y] for x, y in _SQUARE]]},
    }
    text = json.dumps({"type": "FeatureCollection", "features": [feature, other]})
    path.write_text(text.replace('"NaN"', "NaN"), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    incidents = tmp_path / "incidents.csv"
    rows = [f"{i},2024-0{1 + i % 3}-05,0.{1 + i % 8},0.{1 + i % 7},killing" for i in range(20)]
    incidents.write_text("id,date,latitude,longitude,category\n" + "\n".join(rows) + "\n")
    return {
        "incidents": incidents,
        "boundaries": _boundaries(tmp_path / "adm1.geojson", _SQUARE),
        "out": tmp_path / "out.csv",
    }


def _run(capsys, *argv: object) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("crisismap: error:")]
    return code, errors[-1] if errors else err


def _plain_sentence(line: str) -> None:
    assert line.startswith("crisismap: error: ") and line.endswith((".", ")"))
    assert "Traceback" not in line and "\n" not in line
    for python in ("={", "=None", "['", "Error:", "level=", "overrides="):
        assert python not in line, line


_SUMMARIZE = ("summarize", "{incidents}", "--boundaries", "{boundaries}", "--out", "{out}")

CASES = {
    "period": (_SUMMARIZE + ("--level", "1", "--period", "fortnight"), "Unknown period"),
    "date": (_SUMMARIZE + ("--level", "1", "--start", "yesterday"), "a date such as"),
    "window": (
        _SUMMARIZE + ("--level", "1", "--start", "2024-05-01", "--end", "2024-01-01"),
        "starts after it ends",
    ),
    "level": (_SUMMARIZE + ("--level", "3"), "available levels are 1"),
    "region": (_SUMMARIZE + ("--level", "1", "--region", "NOPE"), "code(s) 'NOPE'"),
    "k": (_SUMMARIZE + ("--level", "1", "--public", "--k", "-3"), "needs k of 2 or more"),
    "k-one": (_SUMMARIZE + ("--level", "1", "--k", "1"), "--k 1 was given"),
    "k-zero": (_SUMMARIZE + ("--level", "1", "--k", "0"), "--internal"),
    "join-public": (
        ("join", "{incidents}", "--boundaries", "{boundaries}", "--out", "{out}"),
        "add --internal",
    ),
    "public-and-internal": (_SUMMARIZE + ("--level", "1", "--public", "--internal"), "opposite"),
    "snap": (
        (
            "join",
            "{incidents}",
            "--boundaries",
            "{boundaries}",
            "--out",
            "{out}",
            "--snap-m",
            "nan",
        ),
        "--snap-m expects",
    ),  # fmt: skip
    "max-problems": (("validate", "{incidents}", "--max-problems", "-1"), "--max-problems"),
    "mask": (
        (
            "report",
            "{incidents}",
            "--boundaries",
            "{boundaries}",
            "--level",
            "1",
            "--mask",
            "round:9",
            "--out",
            "{out}",
        ),
        "--mask expects",
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_user_error_is_one_plain_sentence_and_exit_2(name, files, capsys):
    argv, expected = CASES[name]
    code, line = _run(capsys, *(a.format(**files) for a in argv))
    assert code == cli.EXIT_BAD_INPUT
    assert expected in line
    _plain_sentence(line)


def test_a_negative_purge_age_is_a_sentence(tmp_path, capsys):
    argv = ("workspace", "--data-dir", tmp_path / "ws", "purge", "--older-than", "-1")
    code, line = _run(capsys, *argv)
    assert code == 2 and "--older-than expects a number of 0 or more" in line
    _plain_sentence(line)


def test_a_bug_is_not_turned_into_a_sentence(monkeypatch, files, capsys):
    def broken(args):
        raise ValueError("a bug")

    monkeypatch.setattr(cli.commands, "cmd_validate", broken)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["validate", str(files["incidents"])])


def test_a_bug_exits_1_with_a_traceback(files):
    code = (
        "import sys, crisismap.cli as c\n"
        "def boom(args): raise KeyError('bug')\n"
        "c.commands.cmd_boundaries = boom\n"
        f"sys.exit(c.main(['boundaries', {str(files['boundaries'])!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "KeyError" in done.stderr


# --- parsers: the user's errors are CrisismapErrors, and still ValueErrors -----------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Period.parse("fortnight"), "Unknown period 'fortnight': expected one of day"),
        (lambda: DateOrder.parse("ymd"), "Unknown date order 'ymd': expected one of auto"),
        (lambda: View.parse(level="two"), "Expected an admin level such as 1 or 2"),
        (lambda: View.parse(level=1, end="soon"), "Expected a date such as 2024-03-05 for end"),
    ],
)
def test_parse_errors_are_user_errors_with_their_messages(call, message):
    with pytest.raises(InvalidValueError, match=message) as caught:
        call()
    assert isinstance(caught.value, CrisismapError) and isinstance(caught.value, ValueError)


# --- malformed boundary geometry ------------------------------------------------------------


@pytest.mark.parametrize(
    ("ring", "expected"),
    [
        ([[0, 0], [1, 0], [1, 1], [0, 1]], "rings must close"),  # not closed
        ([[0, 0], [1, 0]], "rings must close"),  # too few points
        ([[0, 0], [1, 0], ["NaN", 1], [0, 1], [0, 0]], "not numbers (NaN or infinity)"),
    ],
)
def test_malformed_boundary_geometry_is_a_sentence(tmp_path, capsys, ring, expected):
    path = _boundaries(tmp_path / "adm1.geojson", ring)
    code, line = _run(capsys, "boundaries", path)
    assert code == 2
    assert expected in line and "feature 1" in line and "adm1.geojson" in line
    _plain_sentence(line)
    assert "GEOS" not in capsys.readouterr().err


# --- very long file names -------------------------------------------------------------------


def test_an_upload_name_over_255_bytes_is_a_sentence(tmp_path):
    from crisismap.boundaries import read_boundary_bytes

    data = _boundaries(tmp_path / "adm1.geojson", _SQUARE).read_bytes()
    with pytest.raises(BoundaryError, match="is 408 bytes long; file names can be at most 255"):
        read_boundary_bytes(data, "é" * 200 + ".geojson")
    assert read_boundary_bytes(data, "é" * 120 + ".geojson").levels[1].shape[0] == 2


def test_a_zip_member_name_over_255_bytes_is_a_sentence(tmp_path):
    from crisismap.boundaries import read_boundary_bytes

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "x" * 260 + ".geojson", _boundaries(tmp_path / "a.geojson", _SQUARE).read_text()
        )
    with pytest.raises(BoundaryError, match="inside 'set.zip' is 268 bytes long"):
        read_boundary_bytes(buffer.getvalue(), "set.zip")


# --- a region name too long for a page --------------------------------------------------------


@pytest.mark.slow
def test_a_region_name_of_thousands_of_characters_does_not_stop_the_bundle(files, capsys):
    name = "Région " + "très longue " * 500
    boundaries = _boundaries(files["boundaries"].with_name("long.geojson"), _SQUARE, name)
    out = files["out"].with_name("bundle.zip")
    code, err = _run(
        capsys, "report", files["incidents"], "--boundaries", boundaries, "--level", "1",
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    with zipfile.ZipFile(out) as bundle:
        regions = bundle.read("regions.csv").decode("utf-8-sig")
        assert bundle.read("brief.pdf").startswith(b"%PDF")
    assert name.strip() in regions  # the CSV keeps the whole name


def test_the_pdf_shortens_what_does_not_fit_with_an_ellipsis():
    from crisismap.report import pdf

    assert pdf.shorten("short") == "short"
    long = pdf.shorten("word " * 1000)
    assert len(long) <= pdf.MAX_NAME_CHARS and long.endswith("…")
    assert pdf.markup("x" * 5000).endswith("…")
