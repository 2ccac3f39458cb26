"""Text lines → records, exactly: RFC 4180 with Python's csv module, restartable at any line.

A record that spans lines is accepted only when it reads as one well-formed record. A
stray quote would otherwise swallow the rows after it: then only its line is set aside
(a :class:`RejectedLine` with its problem) and reading resumes on the next line, so no
value is shifted into another record or column.
"""

from __future__ import annotations

import csv
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crisismap.errors import InputError
from crisismap.i18n import _, ngettext
from crisismap.problems import (
    FIELD_TOO_LARGE,
    QUOTE_MALFORMED,
    QUOTE_UNCLOSED,
    TOO_FEW_FIELDS,
    TOO_MANY_FIELDS,
    Problem,
    ProblemType,
)

if TYPE_CHECKING:
    from crisismap.records.lines import Lines

# The longest value read. csv's default field limit (128 KiB) rejected long testimonies
# pasted into one cell; a runaway quote still stops here.
MAX_FIELD_CHARS = 1 << 20
_RAW_TEXT_LIMIT = 200
_RESYNC_LINES = 10  # lines read past a broken record to see the next one whole


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
class Records:
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


class Parser:
    """RFC 4180 records over physical lines, restartable at any line.

    A record that spans lines is accepted only when it reads as one well-formed
    record; when the lines after its first one read as records on their own, the
    first line holds a stray quote: only that line is rejected and parsing resumes on
    the next line, so nothing is swallowed.
    """

    def __init__(self, lines: Lines, delimiter: str) -> None:
        self.lines = lines
        self.delimiter = delimiter
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
                _(
                    "The header (line {line}) cannot be read as CSV ({exc}): expected "
                    "column names separated by commas or semicolons. Fix the quotes in "
                    "that line."
                ).format(line=start + 1, exc=exc)
            ) from exc
        return start + reader.line_num - 1, fields

    def set_width(self, width: int, optional_tail: int) -> None:
        self.width = width
        self.optional_tail = optional_tail

    # -- reading --

    def records(self, start: int) -> Records:
        """Every record from line index ``start``; blank lines are counted and dropped."""
        fast = self._fast(start)
        if fast is not None:
            return fast
        out = Records()
        i, n = start, self.lines.count
        while i < n:
            i = self.read_from(i, out)
        return out

    def _fast(self, start: int) -> Records | None:
        """One record per line (the common case), read by csv at C speed; else None."""
        try:
            rows = list(self._reader(start))
        except csv.Error:
            return None
        if len(rows) != self.lines.count - start:
            return None  # some record spans lines
        content = list(map(any, rows))
        for j in itertools.compress(range(len(rows)), (not c for c in content)):
            self.count_blank(start + j)
        # a single field of spaces is blank too
        for j in range(len(rows)):
            if content[j] and len(rows[j]) == 1 and not rows[j][0].strip():
                content[j] = False
                self.count_blank(start + j)
        starts = list(itertools.compress(range(start, self.lines.count), content))
        return Records(starts, list(starts), list(itertools.compress(rows, content)))

    def summary(self) -> list[str]:
        """Notes on what was skipped or tolerated."""
        notes = []
        if self.blank_lines:
            notes.append(
                ngettext(
                    "{blank_lines:,} blank line skipped (not counted as a record), at line "
                    "{first_blank}.",
                    "{blank_lines:,} blank lines skipped (not counted as records), first at "
                    "line {first_blank}.",
                    self.blank_lines,
                ).format(blank_lines=self.blank_lines, first_blank=self.first_blank)
            )
        if self.trimmed:
            notes.append(
                ngettext(
                    "{trimmed:,} record had empty fields beyond the last column "
                    "(trailing delimiters); the empty fields were ignored.",
                    "{trimmed:,} records had empty fields beyond the last column "
                    "(trailing delimiters); the empty fields were ignored.",
                    self.trimmed,
                ).format(trimmed=self.trimmed)
            )
        return notes

    def count_blank(self, index: int) -> None:
        """Count line ``index`` (0-based) as blank; the first one is named in the notes."""
        self.blank_lines += 1
        if self.first_blank is None or index + 1 < self.first_blank:
            self.first_blank = index + 1

    def is_blank(self, row: list[str]) -> bool:
        """No value at all, or one field of spaces: a blank line, not a record."""
        return not any(row) or (len(row) == 1 and not row[0].strip())

    def read_from(self, i: int, out: Records, resume: Callable[[int], bool] | None = None) -> int:
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
                if self.is_blank(row):
                    self.count_blank(s)
                else:
                    out.append(s, s, row)
                    if self.fits(row):  # a broken record is no model of the others
                        self.template = row
            elif self._stray(s, e, row):
                self._reject_unclosed(s, e)
                return s + 1
            else:
                out.append(s, e, row)
            if resume is not None and resume(i + consumed):
                return i + consumed

    def _broken(self, s: int, e: int, error: str) -> int:
        """A csv error in the record starting at ``s``: reject the least that explains it."""
        if "field larger" in error:
            self._reject_span(s, s, FIELD_TOO_LARGE, limit=MAX_FIELD_CHARS)
            return s + 1
        unclosed = "end of data" in error
        if e == s and unclosed:
            self._reject_span(s, s, QUOTE_UNCLOSED, variant="at_end")
            return s + 1
        if e == s:
            self._reject_span(s, s, QUOTE_MALFORMED, error=error)
            return s + 1
        if unclosed or self._swallows(s, e) or self._resyncs(s + 1, e) or self._each_line(s, e):
            self._reject_unclosed(s, e)
            return s + 1
        self._reject_span(s, e, QUOTE_MALFORMED, error=error)
        return e + 1

    def _stray(self, s: int, e: int, row: list[str]) -> bool:
        """Is the closed multi-line record s..e a stray quote rather than one long value?

        Decided from the record's shape, never from its length: a quoted value that closes
        and gives the header's width is one record unless most lines inside it read as
        records of their own (a stray quote paired with another one far below).
        """
        if not self.fits(row):
            return self._swallows(s, e) or self._resyncs(s + 1, e)
        if e - s < 3:
            return self._swallows(s, e)
        return self._mostly_records(s, e)

    def _mostly_records(self, s: int, e: int) -> bool:
        """Do more than half of the non-blank lines inside s..e read as records alike?

        A testimony may hold a line or two shaped like a record (names separated by
        commas); rows swallowed by a stray quote are nearly all records.
        """
        first = [f.strip().strip('"') for f in self.lines[s].rstrip("\r\n").split(self.delimiter)]
        template = self.template or self._lookahead(e + 1)
        models = [m for m in (first if self.fits(first) else None, template) if m is not None]
        if not models or self.width < 2:
            return False
        records = lines = 0
        for k in range(s + 1, e):
            if not self.lines[k].strip():
                continue
            lines += 1
            row = self._alone(k)
            records += row is not None and any(_alike(row, m) for m in models)
        return 2 * records > lines

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
        fits = self.fits(first)
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
                if self.is_blank(row):
                    continue
                if len(row) < 2 or not self.fits(row):
                    return False
                read_any = True
        except (csv.Error, StopIteration):
            return False
        return read_any

    def _each_line(self, s: int, e: int) -> bool:
        """Does every line ``s``..``e``, split on the delimiter with quotes ignored, have
        the header's width? Then each is a record of its own (stray quotes on
        neighbouring lines pair up into a broken multi-line record otherwise)."""
        if self.width < 3:
            return False
        return all(
            self.fits(self.lines[k].rstrip("\r\n").split(self.delimiter)) for k in range(s, e + 1)
        )

    def _alone(self, k: int) -> list[str] | None:
        """Line ``k`` read on its own, when it is a complete record of the right width."""
        try:
            rows = list(csv.reader([self.lines[k]], delimiter=self.delimiter, strict=True))
        except csv.Error:
            return None
        if len(rows) != 1 or len(rows[0]) < 2 or not self.fits(rows[0]):
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
                if single and any(f.strip() for f in row) and self.fits(row):
                    return row
        except csv.Error:
            pass
        return None

    def fits(self, row: list[str]) -> bool:
        """Does ``row`` have the header's width (give or take empty trailing fields)?"""
        n = len(row)
        if n == self.width:
            return True
        if n > self.width:
            return not any(row[self.width :])
        return n >= self.width - self.optional_tail

    # -- rejections --

    def _reject_span(
        self,
        s: int,
        e: int,
        kind: ProblemType,
        fields: list[str] | None = None,
        *,
        variant: str | None = None,
        **message_fields: object,
    ) -> None:
        """Set lines ``s``..``e`` aside as one rejected record with a problem of ``kind``."""
        raw = "".join(self.lines.slice(s, e + 1)).rstrip("\r\n")
        problem = kind.problem(line=s + 1, value=clip(raw), variant=variant, **message_fields)
        self.rejected.append(RejectedLine(s + 1, tuple(fields or ()), raw, problem, e + 1))

    def _reject_unclosed(self, s: int, e: int) -> None:
        """Only line ``s`` is set aside: read literally it would swallow lines up to ``e``."""
        self._reject_span(s, s, QUOTE_UNCLOSED, next_line=s + 2, last_line=e + 1)

    # -- assembling --

    def assemble(
        self, records: Records, header: list[str]
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
        # column by column: transposing every row at once held a second pointer per value
        frame = pd.DataFrame(
            {
                name: pd.array(list(map(operator.itemgetter(i), kept)), dtype="str")
                for i, name in enumerate(header)
            },
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
        kind = TOO_MANY_FIELDS if n > width else TOO_FEW_FIELDS
        where = f"line {start + 1}" if end == start else f"lines {start + 1}–{end + 1}"
        self._reject_span(start, end, kind, row, where=where, n_fields=n, width=width)
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


def clip(text: str) -> str:
    """Raw text as a problem's value: at most ``_RAW_TEXT_LIMIT`` characters."""
    return text if len(text) <= _RAW_TEXT_LIMIT else text[: _RAW_TEXT_LIMIT - 1] + "…"
