"""Reading incident CSVs into text columns: every record keeps its line, nothing is coerced."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisismap.errors import InputError, UnsafeInputError
from crisismap.records import read as ingest


def read(text: str | bytes, **options: object) -> ingest.RawTable:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return ingest.read_csv_bytes(data, **options)  # type: ignore[arg-type]


def rows(raw: ingest.RawTable) -> list[list[object]]:
    """[line, *fields] per readable record: a flat, hand-checkable view."""
    values = raw.frame.astype(object).values.tolist()
    return [[int(line), *row] for line, row in zip(raw.lines, values, strict=True)]


def rejected(raw: ingest.RawTable) -> list[list[object]]:
    return [[r.line, r.problem.code] for r in raw.rejected]


# --- values stay text -------------------------------------------------------------------


def test_values_are_never_coerced():
    raw = read("country,code,n\nNA,007,\nNamibia, 1e3 ,NULL\n")
    assert rows(raw) == [[2, "NA", "007", ""], [3, "Namibia", " 1e3 ", "NULL"]]
    assert raw.n_records == 2


def test_both_engines_give_the_same_table():
    text = "a,b,c\n1,2,3\n\n4,5,6\n,,\n7,8,9"
    fast, slow = read(text), read(text, engine="python")
    assert rows(fast) == rows(slow) == [[2, "1", "2", "3"], [4, "4", "5", "6"], [6, "7", "8", "9"]]
    assert fast.blank_lines == slow.blank_lines == 2


# --- quotes and malformed lines -------------------------------------------------------------

HEADER = "id,desc,date,lat,lon\n"


def test_stray_quote_never_closed_rejects_only_its_line():
    raw = read(
        HEADER
        + "1,a,2024-01-01,1.51,2.51\n"
        + '2,"Smith,2024-01-02,1.52,2.52\n'
        + "3,c,2024-01-03,1.53,2.53\n"
        + "4,d,2024-01-04,1.54,2.54\n"
    )
    assert [r[:2] for r in rows(raw)] == [[2, "1"], [4, "3"], [5, "4"]]
    assert rejected(raw) == [[3, "quote-unclosed"]]
    assert raw.rejected[0].raw_text == '2,"Smith,2024-01-02,1.52,2.52'
    assert "swallow" in raw.rejected[0].problem.message


def test_stray_quote_closed_by_a_later_stray_quote_swallows_nothing():
    # Read literally, the quote on line 3 runs to the quote on line 6 and the merged
    # record even has the right number of fields.
    raw = read(
        HEADER
        + "1,a,2024-01-01,1.51,2.51\n"
        + '2,"Smith,2024-01-02,1.52,2.52\n'
        + "3,c,2024-01-03,1.53,2.53\n"
        + "4,d,2024-01-04,1.54,2.54\n"
        + '5,Jones",2024-01-05,1.55,2.55\n'
        + "6,f,2024-01-06,1.56,2.56\n"
    )
    assert [r[:3] for r in rows(raw)] == [
        [2, "1", "a"],
        [4, "3", "c"],
        [5, "4", "d"],
        [6, "5", 'Jones"'],
        [7, "6", "f"],
    ]
    assert rejected(raw) == [[3, "quote-unclosed"]]


def test_stray_quote_closed_on_the_next_line():
    raw = read(
        HEADER + '1,"Smith,2024-01-01,1.51,2.51\n2,Jones",2024-01-02,1.52,2.52\n3,c,2024,1.5,2.5\n'
    )
    assert [r[:3] for r in rows(raw)] == [[3, "2", 'Jones"'], [4, "3", "c"]]
    assert rejected(raw) == [[2, "quote-unclosed"]]


def test_quoted_multiline_value_keeps_its_start_line():
    raw = read(
        HEADER
        + '1,"Shelling, then\n""fire"", 3 houses\nburnt",2024-01-01,1.51,2.51\n'
        + "2,b,2024-01-02,1.52,2.52\n"
    )
    assert rows(raw) == [
        [2, "1", 'Shelling, then\n"fire", 3 houses\nburnt', "2024-01-01", "1.51", "2.51"],
        [5, "2", "b", "2024-01-02", "1.52", "2.52"],
    ]
    assert raw.rejected == []


def test_narrative_lines_with_commas_are_not_taken_for_records():
    text = '1,"Attack on the market, two killed, three injured, houses burnt\nand later, more, shots, heard, here",2024-01-01,1.51,2.51\n'  # noqa: E501
    raw = read(HEADER + "0,a,2024-01-01,1.50,2.50\n" + text)
    assert [r[:2] for r in rows(raw)] == [[2, "0"], [3, "1"]]
    assert raw.rejected == []


def test_extra_and_missing_fields_are_rejected_with_their_line():
    raw = read(HEADER + "1,a,2024,1.5,2.5\n2,b,c,2024,1.5,2.5\n3,c,2024\n4,d,2024,1.5,2.5\n")
    assert [r[:2] for r in rows(raw)] == [[2, "1"], [5, "4"]]
    assert rejected(raw) == [[3, "too-many-fields"], [4, "too-few-fields"]]
    assert raw.rejected[0].fields == ("2", "b", "c", "2024", "1.5", "2.5")
    assert "6 fields; the header has 5" in raw.rejected[0].problem.message


def test_quote_followed_by_text_is_rejected_not_silently_changed():
    raw = read('id,desc\n1,"Smith" Jr\n2,ok\n')
    assert rows(raw) == [[3, "2", "ok"]]
    assert rejected(raw) == [[2, "quote-malformed"]]


def test_quote_inside_an_unquoted_value_is_kept():
    assert rows(read('id,desc\n1,He said "stop" twice\n')) == [[2, "1", 'He said "stop" twice']]


def test_runaway_quote_that_never_closes_sets_aside_its_line_only():
    lines = "".join(f"{i},text {i}\n" for i in range(2, 50))
    raw = read('id,desc\n1,"open\n' + lines)
    assert rejected(raw) == [[2, "quote-unclosed"]]
    assert len(raw.frame) == 48


# --- encodings ------------------------------------------------------------------------------


def test_utf8_bom_is_removed():
    raw = read("\ufeffid,name\n1,Zürich\n".encode())
    assert raw.header == ["id", "name"]
    assert raw.encoding == "utf-8-sig"
    assert rows(raw) == [[2, "1", "Zürich"]]


@pytest.mark.parametrize("codec,name", [("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be")])
def test_utf16_with_bom(codec, name):
    data = "id,name\n1,Київ\n".encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    raw = read(data)
    assert (raw.encoding, rows(raw), raw.problems) == (name, [[2, "1", "Київ"]], [])


def test_utf16_without_bom_is_read_and_reported():
    raw = read("id,name\n1,Zürich\n".encode("utf-16-le"))
    assert rows(raw) == [[2, "1", "Zürich"]]
    assert [p.code for p in raw.problems] == ["encoding-no-bom"]


def test_cp1252_is_detected_and_reported_not_silent():
    raw = read("id;name;note\n1;Zürich;café crème\n2;Bogotá;niño\n".encode("cp1252"))
    assert [p.code for p in raw.problems] == ["encoding-not-utf8"]
    problem = raw.problems[0]
    assert problem.line is None and problem.severity.value == "warning"
    assert raw.encoding in problem.message and "UTF-8" in problem.message
    assert raw.encoding != "utf-8"


def test_cp1252_guess_and_explicit_encoding():
    data = "id,name\n1,Zürich crème brûlée\n".encode("cp1252")
    assert rows(read(data, encoding="cp1252")) == [[2, "1", "Zürich crème brûlée"]]
    assert read(data, encoding="cp1252").problems == []
    with pytest.raises(InputError, match="not valid utf-8"):
        read(data, encoding="utf-8")
    with pytest.raises(InputError, match="Unknown encoding"):
        read(data, encoding="klingon")


def test_nul_bytes_reject_the_record_and_are_reported():
    raw = read(b"id,name\n1,a\x00b\n2,ok\n")
    assert rows(raw) == [[3, "2", "ok"]]
    assert rejected(raw) == [[2, "nul-byte"]]
    assert [p.code for p in raw.problems] == ["nul-bytes"]


# --- delimiters, headers, blank lines ---------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_is_detected_from_the_header(sep):
    raw = read(f"id{sep}lat{sep}lon\n1{sep}48.5{sep}2.5\n")
    assert (raw.delimiter, raw.header, rows(raw)) == (
        sep,
        ["id", "lat", "lon"],
        [[2, "1", "48.5", "2.5"]],
    )


def test_delimiter_override_and_excel_sep_line():
    assert rows(read("a;b\n1;2\n", delimiter=",")) == [[2, "1;2"]]
    raw = read("sep=;\nid;name\n1;x\n")
    assert (raw.delimiter, raw.header, rows(raw)) == (";", ["id", "name"], [[3, "1", "x"]])


def test_duplicate_and_blank_header_names_are_made_unique_with_a_note():
    raw = read("name,name,,name.2,name\n1,2,3,4,5\n")
    assert raw.header == ["name", "name.2", "column_3", "name.2.2", "name.3"]
    assert raw.original_header == ["name", "name", "", "name.2", "name"]
    assert any("made unique" in n for n in raw.notes)
    assert any("blank column name" in n for n in raw.notes)


def test_blank_lines_are_skipped_and_counted():
    raw = read("id,x\n\n1,a\n   \n,\n\r\n2,b\n\n")
    assert rows(raw) == [[3, "1", "a"], [7, "2", "b"]]
    assert raw.blank_lines == 5
    assert raw.n_records == 2
    assert any("5 blank lines skipped" in n for n in raw.notes)


def test_consistent_trailing_delimiters_are_tolerated():
    raw = read("id,x,\n1,a,\n2,b,\n")
    assert (raw.header, rows(raw), raw.rejected) == (
        ["id", "x"],
        [[2, "1", "a"], [3, "2", "b"]],
        [],
    )
    raw = read("id,x\n1,a,\n2,b,,\n")
    assert rows(raw) == [[2, "1", "a"], [3, "2", "b"]]
    assert any("trailing delimiters" in n for n in raw.notes)


def test_crlf_and_cr_line_ends():
    assert rows(read("id,x\r\n1,a\r\n2,b")) == [[2, "1", "a"], [3, "2", "b"]]
    assert rows(read("id,x\r1,a\r2,b\r")) == [[2, "1", "a"], [3, "2", "b"]]


def test_unquoted_bare_cr_inside_a_value_is_rejected_not_merged():
    raw = read("id,desc,date\n1,a\rb,2024\n2,c,2024\n")
    assert rows(raw) == [[4, "2", "c", "2024"]]
    assert rejected(raw) == [[2, "too-few-fields"], [3, "too-few-fields"]]


# --- HXL ------------------------------------------------------------------------------------------


def test_hxl_hashtag_row_is_detected_skipped_and_kept_as_tags():
    raw = read("id,Lat,Long,Killed\n,#geo+lat,#geo +lon,#affected+killed+num\n1,48.5,37.2,3\n")
    assert raw.hxl_tags == ["", "#geo+lat", "#geo+lon", "#affected+killed+num"]
    assert raw.hxl_line == 2
    assert rows(raw) == [[3, "1", "48.5", "37.2", "3"]]
    assert raw.n_records == 1
    assert any("HXL" in n for n in raw.notes)


def test_hashtags_in_one_data_cell_are_not_hxl():
    raw = read("id,desc,lat\n1,#Aleppo #shelling,36.2\n")
    assert raw.hxl_tags is None
    assert rows(raw) == [[2, "1", "#Aleppo #shelling", "36.2"]]


# --- refusals -------------------------------------------------------------------------------------


def test_size_limit_raises_a_clear_error(tmp_path):
    with pytest.raises(UnsafeInputError, match=r"limit is 0\.0 MB"):
        read("id,x\n1,a\n", max_bytes=5)
    path = tmp_path / "big.csv"
    path.write_bytes(b"id,x\n" + b"1,a\n" * 100)
    with pytest.raises(UnsafeInputError, match="big.csv"):
        ingest.read_csv_file(path, max_bytes=100)
    assert ingest.read_csv_file(path).n_records == 100


def test_empty_file_is_an_input_error_and_header_only_has_no_records():
    with pytest.raises(InputError, match="no content"):
        read("\n\n  \n")
    raw = read("id,date,lat,lon\n")
    assert (raw.header, raw.n_records, len(raw.frame)) == (["id", "date", "lat", "lon"], 0, 0)


# --- properties -----------------------------------------------------------------------------------

_text = st.text(alphabet=st.sampled_from(list("abcxyz ,;\"'\n\r\té#")), min_size=0, max_size=30)
_records = st.lists(
    st.tuples(st.integers(1, 10**6), _text, st.sampled_from(["2024-03-15", "15/03/2024", ""])),
    min_size=1,
    max_size=25,
)


def _physical_line_breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(records=_records, crlf=st.booleans())
def test_well_formed_csv_round_trips_with_line_numbers(records, crlf):
    """Whatever csv.writer produces (quotes, delimiters, CR/LF inside values) reads back
    record for record, each at the physical line where it starts."""
    out = io.StringIO(newline="")
    # csv.writer leaves a bare CR unquoted when lines end in LF (a malformed file):
    # quote every text field in that case.
    quoting = csv.QUOTE_MINIMAL if crlf else csv.QUOTE_NONNUMERIC
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n", quoting=quoting)
    writer.writerow(["id", "desc", "date"])
    expected = []
    for ident, desc, date in records:
        line = _physical_line_breaks(out.getvalue()) + 1
        writer.writerow([ident, desc, date])
        expected.append([line, str(ident), desc, date])
    raw = read(out.getvalue())
    assert rows(raw) == expected
    assert raw.rejected == []


@settings(max_examples=100, deadline=None, database=None)
@given(
    good=st.lists(st.integers(0, 10**4), min_size=1, max_size=20),
    bad_at=st.integers(0, 19),
    bad=st.sampled_from(['{},"open,2024', "{},x,y,2024", '{},"q" r,2024', "{},short"]),
)
def test_every_line_is_a_record_or_a_rejection(good, bad_at, bad):
    """Breaking one line never shifts or swallows the others."""
    lines = [f"{n},text {n},2024-01-01" for n in good]
    at = min(bad_at, len(lines) - 1)
    lines[at] = bad.format(good[at])
    raw = read("id,desc,date\n" + "\n".join(lines) + "\n")
    read_lines = sorted([int(x) for x in raw.lines] + [r.line for r in raw.rejected])
    assert read_lines == list(range(2, len(lines) + 2))
    assert [int(x) for x in raw.lines] == [i + 2 for i in range(len(lines)) if i != at]


@settings(max_examples=150, deadline=None, database=None)
@given(
    n=st.integers(1, 25),
    damage=st.lists(
        st.tuples(st.integers(0, 24), st.sampled_from(["start", "end", "middle"])),
        min_size=1,
        max_size=4,
    ),
)
def test_stray_quotes_never_swallow_good_lines(n, damage):
    """Stray quotes anywhere: each good line is still read as itself, and every line is
    either a record or inside a rejected span."""
    lines = [
        f"{i},Some text {i} here,2024-01-{1 + i % 28:02d},48.{i:03d},37.{i:03d}" for i in range(n)
    ]
    bad = {}
    for at, where in damage:
        bad[at % n] = where
    for at, where in bad.items():
        parts = lines[at].split(",")
        parts[1] = {
            "start": '"' + parts[1],
            "end": parts[1] + '"',
            "middle": parts[1][:4] + '"' + parts[1][4:],
        }[where]
        lines[at] = ",".join(parts)
    raw = read("id,desc,date,lat,lon\n" + "\n".join(lines) + "\n")
    spans = [k for r in raw.rejected for k in range(r.line, r.last_line + 1)]
    assert sorted([int(x) for x in raw.lines] + spans) == list(range(2, n + 2))
    read_ids = dict(zip((int(x) for x in raw.lines), raw.frame["id"], strict=True))
    for i in set(range(n)) - set(bad):
        assert read_ids.get(i + 2) == str(i)
