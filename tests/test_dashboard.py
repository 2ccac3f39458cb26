"""The dashboard's view-model: what the page shows, computed without Streamlit."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from crisismap import aggregate, dashboard, display, pipeline
from crisismap.boundaries import load_boundaries
from crisismap.layers import build_map
from crisismap.schema import IMPRECISE_PERIOD, Period, View

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
    view = dashboard.build_view(demo, View(1), max_points=100)
    assert view.total_points == len(demo.records)
    assert len(view.points) == 100
    assert "100 of" in view.caption
    # the map's figures count all records, not the sample
    in_regions = pipeline.totals(demo, 1)["in_regions"]
    assert view.regions["incidents"].sum() == in_regions


def test_period_narrows_map_but_not_export(demo):
    labels = dashboard.period_labels(demo, View(1, Period.MONTH))
    assert labels[0] == "2023-05" and labels[-1] == "2025-04"
    view = dashboard.build_view(demo, View(1, Period.MONTH), period="2024-01")
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


def test_the_regions_drawn_stay_the_same_through_the_periods(demo):
    """Regions outside the main country are drawn where the data has incidents in any
    period, so the map keeps its frame and shapes (the app restyles them in place)."""
    view = View(1, Period.MONTH)
    everything = dashboard.build_view(demo, view)
    codes = everything.regions["code"].tolist()
    assert everything.regions["country"].nunique() > 1  # strays outside the main country
    for label in dashboard.period_labels(demo, view)[:8]:
        page = dashboard.build_view(demo, view, period=label)
        assert page.regions["code"].tolist() == codes
        assert page.regions.geometry.equals(everything.regions.geometry)
    zero = dashboard.build_view(demo, View(1, Period.MONTH, categories=("no such",)))
    assert zero.regions["code"].tolist() == codes


def test_filters_apply_to_map_chart_and_tables_alike(demo):
    view = dashboard.build_view(demo, View.parse(1, categories=["killing"]), by_category=True)
    assert set(view.series["category"]) == {"killing"}
    assert view.top_regions["incidents"].sum() <= view.total_points
    assert view.points["category"].str.contains("killing").all()


def test_default_level_splits_the_main_country(demo, caf):
    assert dashboard.default_level(demo) == 1
    assert dashboard.default_level(caf) == 1


def test_drill_down_shows_sub_regions_and_their_series(caf):
    parent = caf.boundaries.levels[1].iloc[0]
    assert dashboard.can_drill(caf, 1, parent["code"])
    view = dashboard.build_view(caf, View(1), drill=parent["code"])
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


def test_level_box_follows_the_drill_down_and_back(caf):
    parent = caf.boundaries.levels[1].iloc[0]["code"]
    finest = max(caf.levels)
    smallest = caf.boundaries.levels[finest].iloc[0]["code"]
    state: dict = {"find": "x"}
    dashboard.follow_drill(state, caf, 1)
    assert state[dashboard.LEVEL_KEY] == 1
    state["drill"] = parent  # a click on an admin-1 region: the map shows admin-2
    dashboard.follow_drill(state, caf, 1)
    assert state[dashboard.LEVEL_KEY] == 2
    state["drill"] = smallest  # at the finest level: the region's own level
    dashboard.follow_drill(state, caf, 1)
    assert state[dashboard.LEVEL_KEY] == finest
    dashboard.leave_drill(state, "find")  # "Back to all regions": the level chosen before
    dashboard.follow_drill(state, caf, 1)
    assert state[dashboard.LEVEL_KEY] == 1 and "drill" not in state and "find" not in state
    state["drill"] = parent
    dashboard.follow_drill(state, caf, 1)
    state[dashboard.LEVEL_KEY] = 0  # the user picks a level in the box: the drill ends there
    dashboard.leave_drill(state, keep_level=True)
    dashboard.follow_drill(state, caf, 1)
    assert state[dashboard.LEVEL_KEY] == 0 and "drill" not in state
    state[dashboard.LEVEL_KEY] = 7  # a level these boundaries lack
    dashboard.follow_drill(state, caf, None)
    assert state[dashboard.LEVEL_KEY] == dashboard.default_level(caf)


def test_map_payload_is_light_and_offline(demo):
    view = dashboard.build_view(demo, View(1))
    html = build_map(view.regions, view.points, total_points=view.total_points).get_root().render()
    assert len(html.encode()) < 1_500_000
    assert "cdn." not in html and "unpkg" not in html and "tile.openstreetmap" not in html


@pytest.mark.slow
def test_exports_are_built_lazily_public_by_default_and_match_the_view(demo):
    view = dashboard.build_view(demo, View(1, Period.QUARTER))
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


@pytest.mark.slow
def test_a_report_made_while_one_period_is_shown_is_titled_for_every_period(demo):
    """The map names the period shown; the bundle covers every period of the view, and
    its title says so."""
    import zipfile

    page = dashboard.build_view(demo, View(1, Period.QUARTER), period="2024-Q1")
    assert "2024-Q1" in page.title and "2024-Q1" not in page.export_title
    items = {item.label: item for item in dashboard.exports(demo, page)}
    bundle = zipfile.ZipFile(io.BytesIO(items["Report bundle (ZIP)"].make()))
    assert bundle.read("README.txt").decode().splitlines()[0] == page.export_title
    periods = pd.read_csv(io.BytesIO(bundle.read("periods.csv")), dtype=str)
    assert len(periods) > 1


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


# --------------------------------------------------------------------------- fast views


@pytest.fixture(scope="module")
def mixed() -> pipeline.Analysis:
    """Partial dates, multi-label and missing categories, unknown victims, points outside."""
    rng = np.random.default_rng(4)
    rows = []
    for i in range(600):
        day = pd.Timestamp("2023-11-01") + pd.Timedelta(days=int(rng.integers(0, 540)))
        date = {0: day.strftime("%Y-%m"), 1: day.strftime("%Y")}.get(i % 10, str(day.date()))
        inside = i % 25 != 0
        rows.append(
            {
                "id": f"m{i}",
                "date": date,
                "latitude": round(rng.uniform(11, 18), 5) if inside else 4.5,
                "longitude": round(rng.uniform(25, 35), 5) if inside else 46.5,
                "category": ["killing", "looting", "killing; looting", "", "torture"][i % 5],
                "victims": str(i % 6) if i % 4 else "",
            }
        )
    data = pd.DataFrame(rows).to_csv(index=False).encode()
    return pipeline.analyse(data, load_boundaries("world:SDN"), filename="mixed.csv")


FILTERS = [
    {},
    {"categories": ["killing"]},
    {"categories": ["looting", "torture"]},
    {"categories": [aggregate.NO_CATEGORY]},
    {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 6, 30)},
    {"start": "2024-02-10"},
    {"end": "2023-12-31", "categories": ["killing"]},
]


def _a_region(analysis: pipeline.Analysis, level: int) -> str:
    return analysis.joined[f"adm{level}_code"].value_counts().index[0]


@pytest.mark.parametrize("filters", FILTERS + [{"regions": "top"}, {"regions": "top-parent"}])
def test_record_views_give_exactly_the_aggregate_figures(mixed, filters):
    filters = dict(filters)
    if filters.get("regions") == "top":
        filters["regions"] = [_a_region(mixed, 1)]
    elif filters.get("regions") == "top-parent":
        filters["regions"] = [_a_region(mixed, 0)]
    views = aggregate.RecordViews(mixed.records, mixed.joined)
    levels = pipeline.summary_levels(mixed)
    selection = views.select(levels, level=1, **filters)
    expected_rows = aggregate.select_rows(mixed.records, mixed.joined, levels, level=1, **filters)
    assert np.array_equal(selection.rows, expected_rows)
    totals = views.region_totals(levels, 1, selection)
    pd.testing.assert_frame_equal(totals, pipeline.region_figures(mixed, View.parse(1, **filters)))
    window = {k: v for k, v in filters.items() if k in ("start", "end")}
    series_filters = {k: v for k, v in filters.items() if k != "regions"}
    chart = views.select(None, level=None, **series_filters)
    for unit in Period:
        series = views.time_series(chart, period=unit, **window)
        expected = aggregate.time_series(mixed.records, mixed.joined, period=unit, **series_filters)
        pd.testing.assert_frame_equal(series, expected)
        assert series.attrs == expected.attrs
        labels = aggregate.time_series(
            mixed.records, mixed.joined, period=unit, by_category=False, **series_filters
        )["period"].tolist()
        assert views.period_labels(chart, period=unit, **window) == [
            p for p in labels if p != IMPRECISE_PERIOD
        ]


def test_one_record_views_answers_every_filter_in_turn(mixed):
    """The region axis is kept between views (a period step reuses it): figures stay those
    of the aggregate whatever came before, with and without a region filter."""
    views = aggregate.RecordViews(mixed.records, mixed.joined)
    levels = pipeline.summary_levels(mixed)
    region_filters = [{"regions": [_a_region(mixed, 1)]}, {"regions": [_a_region(mixed, 0)]}]
    for filters in (FILTERS + region_filters) * 2:
        with_region = {**filters, **region_filters[0]} if "start" in filters else filters
        for chosen in (filters, with_region):
            totals = views.region_totals(levels, 1, views.select(levels, level=1, **chosen))
            pd.testing.assert_frame_equal(
                totals, pipeline.region_figures(mixed, View.parse(1, **chosen))
            )


def test_record_views_list_a_joined_code_the_boundaries_lack_only_when_selected(mixed):
    joined = mixed.joined.copy()
    odd = int(np.flatnonzero(mixed.records["date"].notna().to_numpy())[0])
    codes = joined["adm1_code"].astype(object)
    codes.iloc[odd] = "XX-NOT-A-REGION"
    joined["adm1_code"] = codes
    day = pd.Timestamp(mixed.records["date"].iloc[odd]).date()
    views = aggregate.RecordViews(mixed.records, joined)
    levels = pipeline.summary_levels(mixed)
    everything = views.region_totals(levels, 1, views.select(levels, level=1))
    assert everything.loc["XX-NOT-A-REGION", "incidents"] == 1
    before = views.select(levels, level=1, end=day - dt.timedelta(days=1))
    assert odd not in set(before.rows)
    assert "XX-NOT-A-REGION" not in views.region_totals(levels, 1, before).index
    again = views.region_totals(levels, 1, views.select(levels, level=1))
    assert again.loc["XX-NOT-A-REGION", "incidents"] == 1


def test_period_labels_read_back_to_their_bounds(mixed):
    for unit in Period:
        table = aggregate.summarize(
            mixed.records, mixed.joined, mixed.boundaries.levels, View.parse(level=0, period=unit)
        )
        table = table[table["period"] != IMPRECISE_PERIOD].drop_duplicates("period")
        for label, first, last in zip(
            table["period"], table["period_start"], table["period_end"], strict=True
        ):
            assert aggregate.period_bounds(label, unit) == (first.date(), last.date())
    assert aggregate.period_bounds("2024-W01", "week") == (dt.date(2024, 1, 1), dt.date(2024, 1, 7))
    bad = [("2024-13", "month"), ("2024-03-05", "acled-week"), ("2024-Q5", "quarter")]
    bad += [("x", "year"), ("2024-W60", "week"), ("2024-03", "day")]
    for label, unit in bad:
        with pytest.raises(ValueError, match="is not a"):
            aggregate.period_bounds(label, unit)


def test_view_equals_the_figures_of_its_filters(mixed):
    view = dashboard.build_view(
        mixed, View.parse(1, "month", categories=["killing"]), period="2024-03"
    )
    march = dict(start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), categories=["killing"])
    figures = pipeline.region_figures(mixed, View.parse(1, **march))
    shown = view.regions.set_index("code")["incidents"]
    assert (shown == figures["incidents"].reindex(shown.index)).all()
    rows = aggregate.select_rows(mixed.records, mixed.joined, None, level=None, **march)
    assert view.total_points == len(rows)
    killing = dict(period="month", categories=["killing"])
    series = aggregate.time_series(mixed.records, mixed.joined, **killing)
    series = series[series["period"] != IMPRECISE_PERIOD]
    assert view.series["incidents"].tolist() == series["incidents"].tolist()
    assert view.view.filters() == {
        "start": None,
        "end": None,
        "categories": ["killing"],
        "regions": None,
    }


def test_view_summary_is_built_only_when_asked(mixed, monkeypatch):
    calls = []
    real = pipeline.summarize
    monkeypatch.setattr(pipeline, "summarize", lambda *a, **k: calls.append(a) or real(*a, **k))
    view = dashboard.build_view(mixed, View.parse(1, categories=["looting"]))
    assert calls == []
    summary = view.summary
    assert view.summary is summary and len(calls) == 1
    assert calls[0][1].categories == ("looting",) and set(summary["category"]) == {"looting"}


def test_points_are_the_same_spread_sample_as_before(mixed):
    rows = aggregate.select_rows(mixed.records, mixed.joined, None, level=None, start="2024-01-01")
    sample = dashboard._sample_points(mixed.records, rows, 50)
    before = mixed.records.iloc[rows].sample(n=50, random_state=0).sort_index()
    assert sample["id"].tolist() == before["id"].tolist()
    assert list(sample.columns) == [
        "id", "lat", "lon", "date", "category", "victims", "description"
    ]  # fmt: skip
    assert len(dashboard._sample_points(mixed.records, rows[:10], 50)) == 10


def test_widget_helpers_are_unchanged_and_remembered_per_analysis(mixed):
    labels = mixed.records["category"].dropna().astype(str).str.split(";").explode().str.strip()
    assert dashboard.categories_of(mixed) == sorted(x for x in labels.unique() if x)
    pairs = (
        pd.DataFrame({"code": mixed.joined["adm1_code"], "name": mixed.joined["adm1_name"]})
        .dropna()
        .drop_duplicates("code")
        .sort_values("name")
    )
    expected = [(str(c), f"{n} ({c})") for c, n in zip(pairs["code"], pairs["name"], strict=True)]
    assert dashboard.region_choices(mixed, 1) == expected
    assert dashboard.date_bounds(mixed) == (
        mixed.records["date"].min().date(),
        mixed.records["date_end"].max().date(),
    )
    torture = View.parse(1, "quarter", categories=["torture"])
    assert dashboard.period_labels(mixed, torture)[0] == "2023-Q4"
    memo = mixed.__dict__["_memo"]
    assert {"record_views", "categories", ("regions", 1, "en"), "date_bounds"} <= set(memo)
    # a new analysis of the same data has its own memo: nothing is shared between sessions
    again = replace(mixed)
    assert "_memo" not in again.__dict__
    dashboard.categories_of(again)
    assert again.__dict__["_memo"]["categories"] is not memo["categories"]


def test_display_geometry_is_cached_on_geometry_only(mixed):
    shapes = pipeline.display_regions(mixed, 1)
    assert pipeline.display_regions(mixed, 1) is shapes
    frame = pipeline.summary_levels(mixed)[1]
    again = display.simplify_for_display(frame[["code", "name", "geometry"]])
    assert again.geometry.equals(shapes.geometry)
    for cached in display._display_cache.values():
        assert isinstance(cached, np.ndarray)
        assert all(isinstance(g, shapely.Geometry) for g in cached)


def test_the_chart_counts_each_incident_once_unless_split_by_category(demo):
    """A month of multi-label records must not draw taller than its incidents (the old
    chart stacked one segment per label: 3,592 records drew to 8,000)."""
    view = View(1, Period.MONTH)
    once = dashboard.build_view(demo, view)
    dated = demo.records["date_precision"].astype(str).isin(["day", "month"])
    assert once.series["incidents"].sum() == int(dated.sum())
    assert once.series["category"].nunique() == 1
    split = dashboard.build_view(demo, view, by_category=True)
    assert split.series["incidents"].sum() > once.series["incidents"].sum()  # multi-label


def test_a_long_category_list_collapses_to_the_largest_and_other():
    series = pd.DataFrame(
        {
            "period": ["2024-01"] * 12,
            "category": [f"category number {i}" for i in range(12)],
            "incidents": list(range(12, 0, -1)),
        }
    )
    shown = dashboard._top_categories(series, keep=8)
    assert shown["category"].nunique() == 9
    assert shown["incidents"].sum() == series["incidents"].sum()
    assert shown.set_index("category").loc[dashboard.OTHER, "incidents"] == 4 + 3 + 2 + 1
    assert len(dashboard._top_categories(series.head(9), keep=8)) == 9  # 9: nothing to fold


def test_a_view_goes_into_a_link_and_comes_back(demo):
    from crisismap.schema import Period as P

    units = [P.ISO_WEEK, P.MONTH, P.YEAR]
    view = View.parse(
        level=1,
        period="week",
        start="2024-01-01",
        end="2024-06-30",
        categories=["killing"],
        regions=["SD-KH"],
    )
    query = dashboard.view_query(view, datasets=["ds-1"], shown="2024-W05", basemap="OSM")
    assert query["cat"] == ["killing"] and query["region"] == ["SD-KH"]
    back = dashboard.view_from_query(query, demo, units)
    assert back["level"] == 1 and back["unit"] is P.ISO_WEEK
    assert back["dates"] == (dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert back["categories"] == ["killing"]
    assert [code for code, _ in back["regions"]] == ["SD-KH"]
    assert back["shown"] == "2024-W05"
    assert dashboard.datasets_from_query(query, ["ds-1", "ds-2"]) == ["ds-1"]


def test_a_link_cannot_ask_for_what_the_session_does_not_offer(demo):
    hostile = {
        "ds": ["other-teams-dataset"],
        "level": "7",
        "unit": "fortnight",
        "from": "1900-01-01",
        "to": "not a date",
        "cat": ["<script>", "killing"],
        "region": ["XX-99"],
        "drill": "../../etc",
    }
    back = dashboard.view_from_query(hostile, demo, [Period.MONTH])
    assert back == {"categories": ["killing"]}
    assert dashboard.datasets_from_query(hostile, ["mine"]) == []


def test_the_records_behind_a_drilled_region_are_its_own_newest_first(demo):
    page = dashboard.build_view(demo, View(1, Period.MONTH), drill="SD-KH")
    listed = page.records(limit=40)
    assert len(listed) == 40
    in_khartoum = demo.joined["adm1_code"].astype(object) == "SD-KH"
    khartoum_ids = set(demo.records.loc[in_khartoum.to_numpy(), "id"])
    assert set(listed["id"]) <= khartoum_ids
    dates = listed["date"].tolist()
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == str(demo.records.loc[in_khartoum.to_numpy(), "date"].max().date())
    assert "victims" in listed.columns and "description" in listed.columns


@pytest.mark.slow
def test_a_multi_country_file_opens_at_the_level_that_splits_it_best():
    world = load_boundaries("world")
    adm1 = world.levels[1]
    inner = adm1.geometry.representative_point()

    def analysis_of(mask) -> pipeline.Analysis:
        rows = pd.DataFrame(
            {
                "id": [f"r{i}" for i in range(int(mask.sum()))],
                "date": "2024-03-05",
                "latitude": inner[mask].y.round(5).to_numpy(),
                "longitude": inner[mask].x.round(5).to_numpy(),
                "category": "killing",
            }
        )
        return pipeline.analyse(rows.to_csv(index=False).encode(), world, filename="w.csv")

    three = adm1["country"].isin(["SDN", "SSD", "TCD"]).to_numpy()
    assert dashboard.default_level(analysis_of(three)) == 1  # not admin-0
    everywhere = np.zeros(len(adm1), bool)
    everywhere[::5] = True  # ~900 admin-1 regions in some 150 countries
    assert dashboard.default_level(analysis_of(everywhere)) == 0


def test_a_single_period_shows_each_regions_change_against_the_one_before(demo):
    page = dashboard.build_view(demo, View(1, Period.MONTH), period="2024-02")
    assert page.regions.attrs["change_against"] == "2024-01"
    january = dashboard.build_view(demo, View(1, Period.MONTH), period="2024-01")
    now = page.regions.set_index("code")["incidents"]
    before = january.regions.set_index("code")["incidents"].reindex(now.index).fillna(0)
    assert (page.regions.set_index("code")["change"] == now - before).all()
    html = build_map(page.regions, page.points, total_points=page.total_points).get_root().render()
    assert "Change vs 2024-01" in html
    assert "change" not in dashboard.build_view(demo, View(1, Period.MONTH)).regions
