"""The fast paths give exactly what the exact slow paths give (the benchmarks time them).

``read_csv_bytes`` reads plain lines with pyarrow and every other line with the csv
module; ``engine="python"`` reads everything with the csv module. Whatever the file,
both must give the same records, line numbers, rejections, notes and counts. The
aggregate's dense counting, partial counts and natural breaks are checked the same way
against the straightforward computation.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisismap import aggregate, display, join
from crisismap.aggregate import cells
from crisismap.records import fastcsv
from crisismap.records import read as ingest
from crisismap.schema import View


def _read_both(data: bytes) -> tuple[ingest.RawTable, ingest.RawTable]:
    return ingest.read_csv_bytes(data), ingest.read_csv_bytes(data, engine="python")


def _same(fast: ingest.RawTable, slow: ingest.RawTable) -> None:
    assert fast.header == slow.header
    assert fast.frame.astype(object).values.tolist() == slow.frame.astype(object).values.tolist()
    assert fast.lines.tolist() == slow.lines.tolist()
    assert [(r.line, r.last_line, r.fields, r.raw_text, r.problem) for r in fast.rejected] == [
        (r.line, r.last_line, r.fields, r.raw_text, r.problem) for r in slow.rejected
    ]
    assert fast.blank_lines == slow.blank_lines
    assert fast.notes == slow.notes
    assert fast.problems == slow.problems
    assert fast.hxl_tags == slow.hxl_tags and fast.hxl_line == slow.hxl_line


_LINES = [
    "1,plain text,2024-01-01",
    '2,"quoted, with comma",2024-01-02',
    '3,"doubled ""quote"" inside",2024-01-03',
    '"4","all quoted","2024-01-04"',
    '5,"",2024-01-05',
    '6,"opens here',
    'and closes here",2024-01-06',
    '7,no closing quote at all" here,2024-01-07',
    '8,"closed" then text,2024-01-08',
    '9, "space before quote",2024-01-09',
    "10,too,many,fields",
    "11,too few",
    "12,trailing,2024-01-12,",
    "",
    ",,",
    "   ",
    '"","",""',
    "#id,#description,#date",
    "13,nul\x00byte,2024-01-13",
    '14,"a""',
    '"""15""",x,y',
    "16,é accents ü,2024-01-16",
    '17,"multi',
    "line",
    'value",2024-01-17',
    '18,x"",2024-01-18',
    '19,"x"y",2024-01-19',
]


def test_rows_of_empty_fields_are_blank_lines_among_plain_and_irregular_ones():
    # ,, and "","" are blank lines to the csv module; the fast path finds them among the
    # short lines only, wherever they sit (first, last, beside an irregular line, CR LF)
    data = b'h1,h2,h3\r\n,,\r\n1,a,b\r\n"","",""\r\n2,"x\r\ny",c\r\n,,\r\n3,,\r\n\r\n4,d,e\r\n,,'
    fast, slow = _read_both(data)
    _same(fast, slow)
    assert fast.lines.tolist() == [3, 5, 8, 10]
    assert fast.frame["h1"].tolist() == ["1", "2", "3", "4"]
    assert fast.blank_lines == 5


@pytest.mark.slow
@settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    lines=st.lists(st.sampled_from(_LINES), min_size=0, max_size=30),
    crlf=st.booleans(),
    final_newline=st.booleans(),
)
def test_mixed_files_read_the_same_through_both_engines(lines, crlf, final_newline):
    end = "\r\n" if crlf else "\n"
    text = end.join(["id,description,date", *lines]) + (end if final_newline else "")
    _same(*_read_both(text.encode("utf-8")))


def test_a_few_bad_lines_in_a_large_file_leave_the_rest_to_pyarrow():
    good = [f'{i},"text {i}, with comma",2024-01-{1 + i % 28:02d}' for i in range(3000)]
    good[100] = '100,"stray quote,2024-01-01'
    good[2000] = "2000,extra,field,2024-01-01"
    good[2500] = '2500,"multi\nline",2024-01-01'
    data = ("id,description,date\n" + "\n".join(good) + "\n").encode()
    fast, slow = _read_both(data)
    _same(fast, slow)
    assert [(r.line, r.problem.code) for r in fast.rejected] == [
        (102, "quote-unclosed"),
        (2002, "too-many-fields"),
    ]
    assert fast.lines[-1] == 3002 and len(fast.frame) == 2998


@pytest.mark.parametrize("block", [1, 7, 1000])
def test_plain_lines_parsed_and_merged_in_small_pieces_read_the_same(monkeypatch, block):
    """Plain lines are copied and parsed a piece at a time and the csv module's rows merged
    in a block at a time: pieces of any size give the table one piece gives."""
    monkeypatch.setattr(fastcsv, "_PLAIN_PIECE", block * 10)
    monkeypatch.setattr(fastcsv, "_MERGE_BLOCK", block)
    good = [f'{i},"text {i}, with comma",2024-01-{1 + i % 28:02d}' for i in range(600)]
    for k in (0, 1, 2, 50, 51, 300, 599):
        good[k] = f'{k},"multi\nline {k}",2024-01-01'
    data = ("id,description,date\n" + "\n".join(good) + "\n").encode()
    fast, slow = _read_both(data)
    _same(fast, slow)
    assert len(fast.frame) == 600 and fast.frame["description"].iloc[51] == "multi\nline 51"


_PIECES = ["a", "b", ",", '"', "\n", "\r\n", " ", "1", "#t", "\x00", "é", '""', ",,"]


@pytest.mark.slow
@settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(body=st.lists(st.sampled_from(_PIECES), max_size=60))
def test_random_bytes_read_the_same_through_both_engines(body):
    _same(*_read_both(("h1,h2,h3\n" + "".join(body)).encode("utf-8")))


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    lines=st.lists(st.sampled_from(_LINES), min_size=0, max_size=40),
    crlf=st.booleans(),
    threads=st.integers(2, 4),
)
def test_a_scan_cut_into_pieces_equals_the_whole_scan(lines, crlf, threads):
    end = "\r\n" if crlf else "\n"
    data = end.join(["id,description,date", *lines]).encode("utf-8")
    offset = data.find(b"\n") + 1 if b"\n" in data else len(data)
    whole = fastcsv._scan(data, offset, 1, ord(","))
    saved = fastcsv._SCAN_PIECE, fastcsv._SCAN_THREADS
    try:
        fastcsv._SCAN_PIECE, fastcsv._SCAN_THREADS = 1, threads  # cut even tiny files
        cut = fastcsv._scan(data, offset, 1, ord(","))
        fast = ingest.read_csv_bytes(data)
    finally:
        fastcsv._SCAN_PIECE, fastcsv._SCAN_THREADS = saved
    for name in ("start", "stop", "empty", "plain"):
        assert getattr(cut, name).tolist() == getattr(whole, name).tolist(), name
    _same(fast, ingest.read_csv_bytes(data, engine="python"))


@pytest.mark.slow
@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    lines=st.lists(st.sampled_from(_LINES), min_size=0, max_size=30),
    crlf=st.booleans(),
    bom=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"]),
)
def test_a_file_read_through_a_memory_map_equals_its_bytes_read(tmp_path_factory, lines, crlf, bom):
    """Large files are mapped, not copied; what is read must not change."""
    end = "\r\n" if crlf else "\n"
    text = end.join(["id,description,date", *lines]) + end
    data = bom + (text.encode("utf-16-le") if bom == b"\xff\xfe" else text.encode("utf-8"))
    path = tmp_path_factory.mktemp("mapped") / "file.csv"
    path.write_bytes(data)
    saved = ingest._MAP_FILE_BYTES
    try:
        ingest._MAP_FILE_BYTES = 0  # map even tiny files
        mapped = ingest.read_csv_file(path)
    finally:
        ingest._MAP_FILE_BYTES = saved
    _same(mapped, ingest.read_csv_bytes(data, filename="file.csv", engine="python"))
    assert mapped.encoding == ingest.read_csv_bytes(data).encoding


def _validated(data: bytes, parallel_from: int) -> tuple:
    from crisismap.records import checks, presets
    from crisismap.records import validation as validate

    raw = ingest.read_csv_bytes(data)
    mapping = presets.detect_mapping(raw.header, raw.hxl_tags)
    saved = checks._PARALLEL_MIN_ROWS
    try:
        checks._PARALLEL_MIN_ROWS = parallel_from
        return validate.validate(raw, mapping)
    finally:
        checks._PARALLEL_MIN_ROWS = saved


def test_checks_on_two_threads_report_exactly_what_one_thread_reports():
    """Problems, notes, records and rejections do not depend on which check ends first."""
    from pathlib import Path

    demo = Path(__file__).parents[1] / "data" / "incidents" / "demo_sudan_synthetic.csv"
    extra = (
        '\nX1,31/02/2024,15.5,32.5,,-3,"=HYPERLINK()",src'
        "\nX1,2024-13-01,abc,32.5,killing,2.5,d,s"
        "\n,2030-01-01,0,0,killing,NA,d,s"
    )
    data = demo.read_bytes().rstrip(b"\n") + extra.encode()
    one = _validated(data, 1 << 40)
    two = _validated(data, 0)
    pd.testing.assert_frame_equal(one.records, two.records)
    pd.testing.assert_frame_equal(one.rejected, two.rejected)
    assert one.report.problems == two.report.problems
    assert one.report.counts == two.report.counts
    assert one.report.notes == two.report.notes
    assert one.report.date_order == two.report.date_order
    assert one.report.rejected >= 8 and one.report.warned >= 2  # the file is dirty


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.text(alphabet="0123456789+-.eEinfatyINF x,_٣", max_size=8)
        | st.from_regex(r"[+-]?\d{1,3}(\.\d{0,6})?", fullmatch=True)
        | st.floats(allow_nan=True).map(str),
        min_size=1,
        max_size=20,
    ),
)
def test_plain_decimals_by_cast_equal_the_regex(values):
    """The cast shortcut marks and reads exactly the values the regex marks as plain."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from crisismap.records import coordinates

    castable = [v for v in values if _arrow_casts(v)]
    for group in (values, castable, *([v] for v in values)):  # whole-column cast and regex
        arr = pa.chunked_array([pa.array(group, pa.large_string())])
        plain, value = coordinates._plain_decimals(arr)
        expected = pc.match_substring_regex(arr, coordinates._PLAIN)
        expected = expected.to_numpy(zero_copy_only=False)
        assert plain.tolist() == expected.tolist()
        want = [float(v) if p else np.nan for v, p in zip(group, expected, strict=True)]
        np.testing.assert_array_equal(value, np.array(want, dtype=float))


@settings(max_examples=300, deadline=None, database=None)
@given(values=st.lists(st.text(alphabet="0123456789+-.eE x٣", max_size=5), min_size=1, max_size=12))
def test_plain_counts_without_regex_equal_the_regex(values):
    import pyarrow as pa
    import pyarrow.compute as pc

    from crisismap.records import counts

    digits_only = [v for v in values if not set(v) & set("+-.eE")]
    for group in (values, digits_only, *([v] for v in values)):
        arr = pa.chunked_array([pa.array(group, pa.large_string())], type=pa.large_string())
        expected = pc.match_substring_regex(arr, counts._PLAIN_COUNT)
        got = counts._plain_counts(arr)
        assert got.tolist() == expected.to_numpy(zero_copy_only=False).tolist()


def _arrow_casts(text: str) -> bool:
    import pyarrow as pa

    try:
        pa.array([text]).cast(pa.float64())
    except pa.ArrowInvalid:
        return False
    return True


@settings(max_examples=300, deadline=None, database=None)
@given(
    values=st.lists(st.text(alphabet="ab \t\n\u00a0\u3000\x1fé,", max_size=5), max_size=12),
    cut=st.integers(0, 12),
)
def test_strip_shortcut_equals_pandas_strip(values, cut):
    """Skipping the strip when no value can need it never changes a value."""
    import pyarrow as pa

    from crisismap.records import columns

    whole = pa.array(["  x", *values, "y "], pa.large_string())[1:-1]  # sliced: offset 1
    chunks = [whole.slice(0, cut), whole.slice(cut)]
    arr = pa.chunked_array(chunks, type=pa.large_string())
    series = pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow", np.nan)))
    expected = series.str.strip()
    got = columns.strip(series)
    assert got.tolist() == expected.tolist()
    if values and any(v != v.strip() for v in values):
        assert columns._may_need_strip(arr)


# --- aggregate: the dense counting path, natural breaks, partial counts -----------------------


def _tiny():
    levels = {
        1: gpd.GeoDataFrame(
            {"code": ["A", "B"], "name": ["a", "b"], "parent_code": [None, None]},
            geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
            crs="EPSG:4326",
        )
    }
    records = pd.DataFrame(
        {
            "lat": [0.5, 0.5, 0.5, 0.5, 5.0],
            "lon": [0.5, 0.5, 1.5, 1.5, 5.0],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-03-09", "2024-01-31", "2024-02-01", "2024-01-01"]
            ),
            "date_end": pd.to_datetime(
                ["2024-01-03", "2024-03-09", "2024-01-31", "2024-02-01", "2024-01-01"]
            ),
            "date_precision": ["day"] * 5,
            "category": ["x", "x; y", "y", "", "z"],
            "victims": [1.0, np.nan, 2.0, 0.0, 4.0],
        }
    )
    return records, join.join_points(records, levels), levels


def test_sparse_and_dense_counting_give_the_same_table(monkeypatch):
    records, joined, levels = _tiny()
    monkeypatch.setattr(cells, "MAX_GRID_ROWS", 0)  # only the non-zero cells
    dense = aggregate.summarize(records, joined, levels, View.parse(level=1, period="month"))
    monkeypatch.setattr(cells, "_DENSE_CELLS", 0)
    sparse = aggregate.summarize(records, joined, levels, View.parse(level=1, period="month"))
    pd.testing.assert_frame_equal(dense, sparse)
    assert dense[["region_code", "period", "category", "incidents"]].values.tolist() == [
        ["A", "2024-01", "x", 1],
        ["A", "2024-03", "x", 1],
        ["A", "2024-03", "y", 1],
        ["B", "2024-01", "y", 1],
        ["B", "2024-02", "__uncategorised__", 1],
        ["__outside__", "2024-01", "z", 1],
    ]
    # the previous period of the same region and category; none before the first period
    change = [None if pd.isna(v) else int(v) for v in dense["incidents_change"]]
    assert change == [None, 1, 1, None, 1, None]


@pytest.mark.parametrize("grid_rows", [0, 10_000])
def test_axes_built_on_two_threads_give_the_same_table(monkeypatch, grid_rows):
    records, joined, levels = _tiny()
    monkeypatch.setattr(cells, "MAX_GRID_ROWS", grid_rows)  # dense and zero-filled
    one = aggregate.summarize(records, joined, levels, View.parse(level=1, period="month"))
    monkeypatch.setattr(cells, "PARALLEL_MIN_RECORDS", 0)
    two = aggregate.summarize(records, joined, levels, View.parse(level=1, period="month"))
    pd.testing.assert_frame_equal(one, two)
    assert one.attrs == two.attrs and int(one["incidents"].sum()) == 6  # x; y counts twice


def test_category_labels_split_distinct_values_only():
    records, _, _ = _tiny()
    assert aggregate.category_labels(records) == ["x", "y", "z"]
    # the dashboard's own way, over every record
    labels = records["category"].dropna().astype(str).str.split(";").explode().str.strip()
    assert aggregate.category_labels(records) == sorted(x for x in labels.unique() if x)


def test_a_filter_that_leaves_a_category_unused_still_counts():
    records, joined, levels = _tiny()
    table = aggregate.summarize(
        records, joined, levels, View.parse(level=1, period="month", regions=["B"])
    )
    assert table.groupby("category")["incidents"].sum().to_dict() == {
        "__uncategorised__": 1,
        "y": 1,
    }


@pytest.mark.parametrize(
    "view",
    [
        {"period": "month"},
        {"period": "week", "by_category": False},
        {"period": "month", "start": "2024-01-15", "end": "2024-02-29"},
        {"period": "month", "categories": ["y"]},
    ],
)
def test_partial_counts_of_any_split_combine_to_the_summary(view):
    records, joined, levels = _tiny()
    options = dict(view)
    by_category = options.pop("by_category", True)
    wanted = View.parse(1, **options)
    want = aggregate.summarize(records, joined, levels, wanted, by_category=by_category)
    parts = [
        aggregate.partial_counts(
            records.iloc[a:b].reset_index(drop=True),
            joined.iloc[a:b].reset_index(drop=True),
            levels,
            wanted,
            by_category=by_category,
        )
        for a, b in ((0, 2), (2, 2), (2, 5))
    ]
    got = aggregate.summarize_partials(parts, levels, wanted, by_category=by_category)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs


@pytest.mark.filterwarnings("ignore:Numba not installed")
def test_natural_breaks_are_fisher_jenks():
    assert display.natural_breaks([1, 2, 3, 10, 11, 12, 50], 3) == [3.0, 12.0, 50.0]
    assert display.natural_breaks([4, 4, 1], 5) == [1.0, 4.0, 4.0]
    assert display.natural_breaks([], 5) == []
    mapclassify = pytest.importorskip("mapclassify")
    rng = np.random.default_rng(7)
    for _ in range(40):
        values = np.round(rng.pareto(1.2, int(rng.integers(8, 80))) * 100) + 1
        if len(np.unique(values)) > 5:
            assert display.natural_breaks(values, 5) == [
                float(b) for b in mapclassify.FisherJenks(values, k=5).bins
            ]
