"""Read an uploaded incident CSV into text columns, keeping every record's file line.

Nothing is coerced here: every value stays the text the file holds (``NA`` stays
Namibia, ``007`` keeps its zeros, an empty cell stays ``""``). What cannot be read as a
record (a stray quote, too many fields) becomes a rejected line with its physical line
number, never a shifted or swallowed row. Typing and checking the values is
:mod:`crisismap.validate`'s job.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import itertools
import mmap
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from crisismap.errors import InputError, UnsafeInputError
from crisismap.problems import Problem
from crisismap.schema import Severity

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
# A quoted field may span lines, but a record longer than this is read as a stray
# quote that would otherwise swallow the following rows (MAX_FIELD_CHARS bounds it in
# characters as well).
MAX_RECORD_LINES = 100
# The longest value read. csv's default field limit (128 KiB) rejected long testimonies
# pasted into one cell; a runaway quote still stops here.
MAX_FIELD_CHARS = 1 << 20
# Real exports have tens of columns (Kobo: hundreds); each costs a column of its own.
MAX_COLUMNS = 10_000
_RAW_TEXT_LIMIT = 200
_RESYNC_LINES = 10  # lines read past a broken record to see the next one whole
_HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)


@dataclass(frozen=True)
class RejectedLine:
    """A record that could not be split into the header's fields (lines ``line``–``last_line``)."""

    line: int
    fields: tuple[str, ...]
    raw_text: str
    problem: Problem
    last_line: int = 0

    def __post_init__(self) -> None:
        if self.last_line < self.line:
            object.__setattr__(self, "last_line", self.line)


@dataclass
class RawTable:
    """The file as text: one ``str`` column per header name, plus what was set aside.

    ``frame`` rows are the readable records in file order; ``lines[i]`` is the 1-based
    physical line where row ``i`` starts. ``rejected`` holds the unreadable records;
    ``problems`` holds file-level problems (encoding, NUL bytes).
    """

    frame: pd.DataFrame
    lines: np.ndarray
    header: list[str]
    original_header: list[str]
    hxl_tags: list[str] | None
    encoding: str
    delimiter: str
    filename: str | None = None
    header_line: int = 1
    hxl_line: int | None = None
    blank_lines: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        """Data records in the file: readable rows plus rejected lines."""
        return len(self.frame) + len(self.rejected)


def read_csv_file(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, **options: Any
) -> RawTable:
    """Read a CSV file from disk (size checked before reading); see :func:`read_csv_bytes`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Incident file {str(path)!r} does not exist or is not a file.")
    size = path.stat().st_size
    _check_size(size, max_bytes, path.name)
    options.setdefault("filename", path.name)
    if set(options) == {"filename"} and size >= max(_MAP_FILE_BYTES, 1):
        # A large UTF-8 file is read straight from the page cache (no copy of its bytes);
        # anything the fast path declines is read from a copy, as an upload is.
        # The map is never closed explicitly: it goes when the last view of it does.
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if csv.field_size_limit() < MAX_FIELD_CHARS:
            csv.field_size_limit(MAX_FIELD_CHARS)
        table = _read_utf8(mapped, _Options(options["filename"], None, MAX_RECORD_LINES))
        if table is not None:
            return table
    return read_csv_bytes(path.read_bytes(), max_bytes=max_bytes, **options)


def read_csv_bytes(
    data: bytes,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_record_lines: int = MAX_RECORD_LINES,
    engine: str = "auto",
) -> RawTable:
    """Parse CSV bytes into a :class:`RawTable` of text columns.

    Parameters
    ----------
    data
        The file's bytes.
    filename
        Shown in messages only.
    max_bytes
        Larger inputs raise :class:`~crisismap.errors.UnsafeInputError`.
    encoding
        Force an encoding (any Python codec name). By default UTF-8 (with or without
        BOM) and UTF-16 with a BOM are read as such; anything else is detected and the
        guess is reported as a file-level problem.
    delimiter
        Force the delimiter; by default the most frequent of ``, ; TAB |`` in the header.
    max_record_lines
        Longest record (in physical lines) accepted before a quote is treated as stray.
    engine
        ``auto`` reads files without quotes, irregular lines or NUL bytes with pyarrow
        (fast) and everything else with Python's csv module; ``python`` always uses the
        latter. Both give the same table.
    """
    if engine not in ("auto", "python"):
        raise ValueError(f"Unknown engine {engine!r}: expected 'auto' or 'python'.")
    _check_size(len(data), max_bytes, filename)
    if csv.field_size_limit() < MAX_FIELD_CHARS:  # process-wide: only ever raised
        csv.field_size_limit(MAX_FIELD_CHARS)
    options = _Options(filename, delimiter, max_record_lines)
    if engine == "auto" and encoding is None:
        table = _read_utf8(data, options)
        if table is not None:
            return table
    text, encoding_name, problems = _decode(data, encoding)
    utf8 = data.removeprefix(codecs.BOM_UTF8) if encoding_name.startswith("utf-8") else None
    table = _read(
        _Lines(text),
        utf8 if engine == "auto" else False,
        options,
        encoding_name=encoding_name,
        problems=problems,
        has_nul="\x00" in text,
    )
    assert table is not None  # only the fast-only reading gives up
    return table


@dataclass(frozen=True)
class _Options:
    filename: str | None
    delimiter: str | None
    max_record_lines: int


def _read_utf8(data: bytes, options: _Options) -> RawTable | None:
    """A UTF-8 file read without decoding it whole first; None when that does not apply.

    Only the first megabyte is decoded (to find the header); pyarrow checks the UTF-8 of
    every plain line and the csv module decodes the others. Any invalid byte, or a file
    that needs the general path, gives None and the caller starts over.
    """
    bom = data[:3] == codecs.BOM_UTF8
    if not bom and (any(data[: len(b)] == b for b, _, _ in _BOMS) or _utf16_without_bom(data)):
        return None
    if bom and not isinstance(data, bytes):
        return None  # a mapped file: the caller reads a copy without the BOM
    buf = data[len(codecs.BOM_UTF8) :] if bom else data
    head = buf[: _Lines.HEAD_CHARS]
    if len(head) < len(buf):
        head = head[: head.rfind(b"\n") + 1]
    try:
        lines = _Lines(head.decode("utf-8"))
        if _first_content_line(lines.head) is None:
            return None
        return _read(
            lines,
            buf,
            options,
            encoding_name="utf-8-sig" if bom else "utf-8",
            problems=[],
            has_nul=buf.find(b"\x00") >= 0,
            fast_only=True,
        )
    except (UnicodeDecodeError, InputError):
        return None  # the general path decodes (or guesses) and explains


def _read(
    lines: _Lines,
    utf8: bytes | None | bool,
    options: _Options,
    *,
    encoding_name: str,
    problems: list[Problem],
    has_nul: bool,
    fast_only: bool = False,
) -> RawTable | None:
    """Header, records, then the column and NUL clean-ups; the one reading recipe."""
    notes: list[str] = []
    filename = options.filename
    first, delimiter = _locate_header(lines, options.delimiter, filename, notes)
    parser = _Parser(lines, delimiter, options.max_record_lines)
    header_end, original = parser.header(first)
    if len(original) > MAX_COLUMNS:
        raise InputError(
            f"{_name(filename)} has {len(original):,} columns in its header (line {first + 1}); "
            f"the limit is {MAX_COLUMNS:,}. An incident file has a few dozen: check the "
            "delimiter, or remove the columns you do not need."
        )
    if fast_only and header_end + 1 >= len(lines.head):
        return None  # the header may continue past the decoded head
    header, trailing_blanks = _unique_header(original, notes)
    parser.set_width(len(header), trailing_blanks)
    with _gc_paused():  # millions of small lists: the cyclic GC would triple the time
        found = _read_records(parser, header, header_end + 1, utf8, notes, fast_only)
    if found is None:
        return None
    frame, starts, rejected, hxl_tags, hxl_line = found
    frame, header, hxl_tags = _drop_empty_unnamed(frame, header, hxl_tags, trailing_blanks, notes)
    if has_nul:
        frame, starts, rejected = _reject_nul(frame, starts, rejected, delimiter, problems)
    notes.extend(parser.summary())
    return RawTable(
        frame=frame,
        lines=starts,
        header=header,
        original_header=original,
        hxl_tags=hxl_tags,
        encoding=encoding_name,
        delimiter=delimiter,
        filename=filename,
        header_line=first + 1,
        hxl_line=hxl_line,
        blank_lines=parser.blank_lines,
        rejected=sorted(rejected, key=lambda r: r.line),
        problems=problems,
        notes=notes,
    )


def _read_records(
    parser: _Parser,
    header: list[str],
    start: int,
    utf8: bytes | None | bool,
    notes: list[str],
    fast_only: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine], list[str] | None, int | None] | None:
    """Records after the header: plain lines through pyarrow unless ``utf8`` is False."""
    if utf8 is not False:
        buf = utf8 if isinstance(utf8, bytes | mmap.mmap) else parser.lines.text.encode("utf-8")
        fast = _read_fast(parser, start, buf, header, notes)
        if fast is not None or fast_only:
            return fast
    records = parser.records(start)
    hxl_tags, hxl_line = _take_hxl_row(records, header, notes)
    frame, starts, rejected = parser.assemble(records, header)
    return frame, starts, rejected, hxl_tags, hxl_line


def _locate_header(
    lines: _Lines, delimiter: str | None, filename: str | None, notes: list[str]
) -> tuple[int, str]:
    """Index of the header line and the delimiter (given, or detected from the header)."""
    first = _first_content_line(lines.head)
    if first is None and lines.count > len(lines.head):
        first = _first_content_line(lines.all)
    if first is None:
        raise InputError(
            f"{_name(filename)} has no content: expected a header line with column names "
            "followed by one line per incident."
        )
    first, delimiter = _sep_line(lines, first, delimiter, notes)
    delimiter = delimiter or _detect_delimiter(lines[first])
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise InputError(
            f"The delimiter must be one character such as ',' or ';', got {delimiter!r}."
        )
    return first, delimiter


# --- bytes → text ---------------------------------------------------------------------


def _name(filename: str | None) -> str:
    return f"The file {filename!r}" if filename else "The file"


def _check_size(size: int, max_bytes: int, filename: str | None) -> None:
    if size > max_bytes:
        raise UnsafeInputError(
            f"{_name(filename)} is {size / 1e6:,.1f} MB; the limit is {max_bytes / 1e6:,.1f} MB. "
            "Split it into smaller files or raise the size limit."
        )


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)


def _decode(data: bytes, encoding: str | None) -> tuple[str, str, list[Problem]]:
    """Decode by explicit choice, BOM, strict UTF-8, or (reported) detection."""
    if encoding:
        return _decode_forced(data, encoding), encoding, []
    for bom, name, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), name, []
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"The file starts with a {name} byte-order mark but is not valid {name} "
                    f"(byte {exc.start}): re-save it as UTF-8."
                ) from exc
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _decode_utf16_without_bom(data, utf16)
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        return _decode_detected(data, exc)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly-ASCII text has a NUL in every other byte."""
    sample = data[:4096]
    half = len(sample) // 2
    if half < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.7 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.7 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def _decode_utf16_without_bom(data: bytes, codec: str) -> tuple[str, str, list[Problem]]:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The file looks like {codec} without a byte-order mark but cannot be decoded "
            f"as such (byte {exc.start}): re-save it as UTF-8."
        ) from exc
    problem = Problem(
        code="encoding-no-bom",
        severity=Severity.WARNING,
        message=(
            f"The file has no byte-order mark but its bytes are {codec} (a NUL in every "
            f"other byte); it was read as {codec}. Re-save it as UTF-8, or confirm by "
            f"choosing the encoding {codec!r} explicitly."
        ),
        value=codec,
    )
    return text, codec, [problem]


def _decode_forced(data: bytes, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(
            f"Unknown encoding {encoding!r}: use e.g. utf-8, cp1252, latin-1."
        ) from exc
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"The file is not valid {encoding}: byte {exc.start} (line {line}) cannot be "
            "decoded. Choose another encoding or leave it empty to detect it."
        ) from exc
    return text.removeprefix("\ufeff")


def _decode_detected(data: bytes, exc: UnicodeDecodeError) -> tuple[str, str, list[Problem]]:
    from charset_normalizer import from_bytes

    line = data.count(b"\n", 0, exc.start) + 1
    best = from_bytes(data).best()
    guess = best.encoding if best is not None else "cp1252"
    try:
        text = data.decode(guess)
    except (UnicodeDecodeError, LookupError):
        guess, text = "latin-1", data.decode("latin-1")  # decodes any byte sequence
    if not _keeps_structure(data, text):  # a multi-byte guess ate delimiters or quotes
        try:
            guess, text = "cp1252", data.decode("cp1252")
        except UnicodeDecodeError:
            guess, text = "latin-1", data.decode("latin-1")
    try:  # name the commonest code page when it reads the bytes identically
        if guess != "cp1252" and data.decode("cp1252") == text:
            guess = "cp1252"
    except UnicodeDecodeError:
        pass
    problem = Problem(
        code="encoding-not-utf8",
        severity=Severity.WARNING,
        message=(
            f"The file is not UTF-8 (first invalid byte at line {line}); it was read as "
            f"{guess}, a guess. Check accented names in the records; re-save the file as "
            f"UTF-8, or confirm the guess by choosing the encoding {guess!r} explicitly."
        ),
        line=None,
        value=guess,
    )
    return text, guess, [problem]


def _keeps_structure(data: bytes, text: str) -> bool:
    """Does the decoded text hold every delimiter, quote and line end the bytes hold?

    Short files fool charset detection into multi-byte code pages (Johab, Big5) whose
    characters swallow the ASCII byte after them; a CSV read that way loses fields.
    """
    return all(text.count(c) == data.count(c.encode("ascii")) for c in ',;\t|"\r\n')


# --- text → lines → records ----------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Lines:
    """Physical lines (LF, CRLF or CR ends) of the text, split into a list only when needed.

    The first lines (``head``) come from a small prefix, so finding the header of a
    100 MB file does not copy the whole text.
    """

    HEAD_CHARS = 1 << 20

    def __init__(self, text: str) -> None:
        self.text = text
        prefix = text[: self.HEAD_CHARS]
        head = list(io.StringIO(prefix, newline=""))
        self.complete = len(prefix) == len(text)
        if not self.complete and head:
            head.pop()  # may be cut short (or be the CR of a CRLF)
        self.head = head
        self.head_chars = sum(map(len, head))

    @cached_property
    def count(self) -> int:
        text = self.text
        ends_open = bool(text) and text[-1] not in "\r\n"
        cr = text.count("\r")
        return text.count("\n") + cr - (text.count("\r\n") if cr else 0) + ends_open

    @cached_property
    def all(self) -> list[str]:
        if self.complete:
            return self.head
        return self.head + list(io.StringIO(self.text[self.head_chars :], newline=""))

    def __getitem__(self, index: int) -> str:
        return self.head[index] if index < len(self.head) else self.all[index]

    def slice(self, start: int, stop: int) -> list[str]:
        return self.all[start:stop] if stop > len(self.head) else self.head[start:stop]

    def iter_from(self, start: int) -> Iterator[str]:
        # by index: islice would step over the first ``start`` lines on every call,
        # quadratic when a file has a broken quote on every line
        if "all" in self.__dict__ or start > len(self.head):
            lines = self.all
            return map(lines.__getitem__, range(start, len(lines)))
        head = self.head
        return itertools.chain(map(head.__getitem__, range(start, len(head))), self._tail())

    def _tail(self) -> Iterator[str]:
        if not self.complete:
            yield from io.StringIO(self.text[self.head_chars :], newline="")


def _first_content_line(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if line.strip():
            return i
    return None


def _sep_line(
    lines: _Lines, first: int, delimiter: str | None, notes: list[str]
) -> tuple[int, str | None]:
    """Honour Excel's ``sep=;`` first line."""
    match = re.fullmatch(r"sep=(.)", lines[first].rstrip("\r\n"))
    if not match:
        return first, delimiter
    notes.append(f"Line {first + 1} ({lines[first].strip()!r}) names the delimiter; skipped.")
    nxt = _first_content_line(lines.slice(first + 1, lines.count))
    if nxt is None:
        raise InputError("The file has a 'sep=' line but no header line after it.")
    return first + 1 + nxt, delimiter or match.group(1)


def _detect_delimiter(header_line: str) -> str:
    """The most frequent candidate outside quotes in the header; comma on a tie or none."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on ties
    return best if counts[best] else ","


def _unique_header(names: list[str], notes: list[str]) -> tuple[list[str], int]:
    """Strip names, name blanks ``column_N``, number repeats ``name.2``; count trailing blanks."""
    stripped = [n.strip() for n in names]
    trailing = len(stripped) - len(list(itertools.dropwhile(lambda n: not n, stripped[::-1])))
    result: list[str] = []
    seen: set[str] = set()
    blanks, repeats = [], []
    for i, name in enumerate(stripped):
        if not name:
            name = f"column_{i + 1}"
            blanks.append(i + 1)
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        if name != (stripped[i] or name):
            repeats.append(f"{stripped[i]!r} → {name!r}")
        seen.add(name)
        result.append(name)
    interior = [b for b in blanks if b <= len(stripped) - trailing]
    if interior:
        notes.append(
            f"Header has blank column name(s) at position(s) {_short(interior)}; "
            "named column_N after their position."
        )
    if repeats:
        notes.append(f"Repeated column names were made unique: {', '.join(repeats[:10])}.")
    return result, trailing


def _short(items: list[int], limit: int = 10) -> str:
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f" … ({len(items)} in all)" if len(items) > limit else "")


@dataclass
class _Records:
    """Parallel lists: 0-based first/last physical line and fields of each record."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def append(self, start: int, end: int, row: list[str]) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.rows.append(row)

    def pop_first(self) -> tuple[int, list[str]]:
        self.ends.pop(0)
        return self.starts.pop(0), self.rows.pop(0)


class _Parser:
    """RFC 4180 records over physical lines, restartable at any line.

    A record that spans lines is accepted only when it reads as one well-formed
    record; when the lines after its first one read as records on their own, the
    first line holds a stray quote: only that line is rejected and parsing resumes on
    the next line, so nothing is swallowed.
    """

    def __init__(self, lines: _Lines, delimiter: str, max_record_lines: int) -> None:
        self.lines = lines
        self.delimiter = delimiter
        self.max_record_lines = max(1, max_record_lines)
        self.width = 0
        self.optional_tail = 0
        self.rejected: list[RejectedLine] = []
        self.blank_lines = 0
        self.first_blank: int | None = None
        self.trimmed = 0
        self.template: list[str] | None = None  # the last well-formed record, for _is_record

    def _reader(self, start: int) -> Iterator[list[str]]:
        return csv.reader(self.lines.iter_from(start), delimiter=self.delimiter, strict=True)

    def header(self, start: int) -> tuple[int, list[str]]:
        """The header's fields and the index of its last line."""
        reader = self._reader(start)
        try:
            fields = next(reader)
        except (csv.Error, StopIteration) as exc:
            raise InputError(
                f"The header (line {start + 1}) cannot be read as CSV ({exc}): expected column "
                "names separated by commas or semicolons. Fix the quotes in that line."
            ) from exc
        return start + reader.line_num - 1, fields

    def set_width(self, width: int, optional_tail: int) -> None:
        self.width = width
        self.optional_tail = optional_tail

    # -- reading --

    def records(self, start: int) -> _Records:
        """Every record from line index ``start``; blank lines are counted and dropped."""
        fast = self._fast(start)
        if fast is not None:
            return fast
        out = _Records()
        i, n = start, self.lines.count
        while i < n:
            i = self._read_from(i, out)
        return out

    def _fast(self, start: int) -> _Records | None:
        """One record per line (the common case), read by csv at C speed; else None."""
        try:
            rows = list(self._reader(start))
        except csv.Error:
            return None
        if len(rows) != self.lines.count - start:
            return None  # some record spans lines
        content = list(map(any, rows))
        for j in itertools.compress(range(len(rows)), (not c for c in content)):
            self._count_blank(start + j)
        # a single field of spaces is blank too
        for j in range(len(rows)):
            if content[j] and len(rows[j]) == 1 and not rows[j][0].strip():
                content[j] = False
                self._count_blank(start + j)
        starts = list(itertools.compress(range(start, self.lines.count), content))
        return _Records(starts, list(starts), list(itertools.compress(rows, content)))

    def summary(self) -> list[str]:
        """Notes on what was skipped or tolerated."""
        notes = []
        if self.blank_lines:
            notes.append(
                f"{self.blank_lines:,} blank line(s) skipped (not counted as records), "
                f"first at line {self.first_blank}."
            )
        if self.trimmed:
            notes.append(
                f"{self.trimmed:,} record(s) had empty fields beyond the last column "
                "(trailing delimiters); the empty fields were ignored."
            )
        return notes

    def _count_blank(self, index: int) -> None:
        self.blank_lines += 1
        if self.first_blank is None or index + 1 < self.first_blank:
            self.first_blank = index + 1

    def _is_blank(self, row: list[str]) -> bool:
        return not any(row) or (len(row) == 1 and not row[0].strip())

    def _read_from(self, i: int, out: _Records, resume: Callable[[int], bool] | None = None) -> int:
        """Read records from line ``i`` until a restart is needed; return the next line.

        With ``resume``, stop after any record when ``resume(next line)`` is true.
        """
        reader = self._reader(i)
        consumed = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return self.lines.count
            except csv.Error as exc:
                s = i + consumed
                return self._broken(s, max(i + reader.line_num - 1, s), str(exc))
            s, e = i + consumed, i + reader.line_num - 1
            consumed = reader.line_num
            if e == s:
                if self._is_blank(row):
                    self._count_blank(s)
                else:
                    out.append(s, s, row)
                    if self._fits(row):  # a broken record is no model of the others
                        self.template = row
            elif (
                e - s + 1 > self.max_record_lines
                or self._swallows(s, e)
                or (not self._fits(row) and self._resyncs(s + 1, e))
            ):
                self._reject_span(s, s, "quote-unclosed", self._unclosed_message(s, e))
                return s + 1
            else:
                out.append(s, e, row)
            if resume is not None and resume(i + consumed):
                return i + consumed

    def _broken(self, s: int, e: int, error: str) -> int:
        """A csv error in the record starting at ``s``: reject the least that explains it."""
        if "field larger" in error:
            message = (
                f"Line {s + 1} holds a value longer than {MAX_FIELD_CHARS:,} characters, or "
                "opens a quote that is never closed. The line was set aside and reading "
                "resumed on the next line; shorten the value or fix its quotes."
            )
            self._reject_span(s, s, "field-too-large", message)
            return s + 1
        unclosed = "end of data" in error
        if e == s and unclosed:
            message = (
                f"Line {s + 1} opens a quoted value that is never closed: the file ends "
                "inside it. The line was set aside; close the quote or remove it."
            )
            self._reject_span(s, s, "quote-unclosed", message)
            return s + 1
        if e == s:
            self._reject_span(s, s, "quote-malformed", self._quote_message(s, error))
            return s + 1
        if unclosed or self._swallows(s, e) or self._resyncs(s + 1, e) or self._each_line(s, e):
            self._reject_span(s, s, "quote-unclosed", self._unclosed_message(s, e))
            return s + 1
        self._reject_span(s, e, "quote-malformed", self._quote_message(s, error))
        return e + 1

    def _swallows(self, s: int, e: int) -> bool:
        """Would the record s..e swallow lines that read as records on their own?

        A line inside a multi-line value counts as a record only when it has the
        header's number of fields *and* the shape of the previous record (which fields
        are empty, numeric, text), so a narrative line with commas is not mistaken
        for one.
        """
        # the broken line split naively; quotes off, or a file that quotes every field
        # never looks like its own records and a stray quote swallows the next line
        first = [f.strip().strip('"') for f in self.lines[s].rstrip("\r\n").split(self.delimiter)]
        fits = self._fits(first)
        # lines that read as records shaped like the broken line itself (the previous
        # record may be broken too, or shaped differently)
        if fits and self.width >= 3 and any(self._is_record(k, first) for k in range(s + 1, e + 1)):
            return True
        template = self.template or self._lookahead(e + 1)
        if template is None:
            return False
        if self.width >= 3 and any(self._is_record(k, template) for k in range(s + 1, e)):
            return True
        return fits and _alike(first, template) and self._is_record(e, template)

    def _resyncs(self, a: int, e: int) -> bool:
        """Do lines ``a``..``e`` read on their own as records of the header's width?

        Asked when the record from line ``a - 1`` to ``e`` is broken anyway (a quote
        error, a wrong field count): rejecting line ``a - 1`` alone then explains it with
        the least, and the lines after it are read as the records they are.
        """
        lines = itertools.islice(self.lines.iter_from(a), e - a + 1 + _RESYNC_LINES)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        read_any = False
        try:
            while a + reader.line_num <= e:
                row = next(reader)
                if self._is_blank(row):
                    continue
                if len(row) < 2 or not self._fits(row):
                    return False
                read_any = True
        except (csv.Error, StopIteration):
            return False
        return read_any

    def _each_line(self, s: int, e: int) -> bool:
        """Does every line ``s``..``e``, split on the delimiter with quotes ignored, have
        the header's width? Then each is a record of its own (stray quotes on
        neighbouring lines pair up into a broken multi-line record otherwise)."""
        if self.width < 3 or e - s + 1 > self.max_record_lines:
            return False
        return all(
            self._fits(self.lines[k].rstrip("\r\n").split(self.delimiter)) for k in range(s, e + 1)
        )

    def _alone(self, k: int) -> list[str] | None:
        """Line ``k`` read on its own, when it is a complete record of the right width."""
        try:
            rows = list(csv.reader([self.lines[k]], delimiter=self.delimiter, strict=True))
        except csv.Error:
            return None
        if len(rows) != 1 or len(rows[0]) < 2 or not self._fits(rows[0]):
            return None
        return rows[0] if any(f.strip() for f in rows[0]) else None  # blank is no record

    def _is_record(self, k: int, template: list[str]) -> bool:
        row = self._alone(k)
        return row is not None and _alike(row, template)

    def _lookahead(self, k: int) -> list[str] | None:
        """The first one-line record among the next few, read from line ``k`` on."""
        reader = self._reader(k)
        consumed = 0
        try:
            for row in itertools.islice(reader, 5):
                single = reader.line_num == consumed + 1
                consumed = reader.line_num
                if single and any(f.strip() for f in row) and self._fits(row):
                    return row
        except csv.Error:
            pass
        return None

    def _fits(self, row: list[str]) -> bool:
        n = len(row)
        if n == self.width:
            return True
        if n > self.width:
            return not any(row[self.width :])
        return n >= self.width - self.optional_tail

    # -- rejections --

    def _reject_span(
        self, s: int, e: int, code: str, message: str, fields: list[str] | None = None
    ) -> None:
        raw = "".join(self.lines.slice(s, e + 1)).rstrip("\r\n")
        problem = Problem(
            code=code, severity=Severity.ERROR, message=message, line=s + 1, value=_clip(raw)
        )
        self.rejected.append(RejectedLine(s + 1, tuple(fields or ()), raw, problem, e + 1))

    def _quote_message(self, s: int, error: str) -> str:
        return (
            f"Line {s + 1} has a quote the CSV rules cannot read ({error}): a quoted value must "
            "end with a quote followed by the delimiter or the end of the line, and a quote "
            'inside a quoted value must be doubled (""). The line was set aside; fix its quotes.'
        )

    def _unclosed_message(self, s: int, e: int) -> str:
        return (
            f"Line {s + 1} opens a quote that is not closed on that line; read literally it "
            f"would swallow line(s) {s + 2}–{e + 1} into one value. Only line {s + 1} was set "
            "aside and reading resumed on the next line. Remove the stray quote or close it."
        )

    # -- assembling --

    def assemble(
        self, records: _Records, header: list[str]
    ) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine]]:
        """Rows of exactly ``len(header)`` fields as a frame; wrong-width records rejected."""
        rows = records.rows
        keep = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)) == self.width
        for j in np.flatnonzero(~keep):
            fixed = self._fix_width(records.starts[j], records.ends[j], rows[j])
            if fixed is not None:
                rows[j] = fixed
                keep[j] = True
        kept = list(itertools.compress(rows, keep))
        starts = np.fromiter(itertools.compress(records.starts, keep), dtype=np.int64) + 1
        columns = list(zip(*kept, strict=True)) if kept else [()] * self.width
        frame = pd.DataFrame(
            {name: pd.array(col, dtype="str") for name, col in zip(header, columns, strict=True)},
            index=pd.RangeIndex(len(kept)),
        )
        return frame, starts, self.rejected

    def _fix_width(self, start: int, end: int, row: list[str]) -> list[str] | None:
        """Trim empty trailing fields / pad unnamed trailing columns; else reject."""
        n, width = len(row), self.width
        if n > width and not any(row[width:]):
            self.trimmed += 1
            return row[:width]
        if width - self.optional_tail <= n < width:
            return row + [""] * (width - n)
        code = "too-many-fields" if n > width else "too-few-fields"
        where = f"line {start + 1}" if end == start else f"lines {start + 1}–{end + 1}"
        hint = (
            "Extra fields usually come from an unquoted delimiter inside a value: quote that value."
            if n > width
            else "A delimiter is missing, or the line was cut short."
        )
        message = (
            f"The record on {where} has {n} fields; the header has {width}. {hint} "
            "The record was set aside so that no value lands in the wrong column."
        )
        self._reject_span(start, end, code, message, row)
        return None


_NUMERIC_FIELD = re.compile(r"[\d\s.,:/+\-TZ]*\d[\d\s.,:/+\-TZ]*")


def _alike(row: list[str], template: list[str]) -> bool:
    """Do most fields have the template's kind (empty, numeric, text)?

    In a table of five columns or more, a field empty in one and filled in the other
    counts half: optional values come and go between records, while text where numbers
    stand is a narrative line. Narrower tables need the kinds themselves to agree.
    """
    width = max(len(row), len(template))
    match = _KIND_MATCH if width >= 5 else _SAME_KIND
    score = sum(match[_kind(a)][_kind(b)] for a, b in zip(row, template, strict=False))
    return score >= 0.7 * width


# kinds: 0 empty, 1 numeric-looking, 2 text
_KIND_MATCH = ((1.0, 0.5, 0.5), (0.5, 1.0, 0.0), (0.5, 0.0, 1.0))
_SAME_KIND = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _kind(value: str) -> int:
    """0 empty, 1 numeric-looking (ids, dates, coordinates), 2 text."""
    value = value.strip()
    if not value:
        return 0
    return 1 if _NUMERIC_FIELD.fullmatch(value) else 2


def _clip(text: str) -> str:
    return text if len(text) <= _RAW_TEXT_LIMIT else text[: _RAW_TEXT_LIMIT - 1] + "…"


# --- the fast path: pyarrow for every plain line, the csv module for the others -------------
#
# A line is *plain* when pyarrow and the csv module provably read it the same way: no
# NUL byte, short enough for csv's field limit, an even number of quotes, every opening
# quote at the start of a field and every closing quote followed by the delimiter, the
# line end or a doubled quote. Plain lines are parsed by pyarrow in one call (all
# columns as text); every other line, and whatever a record starting there spans, is read
# by the csv-module parser exactly as the python engine would (same records, same
# rejections, same line numbers), starting from the same state.

# Files at least this large are read through a memory map (see read_csv_file).
_MAP_FILE_BYTES = 1 << 20
_SCAN_CHUNK = 1 << 24  # bytes scanned per numpy pass (bounds the temporary masks)
# Buffers of at least two pieces are scanned on this many threads.
_SCAN_PIECE = 1 << 23
_SCAN_THREADS = 2
# Above this share of irregular lines the csv module reads the whole file at C speed.
_MAX_IRREGULAR_SHARE = 0.2
_MIN_IRREGULAR_FALLBACK = 1000
_LF, _CR, _QUOTE = 10, 13, 34


@dataclass
class _Scan:
    """Data lines of a buffer: byte ranges and which ones pyarrow can read (``plain``)."""

    first: int  # absolute (0-based) index of the first data line
    start: np.ndarray  # byte offset where each line starts
    stop: np.ndarray  # byte offset past its line end
    empty: np.ndarray  # nothing before the line end
    plain: np.ndarray

    @property
    def count(self) -> int:
        return self.first + len(self.start)


class _ByteLines:
    """Physical lines decoded one at a time from the UTF-8 buffer, indexed like ``_Lines``.

    The csv-module parser reads irregular lines through this, so a few bad lines do not
    split a 100 MB file into a million Python strings.
    """

    def __init__(self, buf: bytes, scan: _Scan, head: list[str]) -> None:
        self.buf = buf
        self.scan = scan
        self.head = head[: scan.first]
        self.count = scan.count

    def __getitem__(self, index: int) -> str:
        if index < self.scan.first:
            return self.head[index]
        k = index - self.scan.first
        return self.buf[self.scan.start[k] : self.scan.stop[k]].decode("utf-8")

    def slice(self, start: int, stop: int) -> list[str]:
        return [self[k] for k in range(start, min(stop, self.count))]

    def iter_from(self, start: int) -> Iterator[str]:
        return (self[k] for k in range(start, self.count))


def _read_fast(
    parser: _Parser, start: int, buf: bytes, header: list[str], notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine], list[str] | None, int | None] | None:
    """Records after the header, plain lines through pyarrow; None when not worth it."""
    delimiter, width = parser.delimiter, len(header)
    if ord(delimiter) > 127 or width < 2 or start > len(parser.lines.head):
        return None
    if buf.find(b"\r") >= 0 and _count(buf, b"\r") != _count(buf, b"\r\n"):
        return None  # old Mac line ends: leave them to the general path
    offset = len("".join(parser.lines.head[:start]).encode("utf-8"))
    # pyarrow parses the whole file (its own threads) while numpy checks every line;
    # the guess is kept when every line turns out plain, the common case.
    with ThreadPoolExecutor(1) as pool:
        guess = pool.submit(_arrow_table, pa.py_buffer(buf)[offset:], width, delimiter)
        scan = _scan(buf, offset, start, ord(delimiter))
        whole = guess.result()
    table = _parse_plain(buf, scan, width, ord(delimiter), whole)
    if table is None:
        return None
    irregular = int((~scan.plain & ~scan.empty).sum())
    if irregular > max(_MAX_IRREGULAR_SHARE * len(scan.plain), _MIN_IRREGULAR_FALLBACK):
        return None
    parser.lines = _ByteLines(buf, scan, parser.lines.head)
    slow, consumed = _read_irregular(parser, scan)
    rows = np.flatnonzero(scan.plain & ~scan.empty)
    keep = ~consumed[rows] & ~_all_empty(table, scan.stop[rows] - scan.start[rows])
    blank = np.concatenate((np.flatnonzero(scan.empty & ~consumed), rows[~keep & ~consumed[rows]]))
    for index in blank:
        parser._count_blank(scan.first + int(index))
    if not keep.all():
        table = table.filter(pa.array(keep))
    starts = (rows[keep] + scan.first + 1).astype(np.int64)
    frame = _text_frame(table, header)
    if slow.rows and (not len(starts) or slow.starts[0] + 1 < starts[0]):
        hxl_tags, hxl_line = _take_hxl_row(slow, header, notes)
    else:
        frame, starts, hxl_tags, hxl_line = _take_hxl_frame(frame, starts, notes)
    slow_frame, slow_starts, rejected = parser.assemble(slow, header)
    if len(slow_frame):
        frame, starts = _merge(frame, starts, slow_frame, slow_starts)
    return frame, starts, rejected, hxl_tags, hxl_line


def _count(buf: bytes | mmap.mmap, pattern: bytes) -> int:
    """``buf.count(pattern)`` for bytes and for a mapped file (which has no ``count``)."""
    if isinstance(buf, bytes):
        return buf.count(pattern)
    data = np.frombuffer(buf, dtype=np.uint8)
    found = data[: len(data) - len(pattern) + 1] == pattern[0]
    for k, byte in enumerate(pattern[1:], 1):  # patterns here never overlap themselves
        found &= data[k : len(data) - len(pattern) + 1 + k] == byte
    return int(np.count_nonzero(found))


def _scan(buf: bytes, offset: int, first: int, delimiter: int) -> _Scan:
    """Find every line and check its quotes, with numpy over the raw bytes.

    Large buffers are cut at line ends into pieces scanned on two threads (numpy
    releases the GIL): a line's verdict depends on its own bytes only.
    """
    cuts = [offset]
    if len(buf) - offset >= 2 * _SCAN_PIECE:
        for k in range(1, _SCAN_THREADS):
            target = offset + k * (len(buf) - offset) // _SCAN_THREADS
            end = buf.find(b"\n", max(target, cuts[-1]))
            if end < 0:
                break
            cuts.append(end + 1)
    cuts.append(len(buf))
    ranges = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a] or [
        (offset, len(buf))
    ]
    if len(ranges) == 1:
        pieces = [_scan_range(buf, *ranges[0], delimiter)]
    else:
        with ThreadPoolExecutor(len(ranges)) as pool:
            pieces = list(pool.map(lambda r: _scan_range(buf, *r, delimiter), ranges))
    start, stop, empty, plain = (np.concatenate(part) for part in zip(*pieces, strict=True))
    return _Scan(first, start, stop, empty, plain)


def _scan_range(
    buf: bytes, lo: int, hi: int, delimiter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(start, stop, empty, plain) of the lines in ``buf[lo:hi]`` (``lo`` starts a line)."""
    data = np.frombuffer(buf, dtype=np.uint8)[lo:hi]
    n = len(data)
    quoted = buf.find(b'"', lo, hi) >= 0
    found = []
    for c in range(0, n, _SCAN_CHUNK):
        part = data[c : c + _SCAN_CHUNK]
        mask = part == _LF
        if quoted:
            mask |= part == _QUOTE
        found.append(np.flatnonzero(mask) + c)
    special = np.concatenate(found) if found else np.zeros(0, np.int64)
    is_lf = data[special] == _LF if quoted else np.ones(len(special), bool)
    newlines = special[is_lf]
    n_lines = len(newlines) + (1 if n and data[-1] != _LF else 0)
    start = np.empty(n_lines, np.int64)
    stop = np.empty(n_lines, np.int64)
    start[:1] = 0
    start[1:] = newlines[: n_lines - 1] + 1
    stop[: len(newlines)] = newlines + 1
    stop[len(newlines) :] = n
    end = stop - (np.arange(n_lines) < len(newlines))
    has_cr = (end > start) & (data[np.maximum(end - 1, 0)] == _CR)
    end = end - has_cr
    plain = (end - start) <= csv.field_size_limit()  # longer: csv decides (and may refuse)
    if quoted:
        plain &= _plain_quotes(data, special, is_lf, n_lines, delimiter)
    if buf.find(b"\x00", lo, hi) >= 0:
        nul = np.flatnonzero(data == 0)
        plain[np.searchsorted(start, nul, side="right") - 1] = False
    return start + lo, stop + lo, end == start, plain


def _plain_quotes(
    data: np.ndarray, special: np.ndarray, is_lf: np.ndarray, n_lines: int, delimiter: int
) -> np.ndarray:
    """Lines whose quotes are all well formed (see the section comment)."""
    which = np.flatnonzero(~is_lf)  # positions of the quotes among the special bytes
    quotes = special[which]
    if len(which) % 2 == 0 and np.array_equal(which[1::2], which[0::2] + 1):
        # No line end between the quotes of each pair: every line has an even number,
        # so quote 2j opens and quote 2j + 1 closes.
        plain = np.ones(n_lines, bool)
        bad = np.concatenate(
            (
                _bad_opening(data, quotes[0::2], delimiter),
                _bad_closing(data, quotes[1::2], delimiter),
            )
        )
    else:
        line_of = (np.cumsum(is_lf) - is_lf)[which]
        count = np.bincount(line_of, minlength=n_lines)
        opening = (np.arange(len(quotes)) - (np.cumsum(count) - count)[line_of]) % 2 == 0
        plain = count % 2 == 0
        bad = np.concatenate(
            (
                _bad_opening(data, quotes[opening], delimiter),
                _bad_closing(data, quotes[~opening], delimiter),
            )
        )
    if len(bad):
        plain[np.searchsorted(special[is_lf], bad)] = False
    return plain


def _bad_opening(data: np.ndarray, quotes: np.ndarray, delimiter: int) -> np.ndarray:
    """Opening quotes not at the start of a field nor right after a closing quote."""
    ok = np.zeros(256, bool)
    ok[[delimiter, _LF, _QUOTE]] = True
    good = (
        ok[data[quotes - 1]]
        if len(quotes) and quotes[0] > 0
        else ok[data[quotes - 1]] | (quotes == 0)
    )
    return quotes[~good]


def _bad_closing(data: np.ndarray, quotes: np.ndarray, delimiter: int) -> np.ndarray:
    """Closing quotes not followed by the delimiter, the line end or a doubled quote."""
    ok = np.zeros(256, bool)
    ok[[delimiter, _LF, _CR, _QUOTE]] = True
    last = len(data) - 1
    good = ok[data[np.minimum(quotes + 1, last)]] | (quotes == last)
    return quotes[~good]


def _parse_plain(
    buf: bytes, scan: _Scan, width: int, delimiter: int, whole: pa.Table | None
) -> pa.Table | None:
    """The plain lines through pyarrow; lines of the wrong width are left to the csv module.

    ``whole`` is every data line already parsed: it is the answer when all are plain.
    """
    table = whole if scan.plain.all() else _plain_table(buf, scan, width, delimiter)
    if table is None:
        scan.plain &= _field_counts(buf, scan, delimiter) == width
        table = _plain_table(buf, scan, width, delimiter)
    if table is None or table.num_rows != int((scan.plain & ~scan.empty).sum()):
        return None
    return table


def _plain_table(buf: bytes, scan: _Scan, width: int, delimiter: int) -> pa.Table | None:
    if not (scan.plain & ~scan.empty).any():
        return pa.table({f"c{i}": pa.array([], pa.large_string()) for i in range(width)})
    return _arrow_table(_plain_bytes(buf, scan), width, chr(delimiter))


def _plain_bytes(buf: bytes, scan: _Scan) -> pa.Buffer:
    """The plain lines, zero-copy when they are all the lines."""
    whole = pa.py_buffer(buf)
    if scan.plain.all():
        return whole[int(scan.start[0]) :] if len(scan.start) else whole[len(buf) :]
    edges = np.diff(np.concatenate(([0], scan.plain.astype(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    # only the file's last line can lack a line end, and it comes last
    return pa.py_buffer(
        b"".join(buf[scan.start[a] : scan.stop[b]] for a, b in zip(first, last, strict=True))
    )


def _field_counts(buf: bytes, scan: _Scan, delimiter: int) -> np.ndarray:
    """Fields per line, delimiters inside quotes not counted (plain lines only)."""
    data = np.frombuffer(buf, dtype=np.uint8)
    lo = int(scan.start[0]) if len(scan.start) else len(buf)
    seps = np.flatnonzero(data[lo:] == delimiter) + lo
    quotes = np.flatnonzero(data[lo:] == _QUOTE) + lo
    line = np.searchsorted(scan.start, seps, side="right") - 1
    if len(quotes):
        q_line = np.searchsorted(scan.start, quotes, side="right") - 1
        q_first = np.searchsorted(q_line, np.arange(len(scan.start)))
        inside = (np.searchsorted(quotes, seps) - q_first[line]) % 2 == 1
        line = line[~inside]
    return np.bincount(line, minlength=len(scan.start)) + 1


def _arrow_table(data: pa.Buffer, width: int, delimiter: str) -> pa.Table | None:
    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.large_string() for name in names},  # as pandas keeps it
                strings_can_be_null=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _read_irregular(parser: _Parser, scan: _Scan) -> tuple[_Records, np.ndarray]:
    """Read each irregular line (and what its record spans) with the csv module.

    Returns the records and which data lines they consumed. Reading resumes on pyarrow's
    side at the first plain line after a complete record; before each irregular line the
    parser gets the template the python engine would have (the last one-line record).
    """
    out = _Records()
    consumed = np.zeros(len(scan.plain), dtype=bool)
    first, count = scan.first, scan.count
    plain = scan.plain

    def resume(index: int) -> bool:
        return index >= count or bool(plain[index - first])

    done = 0
    for k in np.flatnonzero(~plain & ~scan.empty):
        if k < done:
            continue
        _set_template(parser, scan, done, int(k))
        i = first + int(k)
        while True:
            i = parser._read_from(i, out, resume)
            if resume(i):
                break
        consumed[k : i - first] = True
        done = i - first
    return out, consumed


def _set_template(parser: _Parser, scan: _Scan, lo: int, k: int) -> None:
    """The last non-blank one-line record before data line ``k`` read by pyarrow, if any."""
    for j in range(k - 1, lo - 1, -1):
        if scan.empty[j]:
            continue
        row = next(csv.reader([parser.lines[scan.first + j]], delimiter=parser.delimiter))
        if not parser._is_blank(row) and parser._fits(row):  # as _read_from sets it
            parser.template = row
            return


def _all_empty(table: pa.Table, length: np.ndarray) -> np.ndarray:
    """Rows whose every field is empty (``,,,``: a blank line to the csv engine too).

    Only short lines can be such rows (each field at most ``""``), so only they are checked.
    """
    empty = np.zeros(table.num_rows, bool)
    short = np.flatnonzero(length <= 3 * table.num_columns + 1)  # with CR LF
    if not len(short):
        return empty
    rows = table.take(pa.array(short))
    found = np.ones(len(short), bool)
    for column in rows.columns:
        found &= pc.equal(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    empty[short] = found
    return empty


def _text_frame(table: pa.Table, header: list[str]) -> pd.DataFrame:
    text = pd.StringDtype("pyarrow", np.nan)
    frame = table.to_pandas(types_mapper={pa.string(): text, pa.large_string(): text}.get)
    frame.columns = header
    return frame


def _merge(
    frame: pd.DataFrame, starts: np.ndarray, other: pd.DataFrame, other_starts: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Two sets of rows interleaved in file order."""
    lines = np.concatenate((starts, other_starts))
    order = np.argsort(lines, kind="stable")
    merged = pd.concat([frame, other], ignore_index=True).take(order).reset_index(drop=True)
    return merged, lines[order]


# --- HXL, empty columns, NUL bytes ---------------------------------------------------


def _take_hxl_row(
    records: _Records, header: list[str], notes: list[str]
) -> tuple[list[str] | None, int | None]:
    """Remove a hashtag row right after the header; return its tags per column."""
    if not records.rows:
        return None, None
    tags = _hxl_tags(records.rows[0], len(header))
    if tags is None:
        return None, None
    start, _ = records.pop_first()
    _hxl_note(start + 1, tags, notes)
    return tags, start + 1


def _take_hxl_frame(
    frame: pd.DataFrame, starts: np.ndarray, notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str] | None, int | None]:
    if frame.empty:
        return frame, starts, None, None
    tags = _hxl_tags([str(v) for v in frame.iloc[0]], frame.shape[1])
    if tags is None:
        return frame, starts, None, None
    _hxl_note(int(starts[0]), tags, notes)
    return frame.iloc[1:].reset_index(drop=True), starts[1:], tags, int(starts[0])


def _hxl_tags(cells: list[str], width: int) -> list[str] | None:
    """Tags per column when most filled cells are HXL hashtags, else None."""
    cells = [c.strip() for c in cells]
    filled = [c for c in cells if c]
    tagged = sum(1 for c in filled if _HXL_TAG.match(c))
    if not filled or tagged * 2 <= len(filled):
        return None
    tags = [_normalise_tag(c) if _HXL_TAG.match(c) else "" for c in cells]
    return (tags + [""] * width)[:width]


def _hxl_note(line: int, tags: list[str], notes: list[str]) -> None:
    notes.append(
        f"Line {line} is an HXL hashtag row ({sum(1 for t in tags if t)} tags); used for "
        "column detection and not counted as a record."
    )


def _normalise_tag(cell: str) -> str:
    parts = [p.strip().lower() for p in cell.split("+")]
    return "+".join(p for p in parts if p)


def _drop_empty_unnamed(
    frame: pd.DataFrame,
    header: list[str],
    tags: list[str] | None,
    trailing: int,
    notes: list[str],
) -> tuple[pd.DataFrame, list[str], list[str] | None]:
    """Drop columns from trailing blank header names when they hold no value at all."""
    drop = (
        [name for name in header[len(header) - trailing :] if not (frame[name].str.len() > 0).any()]
        if trailing
        else []
    )
    if not drop:
        return frame, header, tags
    notes.append(f"{len(drop)} empty unnamed column(s) at the end of the header were ignored.")
    keep = [i for i, name in enumerate(header) if name not in drop]
    header = [header[i] for i in keep]
    tags = [tags[i] for i in keep] if tags is not None else None
    return frame[header], header, tags


def _reject_nul(
    frame: pd.DataFrame,
    starts: np.ndarray,
    rejected: list[RejectedLine],
    delimiter: str,
    problems: list[Problem],
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine]]:
    """Records holding NUL characters (the file has some) are set aside: NUL means a
    corrupt or binary file."""
    if frame.empty:
        problems.append(_nul_problem(0))
        return frame, starts, rejected
    has_nul = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        has_nul |= frame[name].str.contains("\x00", regex=False).to_numpy(dtype=bool)
    rejected = list(rejected)
    for j in np.flatnonzero(has_nul):
        fields = tuple(frame.iloc[j].astype(str))
        raw = delimiter.join(fields)
        rejected.append(
            RejectedLine(
                int(starts[j]),
                fields,
                raw,
                Problem(
                    code="nul-byte",
                    severity=Severity.ERROR,
                    message=(
                        f"The record on line {starts[j]} contains NUL bytes, a sign of a "
                        "corrupt file or one saved as UTF-16 without a byte-order mark. The "
                        "record was set aside; re-save the file as UTF-8 CSV."
                    ),
                    line=int(starts[j]),
                    value=_clip(raw.replace("\x00", "\\0")),
                ),
            )
        )
    problems.append(_nul_problem(int(has_nul.sum())))
    keep = ~has_nul
    frame = frame[keep].reset_index(drop=True)
    return frame, starts[keep], sorted(rejected, key=lambda r: r.line)


def _nul_problem(records: int) -> Problem:
    return Problem(
        code="nul-bytes",
        severity=Severity.WARNING,
        message=(
            f"The file contains NUL bytes ({records} record(s) affected and set aside). "
            "Re-save it as UTF-8 CSV from the program that produced it."
        ),
    )
