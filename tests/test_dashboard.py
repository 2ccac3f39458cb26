"""The dashboard's view-model: what the page shows, computed without Streamlit."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from crisismap import dashboard, pipeline
from crisismap.boundaries import load_boundaries
from crisismap.layers import build_map
from crisismap.schema import Period

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "incidents" / "demo_sudan_synthetic.csv"


@pytest.fixture(scope="module")
def demo() -> pipeline.Analysis:
    return pipeline.analyse(
        DEMO.read_bytes(), load_boundaries("world:SDN,TCD,ERI,LBY"), filename=DEMO.name
    )


@pytest.fixture(scope="module")
def caf(shared_data) -> pipeline.Analysis:
    folder = shared_data / "boundaries/caf_codab"
    bset = load_boundaries(folder)
    adm2 = bset.levels[2]
    pts = adm2.geometry.representative_point()
    rows = []
    for i, (code, p) in enumerate(zip(adm2["code"], pts, strict=True)):
        for k in range(1 + i % 3):
            rows.append(
                {
                    "id": f"{code}-{k}",
                    "date": f"2024-0{1 + k}-15",
                    "latitude": p.y,
                    "longitude": p.x,
                    "category": "killing" if k else "detention",
                }
            )
    data = pd.DataFrame(rows).to_csv(index=False).encode()
    return pipeline.analyse(data, bset, filename="caf.csv")


def test_view_counts_every_record_and_caps_points(demo):
    view = dashboard.build_view(demo, level=1, max_points=100)
    assert view.total_points == len(demo.records)
    assert len(view.points) == 100
    assert "100 of" in view.caption
    # the map's figures count all records, not the sample
    in_regions = pipeline.totals(demo, 1)["in_regions"]
    assert view.regions["incidents"].sum() == in_regions


def test_period_narrows_map_but_not_export(demo):
    labels = dashboard.period_labels(demo, Period.MONTH)
    assert labels[0] == "2023-05" and labels[-1] == "2025-04"
    view = dashboard.build_view(demo, level=1, period_unit=Period.MONTH, period="2024-01")
    assert 0 < view.total_points < len(demo.records)
    assert set(view.summary["period"]) > {"2024-01", "2024-02"}
    month = view.summary[
        (view.summary["period"] == "2024-01") & ~view.summary["region_code"].str.startswith("__")
    ]
    by_region = month.groupby("region_code")["incidents"].sum()
    # multi-label records count once per category in the summary, once on the map
    shown = view.regions.set_index("code")["incidents"]
    assert (shown.reindex(by_region.index).fillna(0) <= by_region).all()
    january = demo.records["date"].dt.strftime("%Y-%m") == "2024-01"
    no_region = demo.joined["adm1_code"].isna()
    assert shown.sum() == view.total_points - int((january & no_region).sum())


def test_filters_apply_to_map_chart_and_tables_alike(demo):
    view = dashboard.build_view(demo, level=1, categories=["killing"])
    assert set(view.series["category"]) == {"killing"}
    assert view.top_regions["incidents"].sum() <= view.total_points
    assert view.points["category"].str.contains("killing").all()


def test_default_level_splits_the_main_country(demo, caf):
    assert dashboard.default_level(demo) == 1
    assert dashboard.default_level(caf) == 1


def test_drill_down_shows_sub_regions_and_their_series(caf):
    parent = caf.boundaries.levels[1].iloc[0]
    assert dashboard.can_drill(caf, 1, parent["code"])
    view = dashboard.build_view(caf, level=1, drill=parent["code"])
    assert view.level == 2
    assert view.drill_name == parent["name"]
    children = caf.boundaries.levels[2]
    expected = set(children.loc[children["parent_code"] == parent["code"], "code"])
    assert set(view.regions["code"]) == expected
    assert view.series["incidents"].sum() == view.total_points
    assert (
        dashboard.clicked_region({"last_active_drawing": {"properties": {"code": parent["code"]}}})
        == parent["code"]
    )
    assert dashboard.clicked_region(None) is None


def test_map_payload_is_light_and_offline(demo):
    view = dashboard.build_view(demo, level=1)
    html = build_map(view.regions, view.points, total_points=view.total_points).get_root().render()
    assert len(html.encode()) < 1_500_000
    assert "cdn." not in html and "unpkg" not in html and "tile.openstreetmap" not in html


def test_exports_are_built_lazily_public_by_default_and_match_the_view(demo):
    view = dashboard.build_view(demo, level=1, period_unit=Period.QUARTER)
    public = {item.label: item for item in dashboard.exports(demo, view)}
    assert not any(i.filename.startswith("SENSITIVE_") for i in public.values())
    assert "Rejected records (CSV)" not in public
    cells = pd.read_csv(
        io.BytesIO(public["Summary (CSV)"].make()), dtype=str, keep_default_na=False
    )
    assert "description" not in cells.columns
    shown = cells.loc[cells["suppressed"] == "False", "incidents"].astype(int)
    assert not ((shown > 0) & (shown < 5)).any()
    internal = {item.label: item for item in dashboard.exports(demo, view, public=False)}
    assert all(i.filename.startswith("SENSITIVE_") for i in internal.values())
    cells = pd.read_csv(io.BytesIO(internal["Summary (CSV)"].make()))
    assert cells["incidents"].sum() == view.summary["incidents"].sum()
    geo = gpd.read_file(io.BytesIO(internal["Regions (GeoJSON)"].make()))
    # published figures count a multi-label incident once per category (stated in the brief)
    in_regions = view.summary[~view.summary["region_code"].str.startswith("__")]
    assert geo["incidents"].sum() == in_regions["incidents"].sum()


def test_mapping_and_problem_tables(demo):
    mapping = dashboard.mapping_table(demo.report)
    assert dict(zip(mapping["field"], mapping["column"], strict=True))["lat"] == "latitude"
    counts = dashboard.problem_counts(demo.report)
    assert counts["records"].sum() == sum(demo.report.counts.values())
    problems = dashboard.problem_table(demo.report)
    assert {"line", "column", "code", "message"} <= set(problems.columns)
    assert dashboard.headers_of([("x.csv", DEMO.read_bytes())])[:2] == ["incident_id", "date"]


def test_several_files_count_shared_ids_once_and_list_conflicts():
    data = DEMO.read_bytes()
    lines = data.split(b"\n")
    other = b"\n".join([lines[0], lines[5].replace(b"SYNTHETIC", b"CHANGED"), lines[6]])
    analysis = pipeline.analyse_files(
        [("a.csv", data), ("b.csv", other)], load_boundaries("world:SDN")
    )
    assert len(analysis.records) == 2996
    assert analysis.conflicts[["id", "file", "kept_file", "fields"]].values.tolist() == [
        ["DEMO-00005", "b.csv", "a.csv", "description"]
    ]
    assert "1 identical, 1 with different content" in analysis.report.notes[-1]
