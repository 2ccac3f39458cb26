"""Rejected records kept columnar: the table users get is the one they always got."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from crisismap import records
from crisismap.records.columns import take_arrow

MIXED = (
    b"id,date,latitude,longitude,line,reasons\n"
    b"1,2024-01-02,48.5,37.1,a,b\n"
    b"2,2023-02-30,95.0,37.2,c,d\n"
    b"3,2024-01-01,48.51,37.21,extra,x,y\n"
    b'4,"bad,2024-01-01,1,2,e,f\n'
    b"5,,0,0,g,h\n"
)


def test_rejected_rows_columns_and_reasons_in_file_order():
    result = records.validate_bytes(MIXED, filename="mixed.csv")
    rejected = result.rejected
    assert list(rejected.columns) == [
        "line", "id", "date", "latitude", "longitude", "line (file)", "reasons (file)",
        "raw_text", "reasons",
    ]  # fmt: skip
    assert rejected["line"].dtype == np.int64
    assert all(rejected[c].dtype == "str" for c in rejected.columns[1:])
    rows = rejected.astype(object).where(rejected.notna(), None).values.tolist()
    assert [row[:8] for row in rows] == [
        [3, "2", "2023-02-30", "95.0", "37.2", "c", "d", None],
        [4, "3", "2024-01-01", "48.51", "37.21", "extra", "x",
         "3,2024-01-01,48.51,37.21,extra,x,y"],
        [5, None, None, None, None, None, None, '4,"bad,2024-01-01,1,2,e,f'],
        [6, "5", "", "0", "0", "g", "h", None],
    ]  # fmt: skip
    reasons = [row[8].split(" | ") for row in rows]
    assert [[r.split(":")[0] for r in rs] for rs in reasons] == [
        ["date-impossible", "coords-out-of-range"],  # in the order the checks run
        ["too-many-fields"],
        ["quote-unclosed"],
        ["date-missing", "coords-zero"],
    ]
    assert reasons[0][0] == (
        "date-impossible: '2023-02-30' is not on the calendar (read as year 2023, month 2, "
        "day 30): check the day and the month."
    )
    assert reasons[1][0].startswith("too-many-fields: The record on line 4 has 7 fields; ")
    report = result.report
    assert (report.records, report.accepted, report.rejected) == (5, 1, 4)
    assert report.accepted + report.rejected == report.records == len(rejected) + 1


def test_a_file_whose_every_record_is_rejected_lists_each_with_its_value():
    data = b"id,date,lat,lon\n" + b"".join(
        f"{i},not a date {i},lat {i},{i}.5\n".encode() for i in range(1, 6)
    )
    result = records.validate_bytes(data)
    rejected = result.rejected
    assert result.report.accepted == 0 and result.report.rejected == len(rejected) == 5
    assert rejected["line"].tolist() == [2, 3, 4, 5, 6]
    assert rejected["date"].tolist() == [f"not a date {i}" for i in range(1, 6)]
    assert rejected["reasons"].iloc[4] == (
        "date-invalid: 'not a date 5' is not a date this tool can read: use YYYY-MM-DD "
        "(e.g. 2024-03-15), DD/MM/YYYY, '15 March 2024', 2024-03 or 2024. | coords-invalid: "
        "'lat 5' is not a latitude this tool can read: use decimal degrees such as 48.5123 "
        "(or degrees-minutes-seconds like 48°30'44\"N)."
    )


def test_nothing_rejected_is_an_empty_table_with_the_columns():
    result = records.validate_bytes(b"id,date,lat,lon\n1,2024-01-02,48.5,37.1\n")
    assert len(result.rejections) == 0
    assert list(result.rejected.columns) == ["line", "id", "date", "lat", "lon", "raw_text",
                                             "reasons"]  # fmt: skip
    assert result.rejected.empty


def test_rows_are_taken_chunk_by_chunk_in_order():
    column = pa.chunked_array(
        [pa.array(["a", "b", "c"]), pa.array([], pa.string()), pa.array(["d", "e"])]
    )
    assert take_arrow(column, np.array([0, 2, 3, 4])).to_pylist() == ["a", "c", "d", "e"]
    assert take_arrow(column, np.array([3])).to_pylist() == ["d"]
    assert take_arrow(column, np.array([], np.int64)).to_pylist() == []
    assert take_arrow(column, np.arange(5)).to_pylist() == ["a", "b", "c", "d", "e"]
