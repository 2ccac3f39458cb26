"""Codes people recognise: P-codes, then ISO 3166-2, then the file's own ids, said where
chosen; tables of several countries carry the country."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pandas as pd
import pytest

from crisismap import pipeline, report
from crisismap.boundaries import code_kinds, load_boundaries
from crisismap.cli import main
from crisismap.schema import View

BOUNDARIES = "boundaries"


def _square(x: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]}


@pytest.fixture(scope="module")
def two_punjabs(tmp_path_factory):
    """Punjab in India and Punjab in Pakistan, side by side, with incidents in both."""
    folder = tmp_path_factory.mktemp("punjab")
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": "Punjab", "country": country, "level": 1},
            "geometry": _square(x),
        }
        for code, country, x in (("IN-PB", "IND", 0), ("PK-PB", "PAK", 1))
    ]
    path = folder / "adm1.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    rows = ["id,date,latitude,longitude,category"]
    rows += [f"i{n},2024-01-{n + 1:02d},0.5123,0.5123,killing" for n in range(6)]
    rows += [f"p{n},2024-01-{n + 1:02d},0.5123,1.5123,killing" for n in range(7)]
    data = ("\n".join(rows) + "\n").encode()
    return pipeline.analyse(data, load_boundaries(str(path)), filename="punjab.csv")


def test_internal_summary_of_two_countries_has_a_country_column(two_punjabs):
    result = pipeline.summary_result(two_punjabs, View.parse(level=1, period="month"))
    table = pd.read_csv(io.BytesIO(result.export("csv")), dtype=str)
    assert list(table.columns[:4]) == ["region_code", "region_name", "country", "parent_code"]
    real = table[~table["region_code"].str.startswith("__")]
    assert real[["region_code", "region_name", "country"]].drop_duplicates().values.tolist() == [
        ["IN-PB", "Punjab", "IND"],
        ["PK-PB", "Punjab", "PAK"],
    ]
    manifest = json.loads(result.manifest())
    assert manifest["boundaries"]["codes"] == {"admin-1": {"the file's own id": 2}}


def test_public_tables_of_two_countries_carry_the_country(two_punjabs):
    view = View.parse(level=1, period="month")
    figures = report.view_figures(two_punjabs, view, public=True, k=5)
    files = report.figure_files(two_punjabs, figures, title="t")
    regions = pd.read_csv(io.BytesIO(files["regions.csv"]), dtype=str, keep_default_na=False)
    assert regions.set_index("region_code").loc[["IN-PB", "PK-PB"], "country"].tolist() == [
        "IND",
        "PAK",
    ]
    cells = pd.read_csv(io.BytesIO(files["cells.csv"]), dtype=str)
    assert "country" in cells.columns


def test_one_country_tables_have_no_country_column(two_punjabs):
    one = pipeline.region_countries(two_punjabs.boundaries.levels[1].iloc[:1], 1)
    assert one is None
    table = pd.DataFrame({"region_code": ["IN-PB"], "region_name": ["Punjab"]})
    assert pipeline.with_countries(table, one) is table


def test_pdf_region_table_of_two_countries_names_the_country(two_punjabs):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    files = report.bundle_files(two_punjabs, View.parse(level=1, period="month"), public=False)
    pdf = files["SENSITIVE_brief.pdf"]
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "Region Country Code Incidents Victims" in lines
    assert "Punjab PAK PK-PB 7" in " | ".join(lines)
    assert "Punjab IND IN-PB 6" in " | ".join(lines)


def test_geoboundaries_listing_says_which_codes_were_chosen(shared_data, capsys):
    folder = shared_data / BOUNDARIES / "yem_geoboundaries"
    assert main(["boundaries", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "admin-1: 22 regions; codes: ISO 3166-2 22" in out
    assert "admin-2: 335 regions; codes: the file's own id 335" in out


def test_cod_ab_codes_are_p_codes(shared_data):
    bset = load_boundaries(shared_data / BOUNDARIES / "caf_codab")
    assert code_kinds(bset.levels[2]) == {"P-code": len(bset.levels[2])}
    assert code_kinds(bset.levels[0]) == {"P-code": 1}


def test_bundled_world_counts_its_code_kinds():
    kinds = code_kinds(load_boundaries("world:SDN,UKR").levels[1])
    assert set(kinds) <= {"ISO 3166-2", "the file's own id"} and kinds["ISO 3166-2"] > 30
