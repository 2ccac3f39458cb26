"""What a command imports: ``crisismap summarize`` loads no more than geopandas and pyarrow need.

Each heavy library (dask, scipy, matplotlib, reportlab, spreadsheets, Streamlit) costs a
tenth of a second or more at every start; it is imported inside the function that uses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAF = ROOT.parent / "shared" / "data" / "boundaries" / "caf_codab"

# Runs the CLI as `crisismap` would and prints the top-level modules loaded, at exit.
WRAPPER = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}))))
from crisismap.cli import main
sys.argv[0] = 'crisismap'
code = main(sys.argv[1:])
"""

UNUSED_BY_SUMMARIZE = (
    "dask",
    "distributed",
    "matplotlib",
    "reportlab",
    "scipy",
    "openpyxl",
    "xlsxwriter",
    "streamlit",
    "folium",
    "rapidfuzz",
)


def _modules_after(tmp_path: Path, *argv: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_summarize_imports_no_heavy_library_it_does_not_use(tmp_path):
    incidents = tmp_path / "tiny.csv"
    incidents.write_text(
        "id,date,latitude,longitude,category\n"
        "1,2024-01-05,4.36,18.55,killing\n"
        "2,2024-02-05,6.0,20.0,looting\n"
    )
    boundaries = str(CAF) if CAF.is_dir() else "world"
    level = "3" if CAF.is_dir() else "1"
    out = tmp_path / "summary.csv"
    modules = _modules_after(
        tmp_path,
        "summarize",
        str(incidents),
        "--boundaries",
        boundaries,
        "--level",
        level,
        "--internal",  # public figures need the suppression's solver (scipy)
        "--out",
        str(out),
    )
    out = out.with_name("SENSITIVE_summary.csv")
    assert out.is_file() and out.read_bytes().startswith(b'"')
    assert {"geopandas", "pyarrow", "crisismap"} <= modules  # the wrapper saw the run
    assert modules.isdisjoint(UNUSED_BY_SUMMARIZE), sorted(modules & set(UNUSED_BY_SUMMARIZE))


@pytest.mark.slow
def test_the_xlsx_export_still_finds_its_writer_when_asked(tmp_path):
    incidents = tmp_path / "tiny.csv"
    incidents.write_text("id,date,latitude,longitude,category\n1,2024-01-05,15.5,32.5,killing\n")
    out = tmp_path / "summary.xlsx"
    modules = _modules_after(
        tmp_path, "summarize", str(incidents), "--boundaries", "world", "--level", "0",
        "--out", str(out),
    )  # fmt: skip
    assert out.read_bytes()[:2] == b"PK"
    assert "xlsxwriter" in modules
