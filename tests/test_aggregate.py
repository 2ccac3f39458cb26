"""Aggregation: periods, zero-filled grids, buckets, filters and totals that reconcile."""

from __future__ import annotations

import gzip
import itertools
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from crisismap import aggregate
from crisismap.aggregate import cells
from crisismap.join import locate as join
from crisismap.schema import IMPRECISE_CODE, IMPRECISE_PERIOD, OUTSIDE_CODE, View

LEVELS = {
    1: pd.DataFrame({"code": ["N", "S"], "name": ["North", "South"], "parent_code": "C"}),
    2: pd.DataFrame(
        {
            "code": ["N1", "N2", "S1"],
            "name": ["N one", "N two", "S one"],
            "parent_code": list("NNS"),
        }
    ),
}


def make(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(date, date_end, precision, category, victims, adm1, adm2, match2) → records, joined."""
    date, end, precision, category, victims, adm1, adm2, match2 = zip(*rows, strict=True)
    records = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(len(rows))],
            "line": np.arange(len(rows)) + 2,
            "date": pd.to_datetime(list(date)),
            "date_end": pd.to_datetime([e or d for d, e in zip(date, end, strict=True)]),
            "date_precision": list(precision),
            "category": list(category),
            "victims": np.array(victims, dtype=float),
        }
    )
    match1 = [
        "inside" if a else ("imprecise" if m == "imprecise" else "outside")
        for a, m in zip(adm1, match2, strict=True)
    ]
    joined = pd.DataFrame(
        {
            "adm1_code": pd.array(adm1, dtype="str"),
            "adm1_match": match1,
            "adm2_code": pd.array(adm2, dtype="str"),
            "adm2_match": list(match2),
        }
    )
    return records, joined


def flat(table: pd.DataFrame, columns: list[str]) -> list[list]:
    return [[None if pd.isna(v) else v for v in row] for row in table[columns].values.tolist()]


def one_record_period(date: str, period: str, *, end: str | None = None, precision="day"):
    records, joined = make([(date, end, precision, "x", 1, "N", "N1", "inside")])
    table = aggregate.time_series(records, joined, period=period, by_category=False)
    return flat(table, ["period", "period_start", "period_end"])


@pytest.mark.parametrize(
    ("date", "period", "label", "start", "end"),
    [
        ("2024-03-05", "day", "2024-03-05", "2024-03-05", "2024-03-05"),
        ("2024-03-05", "week", "2024-W10", "2024-03-04", "2024-03-10"),
        ("2024-12-30", "week", "2025-W01", "2024-12-30", "2025-01-05"),  # ISO year rules
        ("2021-01-03", "week", "2020-W53", "2020-12-28", "2021-01-03"),
        ("1969-12-31", "week", "1970-W01", "1969-12-29", "1970-01-04"),
        ("2024-03-05", "acled-week", "2024-03-02", "2024-03-02", "2024-03-08"),  # Sat-Fri
        ("2024-03-02", "acled-week", "2024-03-02", "2024-03-02", "2024-03-08"),
        ("2024-03-01", "acled-week", "2024-02-24", "2024-02-24", "2024-03-01"),
        ("2024-02-10", "month", "2024-02", "2024-02-01", "2024-02-29"),
        ("2024-11-30", "quarter", "2024-Q4", "2024-10-01", "2024-12-31"),
        ("2024-03-05", "QUARTER", "2024-Q1", "2024-01-01", "2024-03-31"),
        ("2024-03-05", "year", "2024", "2024-01-01", "2024-12-31"),
    ],
)
def test_period_labels_and_bounds(date, period, label, start, end):
    assert one_record_period(date, period) == [[label, pd.Timestamp(start), pd.Timestamp(end)]]


@pytest.mark.parametrize(
    ("date", "end", "precision", "period", "label"),
    [
        ("2024-03-01", "2024-03-31", "month", "week", IMPRECISE_PERIOD),
        ("2024-03-01", "2024-03-31", "month", "acled-week", IMPRECISE_PERIOD),
        ("2024-03-01", "2024-03-31", "month", "month", "2024-03"),
        ("2024-03-01", "2024-03-31", "month", "quarter", "2024-Q1"),
        ("2024-01-01", "2024-12-31", "year", "quarter", IMPRECISE_PERIOD),
        ("2024-01-01", "2024-12-31", "year", "year", "2024"),
        ("2024-03-30", "2024-04-02", "day", "month", IMPRECISE_PERIOD),  # range across months
        ("2024-03-30", "2024-04-02", "day", "year", "2024"),
        ("2024-03-01", None, "month", "day", IMPRECISE_PERIOD),  # precision alone decides
    ],
)
def test_imprecise_dates_are_counted_never_spread(date, end, precision, period, label):
    assert one_record_period(date, period, end=end, precision=precision)[0][0] == label


ROWS = [
    # date, end, precision, category, victims, adm1, adm2, match at level 2
    ("2024-01-10", None, "day", "killing; arrest", 3, "N", "N1", "inside"),
    ("2024-01-20", None, "day", "arrest", np.nan, "N", "N1", "border"),
    ("2024-03-05", None, "day", "killing", 2, "S", "S1", "snapped"),
    ("2024-02-01", "2024-02-29", "month", "", 1, "N", None, "imprecise"),
    ("2024-01-01", "2024-12-31", "year", "arrest", 5, None, None, "outside"),
]


def test_zero_filled_grid_with_buckets_and_changes():
    records, joined = make(ROWS)
    table = aggregate.summarize(
        records, joined, LEVELS, View.parse(level=2, period="month"), by_category=False
    )
    assert list(table.columns) == [
        "region_code",
        "region_name",
        "parent_code",
        "period",
        "period_start",
        "period_end",
        "incidents",
        "victims",
        "victims_known",
        "incidents_change",
        "victims_change",
    ]
    columns = ["region_code", "period", "incidents", "victims", "victims_known"]
    columns += ["incidents_change", "victims_change"]
    assert flat(table, columns) == [
        ["N1", "2024-01", 2, 3.0, 1, None, None],
        ["N1", "2024-02", 0, 0.0, 0, -2, -3.0],
        ["N1", "2024-03", 0, 0.0, 0, 0, 0.0],
        ["N1", IMPRECISE_PERIOD, 0, 0.0, 0, None, None],
        ["N2", "2024-01", 0, 0.0, 0, None, None],
        ["N2", "2024-02", 0, 0.0, 0, 0, 0.0],
        ["N2", "2024-03", 0, 0.0, 0, 0, 0.0],
        ["N2", IMPRECISE_PERIOD, 0, 0.0, 0, None, None],
        ["S1", "2024-01", 0, 0.0, 0, None, None],
        ["S1", "2024-02", 0, 0.0, 0, 0, 0.0],
        ["S1", "2024-03", 1, 2.0, 1, 1, 2.0],
        ["S1", IMPRECISE_PERIOD, 0, 0.0, 0, None, None],
        [OUTSIDE_CODE, "2024-01", 0, 0.0, 0, None, None],
        [OUTSIDE_CODE, "2024-02", 0, 0.0, 0, 0, 0.0],
        [OUTSIDE_CODE, "2024-03", 0, 0.0, 0, 0, 0.0],
        [OUTSIDE_CODE, IMPRECISE_PERIOD, 1, 5.0, 1, None, None],
        [IMPRECISE_CODE, "2024-01", 0, 0.0, 0, None, None],
        [IMPRECISE_CODE, "2024-02", 1, 1.0, 1, 1, 1.0],
        [IMPRECISE_CODE, "2024-03", 0, 0.0, 0, -1, -1.0],
        [IMPRECISE_CODE, IMPRECISE_PERIOD, 0, 0.0, 0, None, None],
    ]
    assert flat(table.head(1), ["region_name", "parent_code"]) == [["N one", "N"]]
    assert table["incidents"].sum() == len(records)
    assert table.attrs["zero_filled"] is True


def test_multi_label_records_count_once_per_category():
    records, joined = make(ROWS)
    table = aggregate.summarize(records, joined, LEVELS, View.parse(level=1, period="year"))
    got = flat(table[table["incidents"] > 0], ["region_code", "period", "category", "incidents"])
    assert got == [
        ["N", "2024", "__uncategorised__", 1],
        ["N", "2024", "arrest", 2],
        ["N", "2024", "killing", 1],
        ["S", "2024", "killing", 1],
        [OUTSIDE_CODE, "2024", "arrest", 1],
    ]
    assert sorted(table["category"].unique()) == ["__uncategorised__", "arrest", "killing"]
    assert len(table) == 3 * 1 * 3  # N, S, outside × one year × three categories


def test_filters_apply_before_counting():
    records, joined = make(ROWS)
    month = View.parse(2, "month")
    by_date = aggregate.summarize(
        records,
        joined,
        LEVELS,
        month.with_(start="2024-01-15", end="2024-03-31"),
        by_category=False,
    )
    assert by_date["incidents"].sum() == 3  # r1, r2 (Feb month), r3; the 2024 record straddles
    assert by_date.attrs["partly_in_range"] == 1  # the 2024 record; r0 is wholly before
    assert sorted(by_date["period"].unique()) == ["2024-01", "2024-02", "2024-03"]

    killing = aggregate.summarize(
        records, joined, LEVELS, View.parse(level=1, period="year", categories=["killing"])
    )
    assert flat(killing[killing["incidents"] > 0], ["region_code", "category", "incidents"]) == [
        ["N", "killing", 1],
        ["S", "killing", 1],
    ]
    assert set(killing["category"]) == {"killing"}

    north = aggregate.summarize(
        records, joined, LEVELS, month.with_(regions=["N"]), by_category=False
    )
    assert sorted(north["region_code"].unique()) == ["N1", "N2", IMPRECISE_CODE]
    assert north["incidents"].sum() == 3  # two in N1 and the one only known to be in N
    with pytest.raises(ValueError, match="Unknown region"):
        aggregate.summarize(records, joined, LEVELS, month.with_(regions=["Atlantis"]))
    with pytest.raises(ValueError, match="level 3"):
        aggregate.summarize(records, joined, LEVELS, View.parse(level=3, period="month"))


def test_region_totals_and_time_series():
    records, joined = make(ROWS)
    totals = aggregate.region_totals(records, joined, LEVELS, View.parse(level=2))
    cols = ["region_code", "incidents", "victims", "victims_known", "first_date", "last_date"]
    assert flat(totals, cols) == [
        ["N1", 2, 3.0, 1, pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-20")],
        ["N2", 0, 0.0, 0, None, None],
        ["S1", 1, 2.0, 1, pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-05")],
        [OUTSIDE_CODE, 1, 5.0, 1, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31")],
        [IMPRECISE_CODE, 1, 1.0, 1, pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-29")],
    ]
    series = aggregate.time_series(records, joined, period="month", region="N", by_category=False)
    assert flat(series, ["period", "incidents", "incidents_change"]) == [
        ["2024-01", 2, None],
        ["2024-02", 1, -1],
    ]
    overall = aggregate.time_series(records, joined, period="quarter", by_category=True)
    assert flat(overall, ["period", "category", "incidents"]) == [
        ["2024-Q1", "__uncategorised__", 1],
        ["2024-Q1", "arrest", 2],
        ["2024-Q1", "killing", 2],
        [IMPRECISE_PERIOD, "__uncategorised__", 0],
        [IMPRECISE_PERIOD, "arrest", 1],
        [IMPRECISE_PERIOD, "killing", 0],
    ]


def test_large_grids_fall_back_to_non_zero_rows(monkeypatch):
    records, joined = make(ROWS)
    days = View.parse(2, "day")
    dense = aggregate.summarize(records, joined, LEVELS, days, by_category=False)
    monkeypatch.setattr(cells, "MAX_GRID_ROWS", 10)
    sparse = aggregate.summarize(records, joined, LEVELS, days, by_category=False)
    assert sparse.attrs["zero_filled"] is False
    expected = dense[dense["incidents"] > 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(sparse, expected, check_like=False)


# --- totals reconcile, on random data -------------------------------------------------------

record_rows = st.lists(
    st.tuples(
        st.dates(
            min_value=pd.Timestamp("2019-12-25").date(), max_value=pd.Timestamp("2021-01-05").date()
        ),
        st.integers(0, 40),  # range length in days
        st.sampled_from(["day", "day", "month", "year"]),
        st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        st.one_of(st.none(), st.integers(0, 9)),
        st.sampled_from(["N1", "N2", "S1", "outside", "imprecise"]),
    ),
    max_size=40,
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    rows=record_rows,
    period=st.sampled_from(["day", "week", "acled-week", "month", "quarter", "year"]),
)
def test_totals_reconcile(rows, period):
    built = []
    for day, span, precision, labels, victims, where in rows:
        start = pd.Timestamp(day)
        end = start + pd.Timedelta(days=span if precision == "day" else 0)
        adm2 = where if len(where) == 2 else None
        adm1 = adm2[0] if adm2 else None
        match = "inside" if adm2 else where
        category = "; ".join(labels)
        built.append(
            (str(start.date()), str(end.date()), precision, category, victims, adm1, adm2, match)
        )
    if not built:
        built = [("2020-01-01", None, "day", "", None, None, None, "outside")]
    records, joined = make(built)
    n = len(records)
    flat_table = aggregate.summarize(
        records, joined, LEVELS, View.parse(level=2, period=period), by_category=False
    )
    assert flat_table["incidents"].sum() == n
    assert flat_table["victims"].sum() == pytest.approx(np.nansum(records["victims"]))
    assert flat_table["victims_known"].sum() == records["victims"].notna().sum()
    by_cat = aggregate.summarize(records, joined, LEVELS, View.parse(level=2, period=period))
    labels_per_record = [max(1, len({x for x in c.split("; ") if x})) for c in records["category"]]
    assert by_cat["incidents"].sum() == sum(labels_per_record)
    series = aggregate.time_series(records, joined, period=period, by_category=False)
    per_period = flat_table.groupby("period")["incidents"].sum()
    assert series.set_index("period")["incidents"].to_dict() == per_period.to_dict()
    totals = aggregate.region_totals(records, joined, LEVELS, View.parse(level=1))
    assert totals["incidents"].sum() == n


# --- real data: UCDP Ukraine joined to Natural Earth, by month -------------------------------


def test_ucdp_ukraine_monthly_summary_reconciles(shared_data, tmp_path):
    source = (
        shared_data
        / "boundaries"
        / "world_ne_admin1"
        / "ne_10m_admin_1_states_provinces.topo.json.gz"
    )
    target = tmp_path / "ne.topo.json"
    with gzip.open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    world = gpd.read_file(target)
    ukraine = world[world["adm0_a3"] == "UKR"]
    levels = {
        1: gpd.GeoDataFrame(
            {
                "code": ukraine["iso_3166_2"].values,
                "name": ukraine["name"].values,
                "parent_code": "UKR",
            },
            geometry=shapely.make_valid(ukraine.geometry.values),
            crs=4326,
        )
    }
    path = shared_data / "incidents" / "ucdp_ged_ukr" / "ucdp_ged_ukr_2014_2021_hxl.csv"
    raw = pd.read_csv(path, dtype=str, skiprows=[1], keep_default_na=False, na_values=[""])
    start = pd.to_datetime(raw["date_start"].str[:10])
    end = pd.to_datetime(raw["date_end"].str[:10])
    records = pd.DataFrame(
        {
            "date": start,
            "date_end": end,
            "date_precision": "day",
            "lat": raw["latitude"].astype(float),
            "lon": raw["longitude"].astype(float),
            "category": raw["type_of_violence"].map(
                {"1": "state-based", "2": "non-state", "3": "one-sided"}
            ),
            "victims": raw["best"].astype(float),
        }
    )
    joined = join.join_points(records, levels)
    table = aggregate.summarize(
        records, joined, levels, View.parse(level=1, period="month"), by_category=False
    )
    assert table["incidents"].sum() == len(records) == 2989
    assert table["victims"].sum() == records["victims"].sum()
    assert table["period"].iloc[0] == "2014-01"
    assert set(table["region_code"]) >= {"UA-14", "UA-09", OUTSIDE_CODE}
    donetsk = table[table["region_code"] == "UA-14"]
    assert len(donetsk) == table["period"].nunique()  # zero-filled months
    by_type = aggregate.summarize(records, joined, levels, View.parse(level=1, period="year"))
    assert by_type["incidents"].sum() == len(records)  # one label per record


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.integers(0, 29), max_size=40),
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=5),
)
def test_take_rows_reads_chunk_by_chunk_and_gives_what_iloc_gives(rows, sizes):
    """Columns of several arrow chunks (as a large file's reading leaves them) are taken
    chunk by chunk; the rows, their order, repeats and the dtypes are iloc's."""
    import pyarrow as pa

    n = 30
    texts = [None if k % 7 == 3 else f"é{k}" * (k % 4) for k in range(n)]
    cuts = np.cumsum([0, *sizes])
    cuts = [int(c) for c in cuts[cuts < n]] + [n]
    chunked = pa.chunked_array(
        [pa.array(texts[a:b], pa.large_string()) for a, b in itertools.pairwise(cuts)]
    )
    frame = pd.DataFrame(
        {
            "lat": np.arange(n, dtype=float),
            "description": pd.Series(pd.arrays.ArrowStringArray(chunked)),
            "id": pd.Series([f"r{k}" for k in range(n)], dtype="str"),
        }
    )
    assert frame["description"].array._pa_array.num_chunks == len(cuts) - 1
    taken = aggregate.take_rows(frame, np.array(rows, dtype=np.int64))
    pd.testing.assert_frame_equal(taken, frame.iloc[rows])
