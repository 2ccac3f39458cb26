"""Long quoted values: a value of any number of lines that closes is one record.

A testimony may list hundreds of survivors, one per line. Whatever Python's ``csv``
module writes must read back as the same records, through the fast path (pyarrow for
plain lines) and the exact path (``engine="python"``), and no name may turn into a
record of its own. A value line shaped like a record of the file (as many fields as
the header, of the same kinds) is where a stray quote cannot be told from a long value
by shape alone; the generated values keep their lines to at most two commas, the
header to four columns or more, and the hand-built cases below show how such lines
are decided.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisismap.records import read as ingest

_NAMES = ["Amina Yusuf", "Omar Haddad", "Daria Kovalenko", "Jean-Baptiste Mugisha", "Li Wei"]
_WORDS = ["he said", '"stop"', "at the checkpoint", "O'Brien", "Zürich", "   ", ""]
_SEP = st.sampled_from([", ", ",", " "])
_LINE = st.one_of(
    st.sampled_from(_NAMES + _WORDS),
    st.tuples(st.sampled_from(_NAMES + _WORDS), _SEP, st.sampled_from(_NAMES + _WORDS)).map(
        "".join
    ),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00,\r\n"), max_size=20
    ),
)
_SHORT = st.lists(_LINE, min_size=1, max_size=3).map("\n".join)
_LONG = (
    st.integers(1, 1000).flatmap(lambda n: st.lists(_LINE, min_size=n, max_size=n)).map("\n".join)
)


def _file(rows: list[list[str]], header: list[str], line_end: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def _records(raw: ingest.RawTable) -> list[list[str]]:
    return raw.frame.astype(object).values.tolist()


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    extra = draw(st.integers(0, 3))
    header = ["id", "date", "description", "source"] + [f"extra{i}" for i in range(extra)]
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        value = draw(st.one_of(_LONG, _SHORT, st.sampled_from(_NAMES)))
        source = draw(st.one_of(_SHORT, st.sampled_from(["", "UN", "witness, local"])))
        rest = [draw(st.sampled_from(["", "x", "1.5", "a, b"])) for _ in range(extra)]
        rows.append([str(i + 1), f"2024-01-{1 + i % 28:02d}", value, source, *rest])
    return header, rows


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(table=_tables(), line_end=st.sampled_from(["\r\n", "\n"]))
def test_every_file_the_csv_module_writes_reads_back_the_same(table, line_end):
    header, rows = table
    data = _file(rows, header, line_end)
    expected = [[v.replace("\r\n", "\n") for v in row] for row in rows]
    for raw in (ingest.read_csv_bytes(data), ingest.read_csv_bytes(data, engine="python")):
        assert raw.rejected == []
        assert raw.header == header
        got = [[v.replace("\r\n", "\n") for v in row] for row in _records(raw)]
        assert got == expected
        assert len(raw.lines) == len(rows)


def _testimony(n: int) -> str:
    return "\n".join(f"{_NAMES[i % len(_NAMES)]} ({i + 1})" for i in range(n))


def test_a_300_line_description_listing_names_is_one_record():
    names = _testimony(300)
    text = (
        "id,date,description,latitude,longitude\n"
        "1,2024-01-01,short,1.0,2.0\n"
        f'2,2024-01-02,"Survivors:\n{names}",3.0,4.0\n'
        "3,2024-01-03,after,5.0,6.0\n"
    )
    data = text.encode("utf-8")
    for raw in (ingest.read_csv_bytes(data), ingest.read_csv_bytes(data, engine="python")):
        assert raw.rejected == []
        assert raw.n_records == 3
        assert raw.lines.tolist() == [2, 3, 304]
        assert raw.frame["description"].tolist() == ["short", f"Survivors:\n{names}", "after"]
        assert list(csv.reader(io.StringIO(text)))[1:] == _records(raw)


def test_a_long_value_with_a_few_record_shaped_lines_is_still_one_record():
    lines = [f"{name}, {name}, 2024, x" for name in _NAMES[:2]] + _testimony(40).split("\n")
    value = "\n".join(lines)
    text = f'id,date,description,source\n1,2024-01-01,"{value}",UN\n2,2024-01-02,b,UN\n'
    data = text.encode("utf-8")
    for raw in (ingest.read_csv_bytes(data), ingest.read_csv_bytes(data, engine="python")):
        assert raw.rejected == []
        assert raw.frame["description"].tolist() == [value, "b"]


def test_two_stray_quotes_far_apart_still_swallow_nothing():
    # read literally, the quote on line 2 closes on line 150 and the record has the
    # header's four fields; the 147 records inside it decide: a stray quote
    rows = "".join(f"{i},2024-01-{i:02d},text {i},UN\n" for i in range(3, 150))
    text = f'id,date,description,source\n1,2024-01-01,"stray,UN\n{rows}150,2024-02-01,end",UN\n'
    data = text.encode("utf-8")
    for raw in (ingest.read_csv_bytes(data), ingest.read_csv_bytes(data, engine="python")):
        assert [(r.line, r.problem.code) for r in raw.rejected] == [(2, "quote-unclosed")]
        assert raw.frame["id"].tolist()[:2] == ["3", "4"]
        assert raw.n_records == 149
