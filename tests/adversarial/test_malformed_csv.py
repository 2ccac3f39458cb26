"""Malformed CSVs: generated valid and broken files through ingest + presets + validate.

Hypothesis writes a table of incidents, then a file of it with a random encoding,
delimiter, quoting, line end, blank lines, an Excel ``sep=`` line, trailing
delimiters, an unmapped or duplicated column, one of five date styles (one of which
mixes day-first and month-first rows), and damage on some records: an extra or
missing field, a stray opening quote, a NUL byte, a bare CR in an unquoted value, a
value longer than the csv module's default limit, or a header without its date column.
Damage never hits two neighbouring records, and a damaged record has no line break
inside its values: where a broken record ends is then undecidable (crisismap rejects
two broken neighbours together, as one span with its raw text, and the lines of a
broken multi-line record one by one).

The oracle is computed from what was written, never from crisismap:

* **0 crashes**: only :class:`~crisismap.errors.InputError` (a whole-file problem,
  said in one sentence) may be raised; any other exception is a crash.
* **0 records silently lost**: ``accepted + rejected == records`` where ``records`` is
  the number of records written (a bare CR in an unquoted value ends a line, as in
  every spreadsheet, so that record counts as two), and every accepted record sits at
  the line where it was written.
* **0 values silently changed**: an accepted record's id, category, description and
  source are the text written (ids and categories trimmed, categories re-joined with
  ``"; "``, blank text empty); coordinates, victims and dates are the numbers
  written, unless a warning on that record (or a file-level encoding warning, for
  text) says otherwise. Damaged records are never accepted.

Also counted, not asserted: good records rejected. Next to a broken line a good record
may be rejected with it (a stray quote pairs with the quote that opens the next
record's multi-line value, and the two records differ too much in shape for the
stray-quote heuristic to tell them apart); it is listed among the rejected records
with its raw text, so it is reported, not lost.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisismap.errors import InputError
from crisismap.records import presets
from crisismap.records import read as ingest
from crisismap.records import validation as validate
from tests.adversarial import figures

SUITE = "malformed CSVs"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "adversarial"
EXAMPLES = figures.scaled(250)
HEADER = ["id", "date", "latitude", "longitude", "category", "victims", "description", "source"]
SOURCE = HEADER.index("source")
DESCRIPTION = HEADER.index("description")
DATE_STYLES = ["iso", "dmy", "mdy", "long", "mixed"]
DAMAGE = ["extra-field", "missing-field", "stray-quote", "nul", "bare-cr", "huge"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
HUGE = 200_000  # characters: beyond the csv module's 128 KiB field limit

_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30
)
_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz -_éü", min_size=0, max_size=12)


@dataclass
class Record:
    id: str
    date: dt.date
    lat: str
    lon: str
    labels: list[str]
    victims: str
    description: str
    source: str
    order: str = "dmy"  # how a numeric date is written (mixed files)
    damage: str | None = None
    line: int = 0  # physical line where it starts, filled in when written


@dataclass
class Case:
    records: list[Record]
    encoding: str
    delimiter: str
    quote_all: bool
    newline: str
    sep_line: bool
    blank_every: int
    trailing_delimiter: bool
    extra_column: bool
    duplicate_column: bool
    date_style: str
    header_without_date: bool
    data: bytes = b""
    expected_records: int = 0

    def __repr__(self) -> str:  # what hypothesis prints for a failing file: keep it short
        data = self.data
        shown = repr(data if len(data) < 2000 else data[:200] + b"[...]" + data[-1500:])
        damage = [(r.line, r.damage) for r in self.records if r.damage]
        return (
            f"Case(encoding={self.encoding!r}, delimiter={self.delimiter!r}, "
            f"date_style={self.date_style!r}, damage={damage}, data={shown})"
        )


@st.composite
def records(draw, n: int, date_style: str) -> list[Record]:
    out = []
    for i in range(n):
        day = draw(st.dates(dt.date(1990, 1, 1), dt.date(2025, 12, 31)))
        decimals = draw(st.integers(2, 6))
        lat = draw(st.floats(-89.9, 89.9).filter(lambda v: abs(v) > 0.01))
        lon = draw(st.floats(-179.9, 179.9))
        order = draw(st.sampled_from(["dmy", "mdy"])) if date_style == "mixed" else "dmy"
        damage = draw(st.sampled_from(DAMAGE)) if draw(st.integers(0, 7)) == 0 else None
        if out and out[-1].damage is not None:
            damage = None  # see the module docstring: never two broken lines in a row
        if date_style == "mixed" and i < 2:  # undamaged evidence both ways: 13+ in the day
            order, damage = ["dmy", "mdy"][i], None
            day = day.replace(day=draw(st.integers(13, 28)))
        out.append(
            Record(
                id=f"R{i}-{draw(_text)}",
                date=day,
                lat=f"{lat:.{decimals}f}",
                lon=f"{lon:.{decimals}f}",
                labels=draw(st.lists(_label, min_size=1, max_size=2)),
                victims=draw(st.sampled_from(["", "0", "1", "3", "12", "250"])),
                description=draw(_text),
                source=draw(_text),
                order=order,
                damage=damage,
            )
        )
    return out


@st.composite
def cases(draw) -> Case:
    date_style = draw(st.sampled_from(DATE_STYLES))
    n = draw(st.integers(0 if date_style != "mixed" else 2, 12))
    case = Case(
        records=draw(records(n, date_style)),
        encoding=draw(
            st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1"])
        ),
        delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
        quote_all=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        sep_line=draw(st.integers(0, 5)) == 0,
        blank_every=draw(st.sampled_from([0, 0, 0, 2, 3])),
        trailing_delimiter=draw(st.integers(0, 5)) == 0,
        extra_column=draw(st.booleans()),
        duplicate_column=draw(st.integers(0, 4)) == 0,
        date_style=date_style,
        header_without_date=draw(st.integers(0, 30)) == 0,
    )
    _write(case)
    return case


# --- writing a file (our own RFC 4180 writer: csv.writer leaves a bare CR unquoted) ----


def _date_text(record: Record, style: str) -> str:
    d = record.date
    if style == "iso":
        return d.isoformat()
    if style == "long":
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if style == "mdy" or (style == "mixed" and record.order == "mdy"):
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _quote(value: str, case: Case) -> str:
    special = case.delimiter in value or any(c in value for c in '"\r\n')
    if case.quote_all or special or value != value.strip(" "):
        return '"' + value.replace('"', '""') + '"'
    return value


def _physical_lines(text: str) -> int:
    return len(io.StringIO(text, newline="").readlines())


def _fields(record: Record, case: Case) -> list[str]:
    fields = [
        record.id,
        _date_text(record, case.date_style),
        record.lat,
        record.lon,
        "; ".join(record.labels),
        record.victims,
        record.description,
        record.source,
    ]
    if case.extra_column:
        fields.append(f"note {record.id[:3]}")
    if case.duplicate_column:
        fields.append(f"second description {record.line}")
    return fields


def _line(record: Record, case: Case) -> tuple[str, int]:
    """The record's text and how many records a spreadsheet reads in it."""
    fields = _fields(record, case)
    if record.damage not in (None, "huge"):  # a broken record spans one line (docstring)
        fields = [f.replace("\r", " ").replace("\n", " ") for f in fields]
    fields = [_quote(f, case) for f in fields]
    count = 1
    if record.damage == "extra-field":  # after the id: every later value would shift
        fields.insert(1, "unexpected")
    elif record.damage == "missing-field":  # a middle one: later values would shift
        fields.pop(2)
    elif record.damage == "stray-quote":
        plain = "".join(c for c in record.source if c not in '"\r\n')
        fields[SOURCE] = '"never closed ' + plain
    elif record.damage == "nul":
        fields[SOURCE] = _quote(record.source + "\x00tail", case)
    elif record.damage == "bare-cr":  # unquoted: the line ends at the CR, mid-record
        fields[DESCRIPTION] = "before\rafter"
        count = 2
    elif record.damage == "huge":
        record.description = "x" * HUGE
        fields[DESCRIPTION] = _quote(record.description, case)
    text = case.delimiter.join(fields)
    if case.trailing_delimiter:
        text += case.delimiter
    return text + case.newline, count


def _write(case: Case) -> None:
    header = list(HEADER)
    if case.header_without_date:
        header[1] = "when it was"
    if case.extra_column:
        header.append("notes")
    if case.duplicate_column:
        header.append("description")
    parts = []
    if case.sep_line:
        parts.append(f"sep={case.delimiter}{case.newline}")
    head = case.delimiter.join(_quote(h, case) for h in header)
    parts.append(head + (case.delimiter if case.trailing_delimiter else "") + case.newline)
    for k, record in enumerate(case.records):
        if case.blank_every and k % case.blank_every == 1:
            parts.append(case.newline)
        record.line = _physical_lines("".join(parts)) + 1
        text, count = _line(record, case)
        parts.append(text)
        case.expected_records += count
    text = "".join(parts)
    encoding = case.encoding
    if encoding in ("cp1252", "latin-1"):
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            case.encoding = encoding = "utf-8"
    case.data = text.encode(encoding)


# --- the oracle ------------------------------------------------------------------------


@dataclass
class Verdict:
    refused: bool = False
    records: int = 0
    accepted: int = 0
    lost: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    good_rejected: list[str] = field(default_factory=list)


def _warnings_by_line(report) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for p in report.problems:
        if p.line is not None and p.severity.value == "warning":
            out.setdefault(p.line, set()).add(f"{p.column}:{p.code}")
    return out


def _as_read(text: str, case: Case, report) -> set[str]:
    """The text as written, and as a wrong encoding guess (reported) would read it."""
    options = {text}
    guessed = report.encoding or ""
    if any(code.startswith("encoding-") for code, _ in report.counts) and guessed:
        try:
            options.add(text.encode(case.encoding).decode(guessed, errors="replace"))
        except (LookupError, UnicodeError):
            pass
    return options


def _expected_category(labels: list[str]) -> str:
    seen: dict[str, None] = {}
    for label in labels:
        if label.strip():
            seen.setdefault(label.strip(), None)
    return "; ".join(seen)


def _same_number(value: float, text: str) -> bool:
    if text == "":
        return isinstance(value, float) and math.isnan(value)
    return value == float(text)


def check(case: Case) -> Verdict:
    """Run the file through ingest + presets + validate and judge it against the table."""
    verdict = Verdict()
    try:
        raw = ingest.read_csv_bytes(case.data, filename="generated.csv")
        mapping = presets.detect_mapping(raw.header, raw.hxl_tags)
        result = validate.validate(raw, mapping)
    except InputError:
        verdict.refused = True
        return verdict
    report = result.report
    verdict.records, verdict.accepted = report.records, report.accepted
    if report.records != case.expected_records:
        verdict.lost.append(f"{report.records} records read, {case.expected_records} written")
    if report.accepted + report.rejected != report.records:
        verdict.lost.append(f"{report.accepted} + {report.rejected} != {report.records}")
    if len(result.records) != report.accepted or len(result.rejected) != report.rejected:
        verdict.lost.append("frames and counts disagree")
    by_line = {r.line: r for r in case.records}
    warned = _warnings_by_line(report)
    accepted_lines = set()
    for row in result.records.itertuples(index=False):
        record = by_line.get(int(row.line))
        if record is None:
            verdict.changed.append(f"line {row.line}: accepted but no record starts there")
            continue
        accepted_lines.add(record.line)
        _compare(record, row, case, report, warned.get(record.line, set()), verdict)
    for record in case.records:
        if record.line in accepted_lines or record.damage is not None:
            continue
        ambiguous = case.date_style == "mixed" and record.date.day <= 12
        if not ambiguous:
            verdict.good_rejected.append(f"line {record.line}: a good record was rejected")
    return verdict


def _compare(record: Record, row, case: Case, report, warned: set[str], verdict: Verdict) -> None:
    where = f"line {record.line}"
    if record.damage not in (None, "huge"):
        verdict.changed.append(f"{where}: damaged ({record.damage}) but accepted")
        return
    texts = {
        "id": (record.id.strip(), row.id),
        "category": (_expected_category(record.labels), row.category),
        "description": (record.description, row.description),
        "source": (record.source, row.source),
    }
    for name, (written, got) in texts.items():
        got = "" if pd.isna(got) else str(got)
        if name in ("description", "source") and not written.strip():
            written = ""
        if got not in _as_read(written, case, report):
            verdict.changed.append(f"{where} {name}: wrote {written!r}, got {got!r}")
    if not (_same_number(row.lat, record.lat) and _same_number(row.lon, record.lon)):
        if not any(w.startswith(("latitude", "longitude")) for w in warned):
            verdict.changed.append(f"{where}: coordinates {row.lat}, {row.lon}")
    if not _same_number(row.victims, record.victims) and not any("victims" in w for w in warned):
        verdict.changed.append(f"{where}: victims {row.victims} for {record.victims!r}")
    if pd.Timestamp(row.date).date() != record.date and not any("date" in w for w in warned):
        verdict.changed.append(f"{where}: date {row.date} for {record.date}")


# --- the test --------------------------------------------------------------------------

FIGURES = [
    "files tried",
    "files refused with a message: no date column (on purpose)",
    "files refused with a message: other reasons",
    "records written (files read)",
    "records read",
    "records accepted",
    "crashes",
    "records silently lost",
    "values silently changed",
    "good records rejected",
]


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_no_crash_no_silent_loss_no_silent_change(case):
    for name in FIGURES:  # printed in this order
        figures.add(SUITE, name, 0)
    figures.add(SUITE, "files tried")
    try:
        verdict = check(case)
    except Exception:
        figures.add(SUITE, "crashes")
        raise
    if case.header_without_date:
        assert verdict.refused, "a header without a date column must be refused"
        figures.add(SUITE, "files refused with a message: no date column (on purpose)")
    else:
        figures.add(SUITE, "files refused with a message: other reasons", int(verdict.refused))
    if not verdict.refused:
        figures.add(SUITE, "records written (files read)", case.expected_records)
        figures.add(SUITE, "records read", verdict.records)
    figures.add(SUITE, "records accepted", verdict.accepted)
    figures.add(SUITE, "records silently lost", len(verdict.lost))
    figures.add(SUITE, "values silently changed", len(verdict.changed))
    figures.add(SUITE, "good records rejected", len(verdict.good_rejected))
    figures.add(SUITE, "crashes", 0)
    found = verdict.lost + verdict.changed
    assert found == [], f"{found} in {_keep(case)}"


def _keep(case: Case) -> Path:
    """Save the failing file under artifacts/ (hypothesis replays the smallest one last)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "malformed-failure.csv"
    path.write_bytes(case.data)
    return path
