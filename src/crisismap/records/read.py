"""Read an uploaded incident CSV into text columns, keeping every record's file line.

Nothing is coerced here: every value stays the text the file holds (``NA`` stays
Namibia, ``007`` keeps its zeros, an empty cell stays ``""``). What cannot be read as a
record (a stray quote, too many fields) becomes a rejected line with its physical line
number, never a shifted or swallowed row. Typing and checking the values is
:mod:`crisismap.records.validation`'s job.

This module is the recipe; each step has its own module: bytes → text
(:mod:`~crisismap.records.decode`), text → lines and the header
(:mod:`~crisismap.records.lines`), lines → records exactly
(:mod:`~crisismap.records.parse`) or fast (:mod:`~crisismap.records.fastcsv`), then the
HXL row (:mod:`~crisismap.records.hxl`) and what is set aside
(:mod:`~crisismap.records.cleanup`).
"""

from __future__ import annotations

import codecs
import csv
import gc
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from crisismap.errors import InputError, UnsafeInputError
from crisismap.i18n import _
from crisismap.problems import Problem
from crisismap.records.cleanup import drop_empty_unnamed, reject_nul
from crisismap.records.decode import BOMS, decode, utf16_without_bom
from crisismap.records.fastcsv import read_fast
from crisismap.records.hxl import take_hxl_row
from crisismap.records.lines import (
    Lines,
    detect_delimiter,
    first_content_line,
    sep_line,
    unique_header,
)
from crisismap.records.parse import MAX_FIELD_CHARS, Parser, RejectedLine

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_FIELD_CHARS",
    "RawTable",
    "RejectedLine",
    "read_csv_bytes",
    "read_csv_file",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# Real exports have tens of columns (Kobo: hundreds); each costs a column of its own.
MAX_COLUMNS = 10_000
# Files at least this large are read through a memory map (see read_csv_file).
_MAP_FILE_BYTES = 1 << 20


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
        raise InputError(
            _("Incident file {path!r} does not exist or is not a file.").format(path=str(path))
        )
    size = path.stat().st_size
    _check_size(size, max_bytes, path.name)
    options.setdefault("filename", path.name)
    _arrow_returns_memory()
    if set(options) == {"filename"} and size >= max(_MAP_FILE_BYTES, 1):
        # A large UTF-8 file is read straight from the page cache (no copy of its bytes);
        # anything the fast path declines is read from a copy, as an upload is.
        # The map is never closed explicitly: it goes when the last view of it does.
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if csv.field_size_limit() < MAX_FIELD_CHARS:
            csv.field_size_limit(MAX_FIELD_CHARS)
        table = _read_utf8(mapped, _Options(options["filename"], None))
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
    engine
        ``auto`` reads files without quotes, irregular lines or NUL bytes with pyarrow
        (fast) and everything else with Python's csv module; ``python`` always uses the
        latter. Both give the same table.
    """
    if engine not in ("auto", "python"):
        raise ValueError(f"Unknown engine {engine!r}: expected 'auto' or 'python'.")
    _check_size(len(data), max_bytes, filename)
    _arrow_returns_memory()
    if csv.field_size_limit() < MAX_FIELD_CHARS:  # process-wide: only ever raised
        csv.field_size_limit(MAX_FIELD_CHARS)
    options = _Options(filename, delimiter)
    if engine == "auto" and encoding is None:
        table = _read_utf8(data, options)
        if table is not None:
            return table
    text, encoding_name, problems = decode(data, encoding)
    utf8 = data.removeprefix(codecs.BOM_UTF8) if encoding_name.startswith("utf-8") else None
    table = _read(
        Lines(text),
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


def _read_utf8(data: bytes, options: _Options) -> RawTable | None:
    """A UTF-8 file read without decoding it whole first; None when that does not apply.

    Only the first megabyte is decoded (to find the header); pyarrow checks the UTF-8 of
    every plain line and the csv module decodes the others. Any invalid byte, or a file
    that needs the general path, gives None and the caller starts over.
    """
    bom = data[:3] == codecs.BOM_UTF8
    if not bom and (any(data[: len(b)] == b for b, _, _ in BOMS) or utf16_without_bom(data)):
        return None
    if bom and not isinstance(data, bytes):
        return None  # a mapped file: the caller reads a copy without the BOM
    buf = data[len(codecs.BOM_UTF8) :] if bom else data
    head = buf[: Lines.HEAD_CHARS]
    if len(head) < len(buf):
        head = head[: head.rfind(b"\n") + 1]
    try:
        lines = Lines(head.decode("utf-8"))
        if first_content_line(lines.head) is None:
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
    lines: Lines,
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
    parser = Parser(lines, delimiter)
    header_end, original = parser.header(first)
    if len(original) > MAX_COLUMNS:
        raise InputError(
            _(
                "{name} has {n:,} columns in its header (line {line}); the limit "
                "is {MAX_COLUMNS:,}. An incident file has a few dozen: check the "
                "delimiter, or remove the columns you do not need."
            ).format(name=_name(filename), n=len(original), line=first + 1, MAX_COLUMNS=MAX_COLUMNS)
        )
    if fast_only and header_end + 1 >= len(lines.head):
        return None  # the header may continue past the decoded head
    header, trailing_blanks = unique_header(original, notes)
    parser.set_width(len(header), trailing_blanks)
    with _gc_paused():  # millions of small lists: the cyclic GC would triple the time
        found = _read_records(parser, header, header_end + 1, utf8, notes, fast_only)
    if found is None:
        return None
    frame, starts, rejected, hxl_tags, hxl_line = found
    frame, header, hxl_tags = drop_empty_unnamed(frame, header, hxl_tags, trailing_blanks, notes)
    if has_nul:
        frame, starts, rejected = reject_nul(frame, starts, rejected, delimiter, problems)
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
    parser: Parser,
    header: list[str],
    start: int,
    utf8: bytes | None | bool,
    notes: list[str],
    fast_only: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine], list[str] | None, int | None] | None:
    """Records after the header: plain lines through pyarrow unless ``utf8`` is False."""
    if utf8 is not False:
        buf = utf8 if isinstance(utf8, bytes | mmap.mmap) else parser.lines.text.encode("utf-8")
        fast = read_fast(parser, start, buf, header, notes)
        if fast is not None or fast_only:
            return fast
    records = parser.records(start)
    hxl_tags, hxl_line = take_hxl_row(records, header, notes)
    frame, starts, rejected = parser.assemble(records, header)
    return frame, starts, rejected, hxl_tags, hxl_line


def _locate_header(
    lines: Lines, delimiter: str | None, filename: str | None, notes: list[str]
) -> tuple[int, str]:
    """Index of the header line and the delimiter (given, or detected from the header)."""
    first = first_content_line(lines.head)
    if first is None and lines.count > len(lines.head):
        first = first_content_line(lines.all)
    if first is None:
        raise InputError(
            _(
                "{name} has no content: expected a header line with column names "
                "followed by one line per incident."
            ).format(name=_name(filename))
        )
    first, delimiter = sep_line(lines, first, delimiter, notes)
    delimiter = delimiter or detect_delimiter(lines[first])
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise InputError(
            _("The delimiter must be one character such as ',' or ';', got {delimiter!r}.").format(
                delimiter=delimiter
            )
        )
    return first, delimiter


def _name(filename: str | None) -> str:
    return _("The file {name!r}").format(name=filename) if filename else _("The file")


def _check_size(size: int, max_bytes: int, filename: str | None) -> None:
    if size > max_bytes:
        raise UnsafeInputError(
            _(
                "{name} is {size_mb:,.1f} MB; the limit is {limit_mb:,.1f} MB. Split "
                "it into smaller files or raise the size limit (on the command "
                "line: --max-size-mb)."
            ).format(name=_name(filename), size_mb=size / 1e6, limit_mb=max_bytes / 1e6)
        )


@cache
def _arrow_returns_memory() -> None:
    """Arrow memory from jemalloc, freed pages returned at once (process-wide, once).

    pyarrow's default allocator (mimalloc) keeps the pages a read frees: reading a 60 MB
    file with 1 % multi-line records left 330 MB resident for 80 MB of live Arrow data;
    jemalloc returning pages at once left 170 MB. ``ARROW_DEFAULT_MEMORY_POOL``, when set,
    is left alone.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:  # a pyarrow built without jemalloc
        return
    pa.set_memory_pool(pool)


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
